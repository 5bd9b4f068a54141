"""Helpers for running the deploy scripts against a staging root (PREFIX=…): files only, no
users, packages, database or services, so they run anywhere in seconds."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def source_copy(destination: Path) -> Path:
    """A still copy of the working tree (others may be editing it while the tests run)."""
    subprocess.run(
        ["rsync", "-a", "--exclude", "/.git", "--exclude", "/.env", "--filter", ":- .gitignore",
         f"{ROOT}/", f"{destination}/"],
        check=True,
    )  # fmt: skip
    return destination


def script(
    source: Path, name: str, *args: str, prefix: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    variables = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **env}
    if prefix is not None:
        variables["PREFIX"] = str(prefix)
    return subprocess.run(
        ["bash", str(source / "deploy" / name), *args],
        capture_output=True, text=True, timeout=300, env=variables, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def checksums(root: Path) -> dict[str, str]:
    """Every file and link under ROOT: its content's hash (or link target) and mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            found[relative] = f"-> {os.readlink(path)}"
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[relative] = f"{digest} {oct(path.stat().st_mode & 0o7777)}"
    return found
