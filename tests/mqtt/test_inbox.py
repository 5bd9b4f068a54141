"""The bounded queue between capture and the MQTT service: it never blocks, and when full it
drops the oldest and counts it."""

from __future__ import annotations

import time

from mqtt import inbox
from mqtt.inbox import Inbox, close_inbox, notify, open_inbox


def test_it_drops_the_oldest_and_counts_it_when_full():
    box = Inbox(size=3)
    for camera_id in range(5):
        box.put(camera_id)
    assert box.dropped == 2
    assert box.take() == {2, 3, 4}
    assert box.take() == set()
    assert box.wake.is_set()


def test_notify_never_waits_for_the_service():
    box = Inbox(size=10)
    open_inbox(box)
    try:
        started = time.monotonic()
        for _ in range(10_000):
            notify(7)
        assert time.monotonic() - started < 1.0
    finally:
        close_inbox(box)
    assert box.take() == {7}
    assert box.dropped == 10_000 - 10


def test_notify_is_a_no_op_where_no_service_runs():
    assert inbox._open is None
    notify(1)  # the web server, a task process: nothing to tell, nothing raised
