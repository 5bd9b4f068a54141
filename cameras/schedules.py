"""The Django-Q2 schedules imgserv needs, created after every migrate."""

from __future__ import annotations

from typing import Any

from django_q.models import Schedule

CAPTURE_SHIFT = "capture-shift"


def ensure_schedules(**kwargs: Any) -> None:
    Schedule.objects.update_or_create(
        name=CAPTURE_SHIFT,
        defaults={
            "func": "cameras.tasks.capture_shift",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
