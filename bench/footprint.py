"""Memory footprint of the real processes in embedded mode, beside the previous defaults.

    .venv/bin/python -m bench.footprint                     # 1, 5 and 20 cameras, 10 min each
    .venv/bin/python -m bench.footprint --cameras 1 --minutes 60 --together    # a soak

For each camera count and each configuration, a fresh installation (SQLite, files in a temp
folder) runs `make run`'s processes (deploy/run-local.py: daphne and a worker node) with that
many cameras on 6 s slots (1 min ÷ 10 frames, 1280×720): demo cameras, and every other one an
RTSP camera on the rig's gst-rtsp-server when its Debian packages are installed. A light
request loop keeps the web process in use. PSS and RSS of every process (from
/proc/PID/smaps_rollup: PSS counts shared pages once) are taken at the start (after a 30 s
warm-up), once `--builds` sequences per camera are built, and at the end.

Configurations:
- current: the defaults (task workers sized to the cameras, replaced after 50 tasks or
  200 MiB; glibc malloc with 2 arenas and a fixed mmap threshold);
- previous: 4 task workers, replaced after 500 tasks (Django-Q2's default), no RSS limit,
  glibc's malloc defaults.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import Sample, members, mib, snapshot

ROOT = Path(__file__).resolve().parents[1]
WARM_UP_S = 30
CONFIGS: dict[str, dict[str, str]] = {
    "current": {},
    "previous": {
        "Q_WORKERS": "4",
        "Q_RECYCLE": "500",
        "Q_MAX_RSS_MB": "0",
        "IMGSRV_MALLOC_TUNING": "0",
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Run:
    config: str
    cameras: int
    minutes: float
    builds: int
    rtsp_url: str = ""
    rtsp_password: str = ""
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="imgserv-mem-")))
    moments: dict[str, list[Sample]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            env.pop(name, None)
        env.update(
            IMGSRV_DATA_DIR=str(self.data),
            PORT=str(free_port()),
            NWS_API_URL="http://127.0.0.1:9",
            OPEN_METEO_API_URL="http://127.0.0.1:9",
            **CONFIGS[self.config],
        )
        return env

    def run(self) -> None:
        env = self.env()
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([*manage, "shell", "-c", self.cameras_code()], cwd=ROOT, env=env, check=True)
        log = (self.data / "run.log").open("wb")
        supervisor = subprocess.Popen(
            [sys.executable, "deploy/run-local.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stop = threading.Event()
        visitor = threading.Thread(target=visit, args=(f"http://127.0.0.1:{env['PORT']}", stop))
        visitor.start()
        started = time.monotonic()
        try:
            time.sleep(WARM_UP_S)
            self.moments["start"] = snapshot(self.data)
            end = started + self.minutes * 60
            while time.monotonic() < end:
                if "builds" not in self.moments and self.sequences() >= self.builds * self.cameras:
                    self.moments["builds"] = snapshot(self.data)
                time.sleep(5)
            self.moments["end"] = snapshot(self.data)
        finally:
            stop.set()
            visitor.join()
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(timeout=60)
            log.close()

    def cameras_code(self) -> str:
        lines = ["from cameras.models import Camera, SourceKind"]
        for i in range(self.cameras):
            common = (
                f"name='c{i}', slug='c{i}', location_name='Road {i}', update_interval_minutes=1,"
                " frames_per_sequence=10"
            )
            if self.rtsp_url and i % 2 == 1:
                lines.append(
                    f"Camera.objects.create({common}, source_kind=SourceKind.RTSP,"
                    f" source_url='{self.rtsp_url}', username='admin',"
                    f" password='{self.rtsp_password}')"
                )
            else:
                lines.append(f"Camera.objects.create({common}, source_kind=SourceKind.DEMO)")
        return "\n".join(lines)

    def sequences(self) -> int:
        try:
            with sqlite3.connect(self.data / "imgserv.sqlite3", timeout=30) as db:
                return int(db.execute("SELECT COUNT(*) FROM sequences_sequence").fetchone()[0])
        except sqlite3.Error:
            return 0


def visit(base: str, stop: threading.Event) -> None:
    """A viewer or two: the page, the status and the latest loop, every couple of seconds."""
    while not stop.wait(2):
        for path in ("/", "/status", "/sequence/latest"):
            try:
                with urllib.request.urlopen(base + path, timeout=5) as response:
                    response.read()
            except OSError:
                pass


def roles(samples: list[Sample]) -> dict[str, tuple[int, int, int]]:
    """Per role: processes, PSS, RSS (KiB)."""
    found: dict[str, tuple[int, int, int]] = {}
    for s in samples:
        count, pss, rss = found.get(s.role, (0, 0, 0))
        found[s.role] = (count + 1, pss + s.pss_kib, rss + s.rss_kib)
    return found


def print_tables(runs: list[Run]) -> None:
    print("| cameras | defaults | moment | processes | PSS total (MiB) | RSS total (MiB) |")
    print("|---:|---|---|---:|---:|---:|")
    for run in runs:
        for moment, samples in run.moments.items():
            pss = sum(s.pss_kib for s in samples)
            rss = sum(s.rss_kib for s in samples)
            print(
                f"| {run.cameras} | {run.config} | {moment_name(moment, run)} | {len(samples)} "
                f"| {mib(pss)} | {mib(rss)} |"
            )
    print("\nPer process at the end (PSS / RSS, MiB):\n")
    print("| cameras | defaults | process | count | PSS | RSS |")
    print("|---:|---|---|---:|---:|---:|")
    for run in runs:
        for role, (count, pss, rss) in sorted(roles(run.moments.get("end", [])).items()):
            print(f"| {run.cameras} | {run.config} | {role} | {count} | {mib(pss)} | {mib(rss)} |")


def moment_name(moment: str, run: Run) -> str:
    return {
        "start": f"start (+{WARM_UP_S} s)",
        "builds": f"after {run.builds} builds per camera",
        "end": f"after {run.minutes:g} min",
    }[moment]


def start_rtsp() -> Any:
    try:
        from tests.rig import RigUnavailable
        from tests.rig.rtsp_server import RtspServer
    except ImportError:
        return None
    try:
        return RtspServer(
            username="admin", password="mem-" + os.urandom(4).hex(), size=(1280, 720)
        ).start()
    except RigUnavailable as exc:
        print(f"(no RTSP cameras: {exc})")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", default="1,5,20", help="camera counts, comma-separated")
    parser.add_argument("--minutes", type=float, default=10, help="per configuration")
    parser.add_argument("--builds", type=int, default=3, help="builds per camera to wait for")
    parser.add_argument("--only", choices=sorted(CONFIGS), help="one configuration")
    parser.add_argument(
        "--together",
        action="store_true",
        help="run the configurations of a camera count at the same time (for long soaks)",
    )
    args = parser.parse_args()
    rtsp = start_rtsp()
    runs = []
    try:
        for count in (int(c) for c in args.cameras.split(",")):
            batch = []
            for config in [args.only] if args.only else list(CONFIGS):
                run = Run(config, count, args.minutes, args.builds)
                if rtsp is not None:
                    run.rtsp_url, run.rtsp_password = rtsp.url, rtsp.password
                batch.append(run)
            print(f"running {count} cameras: {', '.join(r.config for r in batch)}…", flush=True)
            if args.together:
                threads = [threading.Thread(target=run.run) for run in batch]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            else:
                for run in batch:
                    run.run()
            for run in batch:
                left = members(run.data)
                assert not left, f"processes left running: {left}"
            runs.extend(batch)
    finally:
        if rtsp is not None:
            rtsp.stop()
    print()
    print_tables(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
