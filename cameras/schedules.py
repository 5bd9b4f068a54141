"""The Django-Q2 schedules imgserv needs, created after every migrate."""

from __future__ import annotations

from typing import Any

from django_q.models import Schedule


def ensure_schedule(name: str, func: str, minutes: int) -> None:
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )


def ensure_schedules(**kwargs: Any) -> None:
    # Capture runs in each worker's capture service (cameras.runner), not on a schedule;
    # the shift schedule of earlier versions is retired.
    Schedule.objects.filter(name="capture-shift").delete()
