"""The capture service: the cameras this node holds, each on its own thread and exact slots.

One control loop beats every second (`cameras.leases`): it renews the leases of the cameras
it runs, takes free or stale ones up to its fair share, lets go of any above it, and hands
each stored frame to the `frame_stored` receivers (builds, disk quota). Those receivers run
here, on the control thread, never on a camera's thread, so nothing done after a frame is
stored can stop or delay capture; their errors are logged.

Each camera thread keeps one session open, grabs on slots aligned to the epoch (so frames
never drift by the time processing took), reopens after a failure no sooner than the
camera's backoff allows, and stops when its lease is lost or the camera is disabled. A grab
that runs far past its deadline is reported in the camera's health; its lease is kept, so no
other node grabs the same camera at the same time.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from cameras import leases
from cameras.capture import capture_frame, fail
from cameras.models import Camera, Frame
from cameras.signals import frame_stored
from cameras.sources import TIMEOUT_SECONDS, CaptureError, Source, open_source

log = logging.getLogger(__name__)

# A grab still running this long after it began is stuck: its deadline has long passed.
STUCK_AFTER = dt.timedelta(seconds=4 * TIMEOUT_SECONDS)
STOP_WAIT_SECONDS = 5.0


@dataclass
class _Running:
    thread: threading.Thread
    stop: threading.Event
    grab_started: float | None = None
    stuck_reported: bool = False


@dataclass
class CaptureService:
    node: str = field(default_factory=leases.node_name)
    stored: queue.SimpleQueue[int] = field(default_factory=queue.SimpleQueue)
    running: dict[int, _Running] = field(default_factory=dict)

    def run(self, stop: threading.Event) -> None:
        """Beat until `stop` is set; then stop every camera and free its lease."""
        log.info("capture node %s started", self.node)
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    self.beat(timezone.now())
                except Exception:  # a database hiccup must not end capture for good
                    log.exception("capture node %s: heartbeat failed", self.node)
                    close_old_connections()
                self.announce_stored()
                stop.wait(
                    max(0.05, leases.HEARTBEAT.total_seconds() - (time.monotonic() - started))
                )
        finally:
            self.shutdown()

    def beat(self, now: dt.datetime) -> None:
        self._forget_finished()
        self._report_stuck(now)
        held = leases.renew(self.node, list(self.running), now)
        for pk in set(self.running) - held:
            self._stop_camera(pk)
        leases.beat(self.node, now, len(held))
        share = leases.fair_share(now)
        if len(held) > share:
            extra = sorted(held)[share:]
            for pk in extra:
                self._stop_camera(pk)
            leases.release(self.node, extra)
        elif len(held) < share:
            for pk in leases.claim(self.node, now, share - len(held)):
                self._start_camera(pk)

    def announce_stored(self) -> None:
        """Hand stored frames to the receivers here, off the camera threads."""
        while True:
            try:
                frame_id = self.stored.get_nowait()
            except queue.Empty:
                return
            frame = Frame.objects.select_related("camera").filter(pk=frame_id).first()
            if frame is None:
                continue
            for receiver, result in frame_stored.send_robust(sender=Frame, frame=frame):
                if isinstance(result, Exception):
                    log.error(
                        "after frame %s: %s failed: %s", frame_id, receiver.__qualname__, result
                    )

    def shutdown(self) -> None:
        for entry in self.running.values():
            entry.stop.set()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for entry in self.running.values():
            entry.thread.join(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self.announce_stored()
            leases.leave(self.node)
        except DatabaseError:
            # The leases then run out on their own, within leases.TTL.
            log.exception("capture node %s: could not free its leases", self.node)
        self.running.clear()
        connection.close()
        log.info("capture node %s stopped", self.node)

    def _start_camera(self, pk: int) -> None:
        stop = threading.Event()
        entry = _Running(threading.Thread(), stop)
        entry.thread = threading.Thread(
            target=self._camera_loop, args=(pk, entry), name=f"cam-{pk}", daemon=True
        )
        self.running[pk] = entry
        entry.thread.start()

    def _stop_camera(self, pk: int) -> None:
        entry = self.running.pop(pk, None)
        if entry is not None:
            entry.stop.set()

    def _forget_finished(self) -> None:
        for pk in [pk for pk, entry in self.running.items() if not entry.thread.is_alive()]:
            del self.running[pk]
            leases.release(self.node, [pk])

    def _report_stuck(self, now: dt.datetime) -> None:
        for pk, entry in self.running.items():
            started = entry.grab_started
            if started is None or entry.stuck_reported:
                continue
            seconds = time.monotonic() - started
            if seconds > STUCK_AFTER.total_seconds():
                entry.stuck_reported = True
                camera = Camera.objects.filter(pk=pk).first()
                if camera is not None:
                    fail(camera, f"Capture stuck: a grab has been running for {seconds:.0f} s.")

    def _camera_loop(self, pk: int, entry: _Running) -> None:
        try:
            CameraRun(pk, entry, self.stored).run()
        except Exception:
            log.exception("camera %s: capture thread failed", pk)
        finally:
            connection.close()


@dataclass
class CameraRun:
    """One camera's capture, slot after slot, over one open session."""

    pk: int
    entry: _Running
    stored: queue.SimpleQueue[int]
    source: Source | None = None

    def run(self) -> None:
        retry_at = timezone.now()
        try:
            while not self.entry.stop.is_set():
                camera = Camera.objects.filter(pk=self.pk, enabled=True).first()
                if camera is None:
                    return
                slot = next_slot(camera, max(timezone.now(), retry_at))
                if self.entry.stop.wait(max(0.0, (slot - timezone.now()).total_seconds())):
                    return
                if self.grab(camera):
                    retry_at = timezone.now()
                else:
                    camera.refresh_from_db()
                    retry_at = timezone.now() + camera.retry_delay()
        finally:
            self.close()

    def grab(self, camera: Camera) -> bool:
        self.entry.grab_started = time.monotonic()
        try:
            if self.source is None:
                self.source = open_or_fail(camera)
            frame = None
            if self.source is not None:
                frame = capture_frame(camera, self.source, announce=self.stored.put)
            if frame is None:
                self.close()
            return frame is not None
        finally:
            self.entry.grab_started = None
            self.entry.stuck_reported = False

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None


def next_slot(camera: Camera, after: dt.datetime) -> dt.datetime:
    """The first slot at or after `after`, aligned to the epoch so slots never drift."""
    step = camera.capture_spacing.total_seconds()
    return dt.datetime.fromtimestamp(-(-after.timestamp() // step) * step, tz=dt.UTC)


def open_or_fail(camera: Camera) -> Source | None:
    try:
        return open_source(camera)
    except CaptureError as exc:
        fail(camera, str(exc))
        return None
