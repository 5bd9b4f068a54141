from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import unavailable
from tests.rig import RigUnavailable
from tests.rig.mosquitto import MosquittoBroker


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool


class Subscriber:
    """A plain paho client subscribed to everything, as Home Assistant would be: it keeps
    every message, retained or not, and subscribes again after each reconnect."""

    def __init__(self, port: int) -> None:
        self.messages: list[Received] = []
        self.changed = threading.Condition()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="imgserv-test-subscriber")
        client.reconnect_delay_set(1, 1)
        client.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        client.on_message = self._on_message
        client.connect("127.0.0.1", port, keepalive=10)
        client.loop_start()
        self.client = client

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self.changed:
            self.messages.append(
                Received(message.topic, bytes(message.payload), bool(message.retain))
            )
            self.changed.notify_all()

    def forget(self) -> None:
        with self.changed:
            self.messages.clear()

    def wait_for(
        self, topic: str, check: Callable[[bytes], bool] = lambda p: True, timeout: float = 15
    ) -> bytes:
        """The newest payload on `topic` that passes `check`, waiting for one to arrive."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for message in reversed(self.messages):
                    if message.topic == topic and check(message.payload):
                        return message.payload
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({m.topic for m in self.messages})
                    raise AssertionError(f"nothing on {topic} within {timeout} s; saw {seen}")
                self.changed.wait(left)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
    try:
        rig = MosquittoBroker()
    except RigUnavailable as exc:
        unavailable(str(exc))
    with rig:
        yield rig


@pytest.fixture
def subscriber(broker: MosquittoBroker) -> Iterator[Subscriber]:
    sub = Subscriber(broker.port)
    try:
        yield sub
    finally:
        sub.close()
