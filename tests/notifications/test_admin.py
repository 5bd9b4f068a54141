"""The admin: targets with their filters and a secret never sent back, the "send a test"
action with its outcome shown at once, and the delivery log with attempts and last errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import services
from notifications.models import Channel, Delivery, DeliveryStatus, NotificationTarget, Topic
from tests.rig import free_port


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(user)
    return client


def send_test(staff_client, target: NotificationTarget):
    return staff_client.post(
        reverse("admin:notifications_notificationtarget_changelist"),
        {"action": "send_test", "_selected_action": [target.pk]},
        follow=True,
    )


def test_the_test_action_sends_now_and_says_so(staff_client, hook_target, webhook):
    response = send_test(staff_client, hook_target)
    assert (
        f"Test sent to ops hook (http://127.0.0.1:{webhook.port}/…)." in response.content.decode()
    )
    [hook] = webhook.received
    assert hook.signature_ok and hook.json["event"] == "test"


def test_a_failed_test_shows_its_error_and_is_not_retried(staff_client, db):
    target = NotificationTarget.objects.create(
        name="nowhere",
        channel=Channel.WEBHOOK,
        url=f"http://127.0.0.1:{free_port()}/x",
        secret="s" * 16,
    )
    page = send_test(staff_client, target).content.decode()
    assert "Test to nowhere failed: http://127.0.0.1:" in page
    assert "could not be reached" in page
    [delivery] = Delivery.objects.all()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    # The target's list and the delivery log show the last error.
    listing = staff_client.get(reverse("admin:notifications_notificationtarget_changelist"))
    assert "could not be reached" in listing.content.decode()
    log = staff_client.get(reverse("admin:notifications_delivery_changelist"))
    assert log.status_code == 200 and "could not be reached" in log.content.decode()
    detail = staff_client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))
    assert detail.status_code == 200


def test_a_target_is_added_with_its_topics_and_its_secret_is_never_shown(staff_client, db):
    secret = "a-shared-secret-of-some-length"
    response = staff_client.post(
        reverse("admin:notifications_notificationtarget_add"),
        {
            "name": "roads",
            "channel": Channel.WEBHOOK,
            "url": "https://hooks.example.org/imgserv",
            "secret": secret,
            "topics": [Topic.ROAD, Topic.FORECAST],
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    target = NotificationTarget.objects.get(name="roads")
    assert target.topics == [Topic.ROAD, Topic.FORECAST] and target.secret == secret
    change = reverse("admin:notifications_notificationtarget_change", args=[target.pk])
    assert secret not in staff_client.get(change).content.decode()
    # Saved again with the secret left empty: the stored one is kept.
    staff_client.post(
        change,
        {
            "name": "roads",
            "channel": Channel.WEBHOOK,
            "url": "https://hooks.example.org/imgserv",
            "secret": "",
            "topics": [Topic.ROAD],
            "enabled": "on",
        },
    )
    target.refresh_from_db()
    assert target.secret == secret and target.topics == [Topic.ROAD]


def test_a_webhook_without_a_secret_is_refused(staff_client, db):
    response = staff_client.post(
        reverse("admin:notifications_notificationtarget_add"),
        {"name": "x", "channel": Channel.WEBHOOK, "url": "https://h.example.org/", "secret": ""},
    )
    assert response.status_code == 200
    assert "Give a shared secret of at least 16 characters." in response.content.decode()


def test_the_retry_action_queues_a_failed_delivery_again(
    staff_client, mail_target, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(services, "async_task", lambda *a, **k: queued.append(a))
    delivery = services.test_delivery(mail_target)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=10)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:notifications_delivery_changelist"),
            {"action": "retry_now", "_selected_action": [delivery.pk]},
        )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert queued == [("notifications.tasks.deliver", delivery.pk)]
