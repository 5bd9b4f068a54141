"""What /metrics reports: every process tree's counts added up, and the state of the site as
the database and the disk tell it at the moment of the scrape.

Gauges are read at scrape time rather than set by the processes: the client's multiprocess
gauges need per-process bookkeeping, and the database already holds the truth for every worker
node, here or on another machine.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from analytics.kinds import State
from analytics.models import ConditionReading
from cameras.models import Camera, CaptureNode, Health
from publishing.models import PublishTarget

log = logging.getLogger(__name__)


class ProcessTrees(Collector):
    """The counts of every process tree under METRICS_DIR (imgserv_site.metrics.folders)."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def collect(self) -> Iterable[Metric]:
        for _ in range(3):
            files = glob.glob(str(self.base / "*" / "*.db"))
            try:
                return MultiProcessCollector.merge(files, accumulate=True)
            except FileNotFoundError:  # a starting tree removed an ended one's folder
                continue
        return []


class SiteState(Collector):
    """Rejected frames, camera health and road state per camera; worker heartbeats; publish
    lag per target; free disk space. A database that does not answer leaves out its part."""

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._from_database()
        except DatabaseError as exc:
            log.warning("/metrics: the database did not answer: %s", type(exc).__name__)
        disk = GaugeMetricFamily(
            "imgserv_disk_free_bytes",
            "Free space on the file system of the data folder and of the media folder (frames "
            "and sequences), which may be another.",
            labels=["folder"],
        )
        for name, folder in (("data", settings.DATA_DIR), ("media", settings.MEDIA_ROOT)):
            with contextlib.suppress(OSError):  # no media folder before the first frame
                disk.add_metric([name], float(shutil.disk_usage(folder).free))
        yield disk

    def _from_database(self) -> Iterator[Metric]:
        newest = ConditionReading.objects.filter(camera=OuterRef("pk")).order_by("-measured_at")
        cameras = list(
            Camera.objects.annotate(road=Subquery(newest.values("published_state")[:1]))
            .only("slug", "health", "rejected_frames")
            .order_by("slug")
        )
        rejected = CounterMetricFamily(
            "imgserv_frames_rejected",
            "Frames refused as corrupt, blank or frozen (not stored), per camera.",
            labels=["camera"],
        )
        health = GaugeMetricFamily(
            "imgserv_camera_health",
            "1 for the camera's health state, 0 for the others.",
            labels=["camera", "health"],
        )
        road = GaugeMetricFamily(
            "imgserv_road_state",
            "1 for the road state the camera's newest reading published, 0 for the others.",
            labels=["camera", "state"],
        )
        for camera in cameras:
            rejected.add_metric([camera.slug], camera.rejected_frames)
            for value in Health.values:
                health.add_metric([camera.slug, value], float(camera.health == value))
            state = camera.road or State.UNKNOWN
            for value in State.values:
                road.add_metric([camera.slug, value], float(state == value))
        yield from (rejected, health, road)

        seen = GaugeMetricFamily(
            "imgserv_worker_last_seen_timestamp_seconds",
            "When each worker node's capture service last beat (Unix time).",
            labels=["node"],
        )
        held = GaugeMetricFamily(
            "imgserv_worker_cameras", "Cameras each worker node captures.", labels=["node"]
        )
        for node in CaptureNode.objects.order_by("name"):
            seen.add_metric([node.name], node.heartbeat_at.timestamp())
            held.add_metric([node.name], float(node.cameras))
        yield from (seen, held)

        now = timezone.now()
        lag = GaugeMetricFamily(
            "imgserv_publish_lag_seconds",
            "How long each publish target's bundle has been behind the newest build; 0 when "
            "current.",
            labels=["target"],
        )
        success = GaugeMetricFamily(
            "imgserv_publish_last_success_timestamp_seconds",
            "When each publish target last received a bundle (Unix time).",
            labels=["target"],
        )
        for target in PublishTarget.objects.filter(enabled=True).order_by("name"):
            behind = target.lag_seconds(now)
            if behind is not None:
                lag.add_metric([target.name], behind)
            if target.last_success_at is not None:
                success.add_metric([target.name], target.last_success_at.timestamp())
        yield from (lag, success)
