"""Two tasks detect the road of a new camera at once: both find no region, both save one, the
database keeps one, and the loser returns the winner's. A real race between two threads, held
at the point where it matters until both have got there."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections

from analytics.analysis import detect_region
from analytics.models import RoadRegion
from tests.factories import frames

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("held_at", "loser_gets"),
    [
        # Both have validated before either inserts: the unique constraint refuses the second.
        ("save_base", IntegrityError),
        # Both have read "no region", then save in turn: validation sees the first one's row.
        ("save", ValidationError),
    ],
)
def test_it_keeps_the_other_tasks_region_when_two_detect_at_once(
    camera, monkeypatch, held_at, loser_gets
):
    frames(camera, 3, dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    both_read = threading.Barrier(2, timeout=30)
    one_at_a_time = threading.Lock()
    lost: list[BaseException] = []
    real = getattr(RoadRegion, held_at)

    def racing(region: RoadRegion, *args: Any, **kwargs: Any) -> None:
        both_read.wait()  # neither has saved: each found no region for the camera
        with one_at_a_time:  # SQLite takes one writer; the order is the race's outcome
            try:
                real(region, *args, **kwargs)
            except Exception as exc:
                lost.append(exc)
                raise

    monkeypatch.setattr(RoadRegion, held_at, racing)
    results: dict[str, RoadRegion | BaseException | None] = {}

    def detect(name: str) -> None:
        try:
            results[name] = detect_region(camera)
        except BaseException as exc:
            results[name] = exc
        finally:
            connections.close_all()

    tasks = [threading.Thread(target=detect, args=(name,)) for name in ("a", "b")]
    for task in tasks:
        task.start()
    for task in tasks:
        task.join(timeout=60)

    assert [type(exc) for exc in lost] == [loser_gets]  # the race happened, and one lost it
    regions = list(results.values())
    assert all(isinstance(r, RoadRegion) for r in regions), regions
    stored = RoadRegion.objects.get(camera=camera)
    assert [r.pk for r in regions] == [stored.pk, stored.pk]  # type: ignore[union-attr]
