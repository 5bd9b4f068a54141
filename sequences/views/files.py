"""Sending a stored media file: whole, or the byte range a player asks for, or handed to nginx.

iOS Safari plays `<video>` only from a server that answers `Range: bytes=0-1` with 206 and
`Content-Range`; every media answer says `Accept-Ranges: bytes`. One range per request:
a request for several gets the whole file (200), which RFC 9110 allows.

Behind nginx (settings.MEDIA_ACCEL_PREFIX set, deploy/nginx/camera-server.conf), Python only
decides which file: `X-Accel-Redirect` tells nginx to send it, ranges included, so a storm of
viewers never streams a GIF through the web process.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def requested_span(header: str, size: int) -> Span | bool | None:
    """The one range asked for; None for none (or several: the whole file is sent); False
    when it cannot be satisfied."""
    match = RANGE.match(header.replace(" ", ""))
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        count = int(last)
        if count == 0:
            return False
        return Span(max(0, size - count), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return Span(start, end)


def send_file(
    request: HttpRequest, relative: str, content_type: str, etag: str, filename: str
) -> HttpResponseBase:
    response: HttpResponseBase
    if settings.MEDIA_ACCEL_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + relative
    else:
        response = _local(request, Path(settings.MEDIA_ROOT) / relative, content_type, etag)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _local(request: HttpRequest, path: Path, content_type: str, etag: str) -> HttpResponseBase:
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is gone.") from exc
    size = path.stat().st_size
    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    span = requested_span(wanted, size) if wanted and if_range in (None, etag) else None
    if span is False:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    if span is None or not isinstance(span, Span):
        return FileResponse(handle, content_type=content_type)
    handle.seek(span.start)
    part = FileResponse(_part(handle, span.length), status=206, content_type=content_type)
    part["Content-Range"] = f"bytes {span.start}-{span.end}/{size}"
    part["Content-Length"] = str(span.length)
    return part


def _part(handle: BinaryIO, length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
