"""Soak: the real processes (`make run`'s supervisor, daphne, a worker node) for N minutes,
with healthy and failing cameras and faults injected on a schedule.

    .venv/bin/python -m bench.soak --minutes 30

Cameras, all on 6 s slots (1 min ÷ 10 frames): demo cameras; an HTTP snapshot camera served
by this script that takes turns at being healthy, hanging, trickling one byte a second and
sending corrupt JPEGs; a camera whose port refuses; and the rig's RTSP camera (gst-rtsp-server)
when its Debian packages are there, stopped and started again. Every `--fault-every` minutes
the next fault of the schedule begins, and every third one is `kill -9` of the worker.

Reports, per camera: slots, frames on their slot (within 1 s), gaps (a slot missed) and the
longest, errors; and for all processes together: PSS and RSS at the end of the warm-up and at
the end, the growth per hour, and open file descriptors. Nothing is left running afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2

from bench.procs import Sample, members, mib, role, snapshot
from cameras.sources.demo import render_scene

ROOT = Path(__file__).resolve().parents[1]
SPACING = 6.0
ON_TIME = 1.0
WARM_UP_S = 180
SAMPLE_EVERY_S = 15
HTTP_MODES = ("ok", "hang", "ok", "trickle", "ok", "corrupt")


class SnapshotCamera(ThreadingHTTPServer):
    """An HTTP camera whose behaviour the fault schedule switches."""

    daemon_threads = True
    mode = "ok"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The capture side gives up on a hanging or trickling camera by closing
        # the socket; that is the fault being simulated, not a bench failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    server: SnapshotCamera

    def do_GET(self) -> None:
        mode = self.server.mode
        if mode == "hang":
            time.sleep(120)
            return
        if mode == "corrupt":
            self._send(b"\xff\xd8\xff\xe0 not really a jpeg" * 50)
            return
        frame = render_scene(640, 360, dt.datetime.now(), seed=7)
        jpeg = cv2.imencode(".jpg", frame)[1].tobytes()
        if mode == "trickle":
            self._headers(len(jpeg))
            for byte in jpeg[:200]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)
            return
        self._send(jpeg)

    def _headers(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, body: bytes) -> None:
        self._headers(len(body))
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Soak:
    minutes: float
    demo_cameras: int
    fault_every: float
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="imgserv-soak-")))
    samples: list[tuple[float, list[Sample]]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {**os.environ, "IMGSRV_DATA_DIR": str(self.data), "PORT": str(free_port())}
        self.env.update(NWS_API_URL="http://127.0.0.1:9", OPEN_METEO_API_URL="http://127.0.0.1:9")
        for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(name, None)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def run(self) -> int:
        http = SnapshotCamera(("127.0.0.1", 0), Handler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        rtsp = start_rtsp()
        self.manage("migrate", "--noinput", "-v0")
        self.manage("shell", "-c", self.cameras_code(http.server_address[1], rtsp))
        log = (self.data / "run.log").open("wb")
        supervisor = subprocess.Popen(
            [sys.executable, "deploy/run-local.py"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.monotonic()
        end = started + self.minutes * 60
        next_fault, step = started + self.fault_every * 60, 0
        try:
            while time.monotonic() < end:
                self.samples.append((time.monotonic() - started, snapshot(self.data)))
                if time.monotonic() >= next_fault:
                    self.fault(step, http, rtsp)
                    step, next_fault = step + 1, next_fault + self.fault_every * 60
                time.sleep(SAMPLE_EVERY_S)
        finally:
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(timeout=60)
            log.close()
            http.shutdown()
            if rtsp is not None:
                rtsp.stop()
        left = members(self.data)
        self.report(time.monotonic() - started, left)
        return 1 if left else 0

    def cameras_code(self, http_port: int, rtsp: Any) -> str:
        lines = [
            "from cameras.models import Camera, SourceKind",
            "common = dict(update_interval_minutes=1, frames_per_sequence=10,"
            " capture_width=640, capture_height=360)",
        ]
        for i in range(self.demo_cameras):
            lines.append(
                f"Camera.objects.create(name='demo{i}', slug='demo{i}', location_name='Demo {i}',"
                " source_kind=SourceKind.DEMO, **common)"
            )
        lines.append(
            "Camera.objects.create(name='http', slug='http', location_name='HTTP',"
            f" source_kind=SourceKind.HTTP, source_url='http://127.0.0.1:{http_port}/snap.jpg',"
            " **common)"
        )
        lines.append(
            "Camera.objects.create(name='refused', slug='refused', location_name='Refused',"
            f" source_kind=SourceKind.HTTP, source_url='http://127.0.0.1:{free_port()}/x.jpg',"
            " **common)"
        )
        if rtsp is not None:
            lines.append(
                "Camera.objects.create(name='rtsp', slug='rtsp', location_name='RTSP',"
                f" source_kind=SourceKind.RTSP, source_url='{rtsp.url}', username='admin',"
                f" password='{rtsp.password}', **common)"
            )
        return "\n".join(lines)

    def fault(self, step: int, http: SnapshotCamera, rtsp: Any) -> None:
        if step % 3 == 2:
            worker = next((p for p in members(self.data) if role(p) == "worker"), None)
            if worker is not None:
                os.kill(worker, signal.SIGKILL)
                self.note("kill -9 the worker")
            return
        http.mode = HTTP_MODES[step % len(HTTP_MODES)]
        self.note(f"HTTP camera: {http.mode}")
        if rtsp is not None and step % 2 == 1:
            rtsp.restart_later(60)
            self.note("RTSP camera stopped for 60 s")

    def note(self, text: str) -> None:
        at = dt.datetime.now().strftime("%H:%M:%S")
        self.faults.append(f"{at} {text}")
        print(f"{at} fault: {text}", flush=True)

    def report(self, seconds: float, left: list[int]) -> None:
        print(f"\n## Soak: {seconds / 60:.0f} minutes, faults every {self.fault_every:g} min\n")
        print("| camera | slots | on their slot (±1 s) | gaps (a slot missed) | longest gap | "
              "rejected | last error |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|---|")
        for row in camera_rows(self.data):
            print("| " + " | ".join(str(v) for v in row) + " |")
        self.memory_table()
        print(f"\nFaults: {'; '.join(self.faults) or 'none'}.")
        print(f"Processes left after the stop: {len(left)}.")

    def memory_table(self) -> None:
        warm = [s for t, s in self.samples if t >= WARM_UP_S]
        if len(warm) < 2:
            print("\n(too short for the memory figures: they start after the warm-up)")
            return
        first, last = warm[0], warm[-1]
        hours = (self.samples[-1][0] - WARM_UP_S) / 3600
        pss = [sum(p.pss_kib for p in s) for s in warm]
        print("\n| all processes | after warm-up | end | peak | growth per hour |")
        print("|---|---:|---:|---:|---:|")
        growth = (pss[-1] - pss[0]) / max(hours, 1e-9)
        print(f"| PSS (MiB) | {mib(pss[0])} | {mib(pss[-1])} | {mib(max(pss))} | {mib(growth)} |")
        rss = [sum(p.rss_kib for p in s) for s in warm]
        print(f"| RSS (MiB) | {mib(rss[0])} | {mib(rss[-1])} | {mib(max(rss))} | "
              f"{mib((rss[-1] - rss[0]) / max(hours, 1e-9))} |")  # fmt: skip
        fds_first, fds_last = sum(p.fds for p in first), sum(p.fds for p in last)
        print(f"| open file descriptors | {fds_first} | {fds_last} | "
              f"{max(sum(p.fds for p in s) for s in warm)} | |")  # fmt: skip
        print("\n| process | PSS after warm-up (MiB) | PSS at the end (MiB) |")
        print("|---|---:|---:|")
        roles: dict[str, list[int]] = {}
        for sample in (first, last):
            for name in {p.role for p in sample}:
                roles.setdefault(name, [0, 0])
        for i, sample in enumerate((first, last)):
            for p in sample:
                roles[p.role][i] += p.pss_kib
        for name, (a, b) in sorted(roles.items()):
            print(f"| {name} | {mib(a)} | {mib(b)} |")


def camera_rows(data: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data / "imgserv.sqlite3", timeout=30) as db:
        cameras = db.execute(
            "SELECT id, slug, rejected_frames, last_error FROM cameras_camera ORDER BY id"
        ).fetchall()
        rows = []
        for pk, slug, rejected, error in cameras:
            times = [
                dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC).timestamp()
                for (t,) in db.execute(
                    "SELECT captured_at FROM cameras_frame WHERE camera_id = ? "
                    "ORDER BY captured_at",
                    (pk,),
                )
            ]
            rows.append((slug, *slot_figures(times), rejected, error or "–"))
    return rows


def slot_figures(times: list[float]) -> tuple[int, int, int, str]:
    """Slots from the first frame to the last, frames on their slot, gaps and the longest."""
    if len(times) < 2:
        return len(times), len(times), 0, "–"
    slots = round((times[-1] - times[0]) / SPACING) + 1
    on_time = sum(1 for t in times if (t % SPACING) <= ON_TIME)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    missed = sum(1 for g in gaps if g > 1.5 * SPACING)
    return slots, on_time, missed, f"{max(gaps):.0f} s"


def start_rtsp() -> Any:
    try:
        from tests.rig import RigUnavailable
        from tests.rig.rtsp_server import RtspServer
    except ImportError:
        return None
    try:
        server = RtspServer(username="admin", password="soak-" + os.urandom(4).hex())
    except RigUnavailable as exc:
        print(f"(no RTSP camera: {exc})")
        return None
    server.start()

    def restart_later(seconds: float) -> None:
        def cycle() -> None:
            server.stop()
            time.sleep(seconds)
            server.start()

        threading.Thread(target=cycle, daemon=True).start()

    server.restart_later = restart_later  # type: ignore[attr-defined]
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--cameras", type=int, default=3, help="healthy demo cameras")
    parser.add_argument("--fault-every", type=float, default=5, help="minutes between faults")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgserv_site.settings")
    return Soak(args.minutes, args.cameras, args.fault_every).run()


if __name__ == "__main__":
    sys.exit(main())
