"""Capture benchmark: imgserv's RTSP source against the ffmpeg CLI one-shot grab.

    .venv/bin/python -m bench.capture            # ~4-5 minutes, prints Markdown
    .venv/bin/python -m bench.capture --quick    # a smoke run (~1 minute)

Runs the rig's RTSP camera (tests/rig, gst-rtsp-server: 1280x720, 15 fps, GOP 30, digest
auth) on 127.0.0.1, so it needs the packages in deploy/system-packages.txt. Camera and
clients share this box's cores, so the numbers are pessimistic for the client side.

1. One frame per method, n times each: the ffmpeg CLI with default probing (the closed
   product's way), imgserv cold (new RtspSource, one grab, close) and warm (a grab in a held
   session); OpenCV's FFmpeg backend alongside, for the backend choice.
2. Capacity: N cameras (threads, each holding an RtspSource) grabbing on 6 s-aligned slots.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from cameras.sources.rtsp import RtspSource
from cameras.sources.urls import with_credentials
from tests.rig import RigUnavailable
from tests.rig.rtsp_server import RtspServer

FFMPEG = "/usr/bin/ffmpeg"
SIZE = (1280, 720)
SPACING = 6.0
ON_TIME = 1.0  # a frame counts as on time when its grab ends within this of its slot
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    method: str
    wall: list[float]  # seconds per frame
    cpu: list[float]  # CPU seconds per frame
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.wall)
        return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)] * 1000

    @property
    def cpu_s(self) -> float:
        return statistics.median(self.cpu)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of another process (the camera), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(n: int, grab: Callable[[], object], *, children: bool = False) -> Row:
    wall, cpu = [], []
    for _ in range(n):
        cpu0 = children_cpu() if children else time.process_time()
        t0 = time.perf_counter()
        grab()
        wall.append(time.perf_counter() - t0)
        cpu.append((children_cpu() if children else time.process_time()) - cpu0)
    return Row("", wall, cpu)


def ffmpeg_one_shot(url: str, out: Path) -> None:
    out.unlink(missing_ok=True)
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-rtsp_transport", "tcp",
         "-i", url, "-frames:v", "1", str(out)],
        check=True, timeout=30,
    )  # fmt: skip
    if out.stat().st_size == 0:
        raise RuntimeError("ffmpeg wrote an empty file")


def opencv_cold(url: str) -> None:
    capture = cv2.VideoCapture(
        url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000],
    )
    try:
        ok, frame = capture.read()
        if not ok:
            raise RuntimeError("OpenCV could not read a frame")
        cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    finally:
        capture.release()


def one_frame_table(camera: RtspServer, password: str, n: int) -> list[Row]:
    auth_url = with_credentials(camera.url, "admin", password)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jpg"
        ffmpeg_one_shot(auth_url, out)  # warm the page cache and the camera's pipeline
        row = measure(n, lambda: ffmpeg_one_shot(auth_url, out), children=True)
    row.method, row.note = "ffmpeg CLI one-shot (default probing)", "CPU: child rusage"
    rows.append(row)

    def cold() -> None:
        source = RtspSource(camera.url, username="admin", password=password)
        try:
            source.grab()
        finally:
            source.close()

    row = measure(n, cold)
    row.method, row.note = "imgserv cold (open, grab, close)", "CPU: process time"
    rows.append(row)

    source = RtspSource(camera.url, username="admin", password=password)
    try:
        source.grab()
        spacing = 0.5

        def warm() -> None:
            time.sleep(spacing)
            source.grab()

        row = measure(n, source.grab)  # back to back: the grab's own cost
        row.method, row.note = "imgserv warm (held session)", "CPU: process time in grab()"
        rows.append(row)
        # Between grabs the reader thread keeps draining the stream; charge that too.
        cpu0 = time.process_time()
        spaced = measure(n, warm)
        all_in = (time.process_time() - cpu0) / n
        rows.append(
            Row(
                f"imgserv warm, all-in at {spacing:g} s spacing",
                [w - spacing for w in spaced.wall],
                [all_in] * n,
                "CPU incl. the reader thread between grabs",
            )
        )
    finally:
        source.close()

    # OpenCV's FFmpeg backend, same probing options, for the backend choice.
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = (
        "rtsp_transport;tcp|probesize;32|analyzeduration;0"
    )
    row = measure(n, lambda: opencv_cold(auth_url))
    row.method, row.note = "OpenCV FFmpeg backend cold (open, read, encode)", "CPU: process time"
    rows.append(row)
    capture = cv2.VideoCapture(auth_url, cv2.CAP_FFMPEG)
    try:
        capture.read()

        def cv_warm() -> None:
            ok, frame = capture.read()  # the NEXT frame in the stream, not the newest
            if not ok:
                raise RuntimeError("OpenCV read failed")
            cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])

        row = measure(n, cv_warm)
        row.method, row.note = "OpenCV warm (held capture, next frame)", "decodes every frame"
        rows.append(row)
    finally:
        capture.release()
    return rows


def print_one_frame(rows: list[Row], n: int) -> None:
    base = rows[0]
    print(f"## One frame, {SIZE[0]}x{SIZE[1]} H.264 over RTSP/TCP, digest auth (n={n} each)\n")
    print("| method | median ms | p90 ms | CPU s/frame | latency vs CLI | CPU vs CLI | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(
            f"| {row.method} | {row.median_ms:.0f} | {row.p90_ms:.0f} | {row.cpu_s:.4f} "
            f"| {row.median_ms / base.median_ms:.3f}x | {row.cpu_s / base.cpu_s:.3f}x "
            f"| {row.note} |"
        )
    cold = next(r for r in rows if r.method.startswith("imgserv cold"))
    warm = next(r for r in rows if r.method.startswith("imgserv warm (held"))
    print()
    for name, row, target in (("cold", cold, 0.5), ("warm", warm, 0.1)):
        lat, cpu = row.median_ms / base.median_ms, row.cpu_s / base.cpu_s
        verdict = "met" if lat <= target and cpu <= target else "MISSED"
        print(f"- target {name} <= {target}x CLI (latency and CPU): {verdict}")
    print()


@dataclass
class CapacityResult:
    cameras: int
    frames: int
    on_time: int
    failures: int
    worst_ms: float
    p50_ms: float
    client_cpu: float  # share of one core
    camera_cpu: float


def capacity(camera: RtspServer, password: str, cameras: int, duration: float) -> CapacityResult:
    # Start on the next 6 s-aligned slot, a little ahead so every thread is waiting.
    first = math.ceil((time.time() + 1) / SPACING) * SPACING
    slots = [first + k * SPACING for k in range(int(duration // SPACING))]
    lateness: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def run() -> None:
        source = RtspSource(camera.url, username="admin", password=password)
        try:
            for slot in slots:
                time.sleep(max(0.0, slot - time.time()))
                try:
                    source.grab()
                except Exception:
                    with lock:
                        failures[0] += 1
                    continue
                with lock:
                    lateness.append(time.time() - slot)
        finally:
            source.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(cameras)]
    time.sleep(max(0.0, first - time.time() - 0.5))
    assert camera.pid is not None
    cpu0, cam0, wall0 = time.process_time(), process_cpu(camera.pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall0
    client = (time.process_time() - cpu0) / wall
    server = (process_cpu(camera.pid) - cam0) / wall
    ordered = sorted(lateness) or [math.inf]
    return CapacityResult(
        cameras,
        cameras * len(slots),
        sum(1 for x in lateness if x <= ON_TIME),
        failures[0],
        ordered[-1] * 1000,
        statistics.median(ordered) * 1000,
        client,
        server,
    )


def print_capacity(results: list[CapacityResult], duration: float) -> None:
    print(
        f"## Capacity: N cameras on {SPACING:g} s-aligned slots for {duration:g} s "
        f"({os.cpu_count()} CPUs; camera server on the same box)\n"
    )
    print(
        "| cameras | frames | on time (<= 1 s) | failed | median late ms | worst late ms "
        "| imgserv CPU (cores) | CPU s/frame | camera server CPU (cores) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        per_frame = r.client_cpu * duration / max(1, r.frames)
        print(
            f"| {r.cameras} | {r.frames} | {r.on_time / r.frames:.0%} | {r.failures} "
            f"| {r.p50_ms:.0f} | {r.worst_ms:.0f} | {r.client_cpu:.2f} | {per_frame:.4f} "
            f"| {r.camera_cpu:.2f} |"
        )
    sustained = [r.cameras for r in results if r.on_time == r.frames]
    best = max(sustained, default=0)
    verdict = "met" if best >= 20 else "MISSED"
    print(f"\n- target >= 20 cameras with every frame on time: {verdict} (best: {best})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="frames per one-frame method")
    parser.add_argument("--cameras", type=int, nargs="*", default=[10, 20, 30])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per capacity run")
    parser.add_argument("--quick", action="store_true", help="n=3, 10 and 20 cameras for 12 s")
    args = parser.parse_args()
    if args.quick:
        args.n, args.cameras, args.duration = 3, [10, 20], 12.0
    if not os.access(FFMPEG, os.X_OK):
        print(f"{FFMPEG} is missing: apt-get install ffmpeg", file=sys.stderr)
        return 2
    password = "bench-" + secrets.token_hex(6)
    try:
        camera = RtspServer(username="admin", password=password, size=SIZE)
    except RigUnavailable as exc:
        print(f"cannot run the RTSP camera: {exc}", file=sys.stderr)
        return 2
    with camera:
        print_one_frame(one_frame_table(camera, password, args.n), args.n)
        results = [capacity(camera, password, n, args.duration) for n in args.cameras]
        print_capacity(results, args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
