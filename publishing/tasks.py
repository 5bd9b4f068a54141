"""Publishing runs as its own task after each build, never inside capture.

A new sequence marks every enabled target as wanting the newest bundle (`requested_at`) and
queues `publish_all`. A target is claimed with a conditional update, so one worker publishes
it at a time; a run that finds it claimed leaves, and the holder goes round again when a newer
build arrived meanwhile. However many builds pile up while a server is down, the next
successful run sends one bundle: the newest.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from publishing.bundle import build_bundle
from publishing.models import (
    CLAIM_SECONDS,
    Outcome,
    PublishRun,
    PublishTarget,
    TargetKind,
    due_q,
    pending_q,
    unclaimed_q,
)
from publishing.transports import (
    DirectoryTransport,
    RsyncTransport,
    SshEndpoint,
    Transport,
    TransportError,
)

log = logging.getLogger(__name__)
# A build that lands while a publish is uploading is sent by the same run, a few times at most.
MAX_ROUNDS = 3


def publishing_dir() -> Path:
    path = Path(settings.DATA_DIR) / "publishing"
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_publish(**kwargs: Any) -> None:
    """post_save receiver for Sequence: a new build wants publishing."""
    if not kwargs.get("created") or kwargs.get("raw"):
        return
    wanting = PublishTarget.objects.filter(enabled=True).update(requested_at=timezone.now())
    if wanting:  # no targets, no task: most installations never publish
        transaction.on_commit(lambda: async_task("publishing.tasks.publish_all", group="publish"))


def publish_all() -> str:
    now = timezone.now()
    due = PublishTarget.objects.filter(pending_q(), due_q(now)).values_list("pk", flat=True)
    runs = [publish_target(pk) for pk in list(due)]
    done = [run for run in runs if run is not None]
    return ", ".join(f"{run.target.name}: {run.outcome}" for run in done) or "nothing to publish"


def publish_target(target_id: int, force: bool = False) -> PublishRun | None:
    """Publish the newest bundle to one target, unless another worker is at it or (without
    `force`) it is waiting out a retry delay. The last run, or None when not claimed."""
    if not claim(target_id, force):
        return None
    run = None
    try:
        for _ in range(MAX_ROUNDS):
            target = PublishTarget.objects.filter(pk=target_id).first()
            if target is None:
                return run
            run = attempt(target)
            if run.outcome != Outcome.OK or not still_pending(target_id):
                return run
        return run
    finally:
        PublishTarget.objects.filter(pk=target_id).update(claimed_until=None)


def claim(target_id: int, force: bool) -> bool:
    now = timezone.now()
    rows = PublishTarget.objects.filter(unclaimed_q(now), pk=target_id, enabled=True)
    if not force:
        rows = rows.filter(pending_q(), due_q(now))
    until = now + dt.timedelta(seconds=CLAIM_SECONDS)
    return rows.update(claimed_until=until) == 1


def still_pending(target_id: int) -> bool:
    return PublishTarget.objects.filter(pending_q(), pk=target_id).exists()


def attempt(target: PublishTarget) -> PublishRun:
    wanted = target.requested_at
    run = PublishRun.objects.create(target=target)
    workdir = Path(tempfile.mkdtemp(prefix="bundle-", dir=publishing_dir()))
    try:
        bundle = build_bundle(workdir)
        run.files, run.bytes = bundle.files, bundle.bytes
        upload = transport_for(target).publish(workdir)
    except (TransportError, OSError) as exc:
        message = str(exc) if isinstance(exc, TransportError) else bundle_error(exc)
        record_failure(target, run, message)
    else:
        run.release = upload.release
        record_success(target, run, wanted)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def bundle_error(exc: OSError) -> str:
    return f"Could not build the bundle here: {exc.strerror or exc}."


def transport_for(target: PublishTarget) -> Transport:
    if target.kind == TargetKind.DIRECTORY:
        return DirectoryTransport(Path(target.remote_path))
    publishing_dir()
    known_hosts = target.known_hosts_file()
    write_known_hosts(known_hosts, target.host_key)
    endpoint = SshEndpoint(
        host=target.host,
        port=target.port,
        user=target.user,
        identity_file=target.identity_file,
        known_hosts=known_hosts,
    )
    return RsyncTransport(endpoint, target.remote_path)


def write_known_hosts(path: Path, text: str) -> None:
    """The database holds the pinned key; the file ssh reads is rewritten from it, so a key
    someone added to the file by hand is never trusted."""
    path.write_text(text.strip() + "\n" if text.strip() else "")


def record_success(target: PublishTarget, run: PublishRun, wanted: dt.datetime | None) -> None:
    now = timezone.now()
    PublishRun.objects.filter(pk=run.pk).update(
        outcome=Outcome.OK, finished_at=now, release=run.release, files=run.files, bytes=run.bytes
    )
    run.outcome, run.finished_at = Outcome.OK, now
    PublishTarget.objects.filter(pk=target.pk).update(
        published_request_at=wanted,
        last_success_at=now,
        consecutive_failures=0,
        next_attempt_at=None,
        last_error="",
        current_release=run.release,
    )
    Schedule.objects.filter(name=retry_name(target)).delete()
    log.info("published %d files to %s (%s)", run.files, target.name, run.release)


def record_failure(target: PublishTarget, run: PublishRun, message: str) -> None:
    now = timezone.now()
    PublishRun.objects.filter(pk=run.pk).update(
        outcome=Outcome.FAILED, finished_at=now, error=message[:500]
    )
    run.outcome, run.finished_at, run.error = Outcome.FAILED, now, message[:500]
    target.consecutive_failures += 1
    retry_at = now + target.retry_delay()
    PublishTarget.objects.filter(pk=target.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        next_attempt_at=retry_at,
        last_error=message[:500],
    )
    schedule_retry(target, retry_at)
    log.warning("publishing to %s failed: %s (next try %s)", target.name, message, retry_at)


def retry_name(target: PublishTarget) -> str:
    return f"publish-retry-{target.pk}"


def schedule_retry(target: PublishTarget, at: dt.datetime) -> None:
    """Retry even when no new build comes (a camera that stopped still has a last bundle)."""
    Schedule.objects.update_or_create(
        name=retry_name(target),
        defaults={
            "func": "publishing.tasks.publish_all",
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": at,
        },
    )
