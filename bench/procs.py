"""The real processes a benchmark started, found and measured through /proc.

A process belongs to an installation when its environment names that installation's data
folder (`IMGSRV_DATA_DIR`), which every process started for it inherits: the supervisor,
daphne, the worker and every process of its task cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    pid: int
    role: str
    pss_kib: int
    rss_kib: int
    fds: int


def members(data_dir: Path) -> list[int]:
    marker = f"IMGSRV_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def role(pid: int) -> str:
    """A short name: web, worker (the node's main process), cluster processes, supervisor."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        title = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "gone"
    text = b" ".join(argv).decode(errors="replace")
    if "daphne" in text:
        return "web (daphne)"
    if "run-local.py" in text:
        return "supervisor"
    if "manage.py worker" in text or "manage.py qcluster" in text:
        return "worker" if _parent_role(pid) != "worker" else f"cluster: {title}"
    return title


def _parent_role(pid: int) -> str:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        argv = Path(f"/proc/{ppid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return ""
    return "worker" if b"worker" in argv or b"qcluster" in argv else ""


def measure(pid: int) -> Sample | None:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    except OSError:
        return None
    values = {}
    for line in rollup.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
            values[parts[0]] = int(parts[1])
    return Sample(pid, role(pid), values.get("Pss:", 0), values.get("Rss:", 0), fds)


def snapshot(data_dir: Path) -> list[Sample]:
    return [s for pid in members(data_dir) if (s := measure(pid)) is not None]


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"
