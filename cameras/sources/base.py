"""The one interface every camera source implements."""

from __future__ import annotations

import socket
import urllib.error
from dataclasses import dataclass
from typing import Protocol

REFUSED = "Host unreachable (connection refused)."
TIMED_OUT = "Timed out."


def describe_network_error(exc: BaseException) -> str | None:
    """Plain words for a failed network step, or None when it is none of the common cases
    (each source then says what it was trying to do)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return REFUSED
    if isinstance(reason, TimeoutError | socket.timeout):
        return TIMED_OUT
    if isinstance(reason, socket.gaierror):
        return "Host name not found."
    if isinstance(reason, OSError) and reason.strerror:
        return f"Network error: {reason.strerror}."
    return None


class CaptureError(Exception):
    """A grab failed; the message is plain words safe to show an operator (no secrets)."""


@dataclass(frozen=True)
class Grab:
    """One frame as the camera delivered it: JPEG bytes and their pixel size."""

    jpeg: bytes
    width: int
    height: int


class Source(Protocol):
    """A camera session. Open once per capture burst, grab many times, close."""

    def grab(self) -> Grab: ...

    def close(self) -> None: ...
