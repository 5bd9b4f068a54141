"""deploy/install.sh, update.sh and uninstall.sh for real, in a throwaway Debian bookworm booted
with systemd (debootstrap + systemd-nspawn, tests/deploy/container.py).

Slow (minutes: packages and a venv are installed for real), so not part of `make test`: run
`deploy/test-in-container.sh`, which sets IMGSRV_CONTAINER_TESTS=1. The tests run in order and
build on each other: install, re-run, update, two broken updates, an interrupted one, uninstall.
Each prints how long it took.
"""

from __future__ import annotations

import difflib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.deploy.container import Container, ContainerUnavailable, tools
from tests.rig import free_port
from tests.rig.snapshot_server import SnapshotServer

if os.environ.get("IMGSRV_CONTAINER_TESTS") != "1":
    pytest.skip(
        "boots a Debian container for minutes: run deploy/test-in-container.sh",
        allow_module_level=True,
    )
pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
# The tree to install: this checkout, or a still copy of it (IMGSRV_CONTAINER_SOURCE) while
# others are editing it.
SOURCE = Path(os.environ.get("IMGSRV_CONTAINER_SOURCE", ROOT))
WEB_PORT, HTTP_PORT = free_port(), free_port()
ADMIN = ("ops", "install-test-admin-pw")
CAMERA_PASSWORD = f"cam-{secrets.token_hex(6)}"  # in no file, so a grep finds leaks only
VERSION_2 = "0.1.0+update-test"
TIMES: dict[str, float] = {}
# Weather services are never reached from the test: a closed port answers at once.
NO_WEATHER = "NWS_API_URL=http://127.0.0.1:9\nOPEN_METEO_API_URL=http://127.0.0.1:9\n"


def timed(step: str, started: float) -> None:
    TIMES[step] = time.monotonic() - started
    print(f"\n[{step}: {TIMES[step]:.1f} s]")


def copy_source(destination: Path) -> Path:
    """The working tree as a release would take it (no .git, nothing .gitignore leaves out)."""
    subprocess.run(
        ["rsync", "-a", "--exclude", "/.git", "--exclude", "/.env", "--filter", ":- .gitignore",
         f"{SOURCE}/", f"{destination}/"],
        check=True,
    )  # fmt: skip
    return destination


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}: the test needs updating"
    path.write_text(text.replace(old, new, 1))


def sources(folder: Path) -> dict[str, Path]:
    """The versions the tests install: v1, v2 (a new VERSION), and v2 broken three ways."""
    v1 = copy_source(folder / "v1")
    v2 = copy_source(folder / "v2")
    replace(v2 / "imgserv_site/settings.py", 'VERSION = "0.1.0"', f'VERSION = "{VERSION_2}"')

    bad_migrate = folder / "bad-migrate"
    shutil.copytree(v2, bad_migrate, symlinks=True)
    migrations = sorted(p.stem for p in (v2 / "cameras/migrations").glob("0*.py"))
    # The first migration works (and would stay applied without the backup); the second fails.
    (bad_migrate / "cameras/migrations/0900_update_test_marker.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('cameras', '{migrations[-1]}')]\n"
        "    operations = [migrations.RunSQL('CREATE TABLE update_test_marker (id integer)')]\n"
    )
    (bad_migrate / "cameras/migrations/0901_update_test_fails.py").write_text(
        "from django.db import migrations\n\n\n"
        "def fail(apps, schema_editor):\n"
        "    raise RuntimeError('this migration fails on purpose (update test)')\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('cameras', '0900_update_test_marker')]\n"
        "    operations = [migrations.RunPython(fail)]\n"
    )

    bad_health = folder / "bad-health"
    shutil.copytree(v2, bad_health, symlinks=True)
    replace(bad_health / "imgserv_site/views/health.py", "status=200 if ok else 503", "status=503")

    # Other requirements: a whole new venv is built, which takes long enough to interrupt.
    slow = folder / "slow"
    shutil.copytree(v2, slow, symlinks=True)
    with (slow / "requirements.txt").open("a") as requirements:
        requirements.write("# a new venv for the interrupted-update test\n")
    return {"v1": v1, "v2": v2, "bad-migrate": bad_migrate, "bad-health": bad_health, "slow": slow}


