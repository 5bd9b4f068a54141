"""The one door out for notifications: a signed JSON POST, or an e-mail through Django's mail
backend (EMAIL_* settings). Errors come back as `SendError` with a message fit for the admin:
a webhook is named by its scheme, host and port only, since its path or query may hold a token.

Webhook signature: the header `X-Imgserv-Signature-256: sha256=<hex>` carries the HMAC-SHA256
of the exact request body, keyed with the target's shared secret. A receiver computes the same
over the bytes it received and compares in constant time (docs/notifications.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from notifications.models import Channel, Delivery, mask_url

SIGNATURE_HEADER = "X-Imgserv-Signature-256"


class SendError(Exception):
    """A delivery failed; the message is safe to show and store."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A receiver that redirects a POST is misconfigured: say so rather than follow it.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(delivery: Delivery) -> None:
    target = delivery.target
    message = {**delivery.payload, "delivery": delivery.pk}
    if target.channel == Channel.WEBHOOK:
        body = json.dumps(message, ensure_ascii=False, sort_keys=True).encode()
        post_webhook(target.url, target.secret, body, event=delivery.event, delivery=delivery.pk)
    else:
        send_email(target.email, f"[imgserv] {message['summary']}", email_text(message))


def post_webhook(url: str, secret: str, body: bytes, *, event: str, delivery: int) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"imgserv/{settings.VERSION}",
            "X-Imgserv-Event": event,
            "X-Imgserv-Delivery": str(delivery),
            SIGNATURE_HEADER: sign(secret, body),
        },
    )
    where = mask_url(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.NOTIFY_TIMEOUT_S) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        raise SendError(f"{where} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        plain = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
        raise SendError(f"{where} could not be reached: {plain}") from None


def send_email(address: str, subject: str, text: str) -> None:
    where = f"the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address]).send()
    except smtplib.SMTPResponseException as exc:
        answer = exc.smtp_error
        if isinstance(answer, bytes):
            answer = answer.decode(errors="replace")
        raise SendError(f"{where} refused it: {exc.smtp_code} {answer}".strip()) from None
    except (smtplib.SMTPException, OSError) as exc:
        plain = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SendError(f"{where} could not be reached: {plain}") from None


def email_text(message: dict[str, Any]) -> str:
    lines = [message["summary"], ""]
    camera = message.get("camera")
    if camera:
        lines.append(f"Camera: {camera['name']} ({camera['slug']})")
    for key, value in (message.get("details") or {}).items():
        if value not in (None, ""):
            lines.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    lines += ["", f"Event: {message['event']} at {message['occurred_at']}", "— imgserv"]
    return "\n".join(lines) + "\n"
