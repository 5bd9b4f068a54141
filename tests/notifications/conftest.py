from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from notifications.models import Channel, NotificationTarget
from tests.notifications.receivers import SmtpServer, WebhookReceiver


@pytest.fixture
def secret() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def webhook(secret) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret) as receiver:
        yield receiver


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    """A real SMTP server, and Django's SMTP backend pointed at it (the test run uses the
    in-memory backend otherwise)."""
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        yield server


@pytest.fixture
def hook_target(db, webhook, secret) -> NotificationTarget:
    return NotificationTarget.objects.create(
        name="ops hook", channel=Channel.WEBHOOK, url=webhook.url(), secret=secret
    )


@pytest.fixture
def mail_target(db) -> NotificationTarget:
    return NotificationTarget.objects.create(
        name="ops mail", channel=Channel.EMAIL, email="ops@example.org"
    )
