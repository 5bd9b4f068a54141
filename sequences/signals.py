"""Start a build when a stored frame makes one due. Capture knows nothing of sequences;
this receiver is how the sequences app hooks onto it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from cameras.capture import frame_stored
from cameras.models import Frame
from sequences.models import SequenceSettings
from sequences.retention import Plan, apply_plan, plan_quota, stored_bytes


@receiver(frame_stored)
def hold_disk_quota(sender: type[Frame], frame: Frame, **kwargs: Any) -> None:
    """Checked on every frame, not just on the cleanup schedule, so the cap holds even when
    frames arrive every few seconds."""
    quota = settings.MEDIA_QUOTA_MB * 2**20
    if quota and stored_bytes() > quota:
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
