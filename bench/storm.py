"""Storm traffic: the day it snows, many visitors at once on `/`, `/status` and
`/sequence/latest`, while capture must keep every frame on its slot.

    .venv/bin/python -m bench.storm            # ~3 minutes, prints Markdown

One installation (embedded mode, temp folder) with a demo camera on 6 s slots, a worker node
capturing it, and, in the same run:
- daphne as it was: the pages rebuilt for every request (FRESH_PAGES empty), the baseline;
- daphne now: pages built once per change (imgserv_site.freshness);
- the deploy nginx config (deploy/nginx/camera-server.conf, its per-address media limit lifted
  since every client here is 127.0.0.1) in front of a daphne that hands media to nginx
  (MEDIA_ACCEL_PREFIX);
- nginx serving the same bytes from files: the ceiling.
Each gets CLIENTS concurrent keep-alive connections per path for SECONDS, from one asyncio
client (the same for all, so the comparison is fair; on 2 cores it competes with the servers).
Reported: requests/s, p50 and p99 latency, non-2xx answers, daphne's PSS after the storm, and
how far each frame captured during the storms was from its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import measure, mib
from bench.viewers import free_port, keep_alive_load, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 50
SECONDS = 8.0
PATHS = ("/", "/status", "/sequence/latest")
NGINX = "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"
NO_WEATHER = "http://127.0.0.1:9"
SPACING = 6.0

SETUP = """
import datetime as dt
from django.utils import timezone
from cameras.capture import store_frame
from cameras.models import Camera
from cameras.sources import open_source
from sequences.builder import build_sequence
camera = Camera.objects.create(name="Storm", slug="storm", location_name="Storm Road",
                               update_interval_minutes=5, frames_per_sequence=10)
source = open_source(camera)
now = timezone.now()
for i in range(camera.frames_per_sequence):
    store_frame(camera, source.grab(), now - dt.timedelta(seconds=6 * (10 - i)))
