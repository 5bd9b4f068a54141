"""A scale-out installation for one test: a throwaway PostgreSQL database, a Redis database of
its own, and real daphne and qcluster processes started on them.

These tests run only in the scale-out pass of `make test` (DATABASE_URL and REDIS_URL set);
the embedded pass skips them, saying so.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from tests.processes import process_env, scaleout_urls, unreachable

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Frames stored without the signal that would queue a build: the tests decide when to build.
SEED = """
import datetime as dt, json
from cameras.capture import frame_stored, store_frame
from cameras.models import Camera
from cameras.sources.demo import DemoSource
from django_q.models import Schedule
from sequences.signals import build_when_due
frame_stored.disconnect(build_when_due)
Schedule.objects.all().delete()
camera = Camera.objects.create(name=NAME, slug=NAME, location_name="Scale-out Rd",
                               frames_per_sequence=5, capture_width=320, capture_height=180)
start = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
for i in range(5):
    when = start + dt.timedelta(seconds=12 * i)
    store_frame(camera, DemoSource(320, 180, clock=lambda w=when: w).grab(), when)
print(json.dumps({"id": camera.pk, "slug": camera.slug}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} not within {timeout} s")


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Site:
    """One installation's processes, all sharing one database and one Redis database."""

    def __init__(self, env: dict[str, str], data: Path) -> None:
        self.env = env
        self.data = data
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def shell(self, code: str) -> Any:
        """Run Python in a manage.py shell; the last line it prints, as JSON."""
        return json.loads(self.manage("shell", "-c", code).stdout.strip().splitlines()[-1])

    def seed_camera(self, name: str) -> dict[str, Any]:
        return self.shell(SEED.replace("NAME", repr(name)))

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        """Read the installation's PostgreSQL database directly, as a third party would."""
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
            return connection.execute(query, params).fetchall()

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        log = self.data / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((process, log))
        return process

    def daphne(self) -> str:
        port = free_port()
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        # A database watcher would also deliver, only slower; kept out so that what arrives
        # came through the channel layer.
        app = "imgserv_site.asgi:application"
        process = self.start("daphne", [*argv, app], LIVE_WATCH_INTERVAL="3600")
        wait_for(lambda: process.poll() is not None or accepts(port), 30, f"daphne on {port}")
        assert process.poll() is None, self.log_tail()
        return f"http://127.0.0.1:{port}"

    def qcluster(self, workers: int = 1) -> None:
        argv = [sys.executable, "manage.py", "qcluster"]
        self.start("qcluster", argv, Q_WORKERS=str(workers))

    def worker(self, workers: int = 1) -> subprocess.Popen[bytes]:
        """A worker node: the task cluster and the capture service."""
        argv = [sys.executable, "manage.py", "worker"]
        return self.start("worker", argv, Q_WORKERS=str(workers))

    def stop_all(self) -> None:
        # The leader only: a qcluster whose children got the signal too waits forever for them.
        for process, _log in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _log in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
            for _process, log in self.processes
        )


@pytest.fixture(scope="session")
def scaleout() -> tuple[str, str]:
    urls = scaleout_urls()
    if urls is None:
        pytest.skip("embedded run: `make test` runs these again with DATABASE_URL and REDIS_URL")
    reason = unreachable(*urls)
    if reason:
        pytest.skip(reason)
    return urls


@pytest.fixture
def site(scaleout: tuple[str, str], tmp_path: Path) -> Iterator[Site]:
    with process_env(tmp_path) as env:
        installation = Site(env, tmp_path)
        installation.manage("migrate", "--noinput", "-v0")
        try:
            yield installation
        finally:
            installation.stop_all()
        assert "Traceback" not in installation.log_tail(), installation.log_tail()
