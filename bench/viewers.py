"""Live viewer load: 1,000 websocket viewers on one daphne process, and HTTP requests per second
against nginx serving the same bytes as the ceiling, in the same run.

    .venv/bin/python -m bench.viewers      # ~1 minute, prints Markdown

One daphne in embedded mode (SQLite, in-memory channel layer; the web process's
DatabaseWatcher finds new sequences by polling every LIVE_WATCH_INTERVAL) on 127.0.0.1, with a
temp data folder, one demo camera and one sequence. 1,000 websocket clients (one asyncio
process, the `websockets` package) connect in batches; then a sequence is built by another
process (`manage.py shell`, as the worker would) and the time from its commit to each client's
receipt of `sequence.updated` is taken (both sides read the same wall clock), three times.
Memory is daphne's VmRSS from /proc, idle and with the clients connected.

HTTP: 20 keep-alive connections for 5 s per endpoint from one asyncio client (the same client
for both servers, so the comparison is fair; on 2 cores the client competes with the server,
so the nginx figure is a floor for the ceiling). nginx (1 worker, like the one daphne process)
serves the very GIF that `/sequence/latest` serves and a saved copy of the `/status` answer.
The public rate limit is lifted for the run, or /status would measure 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 1000
BATCH = 100
ROUNDS = 3
HTTP_SECONDS = 5.0
HTTP_CONNECTIONS = 20
NGINX = "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"
NO_WEATHER = "http://127.0.0.1:9"

SETUP = """
import datetime as dt
from django.utils import timezone
from cameras.capture import store_frame
from cameras.models import Camera, Health
from cameras.sources import open_source
from sequences.builder import build_sequence

camera = Camera.objects.create(name="Bench", slug="bench", location_name="Bench Road")
source = open_source(camera)
now = timezone.now()
for i in range(camera.frames_per_sequence):
    store_frame(camera, source.grab(), now - dt.timedelta(seconds=6 * (10 - i)))
source.close()
Camera.objects.filter(pk=camera.pk).update(health=Health.OK, last_frame_at=now)
print(build_sequence(camera).gif)
"""

# Prints the wall-clock time once the new sequence's row is committed.
BUILD = """
import time
from cameras.models import Camera
from sequences.builder import build_sequence
build_sequence(Camera.objects.get(slug="bench"))
print(repr(time.time()))
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


@dataclass
class Site:
    data: Path
    env: dict[str, str]
    port: int
    gif: Path
    daphne: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout


@contextlib.contextmanager
def site() -> Iterator[Site]:
    data = Path(tempfile.mkdtemp(prefix="imgserv-bench-viewers-"))
    env = {**os.environ, "IMGSRV_DATA_DIR": str(data), "PUBLIC_RATE": "1000000/min"}
    env.update(NWS_API_URL=NO_WEATHER, OPEN_METEO_API_URL=NO_WEATHER)
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(key, None)
    s = Site(data, env, free_port(), Path())
    try:
        s.manage("migrate", "--noinput", "-v0")
        relative = s.manage("shell", "-c", SETUP).split()[-1]
        s.gif = data / "media" / relative
        log = (data / "daphne.log").open("wb")
        s.daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(s.port),
             "imgserv_site.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_http(s.base + "/sequence/latest", s.daphne)
        yield s
    finally:
        if s.daphne is not None:
            s.daphne.send_signal(signal.SIGTERM)
            try:
                s.daphne.wait(15)
            except subprocess.TimeoutExpired:
                s.daphne.kill()
                s.daphne.wait()
        shutil.rmtree(data, ignore_errors=True)