source.close()
print(build_sequence(camera).gif)
"""


@dataclass
class Result:
    target: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Installation:
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="imgserv-storm-")))
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    gif: Path = Path()

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "IMGSRV_DATA_DIR": str(self.data), "PUBLIC_RATE": "100000000/min"}
        env.update(
            NWS_API_URL=NO_WEATHER, OPEN_METEO_API_URL=NO_WEATHER, MEDIA_RATE="1000000000/min"
        )
        for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
            env.pop(key, None)
        env.update(extra)
        return env

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def start(self, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        log = (self.data / f"process-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            argv, cwd=ROOT, env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def daphne(self, **extra: str) -> tuple[int, subprocess.Popen[bytes]]:
        port = free_port()
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        process = self.start([*argv, "imgserv_site.asgi:application"], **extra)
        wait_for_http(f"http://127.0.0.1:{port}/status", process)
        return port, process

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


async def storm(port: int, path: str) -> tuple[float, float, float, int]:
    """Requests per second (2xx), p50 and p99 in ms, non-2xx answers."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()
    done = await keep_alive_load(port, request, CLIENTS, SECONDS)
    if not done.latencies:
        return 0.0, float("nan"), float("nan"), done.errors
    ordered = sorted(done.latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return done.rate, statistics.median(ordered) * 1000, p99 * 1000, done.errors


@contextlib.contextmanager
def nginx(site_conf: str) -> Iterator[None]:
    folder = Path(tempfile.mkdtemp(prefix="imgserv-storm-nginx-"))
    temps = "".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "site.conf").write_text(site_conf)
    (folder / "nginx.conf").write_text(
        f"user root; daemon off; worker_processes 1; pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{ include {MIME_TYPES}; access_log off; sendfile on; keepalive_requests 1000000;"
        f" {temps}\n include {folder / 'site.conf'};\n}}\n"
    )
    process = subprocess.Popen(
        [NGINX, "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    )
    try:
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError((folder / "error.log").read_text())
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def deploy_site(port: int, daphne_port: int, data: Path) -> str:
    """The camera server's nginx site as install.sh renders it, minus the per-address limit."""
    text = (ROOT / "deploy" / "nginx" / "camera-server.conf").read_text()
    for placeholder, value in {
        "@HTTP_PORT@": str(port),
        "@WEB_PORT@": str(daphne_port),
        "@SERVER_NAME@": "_",
        "@DATA_DIR@": str(data),
        "@NGINX_CACHE@": str(data / "nginx-cache"),
    }.items():
        text = text.replace(placeholder, value)
    lines = [line for line in text.splitlines() if "limit_req" not in line]
    return "\n".join(line for line in lines if "[::]" not in line) + "\n"


def files_site(port: int, folder: Path) -> str:
    return "\n".join(
        [
            f"server {{ listen 127.0.0.1:{port}; root {folder};",
            "  location = / { default_type text/html; try_files /index.html =404; }",
            "  location = /status { default_type application/json; try_files /status.json =404; }",
            "  location = /sequence/latest { default_type image/gif; try_files /latest.gif =404; }",
            "}\n",
        ]
    )


def slot_lateness(data: Path, windows: list[tuple[float, float]]) -> list[float]:
    with sqlite3.connect(data / "imgserv.sqlite3", timeout=30) as db:
        rows = db.execute("SELECT captured_at FROM cameras_frame").fetchall()
    times = [dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.UTC).timestamp() for r in rows]
    during = [t for t in times if any(a <= t <= b for a, b in windows)]
    return [t % SPACING for t in during]


def main() -> int:
    site = Installation()
    results: list[Result] = []
    windows: list[tuple[float, float]] = []
    pss: dict[str, str] = {}
    try:
        site.manage("migrate", "--noinput", "-v0")
        site.manage("collectstatic", "--noinput", "-v0")
        site.gif = site.data / "media" / site.manage("shell", "-c", SETUP).split()[-1]
        site.manage("shell", "-c", "from cameras.models import Camera;"
                    " Camera.objects.update(update_interval_minutes=1)")  # fmt: skip
        site.start([sys.executable, "manage.py", "worker"])
        before_port, before = site.daphne(FRESH_PAGES="")
        now_port, now = site.daphne()
        accel_port, _accel = site.daphne(MEDIA_ACCEL_PREFIX="/internal-media/")
        files = site.data / "ceiling"
        files.mkdir()
        for path, name in (("/", "index.html"), ("/status", "status.json")):
            with urllib.request.urlopen(f"http://127.0.0.1:{now_port}{path}", timeout=10) as r:
                (files / name).write_bytes(r.read())
        shutil.copy(site.gif, files / "latest.gif")
        time.sleep(15)  # the worker has its camera
        nginx_port, files_port = free_port(), free_port()
        targets = {
            "daphne, rebuilt per request (before)": before_port,
            "daphne, built once per change": now_port,
            "deploy nginx → daphne": nginx_port,
            "nginx from files (ceiling)": files_port,
        }
        with nginx(deploy_site(nginx_port, accel_port, site.data) + files_site(files_port, files)):
            for target, port in targets.items():
                for path in PATHS:
                    start = time.time()
                    rps, p50, p99, errors = asyncio.run(storm(port, path))
                    windows.append((start, time.time()))
                    results.append(Result(target, path, rps, p50, p99, errors))
        for name, process in (("before", before), ("now", now)):
            sample = measure(process.pid)
            pss[name] = mib(sample.pss_kib) if sample else "?"
        lateness = slot_lateness(site.data, windows)
    finally:
        site.stop()
        shutil.rmtree(site.data, ignore_errors=True)
    report(results, pss, lateness)
    return 0


def report(results: list[Result], pss: dict[str, str], lateness: list[float]) -> None:
    print(f"### Storm: {CLIENTS} concurrent keep-alive clients per path, {SECONDS:.0f} s each\n")
    print("| target | path | req/s | p50 | p99 | non-2xx |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.target} | `{r.path}` | {r.rps:.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms "
            f"| {r.errors} |"
        )
    on_slot = sum(1 for x in lateness if x <= 1.0)
    worst = f"{max(lateness):.2f} s" if lateness else "–"
    print(
        f"\nFrames captured during the storms: {len(lateness)}, {on_slot} within 1 s of their "
        f"slot (latest {worst}). daphne PSS after the storms: before {pss.get('before')} MiB, "
        f"now {pss.get('now')} MiB."
    )


if __name__ == "__main__":
    sys.exit(main())
