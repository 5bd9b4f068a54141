"""A fake HTTP snapshot camera with Digest (or Basic) auth, standard library only.

Runs in a thread of the test process. Paths, each behind the same auth:
  /ISAPI/Streaming/channels/1/picture, /cgi-bin/snapshot.cgi   a good JPEG (Hikvision, Dahua)
  /truncated.jpg    the first half of that JPEG, sent as image/jpeg with a matching length
  /short.jpg        announces the whole JPEG's length, sends half, closes
  /login.html       200 text/html (what a camera sends when the path is a web page)
  /redirect         302 to the Hikvision picture path
  /loop             302 to itself
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

from tests.rig import RigServer, free_port

PICTURE = "/ISAPI/Streaming/channels/1/picture"
REALM = "IP Camera"


def make_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A JPEG with structure (colour bars and text), so it passes `validate_jpeg`."""
    image = np.zeros((height, width, 3), np.uint8)
    colours = [(255, 255, 255), (0, 255, 255), (255, 255, 0), (0, 255, 0), (255, 0, 255)]
    bar = max(1, width // len(colours))
    for i, colour in enumerate(colours):
        image[:, i * bar : (i + 1) * bar] = colour
    cv2.putText(image, "rig", (width // 8, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 3, (0, 0, 0), 6)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buffer.tobytes()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class SnapshotServer(RigServer):
    """Start with `SnapshotServer(password=...)`; `url(path)` gives an address without creds."""

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "",
        auth: str = "digest",
        width: int = 640,
        height: int = 480,
        port: int | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.auth = auth
        self.jpeg = make_jpeg(width, height)
        self.requests: list[tuple[str, str]] = []  # (path, Authorization scheme) per request
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self.port = port or free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="snapshot-server", daemon=True
        )
        self._thread.start()

    def url(self, path: str = PICTURE) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(2)

    def __enter__(self) -> SnapshotServer:
        return self

    # --- authentication -------------------------------------------------------------
    def new_nonce(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        return nonce

    def authorized(self, header: str, method: str) -> bool:
        if not self.password:
            return True
        if self.auth == "basic":
            if not header.startswith("Basic "):
                return False
            user, _, password = b64decode(header[6:]).decode().partition(":")
            return user == self.username and secrets.compare_digest(password, self.password)
        if not header.startswith("Digest "):
            return False
        p = {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header[7:])}
        with self._lock:
            known = p.get("nonce") in self._nonces
        if p.get("username") != self.username or not known:
            return False
        ha1 = _md5(f"{self.username}:{REALM}:{self.password}")
        ha2 = _md5(f"{method}:{p.get('uri')}")
        if p.get("qop") == "auth":
            want = _md5(f"{ha1}:{p['nonce']}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
        else:
            want = _md5(f"{ha1}:{p['nonce']}:{ha2}")
        return secrets.compare_digest(want, p.get("response", ""))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        rig = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

            def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", headers.pop("length", str(len(body))))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def _challenge(self) -> None:
                if rig.auth == "basic":
                    challenge = f'Basic realm="{REALM}"'
                else:
                    challenge = (
                        f'Digest realm="{REALM}", qop="auth", nonce="{rig.new_nonce()}", '
                        f'opaque="{secrets.token_hex(8)}", algorithm=MD5'
                    )
                self._send(401, b"", "text/plain", WWW_Authenticate=challenge)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                header = self.headers.get("Authorization", "")
                rig.requests.append((path, header.split(" ", 1)[0]))
                if not rig.authorized(header, "GET"):
                    return self._challenge()
                half = rig.jpeg[: len(rig.jpeg) // 2]
                if path in (PICTURE, "/cgi-bin/snapshot.cgi"):
                    self._send(200, rig.jpeg, "image/jpeg")
                elif path == "/truncated.jpg":
                    self._send(200, half, "image/jpeg")
                elif path == "/short.jpg":
                    self._send(200, half, "image/jpeg", length=str(len(rig.jpeg)))
                    self.close_connection = True
                elif path == "/login.html":
                    self._send(200, b"<html><body>Login</body></html>", "text/html; charset=utf-8")
                elif path == "/redirect":
                    self._send(302, b"", "text/plain", Location=PICTURE)
                elif path == "/loop":
                    self._send(302, b"", "text/plain", Location="/loop")
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler
