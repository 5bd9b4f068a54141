"""HTTP snapshot cameras (Hikvision `/ISAPI/Streaming/channels/1/picture`, Dahua
`/cgi-bin/snapshot.cgi`, ...): one GET per grab, Digest or Basic auth, standard library only.

urllib's HTTPDigestAuthHandler answers the MD5/qop=auth challenges these cameras send, so
no third-party HTTP client is needed. Its password manager is keyed by the camera's address,
so a redirect to another host never receives the credentials.

Each grab has one deadline (`timeout`) for everything: connecting, the auth round trip,
redirects, status line, headers and body. See `deadline.py` for how it is enforced.
"""

from __future__ import annotations

import http.client
import logging
import re
import struct
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any

from cameras.sources.base import CaptureError, Grab, network_error
from cameras.sources.base import CaptureErrorKind as Kind
from cameras.sources.deadline import Deadline, SocketGuard, guarded_opener
from cameras.sources.urls import mask_text, mask_url, split_credentials

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
# Start-of-frame markers (baseline, progressive, ...) carry the image size; not DHT/JPG/DAC.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    # Cameras redirect rarely (a login page, http -> https); a loop should fail fast.
    max_redirections = MAX_REDIRECTS
    max_repeats = 1


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the JPEG's start-of-frame header, without decoding it."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _plain_content_type(value: str) -> str:
    # Shown to the operator: keep it a short media type, whatever the camera sent.
    media_type = value.split(";", 1)[0].strip().lower()
    media_type = re.sub(r"[^a-z0-9/.+-]", "", media_type)[:40]
    return media_type or "no content type"


class HttpSnapshotSource:
    """A camera that serves a JPEG per HTTP request. `timeout` bounds each whole grab."""

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        timeout: float = 5,
        max_bytes: int = 20_000_000,
    ) -> None:
        bare, url_user, url_password = split_credentials(url)
        self._url = bare
        self._password = password or url_password
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._handlers: list[urllib.request.BaseHandler] = [_LimitedRedirects()]
        username = username or url_user
        if username or self._password:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            # Keyed by scheme://host:port/ so a same-camera redirect to another path still
            # authenticates, while a redirect to another host does not get the password.
            parts = urllib.parse.urlsplit(bare)
            camera_root = f"{parts.scheme}://{parts.netloc}/"
            passwords.add_password(None, camera_root, username, self._password)
            # Both: the camera's challenge decides which scheme answers.
            self._handlers += [
                urllib.request.HTTPDigestAuthHandler(passwords),
                urllib.request.HTTPBasicAuthHandler(passwords),
            ]

    def __repr__(self) -> str:
        return f"HttpSnapshotSource({mask_url(self._url)!r})"

    @property
    def deadline_s(self) -> float:
        return self.timeout

    def grab(self) -> Grab:
        return self.grab_within(Deadline(self.timeout))

    def grab_within(self, deadline: Deadline) -> Grab:
        """Grab, all of it over by `deadline` (a caller's that also covers other steps)."""
        error: CaptureError | None = None
        data = b""
        with SocketGuard(deadline) as guard:
            try:
                data = self._fetch(guard)
            except CaptureError as exc:
                error = exc
            except Exception as exc:  # mapped to plain words
                error = self._describe(exc)
                if not guard.fired:
                    log.info("snapshot %s: %s", mask_url(self._url), self._mask(exc))
            # However the exchange ended (an error, or an EOF that looked like the end of the
            # body), once the guard cut it short the answer is that it took too long.
            if guard.fired:
                error = CaptureError(Kind.TIMED_OUT)
        # Raised here, not in the except block, so no __context__ drags the original message
        # (which can quote the URL) along.
        if error is not None:
            raise CaptureError(error.kind, message=str(error))
        size = jpeg_size(data)
        if size is None:
            raise CaptureError(Kind.NOT_JPEG, "no JPEG header")
        return Grab(data, *size)

    def close(self) -> None:
        """Nothing held between grabs: each snapshot is its own request."""

    def _fetch(self, guard: SocketGuard) -> bytes:
        request = urllib.request.Request(self._url, headers={"Accept": "image/jpeg"})
        # The opener is per grab: its connections answer to this grab's guard.
        opener = guarded_opener(guard, *self._handlers)
        with opener.open(request, timeout=self.timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if _plain_content_type(content_type) != "image/jpeg":
                raise CaptureError(Kind.NOT_JPEG, f"got {_plain_content_type(content_type)}")
            length_header = response.headers.get("Content-Length", "")
            length = int(length_header) if length_header.isdigit() else None
            if length is not None and length > self.max_bytes:
                raise self._too_large()
            body = self._read_body(response)
        # http.client's chunked reads return short data at EOF instead of raising.
        if length is not None and len(body) < length:
            raise CaptureError(Kind.SHORT_READ)
        return body

    def _read_body(self, response: IO[bytes]) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while chunk := response.read(_CHUNK):
            total += len(chunk)
            if total > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> CaptureError:
        return CaptureError(Kind.TOO_LARGE, f"over {self.max_bytes / 1_000_000:g} MB")

    def _describe(self, exc: BaseException) -> CaptureError:
        if isinstance(exc, urllib.error.HTTPError):
            return describe_status(exc.code)
        reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, http.client.IncompleteRead):
            return CaptureError(Kind.SHORT_READ)
        # Before the shared wording, which would call a reset a generic network error.
        if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
            return CaptureError(Kind.CONNECTION_CLOSED)
        common = network_error(exc)
        if common is not None:
            return common
        if isinstance(reason, ValueError):
            return CaptureError(Kind.BAD_URL, message="Not a valid snapshot URL.")
        return CaptureError(Kind.OTHER, message="Could not fetch the snapshot.")

    def _mask(self, exc: BaseException) -> str:
        return mask_text(str(exc), (self._password,))


def describe_status(code: int) -> CaptureError:
    """An HTTP error status from the camera, as a CaptureError."""
    if code == 401:
        return CaptureError(Kind.AUTH_FAILED)
    if code == 403:
        return CaptureError(Kind.FORBIDDEN)
    if code == 404:
        return CaptureError(Kind.NOT_FOUND, message="Snapshot not found (wrong path).")
    if code in (301, 302, 303, 307, 308):
        return CaptureError(Kind.TOO_MANY_REDIRECTS)
    if code >= 500:
        return CaptureError(Kind.CAMERA_ERROR, f"HTTP {code}")
    return CaptureError(Kind.REQUEST_REFUSED, f"HTTP {code}")
