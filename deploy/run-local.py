#!/usr/bin/env python3
"""Runs the web server (daphne) and a worker node (`manage.py worker`) for `make run`, the way
systemd runs them in production: each in its own process group, started again when it dies,
and all of them stopped, whole groups, on Ctrl-C or SIGTERM. Standard library only.

    PY=.venv/bin/python PORT=8000 deploy/run-local.py
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = os.environ.get("PY", sys.executable)
PORT = os.environ.get("PORT", "8000")
BIND = os.environ.get("BIND", "127.0.0.1")
# Frames are written atomically: stopping a capture mid-grab loses at most that frame.
STOP_GRACE_SECONDS = float(os.environ.get("STOP_GRACE_SECONDS", "8"))
RESTART_DELAYS = (1, 2, 5, 10)
# As in the systemd units: glibc gives each thread its own malloc arena, and capture runs a
# thread per camera (two arenas do); and a fixed mmap threshold gives each frame's buffers
# back to the system when freed, where glibc's sliding one keeps them (34 MiB less in the
# worker, bench/footprint.py). IMGSRV_MALLOC_TUNING=0 leaves glibc's defaults.
MALLOC_TUNING = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "131072"}
ENV = {
    **(MALLOC_TUNING if os.environ.get("IMGSRV_MALLOC_TUNING") != "0" else {}),
    **os.environ,
}


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=ENV, start_new_session=True)

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def group_alive(self) -> bool:
        if self.process is None:
            return False
        self.process.poll()
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def restart_delay(self) -> float:
        """Longer after each restart in the last minute, so a crash loop does not spin."""
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60]
        self.restarts.append(now)
        return RESTART_DELAYS[min(len(self.restarts), len(RESTART_DELAYS)) - 1]


class Supervisor:
    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        for child in self.children:
            child.start()
        print(f"imgserv is starting on http://{BIND}:{PORT}/ (admin at /admin/).", flush=True)
        print("The demo camera's first sequence appears within two minutes.", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not self.stopping:
            for child in self.children:
                self.revive(child)
            time.sleep(0.2)
        return self.stop()

    def revive(self, child: Child) -> None:
        process = child.process
        if process is None or process.poll() is None or self.stopping:
            return
        # What is left of its group (an orphaned cluster process) goes with it.
        child.signal_group(signal.SIGKILL)
        delay = child.restart_delay()
        print(f"{child.name} exited with {process.returncode}; restarting in {delay} s", flush=True)
        end = time.monotonic() + delay
        while time.monotonic() < end and not self.stopping:
            time.sleep(0.1)
        if not self.stopping:
            child.start()

    def request_stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def stop(self) -> int:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping imgserv…", flush=True)
        for child in self.children:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and any(c.group_alive() for c in self.children):
            time.sleep(0.1)
        for child in self.children:
            child.signal_group(signal.SIGKILL)
            if child.process is not None:
                child.process.wait()
        print("Stopped.", flush=True)
        return 0


def main() -> int:
    return Supervisor(
        [
            Child("worker", [PY, "manage.py", "worker"]),
            Child(
                "web",
                [PY, "-m", "daphne", "-b", BIND, "-p", PORT, "imgserv_site.asgi:application"],
            ),
        ]
    ).run()


if __name__ == "__main__":
    sys.exit(main())
