"""Getting a bundle folder to where the public reads it, without ever showing a partial one.

Both transports lay out the target folder the same way:

    releases/<UTC timestamp>/   one whole bundle each, unchanged files hard-linked to the last
    current -> releases/<newest good one>

Each upload goes into a fresh release folder; only when it is complete is `current` switched,
by renaming a new symlink over the old one (atomic on POSIX), so a reader sees either the old
bundle or the new one. Nothing under `current` is ever deleted by a sync; old releases are
removed only once three newer ones exist.

Every ssh, rsync and ssh-keygen call goes through `run()`, which sets timeouts and turns
failures into a `TransportError` of one kind, in plain words; the key path and the server's
address stay out of those words. Code branches on `.kind`, never on the text.
"""

from __future__ import annotations

import errno
import filecmp
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.db import models
from django.utils import timezone

KEEP_RELEASES = 3
RELEASE_RE = re.compile(r"^\d{8}T\d{12}Z$")
CONNECT_TIMEOUT = 10
# rsync gives up when no data moves for this long; the whole upload has its own ceiling.
IO_TIMEOUT = 60
UPLOAD_TIMEOUT = 900
COMMAND_TIMEOUT = 60
# Where deploy/vps-setup.sh installs deploy/publish-gate.py on the server.
GATE_PATH = "/usr/local/lib/imgserv/publish-gate"


class TransportErrorKind(models.TextChoices):
    """What went wrong, for code to branch on; each label is the operator's sentence."""

    NOT_TRUSTED = (
        "not_trusted",
        "No host key is pinned for this target: run `manage.py publish trust NAME`.",
    )
    HOST_KEY_MISMATCH = (
        "host_key_mismatch",
        "The server's host key has changed (or is not the pinned one), so the connection "
        "was refused. If the server was reinstalled on purpose, check its new fingerprint "
        "and run `manage.py publish trust NAME` again.",
    )
    KEY_REFUSED = "key_refused", "The server refused the key (is it in authorized_keys?)."
    PASSWORD_REFUSED = "password_refused", "The server refused the login password."
    KEY_MISSING = "key_missing", "The private key file is missing (see `publish keygen`)."
    PERMISSION_DENIED = (
        "permission_denied",
        "The server denied writing the bundle folder (permission denied): the SSH user "
        "needs write access to it.",
    )
    DISK_FULL = "disk_full", "The server's disk is full."
    REFUSED = "refused", "The server refused the connection: is its SSH server running?"
    TIMED_OUT = "timed_out", "The server did not answer (connection timed out)."
    UNREACHABLE = "unreachable", "The server cannot be reached (no route to host)."
    HOST_NOT_FOUND = "host_not_found", "The server's host name could not be resolved."
    CONNECTION_CLOSED = "connection_closed", "The server closed the connection."
    GATE_REFUSED = "gate_refused", "The server's publish gate refused the command."
    NOT_SSH = "not_ssh", "The server offered no host key (is it an SSH server?)."
    NOT_INSTALLED = "not_installed", "A program publishing needs is not installed here."
    WRITE_FAILED = "write_failed", "Could not write the bundle folder."
    FAILED = "failed", "Publishing failed."


Kind = TransportErrorKind


class TransportError(Exception):
    """A publish failed. `kind` says how, for code to branch on; the message is plain words
    for the operator, with no secrets, made from the kind (`message=` words it with detail).
    """

    kind: TransportErrorKind

    def __init__(self, kind: TransportErrorKind, *, message: str = "") -> None:
        self.kind = kind
        super().__init__(message or str(kind.label))

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.kind.value, str(self)))


def _rebuild(cls: type[TransportError], kind: str, message: str) -> TransportError:
    return cls(TransportErrorKind(kind), message=message)


@dataclass(frozen=True)
class Upload:
    release: str
    bytes_sent: int


class Transport(Protocol):
    def publish(self, bundle: Path) -> Upload: ...


def new_release_name() -> str:
    return timezone.now().strftime("%Y%m%dT%H%M%S%fZ")


def run(argv: list[str], timeout: float, stdin: str | None = None) -> str:
    """Run one outside program; its stdout, or TransportError in plain words."""
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        message = f"{argv[0]} is not installed on this server."
        raise TransportError(Kind.NOT_INSTALLED, message=message) from exc
    except subprocess.TimeoutExpired as exc:
        message = f"{argv[0]} got no answer within {timeout:.0f} s; the server may be down or slow."
        raise TransportError(Kind.TIMED_OUT, message=message) from exc
    if done.returncode != 0:
        raise explain(argv[0], done.returncode, done.stderr)
    return done.stdout


