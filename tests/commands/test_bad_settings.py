"""A bad setting stops every command with one line naming the variable, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("METRICS_ALLOWED_IPS", "bogus", "METRICS_ALLOWED_IPS: “bogus” is not an address"),
        ("UNITS", "kelvin", "UNITS must be auto, metric or us"),
    ],
)
def test_it_names_the_bad_setting_in_one_line(tmp_path, name, value, words):
    env = {**os.environ, "IMGSRV_DATA_DIR": str(tmp_path), "IMGSRV_ENV_FILE": "", name: value}
    for other in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(other, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "doctor"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("Configuration error: ") and words in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
