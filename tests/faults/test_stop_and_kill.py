"""`make run`'s supervisor (deploy/run-local.py) against real signals: Ctrl-C and SIGTERM leave
no project process behind, and a killed worker (its main process, or the task cluster's
sentinel) is started again, with capture back within one spacing of its restart."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import process_env, scaleout_urls
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration
SPACING_S = 6.0  # the demo camera: 1 min ÷ 10 frames


@dataclass
class Site:
    data: Path
    supervisor: subprocess.Popen[bytes]

    def ours(self) -> list[int]:
        """Every live process started for this site: its data folder is in its environment."""
        marker = f"IMGSRV_DATA_DIR={self.data}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
        return found

    def worker_pid(self) -> int | None:
        for pid in self.ours():
            if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                return pid
        return None

    def frame_times(self) -> list[dt.datetime]:
        with sqlite3.connect(self.data / "imgserv.sqlite3", timeout=10) as db:
            rows = db.execute("SELECT captured_at FROM cameras_frame ORDER BY captured_at")
            # Django keeps UTC in SQLite, without the zone.
            return [dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.UTC) for r in rows]

    def output(self) -> str:
        return (self.data / "run.log").read_text(errors="replace")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} not within {timeout} s")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    if scaleout_urls():
        pytest.skip("reads the embedded SQLite database; the scale-out pass covers nodes")
    with process_env(tmp_path, PORT=str(free_port()), PY=sys.executable) as env:
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput", "-v0"], ["demo"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
        log = (tmp_path / "run.log").open("wb")
        supervisor = subprocess.Popen(
            [sys.executable, "deploy/run-local.py"],
            cwd=ROOT,
            env={**env, "STOP_GRACE_SECONDS": "8"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        site = Site(tmp_path, supervisor)
        try:
            yield site
        finally:
            if supervisor.poll() is None:
                os.killpg(supervisor.pid, signal.SIGTERM)
                supervisor.wait(timeout=30)
            for pid in site.ours():  # a failed test must not leave them running either
                os.kill(pid, signal.SIGKILL)
            log.close()


def started(site: Site) -> None:
    wait_for(lambda: len(site.frame_times()) >= 2, 60, "two frames")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_no_process_survives_a_stop(site: Site, signum: int):
    started(site)
    assert len(site.ours()) >= 4  # supervisor, daphne, worker and its cluster
    site.supervisor.send_signal(signum)
    assert site.supervisor.wait(timeout=30) == 0
    wait_for(lambda: not site.ours(), 5, "every process gone")
    assert "Stopped." in site.output()


def test_capture_resumes_within_a_spacing_after_the_worker_is_killed(site: Site):
    started(site)
    worker = site.worker_pid()
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    killed = dt.datetime.now(dt.UTC)
    restarted = wait_for(
        lambda: (pid := site.worker_pid()) is not None and pid != worker and pid, 20, "restart"
    )
    up = dt.datetime.now(dt.UTC)
    after = wait_for(
        lambda: [t for t in site.frame_times() if t > killed], 30, "a frame after the kill"
    )
    # The new worker takes the camera as soon as the dead one's lease runs out (4 s).
    assert (after[0] - up).total_seconds() <= SPACING_S + 4, (killed, up, after[0])
    assert restarted != worker
    assert "worker exited with -9; restarting" in site.output()


def test_a_killed_task_cluster_takes_its_worker_down_and_is_restarted(site: Site):
    started(site)
    worker = site.worker_pid()
    assert worker is not None
    children = [
        pid
        for pid in site.ours()
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(worker)
    ]
    assert children, "the worker has no cluster sentinel"
    os.kill(children[0], signal.SIGKILL)  # the sentinel is the worker's first child
    wait_for(lambda: "worker exited with 1; restarting" in site.output(), 20, "a restart")
    # None of the dead cluster's processes is left behind.
    wait_for(lambda: all(Path(f"/proc/{p}").exists() is False for p in children), 10, "cleanup")
    before = len(site.frame_times())
    wait_for(lambda: len(site.frame_times()) > before, 20, "capture after the restart")