def wait_for_http(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s")


# --- websockets ---------------------------------------------------------------------------


@dataclass
class Delivery:
    connected: int
    rss_idle: float
    rss_clients: float
    last_s: list[float]
    median_s: list[float]
    received: list[int]


async def hold_clients(s: Site) -> Delivery:
    assert s.daphne is not None
    url = f"ws://127.0.0.1:{s.port}/ws/live/"
    rss_idle = rss_mib(s.daphne.pid)

    async def open_one() -> websockets.ClientConnection:
        return await websockets.connect(
            url, origin=websockets.Origin(s.base), open_timeout=60, ping_interval=None
        )

    clients: list[websockets.ClientConnection] = []
    for _ in range(CLIENTS // BATCH):
        clients += await asyncio.gather(*(open_one() for _ in range(BATCH)))
    await asyncio.sleep(2)
    rss_clients = rss_mib(s.daphne.pid)
    last, median, received = [], [], []
    try:
        for _ in range(ROUNDS):
            times = await one_round(s, clients)
            committed = times.pop()
            delays = [t - committed for t in times]
            received.append(len(delays))
            last.append(max(delays) if delays else float("nan"))
            median.append(statistics.median(delays) if delays else float("nan"))
            rss_clients = max(rss_clients, rss_mib(s.daphne.pid))
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return Delivery(len(clients), rss_idle, rss_clients, last, median, received)


async def one_round(s: Site, clients: list[websockets.ClientConnection]) -> list[float]:
    """Receipt times of every client that got the message, then the build's commit time."""

    async def receive(client: websockets.ClientConnection) -> float | None:
        while True:
            message = json.loads(await asyncio.wait_for(client.recv(), timeout=30))
            if message["type"] == "sequence.updated":
                return time.time()

    waiting = [asyncio.ensure_future(receive(c)) for c in clients]
    output = await asyncio.to_thread(s.manage, "shell", "-c", BUILD)
    results = await asyncio.gather(*waiting, return_exceptions=True)
    times = [r for r in results if isinstance(r, float)]
    return [*times, float(output.split()[-1])]


# --- HTTP ----------------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


@dataclass
class Load:
    """What `keep_alive_load` measured: each 2xx answer's latency (s), the rest, the time."""

    latencies: list[float]
    errors: int
    elapsed: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


async def keep_alive_load(port: int, request: bytes, clients: int, seconds: float) -> Load:
    """`clients` keep-alive connections sending `request` back to back for `seconds`; a
    connection the server ends (or refuses) is opened again."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                errors += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    writer.write(request)
                    status = await read_response(reader)
                    if 200 <= status < 300:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors += 1
            except (asyncio.IncompleteReadError, ConnectionError):
                pass  # the server ended the keep-alive connection: open another
            finally:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(clients)))
    return Load(latencies, errors, time.perf_counter() - started)


async def load(port: int, path: str) -> tuple[float, float, int]:
    """Requests per second (2xx), median latency in ms, and non-2xx answers."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    done = await keep_alive_load(port, request, HTTP_CONNECTIONS, HTTP_SECONDS)
    median_ms = statistics.median(done.latencies) * 1000 if done.latencies else float("nan")
    return done.rate, median_ms, done.errors


@contextlib.contextmanager
def nginx(gif: Path, status_json: Path) -> Iterator[int]:
    folder = Path(tempfile.mkdtemp(prefix="imgserv-bench-nginx-"))
    # nginx's workers run as another user: give them their own readable copies.
    folder.chmod(0o755)
    gif = Path(shutil.copy(gif, folder / "latest.gif"))
    status_json = Path(shutil.copy(status_json, folder / "status.json"))
    for copy in (gif, status_json):
        copy.chmod(0o644)
    port = free_port()
    temps = "".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ include {MIME_TYPES}; access_log off; sendfile on; keepalive_requests 1000000;"
        f" {temps}\n"
        f"  server {{ listen 127.0.0.1:{port};\n"
        f"    location = /sequence/latest {{ default_type image/gif; alias {gif}; }}\n"
        f"    location = /status {{ default_type application/json; alias {status_json}; }}\n"
        "  } }\n"
    )
    process = subprocess.Popen(
        [NGINX, "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/status", process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


# --- report --------------------------------------------------------------------------------


def main() -> None:
    raise_fd_limit(CLIENTS * 2 + 256)
    with site() as s:
        delivery = asyncio.run(hold_clients(s))
        with urllib.request.urlopen(s.base + "/status", timeout=10) as reply:
            status_json = s.data / "status.json"
            status_json.write_bytes(reply.read())
        rows = []
        have_nginx = os.access(NGINX, os.X_OK)
        with contextlib.ExitStack() as stack:
            nginx_port = stack.enter_context(nginx(s.gif, status_json)) if have_nginx else None
            for path in ("/sequence/latest", "/status"):
                ours = asyncio.run(load(s.port, path))
                ceiling = asyncio.run(load(nginx_port, path)) if nginx_port else None
                rows.append((path, ours, ceiling))
        gif_kib = s.gif.stat().st_size / 1024
        status_kib = status_json.stat().st_size / 1024
    print_report(delivery, rows, gif_kib, status_kib)


def print_report(
    d: Delivery,
    rows: list[tuple[str, tuple[float, float, int], tuple[float, float, int] | None]],
    gif_kib: float,
    status_kib: float,
) -> None:
    per_client = (d.rss_clients - d.rss_idle) * 1024 / max(1, d.connected)
    last = ", ".join(f"{x:.2f}" for x in d.last_s)
    median = ", ".join(f"{x:.2f}" for x in d.median_s)
    interval = os.environ.get("LIVE_WATCH_INTERVAL", "1.0 (default)")
    print(
        f"### Live viewers: {CLIENTS} websocket clients on one daphne (embedded mode, "
        f"LIVE_WATCH_INTERVAL={interval} s)\n"
    )
    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| clients connected | {d.connected} | {CLIENTS} |")
    print(f"| clients that got `sequence.updated` (per build) | {d.received} | {CLIENTS} each |")
    print(
        f"| build commit → last client (s), {ROUNDS} builds | {last} "
        f"(worst {max(d.last_s):.2f}) | ≤ 1 s |"
    )
    print(f"| build commit → median client (s) | {median} | |")
    print(f"| daphne RSS idle | {d.rss_idle:.0f} MiB | |")
    print(
        f"| daphne RSS with {d.connected} clients | {d.rss_clients:.0f} MiB "
        f"(+{per_client:.0f} KiB per client) | |"
    )
    print()
    print(
        f"### HTTP: {HTTP_CONNECTIONS} keep-alive connections, {HTTP_SECONDS:.0f} s each, "
        "same Python client for both servers\n"
    )
    print("| endpoint | size | daphne req/s | daphne p50 | nginx req/s (ceiling) | nginx p50 "
          "| daphne / nginx | non-2xx |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for path, ours, ceiling in rows:
        size = gif_kib if path == "/sequence/latest" else status_kib
        if ceiling is None:
            print(f"| `{path}` | {size:.0f} KiB | {ours[0]:.0f} | {ours[1]:.1f} ms | "
                  f"nginx missing | | | {ours[2]} |")  # fmt: skip
            continue
        ratio = ours[0] / ceiling[0] if ceiling[0] else float("nan")
        print(
            f"| `{path}` | {size:.0f} KiB | {ours[0]:.0f} | {ours[1]:.1f} ms | {ceiling[0]:.0f} "
            f"| {ceiling[1]:.1f} ms | {ratio:.0%} | {ours[2]} / {ceiling[2]} |"
        )


if __name__ == "__main__":
    main()
