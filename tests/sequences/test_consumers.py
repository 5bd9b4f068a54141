"""The live websocket's edges, against the real ASGI application: what a client sends, which
paths and slugs it asks for, and which Origin and Host it comes with."""

from __future__ import annotations

import logging

import pytest
from channels.testing import WebsocketCommunicator

from cameras.models import Camera
from imgserv_site.routing import application
from sequences import live
from sequences.consumers import UNKNOWN_CAMERA

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

HOST = (b"host", b"127.0.0.1:8000")
SAME_ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def socket(path: str = "/ws/live/", *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=list(headers or (HOST, SAME_ORIGIN)))


async def opened(communicator: WebsocketCommunicator) -> bool:
    connected, _ = await communicator.connect()
    return bool(connected)


@pytest.fixture
def errors(caplog):
    """Everything logged at ERROR or above (a traceback comes with an error)."""
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(
    "frame",
    [
        {"text": "junk, not JSON"},
        {"text": '{"type": "sequence.updated", "camera": "x"}'},
        {"text": ""},
        {"bytes": b"\x00\xff" * 100},
        {"text": None, "bytes": None},
    ],
    ids=["text", "json", "empty", "binary", "neither"],
)
async def test_it_ignores_what_a_client_sends_and_keeps_the_socket(camera, settings, frame, errors):
    settings.LIVE_WATCH_DATABASE = False
    communicator = socket(f"/ws/live/{camera.slug}/")
    assert await opened(communicator)
    await communicator.send_input({"type": "websocket.receive", **frame})
    assert await communicator.receive_nothing(timeout=0.3)
    # Still open and still delivering.
    await live.abroadcast(live.camera_health(camera))
    assert (await communicator.receive_json_from(timeout=2))["type"] == "camera.health"
    await communicator.disconnect()
    assert errors() == []


@pytest.mark.parametrize(
    "path",
    ["/ws/live/../", "/ws/live/a/b/", "/ws/live/%2e%2e/", "/ws/live/" + "a" * 5000 + "/", "/ws/"],
    ids=["dotdot", "nested", "encoded", "long", "other"],
)
async def test_it_refuses_a_path_that_is_no_route_at_the_handshake(db, path, errors):
    communicator = socket(path)
    assert not await opened(communicator)
    assert errors() == []


async def test_it_takes_a_query_string_that_is_not_utf8(db, errors):
    communicator = socket("/ws/live/")
    communicator.scope["query_string"] = b"v=\xff\xfe"
    assert await opened(communicator)
    await communicator.disconnect()
    assert errors() == []


async def test_it_refuses_a_slug_longer_than_a_camera_slug_can_be(db, errors):
    assert not await opened(socket("/ws/live/" + "a" * 101 + "/"))
    assert errors() == []


async def test_it_serves_a_camera_whose_slug_has_the_longest_length(db, settings):
    settings.LIVE_WATCH_DATABASE = False
    camera = await Camera.objects.acreate(name="Long", slug="a" * 100, location_name="There")
    communicator = socket(f"/ws/live/{camera.slug}/")
    assert await opened(communicator)
    await live.abroadcast(live.camera_health(camera))
    assert (await communicator.receive_json_from(timeout=2))["camera"] == camera.slug
    await communicator.disconnect()


async def test_it_closes_an_unknown_camera_with_an_application_close_code(db, errors):
    communicator = socket("/ws/live/no-such-camera/")
    assert await opened(communicator)
    closed = await communicator.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": UNKNOWN_CAMERA}
    assert 4000 <= UNKNOWN_CAMERA <= 4999
    assert errors() == []


async def test_it_lets_in_a_client_without_an_origin_header(camera):
    """Scripts and home automation send none; the feed is public and read-only."""
    communicator = socket(f"/ws/live/{camera.slug}/", HOST)
    assert await opened(communicator)
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://127.0.0.1:9000",  # same host, another port: another origin
        b"http://127.0.0.1",  # port 80
        b"https://127.0.0.1:8000",  # another scheme
        b"http://localhost:8000",  # an allowed host, but not the one the page came from
        b"https://evil.example",
        b"null",
        b"http://[::1",
    ],
)
async def test_it_refuses_a_foreign_origin_port_included(camera, origin):
    assert not await opened(socket("/ws/live/", HOST, (b"origin", origin)))


async def test_it_takes_the_default_port_as_written_or_not(camera):
    assert await opened(
        socket("/ws/live/", (b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"))
    )
    assert await opened(
        socket("/ws/live/", (b"host", b"127.0.0.1:80"), (b"origin", b"http://127.0.0.1"))
    )


async def test_it_lets_in_a_trusted_origin(camera, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://cams.example.org"]
    assert await opened(socket("/ws/live/", HOST, (b"origin", b"https://cams.example.org")))
    assert not await opened(
        socket("/ws/live/", HOST, (b"origin", b"https://cams.example.org:8443"))
    )


async def test_it_compares_with_https_behind_the_trusted_proxy(camera, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proto = (b"x-forwarded-proto", b"https")
    host = (b"host", b"cams.example.org")
    settings.ALLOWED_HOSTS = ["cams.example.org"]
    assert await opened(socket("/ws/live/", host, proto, (b"origin", b"https://cams.example.org")))
    assert not await opened(
        socket("/ws/live/", host, proto, (b"origin", b"http://cams.example.org"))
    )


async def test_it_refuses_a_host_not_in_allowed_hosts(camera, errors):
    evil = (b"host", b"evil.example")
    assert not await opened(socket("/ws/live/", evil, (b"origin", b"http://evil.example")))
    assert not await opened(socket("/ws/live/", evil))
    assert errors() == []
