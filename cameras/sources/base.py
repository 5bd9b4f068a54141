"""The one interface every camera source implements, and how a grab fails."""

from __future__ import annotations

import socket
import urllib.error
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models


class CaptureErrorKind(models.TextChoices):
    """What went wrong, for code to branch on. Each label is the operator's plain sentence;
    a source may add a safe detail in parentheses (`CaptureError(kind, detail)`)."""

    TIMED_OUT = "timed_out", "Timed out."
    REFUSED = "refused", "Host unreachable (connection refused)."
    UNREACHABLE = "unreachable", "Host unreachable."
    HOST_NOT_FOUND = "host_not_found", "Host name not found."
    NETWORK = "network", "Network error."
    CONNECTION_CLOSED = "connection_closed", "Connection closed by the camera."
    AUTH_FAILED = "auth_failed", "Authentication failed."
    FORBIDDEN = "forbidden", "Access denied (the camera user lacks permission)."
    NOT_FOUND = "not_found", "Not found (wrong path)."
    TOO_MANY_REDIRECTS = "too_many_redirects", "Too many redirects."
    CAMERA_ERROR = "camera_error", "The camera reported an internal error."
    REQUEST_REFUSED = "request_refused", "The camera refused the request."
    BAD_URL = "bad_url", "Not a valid camera address."
    NOT_JPEG = "not_jpeg", "Not a JPEG image."
    TOO_LARGE = "too_large", "Image too large."
    SHORT_READ = "short_read", "Connection closed before the whole image arrived."
    NO_STREAM = "no_stream", "Not a video stream."
    STREAM_ENDED = "stream_ended", "Stream ended."
    CORRUPT = "corrupt", "Corrupt frame: the image could not be decoded."
    TOO_SMALL = "too_small", "Frame too small."
    BLANK = "blank", "Blank frame: the image is a single colour."
    FROZEN = "frozen", "Frozen image."
    ENCODE_FAILED = "encode_failed", "Could not encode the frame as JPEG."
    NOT_ONVIF = "not_onvif", "Not an ONVIF device."
    UNSUPPORTED = "unsupported", "The camera does not support the request."
    NO_PROFILE = "no_profile", "The camera has no usable media profile."
    NOT_CONFIGURED = "not_configured", "The camera's source is not set up."
    CLOSED = "closed", "Closed."
    OTHER = "other", "Capture failed."

    def message(self, detail: str = "") -> str:
        """The label, with a detail (already safe to show) in parentheses before its stop."""
        if not detail:
            return str(self.label)
        return f"{str(self.label).removesuffix('.')} ({detail})."


class CaptureError(Exception):
    """A grab failed. `kind` says what, for code to branch on; the message is plain words
    safe to show an operator (no secrets), made from the kind.

    `CaptureError(kind)` or `CaptureError(kind, detail)`; `message=` words the kind the
    source's own way (a "Snapshot" or a "Stream" not found). A plain string is still taken
    as the message, with kind OTHER, for callers that have no kind to give.
    """

    kind: CaptureErrorKind

    def __init__(
        self,
        kind: CaptureErrorKind | str = CaptureErrorKind.OTHER,
        detail: str = "",
        *,
        message: str = "",
    ) -> None:
        if isinstance(kind, CaptureErrorKind):
            self.kind = kind
            text = message or kind.message(detail)
        else:
            self.kind = CaptureErrorKind.OTHER
            text = message or kind
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the kind across pickling (task results, process pools).
        return (_rebuild, (type(self), self.kind.value, str(self)))


def _rebuild(cls: type[CaptureError], kind: str, message: str) -> CaptureError:
    error = cls.__new__(cls)
    CaptureError.__init__(error, CaptureErrorKind(kind), message=message)
    return error


def network_error(exc: BaseException) -> CaptureError | None:
    """The common ways a network step fails, as a CaptureError; None when it is none of them
    (each source then says what it was trying to do)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return CaptureError(CaptureErrorKind.REFUSED)
    if isinstance(reason, TimeoutError | socket.timeout):
        return CaptureError(CaptureErrorKind.TIMED_OUT)
    if isinstance(reason, socket.gaierror):
        return CaptureError(CaptureErrorKind.HOST_NOT_FOUND)
    if isinstance(reason, OSError) and reason.strerror:
        return CaptureError(CaptureErrorKind.NETWORK, message=f"Network error: {reason.strerror}.")
    return None


@dataclass(frozen=True)
class Grab:
    """One frame as the camera delivered it: JPEG bytes and their pixel size."""

    jpeg: bytes
    width: int
    height: int


class Source(Protocol):
    """A camera session. Open once per capture burst, grab many times, close.

    `deadline_s` is the bound on one `grab()`: whatever the camera does (silence, a byte a
    second, a handshake that never ends), the grab returns or raises CaptureError (kind
    TIMED_OUT) within that many seconds, plus a fraction of a second to tidy up.
    """

    @property
    def deadline_s(self) -> float: ...

    def grab(self) -> Grab: ...

    def close(self) -> None: ...
