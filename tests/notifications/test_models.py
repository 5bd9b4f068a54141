from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from notifications.models import Channel, NotificationTarget, Topic


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": Channel.WEBHOOK, "url": "ftp://h.example.org/", "secret": "s" * 16}, "url"),
        (
            {"channel": Channel.WEBHOOK, "url": "https://h.example.org/", "secret": "short"},
            "secret",
        ),
        ({"channel": Channel.EMAIL, "email": ""}, "email"),
        ({"channel": Channel.EMAIL, "email": "a@b.org", "topics": ["weather"]}, "topics"),
    ],
)
def test_it_refuses_an_incomplete_target(db, fields, field):
    with pytest.raises(ValidationError) as info:
        NotificationTarget.objects.create(name="t", **fields)
    assert field in info.value.message_dict


def test_a_new_target_hears_every_topic_and_keeps_its_secret_encrypted(db):
    target = NotificationTarget.objects.create(
        name="t", channel=Channel.WEBHOOK, url="https://h.example.org/x?t=1", secret="s" * 20
    )
    assert target.topics == Topic.values
    assert target.destination == "https://h.example.org/…"
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_notificationtarget")
        [(stored,)] = cursor.fetchall()
    assert "s" * 20 not in stored
