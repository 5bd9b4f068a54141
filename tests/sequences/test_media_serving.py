"""Media answers: byte ranges (iOS Safari plays <video> only with them), HEAD everywhere GET
works, a per-client limit on whole files without nginx, and X-Accel-Redirect behind it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from cameras.models import Camera
from sequences.builder import build_sequence
from sequences.views.files import Span, requested_span
from tests.factories import frames, live_worker

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def sequence(camera):
    frames(camera, 5, START)
    return build_sequence(camera)


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def mp4_url(camera) -> str:
    return f"/sequence/{camera.slug}/latest.mp4"


def test_it_answers_a_range_of_the_mp4_with_206_and_those_bytes(client, camera, sequence, settings):
    whole = (Path(settings.MEDIA_ROOT) / sequence.mp4).read_bytes()
    response = client.get(mp4_url(camera), headers={"range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(whole)}"
    assert response["Content-Length"] == "1000"
    assert response["Accept-Ranges"] == "bytes"
    assert body(response) == whole[100:1100]


def test_it_answers_the_first_two_bytes_as_safari_asks_first(client, camera, sequence):
    response = client.get(mp4_url(camera), headers={"range": "bytes=0-1"})
    assert (response.status_code, len(body(response))) == (206, 2)


def test_it_answers_the_last_bytes_and_an_open_range(client, camera, sequence, settings):
    whole = (Path(settings.MEDIA_ROOT) / sequence.mp4).read_bytes()
    tail = client.get(mp4_url(camera), headers={"range": "bytes=-500"})
    assert body(tail) == whole[-500:]
    rest = client.get(mp4_url(camera), headers={"range": f"bytes={len(whole) - 10}-"})
    assert body(rest) == whole[-10:]


def test_it_refuses_a_range_past_the_end_with_416(client, camera, sequence):
    response = client.get(mp4_url(camera), headers={"range": "bytes=999999999-"})
    assert response.status_code == 416
    assert response["Content-Range"].startswith("bytes */")


def test_it_sends_the_whole_file_when_if_range_names_another_version(client, camera, sequence):
    response = client.get(
        mp4_url(camera), headers={"range": "bytes=0-9", "if-range": '"an-older-build"'}
    )
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", Span(0, 0)),
        ("bytes=5-", Span(5, 9)),
        ("bytes=-3", Span(7, 9)),
        ("bytes=8-100", Span(8, 9)),
        ("bytes=10-", False),
        ("bytes=-0", False),
        ("bytes=0-1,4-5", None),
        ("items=0-1", None),
    ],
)
def test_it_reads_range_headers(header, expected):
    assert requested_span(header, 10) == expected


@pytest.mark.parametrize("url", ["/", "/iframe", "/health", "/sequence/latest", "/status"])
def test_head_gets_the_get_headers_and_no_body(client, camera, sequence, url):
    live_worker()
    Camera.objects.filter(pk=camera.pk).update(last_attempt_at=timezone.now())  # on its slots
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code == 200
    assert body(head) == b""
    for name in ("Content-Type", "Cache-Control", "ETag", "Last-Modified"):
        assert head.get(name) == got.get(name), name


def test_it_limits_whole_files_per_client_without_nginx(client, camera, sequence, settings):
    settings.MEDIA_RATE = "3/min"
    codes = [client.get("/sequence/latest").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/sequence/latest")
    assert 0 < int(limited["Retry-After"]) <= 60
    # What costs nothing is not counted: the client that already has it gets its 304.
    assert (
        client.get("/sequence/latest", headers={"if-none-match": sequence.etag}).status_code == 304
    )
    other = client.get("/sequence/latest", REMOTE_ADDR="192.0.2.9")
    assert other.status_code == 200


def test_behind_nginx_it_hands_the_file_to_nginx(client, camera, sequence, settings):
    settings.MEDIA_ACCEL_PREFIX = "/internal-media/"
    response = client.get("/sequence/latest")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/internal-media/{sequence.gif}"
    assert response.content == b""
    assert response["Content-Type"] == "image/gif"