@pytest.fixture(scope="module")
def camera() -> Iterator[SnapshotServer]:
    server = SnapshotServer(password=CAMERA_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    started = time.monotonic()
    try:
        tools()
    except (ContainerUnavailable, subprocess.CalledProcessError) as exc:
        pytest.fail(f"cannot get debootstrap/systemd-nspawn: {exc}")
    trees = sources(tmp_path_factory.mktemp("sources"))
    container = Container(f"imgserv-test-{os.getpid()}", {f"/src/{k}": v for k, v in trees.items()})
    try:
        container.boot()
    except ContainerUnavailable as exc:
        container.close()
        pytest.fail(f"the container did not boot: {exc}")
    timed("debootstrap (cached after the first run) + boot", started)
    yield container
    container.close()
    print("\nTimes:", json.dumps({k: round(v, 1) for k, v in TIMES.items()}, indent=2))


def get(path: str, port: int = HTTP_PORT) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc).encode()


def version() -> str:
    status, body = get("/status")
    assert status == 200, body
    return json.loads(body)["version"]


def logs_in(user: str, password: str) -> bool:
    """The admin login form through nginx, as a browser sends it."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{HTTP_PORT}"
    with opener.open(f"{base}/admin/login/?next=/admin/", timeout=10) as reply:
        page = reply.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[:500]
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": user, "password": password,
         "next": "/admin/"}
    ).encode()  # fmt: skip
    request = urllib.request.Request(
        f"{base}/admin/login/?next=/admin/", data=form, headers={"Referer": f"{base}/admin/"}
    )
    with opener.open(request, timeout=10) as reply:
        return reply.geturl().endswith("/admin/") and "Site administration" in reply.read().decode()


def service_pids(box: Container) -> str:
    return box.run(
        "systemctl show -p MainPID --value imgserv-web.service imgserv-worker.service"
    ).stdout


def snapshot(box: Container) -> str:
    """Checksums of every file the installer writes outside the data folder, and the releases."""
    units = " ".join(
        f"/etc/systemd/system/{unit}"
        for unit in ("imgserv-web.service", "imgserv-worker.service", "imgserv.target")
    )
    written = (
        f"/etc/imgserv/env /etc/imgserv/install.conf {units} /etc/nginx/sites-available/imgserv "
        "/etc/logrotate.d/imgserv /usr/local/bin/imgserv"
    )
    return box.run(
        f"set -o pipefail; sha256sum {written} && stat -c '%n %a %U %G %Y' {written} && "
        "ls -l --time-style=+%s /etc/systemd/system/imgserv.target.wants "
        "/etc/systemd/system/multi-user.target.wants/imgserv.target && "
        "readlink /opt/imgserv/current /opt/imgserv/app /etc/nginx/sites-enabled/imgserv && "
        "ls -1 /opt/imgserv/releases && "
        # Files and links with their times; folders without (a build dir comes and goes).
        "find /opt/imgserv \\( -type f -o -type l \\) -printf '%p %l %m %s %T@\\n' | sort "
        "| sha256sum && find /opt/imgserv -type d -printf '%p %m\\n' | sort | sha256sum"
    ).stdout


def wait_for(what: str, check: Callable[[], object], timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s ({last})")


def install_env(camera: SnapshotServer) -> dict[str, str]:
    return {
        "ADMIN_USER": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
        "CAMERA_NAME": "Main St",
        "CAMERA_URL": camera.url(),
        "CAMERA_USER": camera.username,
        "CAMERA_PASSWORD_FILE": "/root/camera.pw",
        "LATITUDE": "39.7392",
        "LONGITUDE": "-104.9903",
        "TIME_ZONE": "America/Denver",
        "WEB_PORT": str(WEB_PORT),
        "HTTP_PORT": str(HTTP_PORT),
        "HEALTH_TIMEOUT": "180",
    }


def test_it_installs_non_interactively_and_comes_up_healthy(box, camera):
    box.run(f"printf '%s\\n' '{CAMERA_PASSWORD}' > /root/camera.pw")
    box.run(f"mkdir -p /etc/imgserv && printf '{NO_WEATHER}' > /etc/imgserv/env")
    started = time.monotonic()
    done = box.run("/src/v1/deploy/install.sh --non-interactive", install_env(camera))
    timed("install.sh (packages, venv, migrate, start, /health)", started)
    print(done.stdout[-3000:])

    active = box.run(
        "systemctl is-active imgserv.target imgserv-web.service imgserv-worker.service nginx",
        check=False,
    )
    assert active.stdout.split() == ["active"] * 4, active.stdout + box.console()[-2000:]
    assert get("/health")[0] == 200, get("/health")  # install.sh waited for it
    assert logs_in(*ADMIN)
    assert not logs_in(ADMIN[0], "not-the-password")

    def capturing() -> bool | str:
        listed = box.run("imgserv camera list").stdout
        return ("Main St" in listed and " ok " in listed and "never" not in listed) or listed

    wait_for("the camera's first frame", capturing)
    frames = box.run("find /var/lib/imgserv/media -name '*.jpg' | wc -l").stdout
    assert int(frames) >= 1
    described = box.run("imgserv camera list").stdout
    assert CAMERA_PASSWORD not in described and "admin:***@" in described


def test_it_runs_as_one_target_and_logs_to_the_journal(box, camera):
    status = box.run("systemctl status --no-pager 'imgserv*'", check=False).stdout
    assert "imgserv.target" in status and "imgserv-web.service" in status, status
    assert "imgserv-worker.service" in status
    shown = box.run("imgserv status", check=False).stdout
    for unit in ("imgserv.target", "imgserv-web.service", "imgserv-worker.service"):
        assert f"{unit} - imgserv" in shown and "Active: active" in shown, shown
    assert "imgserv-worker" in box.run("imgserv logs --no-pager").stdout
    bare = box.run("systemctl status --no-pager imgserv", check=False)
    print(f"`systemctl status imgserv` exits {bare.returncode}: {bare.stderr.strip()}")
    pids = service_pids(box)
    restarting = time.monotonic()
    box.run("systemctl restart imgserv.target")
    timed("systemctl restart imgserv.target (stop and start both units)", restarting)
    stops = box.run("journalctl --no-pager -u imgserv-worker.service -u imgserv-web.service")
    assert "timed out. Killing" not in stops.stdout, "a unit did not stop on SIGTERM"
    wait_for("health after restarting the target", lambda: get("/health")[0] == 200)
    restarted = service_pids(box).split()
    assert all(new != old for new, old in zip(restarted, pids.split(), strict=True)), pids
    journal = box.run("journalctl --no-pager -u 'imgserv*'").stdout
    assert "imgserv-worker" in journal and "imgserv-web" in journal
    secrets_found = box.run(
        f"grep -rl '{CAMERA_PASSWORD}' /etc/imgserv /opt/imgserv/current/app /var/log "
        f"/var/lib/imgserv/log; journalctl --no-pager | grep -c '{CAMERA_PASSWORD}'",
        check=False,
    ).stdout
    assert secrets_found.strip() == "0", secrets_found
    conf = box.run("cat /etc/imgserv/install.conf").stdout
    assert ADMIN[1] not in conf and "CAMERA_URL=http://127.0.0.1" in conf
    settings = box.run("cat /etc/imgserv/env").stdout
    assert "NWS_API_URL=http://127.0.0.1:9" in settings and "TIME_ZONE=America/Denver" in settings
    location = box.run(
        "imgserv shell -v 0 -c 'from cameras.models import Camera; c = Camera.objects.get(); "
        "print(c.latitude, c.longitude, c.time_zone)'"
    ).stdout
    assert location.split() == ["39.7392", "-104.9903", "America/Denver"]


def test_a_second_run_changes_nothing(box, camera):
    before, pids = snapshot(box), service_pids(box)
    env_before = box.run("cat /etc/imgserv/env").stdout
    started = time.monotonic()
    done = box.run("/src/v1/deploy/install.sh --non-interactive", install_env(camera))
    timed("install.sh again (nothing to do)", started)
    assert "the code is unchanged" in done.stdout, done.stdout
    after = snapshot(box)
    assert after == before, "\n".join(difflib.unified_diff(before.split("\n"), after.split("\n")))
    assert box.run("cat /etc/imgserv/env").stdout == env_before
    assert service_pids(box) == pids, "a re-run restarted the services"
    assert logs_in(*ADMIN)


def test_an_update_switches_to_the_new_release(box):
    old = box.run("readlink /opt/imgserv/current").stdout.strip()
    started = time.monotonic()
    done = box.run("/src/v2/deploy/update.sh --from /src/v2", {"HEALTH_TIMEOUT": "180"})
    timed("update.sh to v2 (venv linked, same requirements)", started)
    print(done.stdout + done.stderr)
    assert "updated:" in done.stdout, done.stdout
    new = box.run("readlink /opt/imgserv/current").stdout.strip()
    assert new != old and box.run(f"test -d /opt/imgserv/{old}", check=False).returncode == 0
    assert version() == VERSION_2
    assert get("/health")[0] == 200
    assert logs_in(*ADMIN)
    unit = box.run("systemctl cat imgserv-web.service").stdout
    assert "WorkingDirectory=/opt/imgserv/current/app" in unit


def test_an_update_whose_migration_fails_rolls_back(box):
    running = box.run("readlink /opt/imgserv/current").stdout.strip()
    started = time.monotonic()
    done = box.run(
        "/src/v2/deploy/update.sh --from /src/bad-migrate", {"HEALTH_TIMEOUT": "180"}, check=False
    )
    timed("update.sh with a failing migration, rolled back", started)
    print(done.stdout + done.stderr)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rolled back" in done.stderr, done.stderr
    assert box.run("readlink /opt/imgserv/current").stdout.strip() == running
    assert get("/health")[0] == 200 and version() == VERSION_2
    # The backup went back in: the first, successful, migration is not applied any more.
    tables = box.run(
        "imgserv shell -v 0 -c 'from django.db import connection; "
        "print(connection.introspection.table_names())'"
    ).stdout
    assert "update_test_marker" not in tables
    applied = box.run(
        "imgserv shell -v 0 -c 'from django.db.migrations.recorder import MigrationRecorder as R; "
        'print(list(R.Migration.objects.filter(app="cameras").values_list("name", flat=True)))\''
    ).stdout
    assert "0900_update_test_marker" not in applied and "0001_initial" in applied
    assert box.run("ls /opt/imgserv/releases | wc -l").stdout.strip() == "2"


def test_an_update_that_is_not_healthy_rolls_back(box):
    running = box.run("readlink /opt/imgserv/current").stdout.strip()
    started = time.monotonic()
    done = box.run(
        "/src/v2/deploy/update.sh --from /src/bad-health", {"HEALTH_TIMEOUT": "30"}, check=False
    )
    timed("update.sh whose /health fails (30 s wait), rolled back", started)
    print(done.stdout + done.stderr)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "/health did not answer 200" in done.stderr and "rolled back" in done.stderr
    assert box.run("readlink /opt/imgserv/current").stdout.strip() == running
    assert get("/health")[0] == 200 and version() == VERSION_2
    assert logs_in(*ADMIN)


def test_an_interrupted_update_leaves_the_running_version(box):
    running = box.run("readlink /opt/imgserv/current").stdout.strip()
    pids = service_pids(box)
    started = time.monotonic()
    # In a session of its own, as from a terminal: Ctrl-C (or a TERM to the group) reaches the
    # script and the pip it runs alike. The outer shell keeps the exit code.
    box.run(
        "( setsid /src/v2/deploy/update.sh --from /src/slow > /root/update.log 2>&1 & "
        "echo $! > /root/update.pid; wait $!; echo $? > /root/update.rc ) > /dev/null 2>&1 &"
    )
    building = (
        "for d in /opt/imgserv/releases/*; do "
        "[ ! -e $d/.complete ] && [ -e $d/venv/bin/python ] && exit 0; done; exit 1"
    )
    wait_for("the new venv being built", lambda: box.run(building, check=False).returncode == 0)
    box.run("kill -TERM -- -$(cat /root/update.pid)")
    wait_for(
        "update.sh to exit", lambda: not box.run("test -s /root/update.rc", check=False).returncode
    )
    timed("update.sh interrupted while building", started)
    output = box.run("cat /root/update.log").stdout
    assert box.run("cat /root/update.rc").stdout.strip() == "130", output
    assert "the running version was not touched" in output, output
    assert box.run("readlink /opt/imgserv/current").stdout.strip() == running
    listed = box.run("for d in /opt/imgserv/releases/*; do test -e $d/.complete || echo $d; done")
    assert listed.stdout == "", listed.stdout
    assert service_pids(box) == pids
    assert get("/health")[0] == 200 and version() == VERSION_2


def test_uninstall_removes_the_services_and_keeps_the_data(box):
    started = time.monotonic()
    box.run("/src/v2/deploy/uninstall.sh")
    timed("uninstall.sh", started)
    gone = box.run(
        "ls /etc/systemd/system/imgserv* /usr/local/bin/imgserv /etc/nginx/sites-enabled/imgserv "
        "/opt/imgserv 2>&1 | grep -vc 'No such file'",
        check=False,
    )
    assert gone.stdout.strip() == "0", gone.stdout
    assert box.run("systemctl is-active imgserv-web.service", check=False).stdout.strip() in (
        "inactive",
        "unknown",
    )
    assert get("/health")[0] != 200
    kept = box.run(
        "ls /var/lib/imgserv/imgserv.sqlite3 /var/lib/imgserv/field_key /etc/imgserv/env"
    )
    assert kept.returncode == 0
    assert box.run("id imgserv", check=False).returncode == 0
