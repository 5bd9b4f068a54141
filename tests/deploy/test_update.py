"""deploy/update.sh refuses what it cannot do, before touching anything. The update itself,
its rollbacks and an interruption run for real in tests/deploy/test_in_container.py."""

from __future__ import annotations

import os
import subprocess

from tests.deploy.staging import ROOT


def update(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deploy/update.sh"), *args],
        capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ["PATH"], **env}, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_it_needs_an_installation_and_says_which_script_makes_one(tmp_path):
    done = update(CONF_FILE=str(tmp_path / "install.conf"))
    assert done.returncode == 2
    if os.geteuid() == 0:
        assert "imgserv is not installed here" in done.stderr and "install.sh" in done.stderr
    else:
        assert "run as root" in done.stderr


def test_it_refuses_unknown_arguments():
    done = update("--form", "/somewhere")
    assert done.returncode == 2 and "unknown argument: --form" in done.stderr
