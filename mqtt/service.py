"""The worker node's MQTT service: one thread, one broker link, the cameras this node holds.

The receivers (mqtt.receivers) put camera ids into a bounded queue (mqtt.inbox); when it is
full the oldest is dropped and counted, so capture never waits. This thread takes them, reads
each camera's state from the database (mqtt.state) and publishes what changed since it last
published it. Every REFRESH_SECONDS it also refreshes every camera it holds: the readings and
forecasts that task processes store, a camera that became late, a camera whose lease moved
here. While the broker is away nothing is built or kept: on the next connect, and whenever
Home Assistant announces itself, everything is published again (discovery and state).

The node publishes only the cameras whose lease it holds (cameras.leases), as the node that
captures them, under its own availability topic: when a node dies its last will makes its
cameras unavailable, until the node that takes them over publishes them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from cameras.models import Camera
from mqtt.client import Link, LinkStatus
from mqtt.config import Broker
from mqtt.inbox import Inbox, close_inbox, open_inbox
from mqtt.models import BrokerConnection, LinkState
from mqtt.state import camera_state, frame_jpeg, newest_frame
from mqtt.topics import (
    Message,
    Topics,
    discovery_messages,
    frame_messages,
    node_key,
    removal_messages,
    state_messages,
)

log = logging.getLogger(__name__)
REFRESH_SECONDS = 10.0
# The status row is written on every change of the link, and this often for its counters.
STATUS_EVERY_SECONDS = 30.0
TICK_SECONDS = 0.5
# The status rows of nodes gone this long are removed when a node starts.
KEEP_STATUS = dt.timedelta(days=7)


class MqttService:
    def __init__(
        self,
        broker: Broker,
        node: str,
        *,
        topics: Topics | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        reconnect_max_s: float | None = None,
    ) -> None:
        self.node = node
        self.broker = broker
        self.topics = topics or Topics.from_settings()
        self.refresh_seconds = refresh_seconds
        self.inbox = Inbox()
        self.refused = 0
        self.published_count = 0
        # What the broker holds from us: topic → digest of the payload (not the payload: the
        # frames are large), the frame each camera shows, and the slug of each camera we
        # published (to remove it when it is deleted).
        self.published: dict[str, bytes] = {}
        self.frames: dict[int, int] = {}
        self.slugs: dict[int, str] = {}
        self._next_refresh = 0.0
        self._next_status = 0.0
        self._status_written: LinkStatus | None = None
        extra = {} if reconnect_max_s is None else {"reconnect_max_s": reconnect_max_s}
        self.link = Link(
            broker,
            client_id=f"imgserv-{node_key(node)}",
            availability=self.topics.availability(node),
            birth=self.topics.birth,
            on_change=self.inbox.wake.set,
            **extra,
        )

    @property
    def dropped(self) -> int:
        return self.inbox.dropped + self.refused

    def run(self, stop: threading.Event) -> None:
        log.info("MQTT: node %s publishing to %s", self.node, self.broker.display)
        try:
            BrokerConnection.objects.filter(updated_at__lt=timezone.now() - KEEP_STATUS).delete()
        except DatabaseError:
            log.exception("MQTT: node %s: could not prune old status rows", self.node)
        self.link.start()
        open_inbox(self.inbox)
        try:
            while not stop.is_set():
                try:
                    self.step(timezone.now())
                except Exception:  # a database hiccup must not end publishing for good
                    log.exception("MQTT: node %s: publishing failed", self.node)
                    close_old_connections()
                self.inbox.wake.wait(TICK_SECONDS)
                self.inbox.wake.clear()
        finally:
            close_inbox(self.inbox)
            self.link.stop()
            try:
                self.write_status(force=True)
            finally:
                connection.close()
            log.info("MQTT: node %s stopped", self.node)

    def step(self, now: dt.datetime) -> None:
        self.write_status()
        changed = self.inbox.take()
        if not self.link.connected:
            return  # all is published again on the next connect
        if self.link.take_resync():
            self.published.clear()
            self.frames.clear()
            self._next_refresh = 0.0
        due = time.monotonic() >= self._next_refresh
        if not (due or changed):
            return
        held = {c.pk: c for c in Camera.objects.filter(lease_owner=self.node, enabled=True)}
        self.forget(set(self.slugs) - set(held))
        if due:
            self._next_refresh = time.monotonic() + self.refresh_seconds
        for pk, camera in held.items():
            if due or pk in changed:
                self.publish_camera(camera, now)

    def publish_camera(self, camera: Camera, now: dt.datetime) -> None:
        frame = newest_frame(camera)
        state = camera_state(camera, now, frame)
        before = self.slugs.get(camera.pk)
        if before is not None and before != camera.slug:  # renamed: its old device goes
            self.send_all(removal_messages(before, self.topics))
            self.frames.pop(camera.pk, None)
        self.slugs[camera.pk] = camera.slug
        messages = discovery_messages(state, self.topics, self.node)
        messages += state_messages(state, self.topics)
        if frame is not None and self.frames.get(camera.pk) != frame.pk:
            jpeg = frame_jpeg(frame)
            if jpeg is not None and self.send_all(frame_messages(state, jpeg, self.topics)):
                self.frames[camera.pk] = frame.pk
        self.send_all(messages)

    def forget(self, gone: set[int]) -> None:
        """Cameras no longer held here: another node publishes them now; a deleted one's
        entities are removed from Home Assistant."""
        existing = set(Camera.objects.filter(pk__in=gone).values_list("pk", flat=True))
        for pk in gone:
            slug = self.slugs.pop(pk)
            self.frames.pop(pk, None)
            if pk not in existing:
                self.send_all(removal_messages(slug, self.topics))
            ours = [
                t
                for t in self.published
                if t.startswith(f"{self.topics.prefix}/{slug}/") or f"/imgserv_{slug}/" in t
            ]
            for topic in ours:
                del self.published[topic]

    def send_all(self, messages: list[Message]) -> bool:
        """Publish the messages whose payload changed; False if any was refused."""
        sent_all = True
        for message in messages:
            digest = hashlib.blake2b(message.payload, digest_size=16).digest()
            if self.published.get(message.topic) == digest:
                continue
            if self.link.publish(message):
                self.published[message.topic] = digest
                self.published_count += 1
            else:
                self.refused += 1
                sent_all = False
        return sent_all

    def write_status(self, *, force: bool = False) -> None:
        status = self.link.status()
        if not force and status == self._status_written and time.monotonic() < self._next_status:
            return
        now = timezone.now()
        BrokerConnection.objects.update_or_create(
            node=self.node,
            defaults={
                "broker": self.broker.display,
                "state": status.state,
                "since": status.since,
                "last_error": status.last_error,
                "last_error_at": status.last_error_at,
                "published": self.published_count,
                "dropped": self.dropped,
                "updated_at": now,
            },
        )
        if status.state == LinkState.CONNECTED and status != self._status_written:
            log.info("MQTT: node %s connected to %s", self.node, self.broker.display)
        elif status.last_error and (
            self._status_written is None or status.last_error != self._status_written.last_error
        ):
            log.warning("MQTT: node %s: %s", self.node, status.last_error)
        self._status_written = status
        self._next_status = time.monotonic() + STATUS_EVERY_SECONDS
