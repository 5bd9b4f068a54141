"""The viewer's websocket against the real ASGI application (routing, origin check, consumer)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from analytics.condition import Level
from analytics.models import ConditionReading
from cameras.capture import capture_frame
from cameras.models import Camera, Health
from cameras.sources import CaptureError
from imgserv_site.asgi import application
from sequences import live
from sequences.builder import build_sequence
from tests.factories import ScriptedSource, frames, grab

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


def make_reading(camera, level=Level.HEAVY, temperature_c=-4.0):
    return ConditionReading.objects.create(
        camera=camera, measured_at=START, level=level, snow_coverage=0.6, wetness=0.2,
        ice_likelihood=0.1, brightness=0.5, confidence=0.9, temperature_c=temperature_c,
    )  # fmt: skip


async def test_it_delivers_each_message_type_to_the_cameras_viewers(camera, settings):
    settings.LIVE_WATCH_DATABASE = False
    everyone = await connect("/ws/live/")
    this_camera = await connect(f"/ws/live/{camera.slug}/")
    sequence = await build(camera)
    reading = await sync_to_async(make_reading)(camera)
    await sync_to_async(live.broadcast)(live.camera_health(camera))
    for communicator in (everyone, this_camera):
        received = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
        by_type = {m["type"]: m for m in received}
        assert by_type["sequence.updated"]["sequence_id"] == sequence.pk
        assert by_type["condition.updated"] == {
            "type": "condition.updated",
            "camera": camera.slug,
            "level": "heavy",
            "label": "Heavy",
            "measured_at": reading.measured_at.isoformat(),
            "temperature_c": -4.0,
            "alerts": [],
            "forecast_status": "no_location",
            "forecast_label": "No location set for this camera",
        }
        assert by_type["camera.health"] == {
            "type": "camera.health",
            "camera": camera.slug,
            "health": "unknown",
            "last_frame_at": None,
            "last_error": "",
            "consecutive_failures": 0,
        }
        await communicator.disconnect()


async def test_it_pushes_health_changes_from_capture_in_scale_out_mode(camera, settings):
    settings.LIVE_WATCH_DATABASE = False
    communicator = await connect(f"/ws/live/{camera.slug}/")
    source = ScriptedSource([CaptureError("Connection refused")] * 3)
    for _ in range(3):
        await sync_to_async(capture_frame)(camera, source)
    first = await communicator.receive_json_from(timeout=5)
    second = await communicator.receive_json_from(timeout=5)
    assert (first["health"], first["consecutive_failures"]) == ("degraded", 1)
    assert (second["health"], second["last_error"]) == ("offline", "Connection refused")
    assert await communicator.receive_nothing(timeout=0.3)  # not on every retry

    await sync_to_async(capture_frame)(camera, ScriptedSource([grab()]))
    back = await communicator.receive_json_from(timeout=5)
    assert (back["type"], back["health"]) == ("camera.health", "ok")
    assert back["consecutive_failures"] == 0
    assert back["last_frame_at"] is not None
    await communicator.disconnect()


async def test_the_watcher_announces_a_health_change_made_by_another_process(camera, settings):
    settings.LIVE_WATCH_DATABASE = True
    settings.LIVE_WATCH_INTERVAL = 0.1
    communicator = await connect(f"/ws/live/{camera.slug}/")
    await asyncio.sleep(0.3)  # the watcher has taken its first look
    await sync_to_async(
        Camera.objects.filter(pk=camera.pk).update
    )(health=Health.OFFLINE, consecutive_failures=3, last_error="Timed out")  # fmt: skip
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "camera.health"
    assert (message["health"], message["last_error"]) == ("offline", "Timed out")
    assert await communicator.receive_nothing(timeout=0.4)  # once, not on every look
    await communicator.disconnect()


async def test_the_watcher_announces_the_newest_reading_of_a_camera_once(camera, settings):
    settings.LIVE_WATCH_DATABASE = True
    settings.LIVE_WATCH_INTERVAL = 0.2
    communicator = await connect("/ws/live/")
    await asyncio.sleep(0.3)
    await sync_to_async(make_reading)(camera, Level.LIGHT)
    await sync_to_async(make_reading)(camera, Level.ICE_POSSIBLE)
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["label"]) == ("condition.updated", "Ice Possible")
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
