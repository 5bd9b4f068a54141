from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import time_machine
from django.utils import timezone
from django_q.models import Schedule

from publishing.models import Outcome, PublishRun, PublishTarget, TargetKind, publish_state
from publishing.tasks import publish_all, publish_target


def directory_target(path: Path, **fields) -> PublishTarget:
    return PublishTarget.objects.create(
        name="local", kind=TargetKind.DIRECTORY, remote_path=str(path), **fields
    )


def published_sequence(root: Path) -> str:
    return json.loads((root / "current" / "status.json").read_text())["cameras"][0]["built_at"]


def test_it_publishes_after_each_new_sequence_via_the_queue(
    build, tmp_path, sync_tasks, django_capture_on_commit_callbacks
):
    target = directory_target(tmp_path / "www")
    with django_capture_on_commit_callbacks(execute=True):
        sequence = build()
    assert published_sequence(tmp_path / "www") == sequence.built_at.isoformat()
    run = PublishRun.objects.get(target=target)
    assert run.outcome == Outcome.OK
    assert run.files == 9 and run.bytes > 0


def test_it_collapses_a_backlog_to_the_newest_bundle(build, tmp_path):
    target = directory_target(tmp_path / "www")
    build()
    build()
    newest = build()
    publish_all()
    publish_all()
    assert PublishRun.objects.filter(target=target).count() == 1
    assert published_sequence(tmp_path / "www") == newest.built_at.isoformat()


def test_it_leaves_a_target_another_worker_has_claimed(build, tmp_path):
    target = directory_target(tmp_path / "www")
    build()
    PublishTarget.objects.filter(pk=target.pk).update(
        claimed_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert publish_target(target.pk) is None
    assert not PublishRun.objects.exists()


def test_it_sends_a_build_that_landed_during_the_upload(build, tmp_path, monkeypatch):
    target = directory_target(tmp_path / "www")
    build()
    from publishing import tasks

    real = tasks.build_bundle
    calls = []

    def build_and_new_sequence_meanwhile(dest):
        calls.append(dest)
        if len(calls) == 1:
            PublishTarget.objects.filter(pk=target.pk).update(
                requested_at=timezone.now() + dt.timedelta(seconds=1)
            )
        return real(dest)

    monkeypatch.setattr(tasks, "build_bundle", build_and_new_sequence_meanwhile)
    publish_all()
    assert len(calls) == 2
    assert not PublishTarget.objects.filter(pk=target.pk, claimed_until__isnull=False).exists()


def test_it_backs_off_exponentially_and_keeps_the_error(build, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = directory_target(blocker / "www")
    build()
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        publish_all()
        target.refresh_from_db()
        assert target.consecutive_failures == 1
        assert target.next_attempt_at == timezone.now() + dt.timedelta(seconds=30)
        assert "Could not write the bundle folder" in target.last_error
        assert Schedule.objects.get(name=f"publish-retry-{target.pk}").next_run == (
            target.next_attempt_at
        )
        publish_all()  # waiting out the delay: no attempt
        assert PublishRun.objects.count() == 1
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 1, tzinfo=dt.UTC), tick=False):
        publish_all()
        target.refresh_from_db()
        assert target.consecutive_failures == 2
        assert target.next_attempt_at == timezone.now() + dt.timedelta(seconds=60)


def test_it_clears_the_error_and_retry_after_a_success(build, tmp_path):
    target = directory_target(tmp_path / "www", consecutive_failures=3)
    PublishTarget.objects.filter(pk=target.pk).update(consecutive_failures=3, last_error="x")
    build()
    run = publish_target(target.pk, force=True)
    assert run is not None and run.outcome == Outcome.OK
    target.refresh_from_db()
    assert (target.consecutive_failures, target.last_error, target.next_attempt_at) == (0, "", None)


def test_it_reports_last_success_lag_and_error_per_target(build, tmp_path):
    directory_target(tmp_path / "www")
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        build()
        [before] = publish_state()
    assert before["last_success_at"] is None
    assert before["lag_seconds"] is not None
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, 5, tzinfo=dt.UTC), tick=False):
        publish_all()
        [after] = publish_state()
    assert after["name"] == "local"
    assert after["last_success_at"] == dt.datetime(2026, 12, 1, 12, 0, 5, tzinfo=dt.UTC)
    assert after["lag_seconds"] == 0.0
    assert after["last_error"] == ""
    assert "remote_path" not in after and "host" not in after


def test_it_exits_quietly_when_the_target_is_gone(db):
    assert publish_target(12345) is None
    assert publish_all() == "nothing to publish"
