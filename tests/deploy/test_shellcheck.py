"""shellcheck on the camera server's deploy scripts."""

from __future__ import annotations

import shutil
import subprocess

from tests.conftest import unavailable
from tests.deploy.staging import ROOT

SCRIPTS = ["install.sh", "update.sh", "uninstall.sh", "lib.sh", "imgserv.sh",
           "test-in-container.sh", "system-packages.sh"]  # fmt: skip


def test_the_deploy_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        unavailable("shellcheck is missing: apt-get install shellcheck")
    done = subprocess.run(
        [shellcheck, "--external-sources", *(f"deploy/{name}" for name in SCRIPTS)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
