from __future__ import annotations

import datetime as dt

import pytest

from sequences.builder import build_sequence
from tests.factories import frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_it_serves_the_latest_gif_inline_with_validators(client, camera):
    frames(camera, 5, START)
    sequence = build_sequence(camera)
    response = client.get("/sequence/latest")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Content-Disposition"].startswith("inline")
    assert response["ETag"] == sequence.etag
    assert "Last-Modified" in response
    assert "max-age=" in response["Cache-Control"]
    assert b"".join(response.streaming_content)[:6] == b"GIF89a"


def test_it_answers_not_modified_to_a_matching_etag(client, camera):
    frames(camera, 5, START)
    sequence = build_sequence(camera)
    response = client.get("/sequence/latest", headers={"if-none-match": sequence.etag})
    assert response.status_code == 304


def test_it_serves_the_newer_sequence_after_a_rebuild(client, camera):
    frames(camera, 5, START)
    first = build_sequence(camera)
    frames(camera, 5, START + dt.timedelta(minutes=1))
    second = build_sequence(camera)
    response = client.get(f"/sequence/{camera.slug}/latest", headers={"if-none-match": first.etag})
    assert response.status_code == 200
    assert response["ETag"] == second.etag


def test_it_answers_404_before_the_first_sequence(client, camera):
    assert client.get("/sequence/latest").status_code == 404
    assert client.get("/sequence/nope/latest").status_code == 404


def test_it_refuses_writes(client, camera):
    assert client.post("/sequence/latest").status_code == 405


def test_it_serves_each_format_at_its_own_url(client, camera):
    frames(camera, 5, START)
    sequence = build_sequence(camera)
    for kind, content_type, magic in (
        ("gif", "image/gif", b"GIF89a"),
        ("mp4", "video/mp4", b"ftyp"),
        ("webp", "image/webp", b"WEBP"),
    ):
        response = client.get(f"/sequence/{camera.slug}/latest.{kind}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert magic in b"".join(response.streaming_content)[:16]
        assert response["ETag"] == sequence.etag_for(sequence_kind(kind))


def test_it_serves_webp_to_browsers_that_accept_it(client, camera):
    frames(camera, 5, START)
    build_sequence(camera)
    response = client.get("/sequence/latest", headers={"accept": "image/webp,image/*,*/*"})
    assert response["Content-Type"] == "image/webp"
    assert "Accept" in response["Vary"]


def test_it_answers_404_for_an_unknown_format(client, camera):
    frames(camera, 5, START)
    build_sequence(camera)
    assert client.get(f"/sequence/{camera.slug}/latest.bmp").status_code == 404


def sequence_kind(kind: str):
    from sequences.choices import OutputFormat

    return OutputFormat(kind)


@pytest.mark.parametrize(
    "accept",
    [
        "image/webp;q=0",
        "image/webp;q=0, */*",
        "image/webp;q=0.0, image/*",
        "image/webp; q=0.000, image/gif",
        "image/gif, image/webp;q=0.5",
        "image/*, */*",  # old browsers without WebP send this
        "",
    ],
)
def test_it_serves_the_gif_unless_webp_is_named_and_preferred(client, camera, accept):
    frames(camera, 5, START)
    build_sequence(camera)
    response = client.get("/sequence/latest", headers={"accept": accept})
    assert response["Content-Type"] == "image/gif"


@pytest.mark.parametrize(
    "accept",
    [
        "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",  # Chrome's <img>
        "image/webp;q=0.9, image/gif;q=0.5",
        "image/*;q=0.5, image/webp",
        "IMAGE/WEBP",
    ],
)
def test_it_serves_webp_when_the_client_prefers_it(client, camera, accept):
    frames(camera, 5, START)
    build_sequence(camera)
    response = client.get("/sequence/latest", headers={"accept": accept})
    assert response["Content-Type"] == "image/webp"
