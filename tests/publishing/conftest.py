"""Fixtures for publishing: sequences built by the project's own builder, a real sshd with
the publish gate installed the way deploy/vps-setup.sh installs it, and nginx in front."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from cameras.models import Camera
from sequences.builder import build_sequence
from sequences.models import Sequence
from tests.conftest import unavailable
from tests.factories import frames
from tests.rig import RigUnavailable
from tests.rig.nginx import Nginx
from tests.rig.sshd import SshServer

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "deploy" / "publish-gate.py"
START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
CAMERA_PASSWORD = "cam-pw-7f3a9c1e"
CAMERA_HOST = "cam-internal-42.lan"


@pytest.fixture
def secret_camera(camera: Camera) -> Camera:
    """The conftest camera with a source that has a host, user and password to leak."""
    camera.source_kind = "http"
    camera.source_url = f"http://{CAMERA_HOST}:8080/ISAPI/Streaming/channels/1/picture"
    camera.username = "admin"
    camera.password = CAMERA_PASSWORD
    camera.save()
    return camera


@pytest.fixture
def build(secret_camera: Camera):
    """Store fresh frames and build a sequence from them, as capture and the builder do."""
    count = [0]

    def make() -> Sequence:
        start = START + dt.timedelta(minutes=count[0])
        count[0] += 1
        frames(secret_camera, secret_camera.frames_per_sequence, start)
        return build_sequence(secret_camera)

    return make


def command(*args: str) -> str:
    out = StringIO()
    call_command("publish", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def sshd() -> Iterator[SshServer]:
    try:
        server = SshServer()
    except RigUnavailable as exc:
        unavailable(str(exc))
    with server:
        yield server


@pytest.fixture
def gated_target(sshd: SshServer, db) -> str:
    """`publish keygen` + `publish add` + `publish trust`, with the key's authorized_keys
    line (forced command: the publish gate) installed on the server as printed."""
    remote = str(sshd.bundle)
    command("add", "vps", "--rsync", f"{sshd.user}@127.0.0.1:{remote}", "--port", str(sshd.port))
    printed = command("keygen", "vps").strip().splitlines()[-1]
    gate = sshd.install_gate(GATE)
    sshd.authorize(
        printed.replace("/usr/local/lib/imgserv/publish-gate", f"/usr/bin/python3 {gate}")
    )
    command("trust", "vps", "--yes")
    return "vps"


@pytest.fixture
def nginx(sshd: SshServer) -> Iterator[Nginx]:
    try:
        server = Nginx(sshd.bundle)
    except RigUnavailable as exc:
        unavailable(str(exc))
    with server:
        yield server
