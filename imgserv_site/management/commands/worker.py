"""`manage.py worker`: one worker node, Django-Q2's cluster (builds, analysis, publishing)
and the capture service (cameras.runner) in one process tree; with MQTT_URL set, also the
MQTT service (mqtt.service), which publishes the cameras this node captures.

Capture is a duty that never ends, not a task: it runs on threads of this process, while the
cluster's own processes take the bounded tasks. Start one worker per machine (or more);
they share the cameras through leases. The process exits non-zero when any part of it dies,
so the supervisor (systemd `Restart=always`, or `make run`) starts it again, and it takes its
whole process tree with it, so no cluster worker outlives it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.cluster import Cluster
from django_q.conf import Conf

from cameras.models import Camera
from cameras.runner import CaptureService
from mqtt.config import MqttConfigError, configured_broker
from mqtt.service import MqttService

log = logging.getLogger(__name__)
CHILDREN_GRACE_SECONDS = 5.0
# The modules behind the scheduled and queued tasks: analysis, builds, publishing.
TASK_MODULES = (
    "analytics.tasks",
    "sequences.tasks",
    "publishing.tasks",
    "notifications.tasks",
    "av",
)


class Command(BaseCommand):
    help = "Run a worker node: the task cluster and the capture service."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-capture", action="store_true", help="Run the task cluster only.")
        parser.add_argument(
            "--capture-only", action="store_true", help="Run the capture service only."
        )

    def handle(self, *args: Any, no_capture: bool, capture_only: bool, **options: Any) -> None:
        lead_own_group()
        stopping = threading.Event()
        Conf.WORKERS = task_workers()
        share_with_children()
        cluster = None if capture_only else Cluster()
        if cluster is not None:
            # Forked before any thread starts here: a fork copies locks held by other threads.
            cluster.start()
        # After Cluster() installed its handlers: ours stop the capture service as well.
        signal.signal(signal.SIGTERM, lambda s, f: self._stop(stopping, cluster, s, f))
        signal.signal(signal.SIGINT, lambda s, f: self._stop(stopping, cluster, s, f))
        capture = mqtt = None
        if not no_capture:
            service = CaptureService()
            capture = threading.Thread(target=service.run, args=(stopping,), name="capture")
            capture.start()
            mqtt = start_mqtt(service.node, stopping)
        code = self._watch(stopping, cluster, capture)
        for thread in (capture, mqtt):
            if thread is not None:
                thread.join(timeout=10)
        end_children()
        sys.exit(code)

    def _stop(
        self,
        stopping: threading.Event,
        cluster: Cluster | None,
        signum: int,
        frame: FrameType | None,
    ) -> None:
        stopping.set()
        if cluster is not None:
            cluster.sig_handler(signum, frame)

    def _watch(
        self, stopping: threading.Event, cluster: Cluster | None, capture: threading.Thread | None
    ) -> int:
        """Wait for a stop, or for a part to die (then stop the rest and exit non-zero)."""
        while not stopping.is_set():
            if cluster is not None and not (cluster.sentinel and cluster.sentinel.is_alive()):
                log.error("worker: the task cluster died; stopping so it is restarted")
                stopping.set()
                return 1
            if capture is not None and not capture.is_alive():
                log.error("worker: the capture service died; stopping so it is restarted")
                stopping.set()
                return 1
            time.sleep(0.5)
        return 0


def start_mqtt(node: str, stopping: threading.Event) -> threading.Thread | None:
    """The node's MQTT service (mqtt.service), publishing the cameras this node captures;
    None when MQTT_URL is empty or malformed (logged; `doctor` reports it): an optional part
    never stops capture."""
    try:
        broker = configured_broker()
    except MqttConfigError as exc:
        log.error("worker: MQTT is off: %s", exc)
        return None
    if broker is None:
        return None
    service = MqttService(broker, node)
    # A daemon: a broker that never answers cannot keep the process alive past its stop.
    thread = threading.Thread(target=service.run, args=(stopping,), name="mqtt", daemon=True)
    thread.start()
    return thread


def share_with_children() -> None:
    """Load what the task workers will run before they are forked, and take it out of the
    garbage collector's reach: their copies of those pages then stay shared with this process
    (copy on write) instead of each worker loading, and dirtying, its own."""
    for module in TASK_MODULES:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()


def task_workers() -> int:
    """Q_WORKERS, or with "auto" one task worker per CAMERAS_PER_TASK_WORKER enabled cameras,
    at least one and at most one per core: each costs ~100 MiB, and builds are the work."""
    if settings.Q_WORKERS.isdigit():
        return max(1, int(settings.Q_WORKERS))
    cameras = Camera.objects.filter(enabled=True).count()
    wanted = math.ceil(cameras / settings.CAMERAS_PER_TASK_WORKER)
    return max(1, min(wanted, os.cpu_count() or 1))


def lead_own_group() -> None:
    """Make this process the leader of its own process group: the cluster's processes stay
    in the group even when an orphaned one is re-parented, so the group finds them all."""
    if os.getpgrp() != os.getpid():
        # A session leader already leads its group, and may not change it.
        with contextlib.suppress(PermissionError):
            os.setpgid(0, 0)


def end_children() -> None:
    """Terminate every other process in this one's group (the cluster's sentinel, workers,
    pusher and monitor, orphaned or not), killing the ones that do not go in time."""
    group = os.getpgrp()
    for pid in group_members(group):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + CHILDREN_GRACE_SECONDS
    while group_members(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in group_members(group):
        _signal(pid, signal.SIGKILL)


def group_members(group: int) -> list[int]:
    """Live processes of a process group other than this one, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            # After the command name (which may hold spaces): state, ppid, pgrp, …
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
