"""The one wrapper around paho-mqtt (the outside I/O of this app).

`Link` connects in paho's own network thread (`connect_async` + `loop_start`), so nothing
here waits for the broker: a broker that is down at start or goes away later is retried by
paho with a doubling delay (`reconnect_delay_set`), and `publish` returns at once, refusing
the message (False) while the link is down or paho's bounded queue is full. The last will
marks the node's availability topic "offline" (retained) if the link drops without a word;
"online" is published on every connect. paho's callbacks only set flags and the status under
a lock; the service thread does the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from mqtt.config import Broker
from mqtt.models import LinkState
from mqtt.topics import OFFLINE, ONLINE, Message

KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 60
# Messages paho may hold unacknowledged (QoS 1); beyond it `publish` refuses them.
MAX_QUEUED = 200
# A clean stop waits this long for its "offline" to reach the broker.
STOP_WAIT_S = 2.0
PROBE_TIMEOUT_S = 5.0


@dataclass
class LinkStatus:
    state: LinkState
    since: dt.datetime
    last_error: str = ""
    last_error_at: dt.datetime | None = None


class Link:
    def __init__(
        self,
        broker: Broker,
        *,
        client_id: str,
        availability: str,
        birth: str,
        on_change: Callable[[], None],
        reconnect_max_s: float = RECONNECT_MAX_S,
    ) -> None:
        self.broker = broker
        self.availability = availability
        self.birth = birth
        self.on_change = on_change
        self._lock = threading.Lock()
        self._status = LinkStatus(LinkState.CONNECTING, timezone.now())
        self._connected = False
        self._resync = False
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if broker.username:
            client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            client.tls_set()
        client.will_set(availability, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_S, max(RECONNECT_MIN_S, int(reconnect_max_s)))
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def stop(self) -> None:
        """Say "offline" (a clean disconnect sends no last will), then disconnect and end
        paho's thread."""
        if self.connected:
            info = self.client.publish(self.availability, OFFLINE, qos=1, retain=True)
            # RuntimeError or ValueError: the link dropped meanwhile.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=STOP_WAIT_S)
        self.client.disconnect()
        self.client.loop_stop()
        self._set(LinkState.STOPPED)

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._connected

    def status(self) -> LinkStatus:
        with self._lock:
            return LinkStatus(**vars(self._status))

    def take_resync(self) -> bool:
        """True once after each connect and each Home Assistant birth: publish everything."""
        with self._lock:
            resync, self._resync = self._resync, False
            return resync

    def publish(self, message: Message) -> bool:
        if not self.connected:
            return False
        info = self.client.publish(message.topic, message.payload, qos=1, retain=message.retain)
        return info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    def _set(self, state: LinkState, error: str | None = None, *, resync: bool = False) -> None:
        now = timezone.now()
        with self._lock:
            self._connected = state == LinkState.CONNECTED
            self._resync = self._resync or resync
            if state != self._status.state:
                self._status.state, self._status.since = state, now
            if error:
                self._status.last_error, self._status.last_error_at = error[:500], now
        self.on_change()

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            self._set(LinkState.DISCONNECTED, f"The broker refused the connection: {reason}.")
            return
        client.publish(self.availability, ONLINE, qos=1, retain=True)
        client.subscribe(self.birth, qos=1)
        self._set(LinkState.CONNECTED, resync=True)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        where = f"{self.broker.host}:{self.broker.port}"
        self._set(LinkState.DISCONNECTED, f"Could not connect to {where}; retrying.")

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self.status().state == LinkState.STOPPED:
            return
        error = None
        if reason.is_failure:
            error = f"Lost the connection to {self.broker.host}:{self.broker.port}; reconnecting."
        self._set(LinkState.DISCONNECTED, error)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        # A retained birth is an old one, handed over on subscribing: this connect's resync
        # covers it. A live one means Home Assistant has just started.
        if (
            message.topic == self.birth
            and message.payload == ONLINE.encode()
            and not message.retain
        ):
            with self._lock:
                self._resync = True
            self.on_change()


def probe(broker: Broker, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Connect once and wait for the broker's answer, for `doctor`: None when it accepted
    the connection, else why not, in words."""
    answered = threading.Event()
    outcome: list[str | None] = []

    def on_connect(client: paho.Client, u: Any, f: Any, reason: ReasonCode, p: Any) -> None:
        outcome.append(
            f"the broker refused the connection: {reason}" if reason.is_failure else None
        )
        answered.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True)
    if broker.username:
        client.username_pw_set(broker.username, broker.password or None)
    if broker.tls:
        client.tls_set()
    client.on_connect = on_connect
    client.connect_timeout = timeout
    try:
        client.connect(broker.host, broker.port, keepalive=10)
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"could not connect: {why}"
    client.loop_start()
    try:
        if not answered.wait(timeout):
            return f"no answer within {timeout:.0f} s"
        return outcome[0]
    finally:
        client.disconnect()
        client.loop_stop()
