"""LOG_FILE (settings.LOGGING): the log also goes to a file, which every process reopens once
logrotate has moved it, with the same lines (masked the same way) as the journal gets."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.deploy.staging import ROOT

SCRIPT = """
import logging, os
from cameras.sources.http_snapshot import HttpSnapshotSource
log = logging.getLogger("imgserv.logtest")
source = HttpSnapshotSource("http://viewer:pw-nowhere-42@127.0.0.1:9/snap.jpg", timeout=2)
try:
    source.grab()
except Exception as exc:
    log.warning("grab failed: %s", exc)
os.rename(os.environ["LOG_FILE"], os.environ["LOG_FILE"] + ".1")  # what logrotate does
log.warning("after the rotation")
"""


def test_it_writes_the_log_to_a_file_that_survives_rotation_without_secrets(tmp_path):
    log_file = tmp_path / "log" / "imgserv.log"
    env = {
        "PATH": os.environ["PATH"], "IMGSRV_ENV_FILE": "", "IMGSRV_DATA_DIR": str(tmp_path),
        "LOG_FILE": str(log_file), "LOG_LEVEL": "INFO",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-v", "0", "-c", SCRIPT],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rotated = (tmp_path / "log" / "imgserv.log.1").read_text()
    current = log_file.read_text()
    assert "snapshot http://127.0.0.1:9/snap.jpg:" in rotated  # the source's own, masked, line
    assert "WARNING imgserv.logtest: grab failed:" in rotated
    assert "after the rotation" in current and "after the rotation" not in rotated
    for text in (rotated, current, done.stderr):
        assert "pw-nowhere-42" not in text
    # The journal (stderr under systemd) gets the same lines.
    assert [line for line in done.stderr.splitlines() if "imgserv.logtest" in line] == [
        line for line in (rotated + current).splitlines() if "imgserv.logtest" in line
    ]
