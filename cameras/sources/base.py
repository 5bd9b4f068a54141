"""The one interface every camera source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
