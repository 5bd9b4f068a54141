"""`deliver`: a signed POST or an e-mail; a failure kept with its error and retried with
backoff by the minutely check, then given up; never sent twice."""

from __future__ import annotations

import datetime as dt
import hmac
import json

import time_machine
from django.test import override_settings
from django.utils import timezone

from notifications import services, tasks
from notifications.models import (
    MAX_ATTEMPTS,
    Channel,
    Delivery,
    DeliveryStatus,
    IncidentKind,
    NotificationTarget,
)
from notifications.senders import sign
from tests.rig import free_port


def test_a_webhook_is_posted_as_json_signed_with_the_shared_secret(hook_target, webhook):
    delivery = services.test_delivery(hook_target)
    assert tasks.deliver(delivery.pk) == "sent"
    [hook] = webhook.received
    assert hook.signature_ok
    assert hook.headers["Content-Type"] == "application/json; charset=utf-8"
    assert hook.headers["X-Imgserv-Delivery"] == str(delivery.pk)
    assert hook.json["event"] == "test" and hook.json["delivery"] == delivery.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 1, "")


def test_the_signature_is_the_hmac_sha256_of_the_exact_body():
    # What docs/notifications.md tells receivers to compute.
    body = json.dumps({"event": "test"}).encode()
    assert sign("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, "sha256").hexdigest()


def test_a_tampered_body_fails_the_receivers_check(webhook, secret):
    body = b'{"event":"camera.back"}'
    assert webhook.verify(body, sign(secret, body))
    assert not webhook.verify(body.replace(b"back", b"offline"), sign(secret, body))
    assert not webhook.verify(body, sign("another secret", body))


def test_an_email_goes_through_the_mail_backend(mail_target, mailoutbox):
    delivery = services.test_delivery(mail_target)
    assert tasks.deliver(delivery.pk) == "sent"
    [message] = mailoutbox
    assert message.to == ["ops@example.org"]
    assert message.subject == "[imgserv] Test notification from imgserv to “ops mail”"
    assert "Event: test" in message.body


def test_an_unreachable_webhook_is_retried_with_backoff_and_its_error_kept(db):
    url = f"http://127.0.0.1:{free_port()}/hook/token-abc123?key=hush"
    target = NotificationTarget.objects.create(
        name="down", channel=Channel.WEBHOOK, url=url, secret="x" * 16
    )
    start = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        delivery = services.test_delivery(target)
        assert tasks.deliver(delivery.pk).startswith("failed")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert delivery.last_error.startswith("http://127.0.0.1:")
    assert "could not be reached" in delivery.last_error
    assert "token-abc123" not in delivery.last_error and "hush" not in delivery.last_error
    assert delivery.next_attempt_at == start + dt.timedelta(minutes=1)
    # Not due yet: the check leaves it; due: it is queued again, and the next wait doubles.
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        assert services.retry_due(timezone.now()) == 0
        assert tasks.deliver(delivery.pk) == "not due, or taken"
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert services.retry_due(timezone.now()) == 1
        tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.next_attempt_at == start + dt.timedelta(minutes=1 + 2)


def test_it_gives_up_after_the_last_attempt(db):
    target = NotificationTarget.objects.create(
        name="down", channel=Channel.EMAIL, email="ops@example.org"
    )
    delivery = services.test_delivery(target)
    Delivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS - 1)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),
    ):
        result = tasks.deliver(delivery.pk)
    assert result.endswith("gave up")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.last_error.startswith("the mail server 127.0.0.1:")


def test_a_receiver_that_answers_an_error_is_told_apart(hook_target, webhook):
    webhook.status = 500
    delivery = services.test_delivery(hook_target)
    tasks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.last_error == f"http://127.0.0.1:{webhook.port}/… answered HTTP 500"


def test_a_delivery_is_never_sent_twice(hook_target, webhook):
    delivery = services.test_delivery(hook_target)
    tasks.deliver(delivery.pk)
    assert tasks.deliver(delivery.pk) == "not due, or taken"
    assert len(webhook.received) == 1


def test_the_check_sends_a_real_smtp_server_what_was_held(
    db, smtp, settings, sync_tasks, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MIN_INTERVAL_MINUTES = 15
    NotificationTarget.objects.create(name="mail", channel=Channel.EMAIL, email="o@example.org")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.begin(IncidentKind.DISK_LOW, "disk", "Disk space low")
        services.end(IncidentKind.DISK_LOW, "disk", "Disk space enough again")
        services.begin(IncidentKind.DISK_LOW, "disk", "Disk space low")  # held
    assert [m["Subject"] for m in smtp.messages] == [
        "[imgserv] Disk space low",
        "[imgserv] Disk space enough again",
    ]
    with (
        time_machine.travel(start + dt.timedelta(minutes=16), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.release_held(timezone.now())
    assert len(smtp.messages) == 3


def test_the_check_queues_again_a_first_delivery_whose_task_was_lost(mail_target):
    start = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        services.test_delivery(mail_target)
        assert services.retry_due(timezone.now()) == 0  # its own task is on the way
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        assert services.retry_due(timezone.now()) == 1
