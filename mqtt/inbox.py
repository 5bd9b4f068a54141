"""The bounded queue between the receivers and the MQTT service: camera ids that changed.

Kept apart from the service so that the receivers, which every process loads, load no MQTT
client. `notify` never blocks and never raises: capture calls it. When the queue is full the
oldest id is dropped and counted (the service's regular refresh publishes it anyway)."""

from __future__ import annotations

import threading
from collections import deque

QUEUE_SIZE = 1000


class Inbox:
    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.size = size
        self.wake = threading.Event()
        self.dropped = 0
        self._ids: deque[int] = deque(maxlen=size)
        self._lock = threading.Lock()

    def put(self, camera_id: int) -> None:
        with self._lock:
            if len(self._ids) == self.size:
                self.dropped += 1
            self._ids.append(camera_id)
        self.wake.set()

    def take(self) -> set[int]:
        with self._lock:
            ids = set(self._ids)
            self._ids.clear()
        return ids


# The inbox of the MQTT service running in this process; None in processes that run none
# (the web server, task processes), where notifying costs nothing.
_open: Inbox | None = None


def open_inbox(inbox: Inbox) -> None:
    global _open
    _open = inbox


def close_inbox(inbox: Inbox) -> None:
    global _open
    if _open is inbox:
        _open = None


def notify(camera_id: int) -> None:
    """Tell the MQTT service running in this process, if any, that a camera changed."""
    inbox = _open
    if inbox is not None:
        inbox.put(camera_id)
