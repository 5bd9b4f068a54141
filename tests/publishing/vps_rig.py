"""A throwaway VPS on this machine, for `publish setup-vps` and the README's publishing steps.

It runs in its own network, mount and PID namespaces (tests/publishing/vps_rig_init.sh), so:
- its 127.0.0.1 is its own: sshd on :22, nginx on :80/:443, the pebble ACME server on :14000,
  exactly the ports a real VPS uses, without touching this machine's ports;
- /etc, /var, /run, /srv, /root and /usr/local are its own (a copy of /etc, empty folders
  else), so deploy/vps-setup.sh runs with its real default paths, creates its publish user,
  installs the gate, nginx site and certificate there, and nothing outside `root` changes;
- root has a one-time password, as a VPS provider hands one out; `localhost` resolves to it.

The camera side (manage.py, rsync, curl) runs in this machine's mount namespace but joins the
VPS's network with `nsenter --net`, so `localhost` there is the VPS. Stopping the rig kills
PID 1 of its namespace, which takes every process started inside with it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.rig import RigServer, RigUnavailable, stop_process

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INIT = HERE / "vps_rig_init.sh"
TOOLS = {
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "ip": "iproute2",
    "sshd": "openssh-server",
    "nginx": "nginx",
    "certbot": "certbot",
    "pebble": "pebble",
    "sshpass": "sshpass",
    "rsync": "rsync",
    "openssl": "openssl",
    "curl": "curl",
}


def unavailable_reason() -> str | None:
    missing = sorted({package for tool, package in TOOLS.items() if not _which(tool)})
    if missing:
        return f"the VPS rig needs: apt-get install {' '.join(missing)}"
    if os.geteuid() != 0:
        return "the VPS rig makes namespaces and needs root"
    probe = subprocess.run(
        ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "true"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"cannot make namespaces here: {probe.stderr.strip()}"
    return None


def _which(tool: str) -> bool:
    return bool(shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin"))


class VpsRig(RigServer):
    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise RigUnavailable(reason)
        self.root = Path(tempfile.mkdtemp(prefix="imgserv-vps-"))
        self.root.chmod(0o755)
        self.password = secrets.token_urlsafe(12)
        hashed = subprocess.run(
            ["openssl", "passwd", "-6", "-stdin"], input=self.password, capture_output=True,
            text=True, check=True, timeout=30,
        ).stdout.strip()  # fmt: skip
        (self.root / "root-password.hash").write_text(hashed + "\n")
        self._pebble_config()
        self._process: subprocess.Popen[bytes] | None = None
        self.pid = 0

    def _pebble_config(self) -> None:
        folder = self.root / "pebble"
        folder.mkdir()
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=pebble", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        config = {
            "pebble": {
                "listenAddress": "127.0.0.1:14000",
                "managementListenAddress": "127.0.0.1:15000",
                "certificate": str(cert),
                "privateKey": str(key),
                "httpPort": 80,
                "tlsPort": 443,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        (folder / "pebble.json").write_text(json.dumps(config))

    def start(self) -> VpsRig:
        self._process = subprocess.Popen(
            ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
             "bash", str(INIT), str(self.root)],
            stdout=open(self.root / "init.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not (self.root / "ready").exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the VPS rig did not start: {self.log('init.log')}")
            time.sleep(0.05)
        self.pid = self._namespace_pid()
        return self

    def _namespace_pid(self) -> int:
        """PID (here) of the namespace's PID 1: the child that unshare forked."""
        assert self._process is not None
        children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children")
        return int(children.read_text().split()[0])

    def camera_side(self, argv: list[str]) -> list[str]:
        """argv run on this machine, but on the VPS's network (its localhost is the VPS)."""
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", *argv]

    def on_vps(self, argv: list[str]) -> list[str]:
        """argv run on the VPS itself, as its root."""
        return ["nsenter", "--target", str(self.pid), "--net", "--mount", "--pid", *argv]

    def vps(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.on_vps(list(argv)), capture_output=True, text=True, timeout=60)

    def read(self, path: str) -> str:
        """A file on the VPS, or "" when it is not there."""
        done = self.vps("cat", path)
        return done.stdout if done.returncode == 0 else ""

    def acme_root_ca(self) -> Path:
        """pebble's root certificate (new each run): what a browser trusts for Let's Encrypt."""
        path = self.root / "acme-root.pem"
        done = subprocess.run(
            self.camera_side(["curl", "-fsS", "--cacert", str(self.root / "pebble" / "cert.pem"),
                              "https://127.0.0.1:15000/roots/0"]),
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"could not fetch pebble's root: {done.stderr}")
        path.write_text(done.stdout)
        return path

    def log(self, name: str) -> str:
        path = self.root / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> VpsRig:
        return self.start()


