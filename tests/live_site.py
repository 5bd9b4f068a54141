"""A real site for tests that need one: manage.py commands and a daphne on 127.0.0.1 with the
environment of tests.processes (either mode), and Debian's headless Chromium for browser tests.

    with live_site(data) as site:
        site.manage("shell", "-c", SETUP)
        site.start()
        ... site.base ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.processes import process_env
from tests.rig import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UP_WITHIN_S = 30


@dataclass
class LiveSite:
    data: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    daphne: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self, ready_path: str = "/health") -> None:
        with (self.data / "daphne.log").open("wb") as log:
            self.daphne = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                 "imgserv_site.asgi:application"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until_up(self.base + ready_path, self.daphne)

    def stop(self) -> None:
        if self.daphne is None:
            return
        os.killpg(self.daphne.pid, signal.SIGTERM)
        try:
            self.daphne.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.daphne.pid, signal.SIGKILL)
            self.daphne.wait()

    def log(self) -> str:
        path = self.data / "daphne.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def live_site(data: Path, **settings: str) -> Iterator[LiveSite]:
    """A migrated site; `start()` runs daphne, stopped (and its log checked) on the way out."""
    with process_env(data, **settings) as env:
        site = LiveSite(data, env)
        site.manage("migrate", "--noinput", "-v0")
        try:
            yield site
        finally:
            site.stop()
    assert "Traceback" not in site.log(), site.log()[-3000:]


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + UP_WITHIN_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "daphne exited"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # answering; /health may well say no worker is running
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"daphne did not answer within {UP_WITHIN_S} s")


def playwright() -> Any:
    """playwright.sync_api, or a skip (a failure under CI=true) where it is not installed."""
    try:
        import playwright.sync_api as api
    except ImportError:  # requirements-dev.txt has it; a bare requirements.txt install not
        unavailable("playwright is not installed: pip install -r requirements-dev.txt")
    return api


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never `playwright install`); skips where absent."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with playwright().sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
