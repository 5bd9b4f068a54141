"""The viewer's websocket against the real ASGI application (routing, origin check, consumer)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from cameras.capture import capture_frame
from cameras.models import Camera, Health
from cameras.sources import CaptureError
from imgserv_site.routing import application
from sequences import live
from sequences.builder import build_sequence
from tests.factories import ScriptedSource, frames, grab

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)
# As a browser on the viewer page at http://127.0.0.1:8000/ sends them.
ORIGIN = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]

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
    await Camera.objects.acreate(name="Other", slug="some-other-camera", location_name="There")
    communicator = await connect("/ws/live/some-other-camera/")
    await build(camera)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_it_refuses_a_socket_from_a_foreign_origin(camera):
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN[0], (b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


def make_reading(
    camera, state=State.SNOW, level=Level.HEAVY, reason="snow on the road", published=None
):
    """A reading whose published state is its own unless `published` (state, level, reason)
    says otherwise."""
    shown_state, shown_level, shown_reason = published or (state, level, reason)
    return ConditionReading.objects.create(
        camera=camera, measured_at=START, state=state, level=level, reason=reason,
        published_state=shown_state, published_level=shown_level, published_reason=shown_reason,
        snow_coverage=0.6, wetness=0.2, ice_likelihood=0.1, brightness=0.5, confidence=0.9,
        temperature_c=-4.0,
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
            "state": "snow",
            "style": "heavy",
            "label": "Heavy snow",
            "level": "Heavy",
            "reason": "snow on the road",
            "measured_at": reading.measured_at.isoformat(),
            "temperature_c": -4.0,
            "units": "metric",
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
    await sync_to_async(make_reading)(camera, State.SNOW, Level.LIGHT)
    await sync_to_async(make_reading)(camera, State.ICE, Level.ICE_POSSIBLE, "freezing rain")
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["label"]) == ("condition.updated", "Ice possible")
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def condition_message(camera, **reading) -> dict:
    """The condition.updated message a new reading sends to the camera's viewers."""
    communicator = await connect(f"/ws/live/{camera.slug}/")
    await asyncio.sleep(0.3)  # a database watcher has taken its first look
    await sync_to_async(make_reading)(camera, **reading)
    message = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert message["type"] == "condition.updated"
    return message


async def test_it_announces_the_published_state_not_the_readings_own(camera, settings):
    settings.LIVE_WATCH_DATABASE = False
    message = await condition_message(
        camera, state=State.SNOW, level=Level.HEAVY, reason="snow on the road",
        published=(State.DRY, Level.CLEAR, "bare road"),
    )  # fmt: skip
    shown = {key: message[key] for key in ("state", "style", "label", "level", "reason")}
    assert shown == {
        "state": "dry",
        "style": "dry",
        "label": "Dry",
        "level": "Clear",
        "reason": "bare road",
    }


async def test_it_announces_unknown_with_its_reason_and_no_level(camera, settings):
    settings.LIVE_WATCH_DATABASE = True
    settings.LIVE_WATCH_INTERVAL = 0.1
    why = "wet-looking road below freezing: water, brine or ice, and no precipitation history"
    message = await condition_message(
        camera, state=State.WET, level=Level.CLEAR, reason="wet road",
        published=(State.UNKNOWN, "", why),
    )  # fmt: skip
    shown = {key: message[key] for key in ("state", "style", "label", "level", "reason")}
    assert shown == {
        "state": "unknown",
        "style": "unknown",
        "label": "—",
        "level": "",
        "reason": why,
    }


async def test_it_tells_viewers_the_units_the_camera_shows(camera, settings):
    """The temperature stays °C in the message; `units` says how the tile shows it."""
    settings.LIVE_WATCH_DATABASE = False
    camera.latitude, camera.longitude = 39.74, -104.99  # Denver
    await sync_to_async(camera.save)()
    message = await condition_message(camera)
    assert (message["temperature_c"], message["units"]) == (-4.0, "us")