# ssh's and rsync's own words, most specific first. A bare "Permission denied" is a remote
# file or folder the SSH user may not write ("mkdir ... failed: Permission denied (13)");
# only when ssh names the authentication methods it tried ("Permission denied (publickey).")
# was the key refused.
_SIGNS: list[tuple[re.Pattern[str], TransportErrorKind]] = [
    (
        re.compile(r"remote host identification has changed|host key verification failed"),
        Kind.HOST_KEY_MISMATCH,
    ),
    (
        re.compile(r"permission denied \([a-z-]+(,[a-z-]+)*\)|too many authentication failures"),
        Kind.KEY_REFUSED,
    ),
    (re.compile(r"no such identity"), Kind.KEY_MISSING),
    (re.compile(r"publish-gate:"), Kind.GATE_REFUSED),
    (re.compile(r"no space left|disk quota exceeded"), Kind.DISK_FULL),
    (
        re.compile(r"permission denied|read-only file system|operation not permitted"),
        Kind.PERMISSION_DENIED,
    ),
    (re.compile(r"connection refused"), Kind.REFUSED),
    (re.compile(r"timed out|timeout in data send/receive"), Kind.TIMED_OUT),
    (re.compile(r"no route to host|network is unreachable"), Kind.UNREACHABLE),
    (re.compile(r"could not resolve hostname"), Kind.HOST_NOT_FOUND),
    (re.compile(r"connection closed|connection reset|broken pipe"), Kind.CONNECTION_CLOSED),
]


def explain(program: str, code: int, stderr: str) -> TransportError:
    """A failed ssh or rsync run as a TransportError: its kind, in an operator's words."""
    text = stderr.lower()
    for sign, kind in _SIGNS:
        if sign.search(text):
            if kind == Kind.GATE_REFUSED:
                words = f"{str(kind.label).removesuffix('.')}: {_gate(stderr)}"
                return TransportError(kind, message=words)
            return TransportError(kind)
    last = (stderr.strip().splitlines() or [""])[-1][:200]
    return TransportError(Kind.FAILED, message=f"{program} failed (exit {code}): {last}".strip())


def _gate(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "publish-gate:" in line]
    return lines[-1].split("publish-gate:", 1)[1].strip() if lines else ""


def switch_command(root: str, release: str) -> str:
    """The shell line that makes `release` current and prunes old releases. Its exact form is
    also recognised by deploy/publish-gate.py, which runs its own copy of these steps."""
    keep = (
        f"cur=$(readlink current); ls -1 releases | sort | head -n -{KEEP_RELEASES} | "
        'while read -r r; do [ "releases/$r" = "$cur" ] || rm -rf -- "releases/$r"; done'
    )
    return (
        f"cd -- {shlex.quote(root)} && ln -sfn releases/{release} current.tmp && "
        f"mv -T current.tmp current && {keep}"
    )


