"""Real local servers that stand in for IP cameras in tests and benchmarks.

Each binds 127.0.0.1 on a free port. `RigUnavailable` means a system dependency is missing;
the pytest fixtures turn it into a skip that says which.
"""

from __future__ import annotations

import socket
import subprocess
from types import TracebackType


class RigServer:
    """The `with` plumbing every rig server shares: leaving the block shuts it down."""

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop; servers that leave files behind remove them too."""
        self.stop()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class RigUnavailable(RuntimeError):
    """A rig server cannot run here (a system package is missing); the message says why."""


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(
    process: subprocess.Popen[str] | subprocess.Popen[bytes] | None, grace: float
) -> None:
    """TERM, then KILL if it has not gone within `grace` seconds."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
