"""Real local receivers for notifications, each in a thread of the test process: a webhook
receiver (http.server) that checks each body's signature as a receiver should, and an SMTP
server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.rig import RigServer, free_port


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver(RigServer):
    """Accepts POSTs; `status` sets its answer. Each request is kept with whether its
    X-Imgserv-Signature-256 matched HMAC-SHA256(secret, body), compared in constant time."""

    def __init__(self, secret: str, status: int = 200) -> None:
        self.secret = secret
        self.status = status
        self.received: list[Hook] = []
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hooks/imgserv") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verify(self, body: bytes, header: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def __enter__(self) -> WebhookReceiver:
        return self

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("X-Imgserv-Signature-256", "")
                receiver.received.append(
                    Hook(self.path, dict(self.headers), body, receiver.verify(body, signature))
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


@dataclass
class _Inbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer(RigServer):
    """aiosmtpd on a free port; `messages` holds what it accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = _Inbox()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self
