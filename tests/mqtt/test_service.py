"""Must-show: imgserv's MQTT service against a real Mosquitto broker (the Debian package's
binary, our own process on a free port). Home Assistant's discovery configs and the retained
states arrive when a frame is stored, the road state changes and the camera goes offline; the
broker is stopped (capture goes on, undelayed) and started again, and imgserv reconnects."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.utils import timezone

from analytics.kinds import State
from analytics.models import ConditionReading
from cameras.capture import capture_frame
from cameras.models import OFFLINE_AFTER_FAILURES, Camera, PrivacyMask
from cameras.sources import CaptureError
from mqtt.config import parse_url
from mqtt.models import BrokerConnection, LinkState
from mqtt.service import MqttService
from tests.factories import ScriptedSource, grab
from tests.mqtt.conftest import Subscriber
from tests.rig.mosquitto import MosquittoBroker

pytestmark = pytest.mark.integration
NODE = "test-host:4242"
AVAILABILITY = "imgserv/node/test-host-4242/availability"
CONFIG = "homeassistant/{component}/imgserv_main-street/{object_id}/config"


def online(payload: bytes) -> bool:
    return payload == b"online"


class Running:
    """The service on its own thread, as `manage.py worker` runs it."""

    def __init__(self, service: MqttService) -> None:
        self.service = service
        self.stop = threading.Event()
        self.thread = threading.Thread(target=service.run, args=(self.stop,), name="mqtt")
        self.thread.start()

    def end(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@pytest.fixture(autouse=True)
def readers_take_no_locks(transactional_db) -> Iterator[None]:
    """The test database is SQLite in memory with a shared cache, where a reader's table lock
    fails a writer at once (no busy timeout), unlike the WAL file the site runs on; the
    service reads on its own thread while the test captures. Readers here read without locks."""

    def no_read_locks(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(no_read_locks, dispatch_uid="mqtt-test-read-uncommitted")
    no_read_locks(None, connection)
    yield
    connection_created.disconnect(dispatch_uid="mqtt-test-read-uncommitted")


@pytest.fixture
def held(camera: Camera) -> Camera:
    """The camera as this node holds it (cameras.leases), with a privacy mask."""
    Camera.objects.filter(pk=camera.pk).update(
        lease_owner=NODE, lease_until=timezone.now() + dt.timedelta(hours=1)
    )
    PrivacyMask.objects.create(camera=camera, polygon=[[0, 0], [0.5, 0], [0.5, 0.5]])
    camera.refresh_from_db()
    return camera


@pytest.fixture
def running(transactional_db, broker: MosquittoBroker) -> Iterator[Running]:
    service = MqttService(parse_url(broker.url), NODE, refresh_seconds=1, reconnect_max_s=1)
    run = Running(service)
    try:
        yield run
    finally:
        run.end()


def store(camera: Camera, seed: int) -> float:
    """Capture one frame through the real capture path; the seconds it took."""
    started = time.monotonic()
    frame = capture_frame(camera, ScriptedSource([grab(seed=seed)]))
    assert frame is not None
    camera.refresh_from_db()
    return time.monotonic() - started


def config(subscriber: Subscriber, component: str, object_id: str) -> dict:
    topic = CONFIG.format(component=component, object_id=object_id)
    return json.loads(subscriber.wait_for(topic))


def test_it_publishes_discovery_and_states_to_mosquitto_and_reconnects_after_a_restart(
    held, broker, subscriber, running
):
    subscriber.wait_for(AVAILABILITY, online)
    road = config(subscriber, "sensor", "road")
    assert road["unique_id"] == "imgserv_main-street_road"
    assert road["state_topic"] == "imgserv/main-street/road"
    assert road["json_attributes_topic"] == "imgserv/main-street/road/attributes"
    assert road["availability_topic"] == AVAILABILITY
    assert road["device"] == {
        "identifiers": ["imgserv_main-street"],
        "name": "Main Street",
        "manufacturer": "imgserv",
        "model": "Demo (generated road scene) camera",
    }
    for component, object_id in (
        ("sensor", "temperature"),
        ("sensor", "alerts"),
        ("image", "frame"),
    ):
        assert config(subscriber, component, object_id)["device"] == road["device"]
    assert config(subscriber, "sensor", "health")["state_topic"] == "imgserv/main-street/health"
    assert subscriber.wait_for("imgserv/main-street/road") == b"unknown"

    # A stored frame: its masked bytes, as stored, and the camera's health.
    store(held, seed=1)
    frame = held.frames.get()
    stored = (Path(settings.MEDIA_ROOT) / frame.file).read_bytes()
    assert stored != grab(seed=1).jpeg  # masked when stored
    assert subscriber.wait_for("imgserv/main-street/frame", lambda p: p == stored) == stored
    said = subscriber.wait_for("imgserv/main-street/frame/attributes", lambda p: p != b"{}")
    assert json.loads(said)["frame"] == frame.pk
    assert subscriber.wait_for("imgserv/main-street/health", lambda p: p == b"ok") == b"ok"

    # The published road state changes.
    ConditionReading.objects.create(
        camera=held,
        frame=frame,
        measured_at=timezone.now(),
        state=State.SNOW,
        published_state=State.SNOW,
        published_reason="Snow covers most of the road.",
        snow_coverage=0.7,
        wetness=0.1,
        ice_likelihood=0.0,
        brightness=0.5,
        confidence=0.9,
    )
    assert subscriber.wait_for("imgserv/main-street/road", lambda p: p == b"snow") == b"snow"
    said = subscriber.wait_for("imgserv/main-street/road/attributes", lambda p: b"Snow" in p)
    assert json.loads(said)["reason"] == "Snow covers most of the road."

    # The camera goes offline.
    dead = ScriptedSource([CaptureError("Host unreachable.")] * OFFLINE_AFTER_FAILURES)
    for _ in range(OFFLINE_AFTER_FAILURES):
        assert capture_frame(held, dead) is None
    assert subscriber.wait_for("imgserv/main-street/health", lambda p: p == b"offline")
    said = subscriber.wait_for("imgserv/main-street/health/attributes", lambda p: b"Host" in p)
    assert json.loads(said)["last_error"] == "Host unreachable."

    # The broker goes away: capture goes on, at its own pace, and the admin shows why.
    broker.stop()
    deadline = time.monotonic() + 10
    while running.service.link.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running.service.link.connected
    assert store(held, seed=2) < 1.0
    assert store(held, seed=3) < 1.0
    newest = held.frames.order_by("-captured_at").first()
    assert newest is not None
    status = wait_for_status(LinkState.DISCONNECTED)
    assert status.last_error and status.last_error_at is not None

    # The broker is back (empty: no persistence), on the same port: imgserv reconnects and
    # publishes everything again, including the frame stored while it was away.
    subscriber.forget()
    broker.start()
    subscriber.wait_for(AVAILABILITY, online)
    assert config(subscriber, "sensor", "road")["unique_id"] == "imgserv_main-street_road"
    back = json.loads(subscriber.wait_for("imgserv/main-street/frame/attributes"))
    assert back["frame"] == newest.pk
    assert subscriber.wait_for("imgserv/main-street/road") == b"snow"
    assert subscriber.wait_for("imgserv/main-street/health") == b"ok"
    assert wait_for_status(LinkState.CONNECTED).published > 0

    # A clean stop says "offline", and leaves no thread behind.
    subscriber.forget()
    running.end()
    assert not running.thread.is_alive()
    assert subscriber.wait_for(AVAILABILITY) == b"offline"
    assert BrokerConnection.objects.get(node=NODE).state == LinkState.STOPPED
    assert not [
        t for t in threading.enumerate() if t.name.startswith("paho-mqtt-client-imgserv-test-host")
    ]


def test_it_republishes_discovery_when_home_assistant_announces_itself(
    held, broker, subscriber, running
):
    config(subscriber, "sensor", "road")
    subscriber.forget()
    subscriber.client.publish("homeassistant/status", "online", qos=1).wait_for_publish(5)
    road = config(subscriber, "sensor", "road")
    assert road["unique_id"] == "imgserv_main-street_road"


def test_its_last_will_marks_the_node_offline_when_the_link_breaks(
    held, broker, subscriber, running
):
    subscriber.wait_for(AVAILABILITY, online)
    subscriber.forget()
    # The connection drops without a DISCONNECT, as when the worker dies: the broker sends
    # the will, and the service, still alive, reconnects and says "online" again.
    running.service.link.client.socket().close()
    assert subscriber.wait_for(AVAILABILITY, lambda p: p == b"offline") == b"offline"
    subscriber.forget()
    assert subscriber.wait_for(AVAILABILITY, online)


def test_it_removes_a_deleted_cameras_entities_from_home_assistant(
    held, broker, subscriber, running
):
    config(subscriber, "sensor", "road")
    subscriber.wait_for("imgserv/main-street/road")
    subscriber.forget()
    held.delete()
    road = CONFIG.format(component="sensor", object_id="road")
    assert subscriber.wait_for(road, lambda p: p == b"") == b""
    assert subscriber.wait_for("imgserv/main-street/road", lambda p: p == b"") == b""


def test_a_new_slug_moves_the_device_and_removes_the_old_one(held, broker, subscriber, running):
    config(subscriber, "sensor", "road")
    subscriber.forget()
    Camera.objects.filter(pk=held.pk).update(slug="high-street")
    moved = "homeassistant/sensor/imgserv_high-street/road/config"
    assert json.loads(subscriber.wait_for(moved))["state_topic"] == "imgserv/high-street/road"
    old = CONFIG.format(component="sensor", object_id="road")
    assert subscriber.wait_for(old, lambda p: p == b"") == b""


def test_an_unreachable_broker_never_delays_capture_and_shows_in_the_admin(held, transactional_db):
    dead = MosquittoBroker()  # configured, never started: its port is closed
    service = MqttService(parse_url(dead.url), NODE, refresh_seconds=1, reconnect_max_s=1)
    run = Running(service)
    try:
        for seed in range(3):
            assert store(held, seed=seed) < 1.0
        status = wait_for_status(LinkState.DISCONNECTED)
        assert "Could not connect to 127.0.0.1" in status.last_error
    finally:
        run.end()
        dead.close()
    assert not run.thread.is_alive()


def wait_for_status(state: LinkState, timeout: float = 10) -> BrokerConnection:
    """The admin's row for the node, once it shows `state`."""
    deadline = time.monotonic() + timeout
    while True:
        row = BrokerConnection.objects.filter(node=NODE).first()
        if row is not None and row.state == state:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"status {row and row.state}, not {state}")
        time.sleep(0.1)
