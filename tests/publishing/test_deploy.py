"""deploy/: nginx -t on both sites, systemd-analyze verify on the units, and the installers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.rig import RigUnavailable
from tests.rig.nginx import NGINX, Nginx, main_config, render

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ["imgserv-web.service", "imgserv-worker.service"]


def unit_values(tmp_path: Path) -> dict[str, str]:
    return {
        "USER": "daemon",
        "APP_DIR": str(ROOT),
        "VENV": str(ROOT / ".venv"),
        "DATA_DIR": str(tmp_path / "data"),
        "ENV_FILE": str(tmp_path / "env"),
        "WEB_PORT": "8000",
        "HTTP_PORT": "8080",
        "SERVER_NAME": "camera.lan",
        "NGINX_CACHE": str(tmp_path / "nginx-cache"),
    }


def test_it_passes_nginx_t_for_the_vps_site(tmp_path):
    try:
        server = Nginx(tmp_path / "bundle")
    except RigUnavailable as exc:
        unavailable(str(exc))
    try:
        checked = server.test_config()
        assert checked.returncode == 0, checked.stderr
    finally:
        server.close()


def test_it_passes_nginx_t_for_the_camera_server_site(tmp_path):
    if not os.access(NGINX, os.X_OK):
        unavailable(f"{NGINX} is missing: apt-get install nginx")
    site = tmp_path / "camera-server.conf"
    site.write_text(render(DEPLOY / "nginx" / "camera-server.conf", unit_values(tmp_path)))
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / kind).mkdir(parents=True)
    config = tmp_path / "nginx.conf"
    config.write_text(main_config(tmp_path, site))
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(config), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    text = site.read_text()
    assert "location /ws/" in text and "proxy_set_header Upgrade $http_upgrade;" in text
    assert f"alias {tmp_path / 'data'}/media/;" in text


@pytest.mark.parametrize("unit", UNITS)
def test_it_passes_systemd_analyze_verify(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing (apt-get install systemd)")
    rendered = tmp_path / unit
    rendered.write_text(render(DEPLOY / "systemd" / unit, unit_values(tmp_path)))
    checked = subprocess.run(
        [analyze, "verify", str(rendered)], capture_output=True, text=True, timeout=60
    )
    if "Failed to" in checked.stderr and "bus" in checked.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run in this container: {checked.stderr.strip()}")
    assert checked.returncode == 0, checked.stderr
    assert "Unknown" not in checked.stderr, checked.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_it_sandboxes_each_unit_restarts_it_and_bounds_its_memory(unit):
    text = (DEPLOY / "systemd" / unit).read_text()
    for line in (
        "User=@USER@",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=@DATA_DIR@",
        "Restart=always",
        "RestartSec=2s",
        "StartLimitBurst=5",
        "EnvironmentFile=@ENV_FILE@",
    ):
        assert line in text.splitlines(), line
    for setting in ("MemoryHigh=", "MemoryMax="):
        assert any(line.startswith(setting) for line in text.splitlines()), setting
    for line in ("Environment=MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072",):
        assert line in text.splitlines(), line
    assert text.count("ReadWritePaths=") == 1


def install(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFIX": str(tmp_path / "root")}
    return subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_it_installs_idempotently_and_keeps_settings_and_secrets(tmp_path):
    first = install(tmp_path)
    assert first.returncode == 0, first.stderr
    root = tmp_path / "root"
    env_file = root / "etc/imgserv/env"
    settings = env_file.read_text()
    assert "SECRET_KEY=" in settings and oct(env_file.stat().st_mode & 0o777) == "0o600"
    env_file.write_text(settings.replace("DEBUG=false", "DEBUG=true") + "REDIS_URL=redis://x\n")
    again = install(tmp_path)
    assert again.returncode == 0, again.stderr
    kept = env_file.read_text()
    assert "DEBUG=true" in kept and "REDIS_URL=redis://x" in kept
    assert kept.count("SECRET_KEY=") == 1
    assert [line for line in kept.splitlines() if line.startswith("SECRET_KEY=")] == [
        line for line in settings.splitlines() if line.startswith("SECRET_KEY=")
    ]
    for unit in UNITS:
        text = (root / "etc/systemd/system" / unit).read_text()
        assert "@" not in text.replace("@.service", "")
        assert "ReadWritePaths=/var/lib/imgserv" in text
    assert os.readlink(root / "etc/nginx/sites-enabled/imgserv") == "../sites-available/imgserv"
    assert (root / "opt/imgserv/app/manage.py").is_file()
    assert not (root / "opt/imgserv/app/.venv").exists()


def test_it_changes_nothing_on_a_dry_run(tmp_path):
    watched = [
        Path("/etc/imgserv"),
        Path("/opt/imgserv"),
        Path("/etc/systemd/system/imgserv-web.service"),
    ]
    before = {path: path.exists() for path in watched}
    done = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--dry-run"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "would write /etc/systemd/system/imgserv-worker.service" in done.stdout
    assert {path: path.exists() for path in watched} == before


def test_it_sets_up_the_vps_with_certbot_renewal_and_a_restricted_key(tmp_path):
    key = tmp_path / "key.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest imgserv-publish\n")
    done = subprocess.run(
        ["bash", str(DEPLOY / "vps-setup.sh"), "--dry-run", "cams.example.org", "ops@example.org",
         str(key)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "certbot certonly --webroot" in out and "--deploy-hook systemctl reload nginx" in out
    assert "systemctl enable --now certbot.timer" in out
    assert "install -d -o imgserv-publish -g imgserv-publish -m 0755 /srv/imgserv/bundle" in out
    assert "install -o root -g root -m 0755" in out and "publish-gate" in out
    refused = subprocess.run(
        ["bash", str(DEPLOY / "vps-setup.sh"), "--dry-run", "bad;name", "ops@example.org"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
