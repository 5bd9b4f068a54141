"""Start a build when a stored frame makes one due, and keep the disk in bounds. Capture knows
nothing of sequences; these receivers are how the sequences app hooks onto it. The capture
service calls them off its camera threads (cameras.runner) and logs what they raise."""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from cameras.models import Frame
from cameras.signals import frame_stored
from sequences.models import SequenceSettings
from sequences.retention import Plan, apply_plan, excess_bytes, plan_quota

# The quota check sums every stored file's size: often enough to hold the cap between the
# minutely `hold_disk` task's runs, rarely enough to cost nothing per frame.
DISK_CHECK_SECONDS = 10.0
_last_disk_check = 0.0


@receiver(frame_stored)
def hold_disk(sender: type[Frame], frame: Frame, **kwargs: Any) -> None:
    global _last_disk_check
    now = time.monotonic()
    if now - _last_disk_check < DISK_CHECK_SECONDS:
        return
    _last_disk_check = now
    if excess_bytes(Plan()) > 0:
        apply_plan(plan_quota(Plan()))


@receiver(frame_stored)
def build_when_due(sender: type[Frame], frame: Frame, **kwargs: Any) -> None:
    opts, _ = SequenceSettings.objects.select_related("camera").get_or_create(
        camera_id=frame.camera_id
    )
    if opts.claim_build(timezone.now()):
        camera_id = frame.camera_id
        transaction.on_commit(
            lambda: async_task("sequences.tasks.build_sequence", camera_id, group="build")
        )
