"""`manage.py doctor`: one line per check, exit 1 (CommandError) when any check fails."""

from __future__ import annotations

import datetime as dt
import socket
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from cameras.models import Camera, SourceKind
from imgserv_site.management.commands import doctor as doctor_module
from mqtt.models import BrokerConnection, LinkState
from publishing.models import PublishTarget, TargetKind
from tests.conftest import unavailable
from tests.factories import live_worker
from tests.rig import RigUnavailable
from tests.rig.mosquitto import MosquittoBroker

PASSWORD = "doctor-pw-5c1d0e"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def doctor(*args: str) -> tuple[int, str]:
    """Exit status and everything printed, as an operator sees it."""
    out, err = StringIO(), StringIO()
    try:
        call_command("doctor", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue() + err.getvalue() + str(exc)
    return 0, out.getvalue() + err.getvalue()


def line(output: str, name: str) -> str:
    [found] = [row for row in output.splitlines() if row[2:].startswith(name + " ")]
    return found


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def healthy(camera, settings, monkeypatch) -> Camera:
    """A demo camera, a worker that ticked just now, a synchronised clock, safe settings."""
    live_worker()
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "cams.lan", "192.168.1.20"]
    settings.SESSION_COOKIE_SECURE = False
    settings.MIN_FREE_DISK_MB = 1
    monkeypatch.setattr(doctor_module, "ntp_synchronized", lambda: True)
    return camera


def test_it_reports_a_healthy_installation_and_exits_0(healthy):
    code, output = doctor()
    assert code == 0, output
    assert line(output, "database").startswith("✓")
    assert line(output, "migrations").startswith("✓")
    assert line(output, "worker").startswith("✓")
    assert line(output, "camera main-street").startswith("✓")
    assert " ms, 640×360" in line(output, "camera main-street")
    assert output.rstrip().endswith("0 problem(s), 0 warning(s)")


def test_it_fails_naming_an_unreachable_camera_and_never_shows_its_password(healthy):
    Camera.objects.create(
        name="Gate",
        slug="gate",
        location_name="Gate",
        source_kind=SourceKind.HTTP,
        source_url=f"http://127.0.0.1:{closed_port()}/snapshot.jpg",
        username="admin",
        password=PASSWORD,
    )
    code, output = doctor()
    assert code == 1
    assert line(output, "camera gate").startswith("✗")
    assert "http://admin:***@127.0.0.1:" in line(output, "camera gate")
    assert line(output, "camera main-street").startswith("✓")
    assert output.rstrip().endswith("1 problem(s), 0 warning(s): camera gate")
    assert PASSWORD not in output


def test_it_skips_disabled_cameras(healthy):
    healthy.source_kind = SourceKind.HTTP
    healthy.source_url = f"http://127.0.0.1:{closed_port()}/snapshot.jpg"
    healthy.enabled = False
    healthy.save()
    code, output = doctor()
    assert code == 0, output
    assert line(output, "cameras").startswith("!")


def test_it_fails_on_a_pending_migration(healthy):
    [leaf] = MigrationLoader(connection).graph.leaf_nodes("cameras")
    MigrationRecorder(connection).record_unapplied(*leaf)
    code, output = doctor()
    assert code == 1
    assert line(output, "migrations").startswith("✗")
    assert f"1 pending: {'.'.join(leaf)}" in line(output, "migrations")


def test_it_fails_when_no_worker_has_beat_lately(healthy, settings):
    settings.WORKER_STALE_AFTER_SECONDS = 15
    # A fixed clock: the line gives the age to the second, and the check itself takes time.
    with time_machine.travel(NOW, tick=False):
        live_worker(NOW - dt.timedelta(minutes=10))
        code, output = doctor()
    assert code == 1
    expected = "0 workers running, last seen 600 s ago; is `manage.py worker` running?"
    assert expected in line(output, "worker")


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("DEBUG", True, "DEBUG is on"),
        ("SECRET_KEY", "short-key", "SECRET_KEY is short"),
        ("ALLOWED_HOSTS", ["*"], "ALLOWED_HOSTS contains “*”"),
        ("ALLOWED_HOSTS", ["cams.example.org"], "HTTPS is off though cams.example.org"),
    ],
)
def test_it_fails_on_settings_unsafe_in_production(healthy, settings, setting, value, words):
    setattr(settings, setting, value)
    code, output = doctor()
    assert code == 1
    assert any(row.startswith("✗") and words in row for row in output.splitlines()), output


def test_it_accepts_a_public_host_behind_https(healthy, settings):
    settings.ALLOWED_HOSTS = ["cams.example.org"]
    settings.SESSION_COOKIE_SECURE = True
    code, output = doctor()
    assert code == 0, output


def test_it_warns_but_passes_when_time_sync_is_unknown(healthy, monkeypatch):
    monkeypatch.setattr(doctor_module, "ntp_synchronized", lambda: None)
    code, output = doctor()
    assert code == 0
    assert line(output, "time sync").startswith("! time sync")
    assert "1 warning(s)" in output


