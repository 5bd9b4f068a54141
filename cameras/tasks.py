"""Django-Q2 tasks of the cameras app."""

from __future__ import annotations

from django.utils import timezone

from cameras.shifts import claim_shift, run_shift, sleep_until


def capture_shift() -> str:
    """Scheduled every minute: claim the next capture shift, wait for it, and run it."""
    span = claim_shift(timezone.now())
    if span is None:
        return "covered"
    start, end = span
    sleep_until(start)
    cameras = run_shift(start, end)
    return f"shift {start:%H:%M:%S}–{end:%H:%M:%S}: {cameras} cameras"
