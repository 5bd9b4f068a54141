"""A real nginx serving deploy/nginx/vps-bundle.conf on 127.0.0.1, with a throwaway
self-signed certificate, for tests that fetch the published bundle over HTTPS."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.rig import RigServer, RigUnavailable, free_port, stop_process

NGINX = "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"
ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "vps-bundle.conf"


def unavailable_reason() -> str | None:
    if not os.access(NGINX, os.X_OK) or not os.path.exists(MIME_TYPES):
        return f"{NGINX} is missing: apt-get install nginx"
    if not shutil.which("openssl"):
        return "openssl is missing: apt-get install openssl"
    return None


def render(site: Path, values: dict[str, str]) -> str:
    text = site.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
        raise ValueError(f"{site} has a placeholder left: give all of {sorted(values)}")
    return text


def main_config(folder: Path, site: Path) -> str:
    """The smallest nginx.conf around the site, with every path inside `folder`."""
    temps = "\n".join(
        f"    {kind}_temp_path {folder / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    include {MIME_TYPES};\n    default_type application/octet-stream;\n"
        f"    access_log {folder / 'access.log'};\n{temps}\n    include {site};\n}}\n"
    )


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Nginx(RigServer):
    def __init__(self, bundle_dir: Path, site: Path = SITE) -> None:
        reason = unavailable_reason()
        if reason:
            raise RigUnavailable(reason)
        self.folder = Path(tempfile.mkdtemp(prefix="imgserv-nginx-"))
        self.folder.chmod(0o755)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / "tmp" / kind).mkdir(parents=True)
        self.https_port, self.http_port = free_port(), free_port()
        self.cert, self.key = self.folder / "cert.pem", self.folder / "key.pem"
        self._make_certificate()
        site_file = self.folder / "site.conf"
        site_file.write_text(
            render(
                site,
                {
                    "SERVER_NAME": "localhost 127.0.0.1",
                    "HTTP_PORT": str(self.http_port),
                    "HTTPS_PORT": str(self.https_port),
                    "BUNDLE_DIR": str(bundle_dir),
                    "ACME_ROOT": str(self.folder / "acme"),
                    "SSL_CERTIFICATE": str(self.cert),
                    "SSL_CERTIFICATE_KEY": str(self.key),
                },
            )
        )
        self.config = self.folder / "nginx.conf"
        self.config.write_text(main_config(self.folder, site_file))
        self._process: subprocess.Popen[bytes] | None = None

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def test_config(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the rendered site."""
        return subprocess.run(
            [NGINX, "-t", "-c", str(self.config), "-e", str(self.folder / "error.log")],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def start(self) -> Nginx:
        checked = self.test_config()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {checked.stderr}")
        self._process = subprocess.Popen(
            [NGINX, "-c", str(self.config), "-e", str(self.folder / "error.log")]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.https_port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {self.error_log()}")

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def get(self, path: str, https: bool = True) -> Response:
        """One request; redirects are returned, not followed."""
        scheme, port = ("https", self.https_port) if https else ("http", self.http_port)
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.ssl_context()), _NoRedirect()
        )
        try:
            with opener.open(f"{scheme}://localhost:{port}{path}", timeout=10) as reply:
                return Response(reply.status, dict(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, dict(exc.headers.items()), exc.read())

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process, grace=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