class DirectoryTransport:
    """A folder on this machine (a web server on the same box)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def publish(self, bundle: Path) -> Upload:
        release = new_release_name()
        try:
            copied = self._copy(bundle, self.root / "releases" / release)
            switch_local(self.root, release)
        except OSError as exc:
            message = f"Could not write the bundle folder: {exc.strerror}."
            if exc.errno == errno.EROFS:
                # What systemd's ProtectSystem=strict looks like from inside the worker.
                message += (
                    " The installed worker may write only inside its data folder: publish to "
                    "a folder in it (`publish add NAME --directory public`)."
                )
            raise TransportError(local_kind(exc), message=message) from exc
        return Upload(release=release, bytes_sent=copied)

    def _copy(self, bundle: Path, target: Path) -> int:
        current = self.root / "current"
        copied = 0
        for source in sorted(p for p in bundle.rglob("*") if p.is_file()):
            relative = source.relative_to(bundle)
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(dest.parent, 0o755)
            previous = current / relative
            if previous.is_file() and filecmp.cmp(previous, source, shallow=False):
                os.link(previous, dest)
                continue
            shutil.copyfile(source, dest)
            os.chmod(dest, 0o644)
            copied += dest.stat().st_size
        return copied


def local_kind(exc: OSError) -> TransportErrorKind:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Kind.PERMISSION_DENIED
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Kind.DISK_FULL
    return Kind.WRITE_FAILED


def switch_local(root: Path, release: str) -> None:
    temporary = root / "current.tmp"
    temporary.unlink(missing_ok=True)
    os.symlink(f"releases/{release}", temporary)
    os.replace(temporary, root / "current")
    prune_local(root)


def prune_local(root: Path) -> None:
    current = os.readlink(root / "current")
    releases = sorted(p.name for p in (root / "releases").iterdir())
    for name in releases[:-KEEP_RELEASES]:
        if f"releases/{name}" != current:
            shutil.rmtree(root / "releases" / name, ignore_errors=True)


def pinned_ssh(port: int, known_hosts: Path) -> list[str]:
    """ssh to `port`, trusting only the host key pinned in `known_hosts`, with deadlines."""
    return [
        "ssh",
        "-p",
        str(port),
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        f"ConnectTimeout={CONNECT_TIMEOUT}",
        "-o",
        "ServerAliveInterval=15",
    ]


@dataclass(frozen=True)
class SshEndpoint:
    host: str
    port: int
    user: str
    identity_file: str
    known_hosts: Path

    def ssh_argv(self) -> list[str]:
        return [
            *pinned_ssh(self.port, self.known_hosts),
            "-i",
            self.identity_file,
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ]

    @property
    def login(self) -> str:
        return f"{self.user}@{self.host}"


class RsyncTransport:
    """rsync over SSH into releases/<timestamp>/, then one ssh call switches `current`."""

    def __init__(self, endpoint: SshEndpoint, remote_path: str) -> None:
        self.endpoint = endpoint
        self.remote_path = remote_path.rstrip("/") or "/"

    def publish(self, bundle: Path) -> Upload:
        if not self.endpoint.known_hosts.is_file() or not self.endpoint.known_hosts.read_text():
            raise TransportError(Kind.NOT_TRUSTED)
        if not Path(self.endpoint.identity_file).is_file():
            raise TransportError(Kind.KEY_MISSING)
        release = new_release_name()
        stats = run(self.rsync_argv(bundle, release), timeout=UPLOAD_TIMEOUT)
        command = switch_command(self.remote_path, release)
        run([*self.endpoint.ssh_argv(), self.endpoint.login, command], timeout=COMMAND_TIMEOUT)
        return Upload(release=release, bytes_sent=bytes_sent(stats))

    def rsync_argv(self, bundle: Path, release: str) -> list[str]:
        # Relative to the destination folder releases/<release>/: unchanged files become hard
        # links to the live release instead of new copies. Every bundle is written afresh, so
        # unchanged means the same checksum (-c), not the same time.
        return [
            "rsync",
            "-rc",
            "--chmod=D755,F644",
            "--mkpath",
            "--link-dest=../../current",
            f"--timeout={IO_TIMEOUT}",
            "--stats",
            "-e",
            shlex.join(self.endpoint.ssh_argv()),
            f"{bundle}/",
            f"{self.endpoint.login}:{self.remote_path}/releases/{release}/",
        ]


def bytes_sent(stats: str) -> int:
    match = re.search(r"Total bytes sent:\s*([\d,.]+)", stats)
    return int(re.sub(r"[,.]", "", match.group(1))) if match else 0


def keyscan(host: str, port: int) -> str:
    """The server's host keys, as known_hosts lines, for the operator to confirm and pin."""
    out = run(["ssh-keyscan", "-T", str(CONNECT_TIMEOUT), "-p", str(port), host], timeout=30)
    lines = [line for line in out.splitlines() if line and not line.startswith("#")]
    if not lines:
        raise TransportError(Kind.NOT_SSH)
    return "\n".join(lines) + "\n"


def fingerprints(known_hosts: Path) -> list[str]:
    return run(["ssh-keygen", "-lf", str(known_hosts)], timeout=COMMAND_TIMEOUT).splitlines()


def generate_key(private: Path) -> str:
    """An ed25519 key pair without a passphrase (the worker runs unattended); the public key."""
    if not private.exists():
        private.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(private.parent, 0o700)
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "imgserv-publish",
                "-f",
                str(private),
            ],
            timeout=COMMAND_TIMEOUT,
        )
    return Path(f"{private}.pub").read_text().strip()


def authorized_keys_line(public_key: str, remote_path: str) -> str:
    """The key may only run the publish gate for this one folder, with nothing else allowed."""
    gate = f"{GATE_PATH} {shlex.quote(remote_path)}"
    return f'command="{gate}",restrict {public_key}'
