"""Must-show: /metrics scraped from the real web server (daphne) while a real worker
(`manage.py worker`) captures the demo camera, each its own process tree: the worker's counts
reach the web server's scrape (multiprocess mode), and they move between two scrapes. Access
over the network: refused without the token from an address not allowed, open with it."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from imgserv_site.metrics.folders import started
from tests.metrics.scrape import value
from tests.processes import process_env
from tests.test_end_to_end import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def fetch(url: str, token: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"{what} not within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_web_servers_metrics_count_what_the_worker_captures(tmp_path):
    token = secrets.token_urlsafe(24)
    port = free_port()
    extra = {"METRICS_ALLOWED_IPS": "192.0.2.1", "METRICS_TOKEN": token}
    with process_env(tmp_path, **extra) as env:
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput", "-v0"], ["demo"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
        log = (tmp_path / "processes.log").open("wb")
        daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        web = subprocess.Popen(
            [*daphne, "imgserv_site.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = subprocess.Popen(
            [*manage, "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            wait_for(lambda: fetch(url, token)[0] == 200, 30, "/metrics")
            assert fetch(url)[0] == 403  # 127.0.0.1 is not in METRICS_ALLOWED_IPS here

            def captured() -> float | None:
                status, text = fetch(url, token)
                assert status == 200
                return value(text, "imgserv_frames_captured_total", camera="demo")

            first = wait_for(captured, 60, "a captured frame counted")
            second = wait_for(lambda: (n := captured()) and n > first and n, 30, "another frame")
            assert second > first

            _, text = fetch(url, token)
            assert (value(text, "imgserv_capture_lateness_seconds_count", camera="demo") or 0) >= 1
            assert value(text, "imgserv_road_state", camera="demo", state="unknown") is not None
            assert value(text, "imgserv_camera_health", camera="demo", health="ok") == 1
            assert value(text, "imgserv_disk_free_bytes", folder="data")
            seen = [
                line
                for line in text.splitlines()
                if line.startswith("imgserv_worker_last_seen_timestamp_seconds{")
            ]
            assert len(seen) == 1 and f":{worker.pid}" in seen[0]
            # Each process tree counted in its own folder; the worker's holds the counts.
            folders = {p.name for p in (tmp_path / "metrics").iterdir()}
            assert f"{worker.pid}-{started(worker.pid)}" in folders
            assert f"{web.pid}-{started(web.pid)}" in folders
            assert list((tmp_path / "metrics" / f"{worker.pid}-{started(worker.pid)}").glob("*.db"))
        finally:
            stop(worker)
            stop(web)
            log.close()
        output = (tmp_path / "processes.log").read_text(errors="replace")
        assert "Traceback" not in output, output[-3000:]
