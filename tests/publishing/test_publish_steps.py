"""The `publish` steps an operator runs by hand: their order, what they ask and what they say
when something is missing."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from publishing.models import PublishTarget
from tests.conftest import unavailable
from tests.publishing.conftest import command

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, answers: str = "") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO(answers)
    try:
        call_command("publish", *args, stdout=out, stderr=err)
    finally:
        sys.stdin = stdin
    return out.getvalue(), err.getvalue()


def host_fingerprint(sshd) -> str:
    return subprocess.run(
        ["ssh-keygen", "-lf", f"{sshd.host_key}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]


def add_rig_target(sshd, *extra: str) -> None:
    command(
        "add", "vps", "--rsync", f"{sshd.user}@127.0.0.1:{sshd.bundle}", "--port",
        str(sshd.port), *extra,
    )  # fmt: skip


def test_keygen_before_add_says_to_add_the_target_first(db):
    with pytest.raises(CommandError, match=r"No publish target named “vps”: add it first: "):
        command("keygen", "vps")


def test_keygen_writes_the_key_the_target_names_and_says_what_the_line_needs(db, tmp_path):
    command("add", "vps", "--rsync", "pub@example.org:/srv/b", "--identity", str(tmp_path / "k"))
    out = command("keygen", "vps")
    assert (tmp_path / "k").is_file() and f"Public key ({tmp_path / 'k'}.pub)" in out
    assert "publish setup-vps vps` installs it" in out
    assert "works only where the publish gate it names is installed" in out
    assert "/usr/local/lib/imgserv/publish-gate" in out and "deploy/vps-setup.sh" in out


def test_add_names_the_next_steps_and_the_key_it_will_create(db, settings):
    out = command("add", "vps", "--rsync", "pub@example.org:/srv/b")
    key = settings.DATA_DIR / "publishing" / "id_ed25519"
    assert f"`manage.py publish keygen vps` (creates {key})" in out
    assert "publish setup-vps vps --domain DOMAIN --email EMAIL" in out


def test_trust_shows_the_fingerprint_and_pins_only_when_told_yes(sshd, db):
    add_rig_target(sshd)
    with pytest.raises(CommandError, match="Not pinned: nothing was trusted"):
        run("trust", "vps", answers="n\n")
    assert PublishTarget.objects.get().host_key == ""
    with pytest.raises(CommandError, match="Not pinned"):
        run("trust", "vps", answers="")  # no answer at all, as from a script
    out, _ = run("trust", "vps", answers="y\n")
    assert host_fingerprint(sshd) in out and "Pin it [y/N]" in out and "Pinned." in out
    assert PublishTarget.objects.get().host_key
    again, _ = run("trust", "vps")
    assert "pinned already and unchanged" in again and "Pin it" not in again


def test_trust_yes_pins_without_asking(sshd, db):
    add_rig_target(sshd)
    out, _ = run("trust", "vps", "--yes")
    assert host_fingerprint(sshd) in out and "Pin it" not in out


def test_a_missing_key_names_the_path_it_looked_for(sshd, db, tmp_path):
    missing = tmp_path / "nowhere" / "id_ed25519"
    add_rig_target(sshd, "--identity", str(missing))
    run("trust", "vps", "--yes")
    with pytest.raises(CommandError) as failed:
        command("now", "vps")
    assert "The private key file is missing" in str(failed.value)
    assert f"looked for {missing}" in str(failed.value) and "publish keygen vps" in str(
        failed.value
    )
    # /status may be public: the stored error names no path.
    assert str(missing) not in PublishTarget.objects.get().last_error


def test_a_relative_directory_is_inside_the_data_folder(db, settings):
    _, err = run("add", "lan", "--directory", "public")
    assert PublishTarget.objects.get().remote_path == str(settings.DATA_DIR / "public")
    assert err == ""


def test_a_directory_outside_the_data_folder_is_added_with_a_warning(db, settings, tmp_path):
    outside = tmp_path.parent / "www-road"
    _, err = run("add", "lan", "--directory", str(outside))
    assert PublishTarget.objects.get().remote_path == str(outside)
    assert f"{outside} is outside the data folder" in err
    assert "ProtectSystem=strict" in err and f"ReadWritePaths={outside}" in err


def test_setup_vps_needs_an_rsync_target(db, tmp_path):
    with pytest.raises(CommandError, match="add it first"):
        run("setup-vps", "vps", "--domain", "cams.example.org", "--email", "a@example.org")
    command("add", "lan", "--directory", str(tmp_path))
    with pytest.raises(CommandError, match="local folder: there is no server to set up"):
        run("setup-vps", "lan", "--domain", "cams.example.org", "--email", "a@example.org")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--domain", "bad domain", "--email", "a@example.org"], "Not a domain name"),
        (["--domain", "cams.example.org", "--email", "nobody"], "Not an e-mail address"),
        (["--domain", "x.org", "--email", "a@b.org", "--login", "root@other"], "publishes to"),
    ],
)
def test_setup_vps_refuses_bad_input_before_touching_the_server(db, args, message):
    command("add", "vps", "--rsync", "pub@example.org:/srv/b")
    with pytest.raises(CommandError, match=message):
        run("setup-vps", "vps", *args, "--yes", "--password-file", "/nonexistent")
    assert PublishTarget.objects.get().host_key == ""


def test_a_read_only_folder_says_where_the_installed_worker_may_write(tmp_path):
    """As under the worker's ProtectSystem=strict: the folder is a read-only mount (made in
    a mount namespace of its own, so nothing else sees it)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        unavailable("needs root and unshare (util-linux) for a read-only mount")
    folder = tmp_path / "www"
    folder.mkdir()
    env = {**os.environ, "IMGSRV_DATA_DIR": str(tmp_path / "data"), "IMGSRV_ENV_FILE": ""}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    manage = ".venv/bin/python manage.py"
    script = (
        f"{manage} migrate -v0 && {manage} publish add lan --directory {folder} && "
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
        f"{manage} publish now lan"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "is outside the data folder" in done.stderr
    assert "Read-only file system. The installed worker may write only inside its data " in (
        done.stderr
    )
    assert "`publish add NAME --directory public`" in done.stderr
