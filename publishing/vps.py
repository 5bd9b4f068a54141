"""Setting up and updating the public server (VPS) from the camera server.

One admin SSH login, with the provider's one-time password (through `sshpass`, which reads it
from its environment, never from the command line) or with a key the operator already has,
copies deploy/vps-setup.sh, the publish gate, the nginx site and the publish key to the
server and runs the script there as root (through sudo for another user). The script does the
work and says what it does; its output is passed through line by line. Everything here goes
through `admin_run` and `admin_stream`, which turn ssh's failures into a `TransportError`.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
import ssl
import subprocess
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from publishing.transports import (
    TransportError,
    TransportErrorKind,
    explain,
    pinned_ssh,
)

Kind = TransportErrorKind
# What the script needs beside it on the server, as paths inside the project.
FILES = ("deploy/vps-setup.sh", "deploy/publish-gate.py", "deploy/nginx/vps-bundle.conf")
UPLOAD_TIMEOUT = 120
# apt-get, certbot and its renewal check together; slow mirrors are the usual reason.
SETUP_TIMEOUT = 1800
FETCH_TIMEOUT = 20
# sshpass's own exit codes (sshpass(1)).
SSHPASS_BAD_PASSWORD = 5
SSHPASS_HOST_KEY = (6, 7)


@dataclass(frozen=True)
class AdminLogin:
    """The operator's own login on the server: root, or a user who may sudo."""

    user: str
    host: str
    port: int
    known_hosts: Path
    password: str = ""
    identity: str = ""

    def ssh_argv(self) -> list[str]:
        argv = pinned_ssh(self.port, self.known_hosts)
        if self.password:
            argv += ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password"]
            argv += ["-o", "NumberOfPasswordPrompts=1"]
            return ["sshpass", "-e", *argv, f"{self.user}@{self.host}"]
        if self.identity:
            argv += ["-i", self.identity, "-o", "IdentitiesOnly=yes"]
        return [*argv, "-o", "BatchMode=yes", f"{self.user}@{self.host}"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("SSHPASS", None)
        if self.password:
            env["SSHPASS"] = self.password
        return env

    def as_root(self, command: str) -> str:
        """`command` run as root on the server: directly for root, else through sudo (which
        reads the same password from stdin, or needs none)."""
        if self.user == "root":
            return command
        sudo = "sudo -S -p ''" if self.password else "sudo -n"
        return f"{sudo} sh -c {shlex.quote(command)}"


def failure(login: AdminLogin, code: int, stderr: str) -> TransportError:
    if login.password and code == SSHPASS_BAD_PASSWORD:
        return TransportError(Kind.PASSWORD_REFUSED)
    if login.password and code in SSHPASS_HOST_KEY:
        return TransportError(Kind.HOST_KEY_MISMATCH)
    error = explain("ssh", code, stderr)
    if login.password and error.kind == Kind.KEY_REFUSED:
        return TransportError(Kind.PASSWORD_REFUSED)
    return error


def admin_run(login: AdminLogin, command: str, stdin: bytes = b"", timeout: float = 60) -> str:
    """One command on the server as the admin user; its stdout."""
    try:
        done = subprocess.run(
            [*login.ssh_argv(), command], input=stdin, capture_output=True, timeout=timeout,
            env=login.env(), check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        program = "sshpass" if login.password else "ssh"
        message = f"{program} is not installed on this server (apt-get install {program})."
        raise TransportError(Kind.NOT_INSTALLED, message=message) from exc
    except subprocess.TimeoutExpired as exc:
        raise TransportError(Kind.TIMED_OUT) from exc
    if done.returncode != 0:
        raise failure(login, done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout.decode(errors="replace")


def admin_stream(
    login: AdminLogin, command: str, write: Callable[[str], None], stdin: str = ""
) -> int:
    """Run `command` on the server, passing its output to `write` line by line as it comes;
    its exit code. ssh's own failures (255) raise."""
    try:
        process = subprocess.Popen(
            [*login.ssh_argv(), command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=login.env(), text=True, bufsize=1,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise TransportError(Kind.NOT_INSTALLED) from exc
    timer = threading.Timer(SETUP_TIMEOUT, process.kill)
    timer.start()
    lines: list[str] = []
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(stdin)
        process.stdin.close()
        for line in process.stdout:
            lines.append(line)
            write(line.rstrip("\n"))
        code = process.wait()
    finally:
        timer.cancel()
    if code == 255 or (login.password and code in (SSHPASS_BAD_PASSWORD, *SSHPASS_HOST_KEY)):
        raise failure(login, code, "".join(lines[-5:]))
    return code


def payload(public_key: str) -> bytes:
    """The files the script needs, as a gzipped tar, plus the publish key as key.pub."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for relative in FILES:
            tar.add(Path(settings.BASE_DIR) / relative, arcname=relative)
        data = (public_key.strip() + "\n").encode()
        info = tarfile.TarInfo("key.pub")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(login: AdminLogin, public_key: str) -> str:
    """Copy the files into a fresh private folder on the server; that folder."""
    command = (
        'umask 077 && d=$(mktemp -d /tmp/imgserv-vps.XXXXXX) && tar -xzf - -C "$d" && echo "$d"'
    )
    folder = admin_run(login, command, stdin=payload(public_key), timeout=UPLOAD_TIMEOUT).strip()
    if not folder.startswith("/tmp/imgserv-vps."):
        raise TransportError(Kind.FAILED, message="Could not copy the setup files to the server.")
    return folder


def run_setup(
    login: AdminLogin,
    folder: str,
    arguments: list[str],
    environment: dict[str, str],
    write: Callable[[str], None],
) -> int:
    """Run deploy/vps-setup.sh from `folder` as root; its exit code. The folder goes after."""
    assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in environment.items())
    # sudo drops SSH_CONNECTION, which the script's DNS check uses: pass it on by name.
    script = (
        f"cd {shlex.quote(folder)} && env {assignments} "
        'SSH_CONNECTION="${SSH_CONNECTION:-}" '
        f"bash deploy/vps-setup.sh {shlex.join(arguments)}"
    )
    command = f"{login.as_root(script)}; rc=$?; rm -rf {shlex.quote(folder)}; exit $rc"
    password = login.password + "\n" if login.password and login.user != "root" else ""
    return admin_stream(login, command, write, stdin=password)


def addresses(host: str) -> list[str]:
    """The addresses this machine reaches `host` at: the server's public ones even behind NAT,
    for the script's check that the domain points at it."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})


def fetch_status(domain: str, verify: bool = True) -> dict[str, Any]:
    """https://DOMAIN/status.json as the public gets it (certificate checked unless told)."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    url = f"https://{domain}/status.json"
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT, context=context) as reply:
            data = json.load(reply)
    except urllib.error.HTTPError as exc:
        raise ProofFailed(f"{url} answered {exc.code}.") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProofFailed(f"Could not fetch {url}: {reason}.") from exc
    if not isinstance(data, dict):
        raise ProofFailed(f"{url} is not the published status.json.")
    return data


class ProofFailed(Exception):
    """The page could not be fetched over HTTPS after the setup."""
