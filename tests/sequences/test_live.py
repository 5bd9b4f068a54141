"""The viewer's websocket against the real ASGI application (routing, origin check, consumer)."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from imgserv_site.asgi import application
from sequences.builder import build_sequence
from tests.factories import frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def build(camera):
    await sync_to_async(frames)(camera, 5, START)
    return await sync_to_async(build_sequence)(camera)


async def test_it_pushes_a_built_sequence_through_the_database_watcher(camera, settings):
    """Embedded mode: the build happens elsewhere; the web process sees it and pushes it."""
    settings.LIVE_WATCH_DATABASE = True
    settings.LIVE_WATCH_INTERVAL = 0.1
    communicator = await connect("/ws/live/")
    sequence = await build(camera)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "sequence.updated"
    assert message["camera"] == camera.slug
    assert message["sequence_id"] == sequence.pk
    assert message["gif_url"] == f"/sequence/{camera.slug}/latest.gif?v={sequence.pk}"
    assert message["mp4_url"] == f"/sequence/{camera.slug}/latest.mp4?v={sequence.pk}"
    assert message["last_captured_at"] == sequence.last_captured_at.isoformat()
    await communicator.disconnect()


async def test_it_pushes_directly_when_the_layer_spans_processes(camera, settings):
    """Scale-out mode: the builder sends through the channel layer itself."""
    settings.LIVE_WATCH_DATABASE = False
    communicator = await connect(f"/ws/live/{camera.slug}/")
    sequence = await build(camera)
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["sequence_id"]) == ("sequence.updated", sequence.pk)
    await communicator.disconnect()


async def test_it_sends_other_cameras_updates_only_to_their_viewers(camera, settings):
    settings.LIVE_WATCH_DATABASE = False
    communicator = await connect("/ws/live/some-other-camera/")
    await build(camera)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_it_refuses_a_socket_from_a_foreign_origin(camera):
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
