"""Where each process tree keeps its Prometheus counts. No import of the client here: settings
call this before anything may import it, since the client picks its mode when first imported.

The client's multiprocess mode writes one file per process into PROMETHEUS_MULTIPROC_DIR and
wants that folder emptied before the processes start. Here the web server and the worker start
apart, and either may restart while the other runs, so emptying one shared folder would drop the
other's counts. Each tree (a process that is not the child of another imgserv process, with the
children it forks or starts) gets a folder of its own instead, `<pid>-<start time>`, and every
tree that starts removes the folders of trees that have ended. /metrics reads them all.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
from pathlib import Path

_TREE = re.compile(r"^(\d+)-(\d+)$")


def process_tree_folder(base: Path, inherited: str) -> Path:
    """This process's folder: the one its parent made (`inherited`, when it lies in `base`),
    else a new one, after the folders of ended trees are removed."""
    if inherited and Path(inherited).parent == base and Path(inherited).is_dir():
        return Path(inherited)
    base.mkdir(parents=True, exist_ok=True)
    remove_ended(base)
    own = base / f"{os.getpid()}-{started(os.getpid())}"
    own.mkdir(exist_ok=True)
    # A process that counted nothing (a web server, a management command) leaves no folder.
    atexit.register(remove_if_empty, own)
    return own


def remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def remove_ended(base: Path) -> None:
    """Remove the folders of trees whose first process is gone. The start time tells a
    reused process id from the process that made the folder."""
    for entry in base.iterdir():
        match = _TREE.match(entry.name)
        if match and entry.is_dir() and not running(int(match[1]), match[2]):
            shutil.rmtree(entry, ignore_errors=True)


def running(pid: int, start: str) -> bool:
    try:
        return started(pid) == start
    except PermissionError:  # /proc mounted with hidepid: another user's, so not ours to judge
        return True


def started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc); None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    # After the command name, which may hold spaces: state is field 3, starttime field 22.
    return stat.rsplit(")", 1)[1].split()[19]
