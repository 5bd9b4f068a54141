"""HTTP snapshot cameras (Hikvision `/ISAPI/Streaming/channels/1/picture`, Dahua
`/cgi-bin/snapshot.cgi`, ...): one GET per grab, Digest or Basic auth, standard library only.

urllib's HTTPDigestAuthHandler answers the MD5/qop=auth challenges these cameras send, so
no third-party HTTP client is needed. Its password manager is keyed by the camera's address,
so a redirect to another host never receives the credentials.
"""

from __future__ import annotations

import http.client
import logging
import re
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any

from cameras.sources.base import TIMED_OUT, CaptureError, Grab, describe_network_error
from cameras.sources.urls import mask_text, mask_url, split_credentials

log = logging.getLogger(__name__)

AUTH_FAILED = "Authentication failed."
SHORT_READ = "Connection closed before the whole image arrived."
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
    """A camera that serves a JPEG per HTTP request."""

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
        handlers: list[urllib.request.BaseHandler] = [_LimitedRedirects()]
        username = username or url_user
        if username or self._password:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            # Keyed by scheme://host:port/ so a same-camera redirect to another path still
            # authenticates, while a redirect to another host does not get the password.
            parts = urllib.parse.urlsplit(bare)
            camera_root = f"{parts.scheme}://{parts.netloc}/"
            passwords.add_password(None, camera_root, username, self._password)
            # Both: the camera's challenge decides which scheme answers.
            handlers += [
                urllib.request.HTTPDigestAuthHandler(passwords),
                urllib.request.HTTPBasicAuthHandler(passwords),
            ]
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"HttpSnapshotSource({mask_url(self._url)!r})"

    def grab(self) -> Grab:
        error: str | None = None
        data = b""
        try:
            data = self._fetch()
        except CaptureError as exc:
            error = str(exc)
        except Exception as exc:  # mapped to plain words
            error = self._describe(exc)
            log.info("snapshot %s: %s", mask_url(self._url), self._mask(exc))
        # Raised here, not in the except block, so no __context__ drags the original message
        # (which can quote the URL) along.
        if error is not None:
            raise CaptureError(error)
        size = jpeg_size(data)
        if size is None:
            raise CaptureError("Not a JPEG image (no JPEG header).")
        return Grab(data, *size)

    def close(self) -> None:
        """Nothing held between grabs: each snapshot is its own request."""

    def _fetch(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        request = urllib.request.Request(self._url, headers={"Accept": "image/jpeg"})
        with self._opener.open(request, timeout=self.timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if _plain_content_type(content_type) != "image/jpeg":
                raise CaptureError(f"Not a JPEG image (got {_plain_content_type(content_type)}).")
            length_header = response.headers.get("Content-Length", "")
            length = int(length_header) if length_header.isdigit() else None
            if length is not None and length > self.max_bytes:
                raise CaptureError(self._too_large())
            body = self._read_body(response, deadline)
        # http.client's chunked reads return short data at EOF instead of raising.
        if length is not None and len(body) < length:
            raise CaptureError(SHORT_READ)
        return body

    def _read_body(self, response: IO[bytes], deadline: float) -> bytes:
        # The socket timeout bounds each read; the deadline bounds a camera that trickles.
        chunks: list[bytes] = []
        total = 0
        while chunk := response.read(_CHUNK):
            total += len(chunk)
            if total > self.max_bytes:
                raise CaptureError(self._too_large())
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise CaptureError(TIMED_OUT)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"Image too large (over {self.max_bytes / 1_000_000:g} MB)."

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, urllib.error.HTTPError):
            return self._describe_status(exc.code)
        reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, http.client.IncompleteRead):
            return SHORT_READ
        # Before the shared wording, which would call a reset a generic network error.
        if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
            return "Connection closed by the camera."
        common = describe_network_error(exc)
        if common:
            return common
        if isinstance(reason, ValueError):
            return "Not a valid snapshot URL."
        return "Could not fetch the snapshot."

    @staticmethod
    def _describe_status(code: int) -> str:
        if code == 401:
            return AUTH_FAILED
        if code == 403:
            return "Access denied (the camera user lacks permission)."
        if code == 404:
            return "Snapshot not found (wrong path)."
        if code in (301, 302, 303, 307, 308):
            return "Too many redirects."
        if code >= 500:
            return f"The camera reported an internal error (HTTP {code})."
        return f"The camera refused the request (HTTP {code})."

    def _mask(self, exc: BaseException) -> str:
        return mask_text(str(exc), (self._password,))
