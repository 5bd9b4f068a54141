"""What the processes count as it happens, in the client's multiprocess mode (settings make
each process tree's folder): frames stored and how late after their slot, and build times.

Capture knows nothing of metrics: the worker's capture service announces each stored frame
(`frame_stored`, on its control thread, never a camera's) and the builds save a `Sequence`;
these receivers count them. Each is an increment of a memory-mapped file: nothing here can
block or delay capture. What a scrape can read from the database instead (rejected frames,
road state, health, heartbeats, publish lag) is read then (`collectors.SiteState`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models.signals import post_save
from prometheus_client import Counter, Histogram

from cameras.models import Camera, Frame
from cameras.signals import frame_stored
from sequences.models import Sequence

FRAMES_CAPTURED = Counter(
    "imgserv_frames_captured", "Frames captured, validated and stored, per camera.", ["camera"]
)
CAPTURE_LATENESS = Histogram(
    "imgserv_capture_lateness_seconds",
    "How long after its capture slot each stored frame was taken (captured_at minus the slot).",
    ["camera"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
BUILD_SECONDS = Histogram(
    "imgserv_sequence_build_seconds",
    "Time taken to build one sequence, every format, per camera.",
    ["camera"],
    buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
)


def slot_of(camera: Camera, captured_at: dt.datetime) -> dt.datetime:
    """The capture slot a frame was taken for: the last one at or before it, aligned to the
    epoch as `cameras.runner.next_slot` aligns them (that module loads OpenCV; this one must
    not). A grab that ran past the next slot counts from that one: lateness is measured within
    one spacing."""
    step = camera.capture_spacing.total_seconds()
    return dt.datetime.fromtimestamp(captured_at.timestamp() // step * step, tz=dt.UTC)


def count_frame(sender: type[Frame], frame: Frame, **kwargs: Any) -> None:
    camera = frame.camera
    FRAMES_CAPTURED.labels(camera.slug).inc()
    late = (frame.captured_at - slot_of(camera, frame.captured_at)).total_seconds()
    CAPTURE_LATENESS.labels(camera.slug).observe(late)


def time_build(sender: type[Sequence], instance: Sequence, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        BUILD_SECONDS.labels(instance.camera.slug).observe(instance.build_seconds)


def connect() -> None:
    frame_stored.connect(count_frame, dispatch_uid="metrics.frame")
    post_save.connect(time_build, sender=Sequence, dispatch_uid="metrics.build")