NO_WEATHER = "http://127.0.0.1:9"
CAMERA_SCRIPT = """
import datetime as dt
from django.utils import timezone
from cameras.models import Camera, SourceKind
from sequences.builder import build_sequence
from tests.factories import frames
camera = Camera.objects.create(
    name="Main Street", slug="main-street", location_name="Main St at 5th Ave",
    time_zone="America/New_York", source_kind=SourceKind.DEMO, capture_width=640,
    capture_height=360, update_interval_minutes=1, frames_per_sequence=5,
)
frames(camera, 5, timezone.now() - dt.timedelta(minutes=1))
print(build_sequence(camera).gif)
"""


class CameraServer:
    """This checkout as the camera server: manage.py with its own data folder (embedded mode:
    the VPS's network cannot reach a PostgreSQL here), on the VPS rig's network, trusting
    the rig's ACME CA as a browser trusts Let's Encrypt's."""

    def __init__(self, vps: VpsRig, data_dir: Path) -> None:
        self.vps = vps
        self.data_dir = data_dir
        ca = str(vps.acme_root_ca())
        env = {**os.environ, "IMGSRV_DATA_DIR": str(data_dir), "IMGSRV_ENV_FILE": ""}
        for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
            env.pop(name, None)
        env.update(
            NWS_API_URL=NO_WEATHER, OPEN_METEO_API_URL=NO_WEATHER, SSL_CERT_FILE=ca,
            CURL_CA_BUNDLE=ca,
        )  # fmt: skip
        self.env = env
        self.answers: list[tuple[re.Pattern[str], str]] = [
            (re.compile(r"\[y/N\]: $"), "y"),
            (re.compile(r"Password of \S+: $"), vps.password),
        ]

    def prepare(self) -> Path:
        """Migrated, with one camera and a built sequence; its GIF."""
        self.manage("migrate", "--noinput", "-v0")
        out = self.manage("shell", "-c", CAMERA_SCRIPT)
        return self.data_dir / "media" / out.strip().splitlines()[-1]

    def manage(self, *args: str) -> str:
        done = self.shell(shlex.join([".venv/bin/python", "manage.py", *args]))
        assert done.code == 0, done.output
        return done.output

    def shell(
        self, command: str, env: dict[str, str] | None = None, timeout: float = 600
    ) -> Conversation:
        """`command` through bash, answering the prompts it asks as an operator would."""
        argv = self.vps.camera_side(["bash", "-c", command])
        return converse(argv, {**self.env, **(env or {})}, self.answers, timeout)


@dataclass(frozen=True)
class Conversation:
    code: int
    output: str


def converse(
    argv: list[str],
    env: dict[str, str],
    answers: list[tuple[re.Pattern[str], str]],
    timeout: float,
) -> Conversation:
    """Run argv; whenever its output ends in a prompt of `answers`, type that answer."""
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        cwd=ROOT,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    output, answered = b"", 0
    deadline = time.monotonic() + timeout
    fd = process.stdout.fileno()
    while True:
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{argv} took over {timeout} s: {output.decode(errors='replace')}")
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        output += chunk
        pending = output[answered:].decode(errors="replace")
        for prompt, answer in answers:
            if prompt.search(pending):
                process.stdin.write(answer.encode() + b"\n")
                process.stdin.flush()
                answered = len(output)
                break
    process.stdin.close()
    return Conversation(process.wait(timeout=30), output.decode(errors="replace"))


@pytest.fixture
def vps() -> Iterator[VpsRig]:
    try:
        rig = VpsRig()
    except RigUnavailable as exc:
        unavailable(str(exc))
    with rig:
        yield rig


@pytest.fixture
def camera_server(vps: VpsRig, tmp_path: Path) -> CameraServer:
    data = tmp_path / "camera-server"
    data.mkdir()
    return CameraServer(vps, data)