def test_it_fails_when_the_clock_is_not_synchronised(healthy, monkeypatch):
    monkeypatch.setattr(doctor_module, "ntp_synchronized", lambda: False)
    code, output = doctor()
    assert code == 1
    assert line(output, "time sync").startswith("✗")


def directory_target(path) -> PublishTarget:
    return PublishTarget.objects.create(
        name="local", kind=TargetKind.DIRECTORY, remote_path=str(path)
    )


def test_it_reports_a_publish_target_that_is_up_to_date(healthy, tmp_path):
    when = NOW - dt.timedelta(minutes=5)
    target = directory_target(tmp_path)
    PublishTarget.objects.filter(pk=target.pk).update(
        last_success_at=when, requested_at=when, published_request_at=when
    )
    with time_machine.travel(NOW, tick=False):
        live_worker(NOW)
        code, output = doctor("--connect")
    assert code == 0, output
    assert line(output, "publish local").startswith("✓")
    assert "last success 5 min ago; up to date" in line(output, "publish local")


def test_it_fails_on_a_failing_publish_target(healthy, tmp_path):
    target = directory_target(tmp_path)
    PublishTarget.objects.filter(pk=target.pk).update(
        consecutive_failures=3, last_error="The server's disk is full."
    )
    code, output = doctor()
    assert code == 1
    assert "failing (3×): The server's disk is full." in line(output, "publish local")


def test_it_fails_to_connect_to_a_missing_directory_target(healthy, tmp_path):
    directory_target(tmp_path / "gone")
    code, output = doctor("--connect")
    assert code == 1
    assert "is not a writable folder" in line(output, "publish local")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://broker.lan:1883", "MQTT_URL: the scheme is “http”"),
        ("broker.lan:1883", "MQTT_URL: the scheme is “broker.lan”"),
        ("mqtt://:1883", "MQTT_URL: no host"),
        ("mqtt://broker.lan:99999", "MQTT_URL: the port is not a number from 1 to 65535"),
        ("mqtt://broker.lan:port", "MQTT_URL: the port is not a number from 1 to 65535"),
        ("mqtt://broker.lan:1883/topic", "MQTT_URL: give only the broker"),
    ],
)
def test_it_reports_a_malformed_mqtt_url(healthy, settings, url, words):
    settings.MQTT_URL = url
    code, output = doctor()
    assert code == 1
    assert line(output, "mqtt").startswith("✗")
    assert words in line(output, "mqtt")
    assert output.rstrip().endswith("1 problem(s), 0 warning(s): mqtt")


def test_it_reports_a_topic_prefix_with_a_wildcard(healthy, settings):
    settings.MQTT_URL = "mqtt://127.0.0.1:1883"
    settings.MQTT_TOPIC_PREFIX = "imgserv/#"
    code, output = doctor()
    assert code == 1
    assert "MQTT_TOPIC_PREFIX: “imgserv/#” is not a topic prefix" in line(output, "mqtt")


def test_it_says_mqtt_is_off_without_a_broker(healthy, settings):
    settings.MQTT_URL = ""
    code, output = doctor()
    assert code == 0, output
    assert line(output, "mqtt").startswith("✓")
    assert "off (MQTT_URL is empty)" in line(output, "mqtt")


def test_it_reports_an_unreachable_mqtt_broker_without_its_password(healthy, settings):
    settings.MQTT_URL = f"mqtt://user:{PASSWORD}@127.0.0.1:{closed_port()}"
    code, output = doctor()
    assert code == 1
    assert line(output, "mqtt").startswith("✗")
    assert "mqtt://user:***@127.0.0.1:" in line(output, "mqtt")
    assert "could not connect: Connection refused" in line(output, "mqtt")
    assert PASSWORD not in output


def test_it_connects_to_a_reachable_mqtt_broker(healthy, settings):
    try:
        broker = MosquittoBroker()
    except RigUnavailable as exc:
        unavailable(str(exc))
    with broker:
        settings.MQTT_URL = broker.url
        code, output = doctor()
    assert code == 0, output
    assert line(output, "mqtt").startswith("✓")
    assert "the broker accepted a connection" in line(output, "mqtt")


def test_it_warns_when_a_workers_mqtt_link_is_down(healthy, settings):
    try:
        broker = MosquittoBroker()
    except RigUnavailable as exc:
        unavailable(str(exc))
    now = timezone.now()
    BrokerConnection.objects.create(
        node="box:4242",
        broker="mqtt://broker.lan:1883",
        state=LinkState.DISCONNECTED,
        since=now,
        last_error="Could not connect to broker.lan:1883; retrying.",
        last_error_at=now,
        updated_at=now,
    )
    with broker:
        settings.MQTT_URL = broker.url
        code, output = doctor()
    assert code == 0, output
    assert line(output, "mqtt").startswith("!")
    assert "worker box:4242 is disconnected, reconnecting: Could not connect" in line(
        output, "mqtt"
    )
