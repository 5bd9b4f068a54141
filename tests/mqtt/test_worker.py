"""`manage.py worker` with MQTT_URL set, as a real process against a real Mosquitto: it
announces its node online, publishes the demo camera's discovery and frames while it
captures, and on SIGTERM says "offline" and exits, leaving nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imgserv_site.management.commands.worker import start_mqtt
from tests.mqtt.conftest import Subscriber
from tests.processes import process_env
from tests.rig.mosquitto import MosquittoBroker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def availability_topic(subscriber: Subscriber) -> str:
    config = json.loads(subscriber.wait_for("homeassistant/sensor/imgserv_demo/road/config"))
    return str(config["availability_topic"])


def test_the_worker_publishes_while_it_runs_and_says_offline_when_stopped(
    tmp_path, broker: MosquittoBroker, subscriber: Subscriber
):
    with process_env(tmp_path, MQTT_URL=broker.url) as env:
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--noinput", "-v0"], ["demo"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [*manage, "worker", "--capture-only"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            topic = availability_topic(subscriber)
            assert topic.startswith("imgserv/node/")
            assert subscriber.wait_for(topic, lambda p: p == b"online", timeout=30)
            frame = subscriber.wait_for("imgserv/demo/frame", timeout=30)
            assert frame.startswith(b"\xff\xd8")  # a JPEG
            subscriber.forget()
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0
            assert subscriber.wait_for(topic) == b"offline"
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
            log.close()
    # The worker led its own process group: nothing of it is left.
    with pytest.raises(ProcessLookupError):
        os.killpg(worker.pid, 0)


def test_a_malformed_mqtt_url_leaves_the_worker_without_mqtt_but_capturing(settings, caplog):
    settings.MQTT_URL = "http://broker.lan:1883"
    stopping = threading.Event()
    assert start_mqtt("box:1", stopping) is None
    assert "MQTT is off: MQTT_URL: the scheme is “http”" in caplog.text


def test_an_empty_mqtt_url_starts_no_mqtt(settings):
    settings.MQTT_URL = ""
    assert start_mqtt("box:1", threading.Event()) is None
