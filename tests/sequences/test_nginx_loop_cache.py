"""The deploy nginx site (deploy/nginx/camera-server.conf) in front of a real daphne: the loop
/sequence/latest picks is sent by nginx, kept for a second so a crowd costs daphne one
decision per second, and still right: GIF or WebP by Accept, byte ranges, HEAD, and a new
build within about a second."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.live_site import LiveSite, live_site
from tests.rig import free_port, stop_process
from tests.rig.nginx import NGINX, main_config, render, unavailable_reason

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "camera-server.conf"
BUILD = """
import datetime as dt
from django.utils import timezone
from cameras.capture import store_frame
from cameras.models import Camera
from cameras.sources import open_source
from sequences.builder import build_sequence
camera, _ = Camera.objects.get_or_create(
    slug="main", defaults={"name": "Main", "location_name": "Main Street"}
)
source = open_source(camera)
now = timezone.now()
for i in range(3):
    store_frame(camera, source.grab(), now - dt.timedelta(seconds=3 - i))
source.close()
sequence = build_sequence(camera)
print(sequence.gif, sequence.webp)
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LiveSite]:
    with live_site(tmp_path / "data", MEDIA_ACCEL_PREFIX="/internal-media/") as site:
        site.start()
        yield site


@pytest.fixture
def nginx(site: LiveSite, tmp_path: Path) -> Iterator[str]:
    reason = unavailable_reason()
    if reason:
        unavailable(reason)
    port = free_port()
    values = {
        "WEB_PORT": str(site.port),
        "HTTP_PORT": str(port),
        "SERVER_NAME": "_",
        "DATA_DIR": str(site.data),
        "NGINX_CACHE": str(tmp_path / "nginx-cache"),
    }
    folder = tmp_path / "nginx"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / kind).mkdir(parents=True)
    # Every client here is 127.0.0.1: the per-address limit would count them all as one.
    lines = render(SITE, values).replace(f"listen [::]:{port};", "").splitlines()
    text = "\n".join(line for line in lines if "limit_req " not in line)
    (folder / "site.conf").write_text(text)
    # As root, so its workers read the test's private tmp folders.
    config = "user root;\n" + main_config(folder, folder / "site.conf")
    (folder / "nginx.conf").write_text(config)
    process = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf"), "-e", "stderr"])
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process, grace=10)


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer")


def get(url: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def build(site: LiveSite) -> tuple[bytes, bytes]:
    gif, webp = site.manage("shell", "-c", BUILD).split()[-2:]
    media = site.data / "media"
    return (media / gif).read_bytes(), (media / webp).read_bytes()


def daphne_answers(site: LiveSite, path: str) -> int:
    return len(re.findall(rf'"GET {re.escape(path)}" 200', site.log()))


def test_it_sends_the_right_loop_from_nginx_and_asks_daphne_once_a_second(site, nginx):
    gif, webp = build(site)
    status, headers, body = get(f"{nginx}/sequence/latest")
    assert (status, headers["Content-Type"], body) == (200, "image/gif", gif)
    assert headers["Vary"] == "Accept"
    _, headers, body = get(f"{nginx}/sequence/latest", Accept="image/webp,*/*")
    assert (headers["Content-Type"], body) == ("image/webp", webp)

    status, headers, body = get(f"{nginx}/sequence/latest", Range="bytes=100-199")
    assert (status, headers["Content-Range"]) == (206, f"bytes 100-199/{len(gif)}")
    assert body == gif[100:200]
    status, headers, body = get(f"{nginx}/sequence/latest", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, str(len(gif)), b"")

    asked = daphne_answers(site, "/sequence/latest")
    assert asked >= 2, "daphne's access log shows the GIF and the WebP asked for above"
    started = time.monotonic()
    for _ in range(30):
        assert get(f"{nginx}/sequence/latest")[2] == gif
    seconds = time.monotonic() - started
    # Thirty visitors, one decision per second of the cache (and one the second it expired).
    assert daphne_answers(site, "/sequence/latest") - asked <= int(seconds) + 2


def test_a_new_loop_is_sent_within_about_a_second(site, nginx):
    first, _ = build(site)
    assert get(f"{nginx}/sequence/latest")[2] == first
    second, _ = build(site)
    assert second != first
    deadline = time.monotonic() + 5
    while (body := get(f"{nginx}/sequence/latest")[2]) != second:
        assert body == first, "nginx sent neither the old nor the new loop"
        assert time.monotonic() < deadline, "nginx kept the old loop for 5 s"
        time.sleep(0.1)


def test_the_origin_path_is_for_nginx_itself(site, nginx):
    # nginx reaches daphne through its own /imgserv-origin/, from 127.0.0.1 only; from there it
    # answers as daphne would (the deny for other addresses is nginx's allow/deny).
    build(site)
    status, headers, _ = get(f"{nginx}/imgserv-origin/sequence/latest")
    assert (status, headers["Content-Type"]) == (200, "image/gif")
    assert "deny all;" in SITE.read_text().split("location /imgserv-origin/")[1].split("}")[0]
