"""`manage.py publish add|list|trust|keygen|now`: set up and run publish targets."""

from __future__ import annotations

import re
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from publishing.models import Outcome, PublishTarget, TargetKind
from publishing.tasks import publish_target, publishing_dir, write_known_hosts
from publishing.transports import (
    TransportError,
    authorized_keys_line,
    fingerprints,
    generate_key,
    keyscan,
)

RSYNC_RE = re.compile(r"^(?P<user>[^@\s]+)@(?P<host>[^:\s]+):(?P<path>/\S*)$")
EXAMPLE_PATH = "/srv/imgserv/bundle"


def default_key() -> Path:
    return publishing_dir() / "id_ed25519"


class Command(BaseCommand):
    help = "Publish the public bundle: add, list, trust, keygen, now."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a target.")
        add.add_argument("name")
        where = add.add_mutually_exclusive_group(required=True)
        where.add_argument("--rsync", metavar="USER@HOST:PATH")
        where.add_argument("--directory", metavar="PATH")
        add.add_argument("--port", type=int, default=22)
        add.add_argument("--identity", metavar="KEYFILE", help="Default: the `keygen` key.")
        sub.add_parser("list", help="Targets and their last result.")
        trust = sub.add_parser("trust", help="Fetch, show and pin the server's host key.")
        trust.add_argument("name")
        keygen = sub.add_parser("keygen", help="Create the publish key pair.")
        keygen.add_argument("name", nargs="?", help="Target whose path the key is limited to.")
        now = sub.add_parser("now", help="Publish now (all enabled targets, or one).")
        now.add_argument("name", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(**options)

    def target(self, name: str) -> PublishTarget:
        target = PublishTarget.objects.filter(name=name).first()
        if target is None:
            raise CommandError(f"No publish target named “{name}” (see `publish list`).")
        return target

    def do_add(self, name: str, rsync: str | None, directory: str | None, **options: Any) -> None:
        target = PublishTarget(name=name)
        if rsync:
            match = RSYNC_RE.match(rsync)
            if not match:
                raise CommandError("Give --rsync as USER@HOST:/absolute/path.")
            target.kind = TargetKind.RSYNC
            target.user, target.host = match["user"], match["host"]
            target.remote_path = match["path"]
            target.port = options["port"]
            target.identity_file = str(Path(options["identity"] or default_key()).resolve())
        else:
            target.kind = TargetKind.DIRECTORY
            target.remote_path = str(Path(directory or "").resolve())
        try:
            target.save()
        except ValidationError as exc:
            raise CommandError(describe(exc)) from exc
        self.stdout.write(f"Added {target.name}: {target.destination}")
        if target.kind == TargetKind.RSYNC:
            self.stdout.write(f"Next: `manage.py publish trust {target.name}`.")

    def do_list(self, **options: Any) -> None:
        targets = PublishTarget.objects.all()
        if not targets:
            self.stdout.write("No publish targets. Add one with `manage.py publish add`.")
        for t in targets:
            state = "enabled" if t.enabled else "disabled"
            last = f"{t.last_success_at:%Y-%m-%d %H:%M:%S}" if t.last_success_at else "never"
            pinned = "" if t.kind == TargetKind.DIRECTORY or t.host_key else ", host key not pinned"
            self.stdout.write(f"{t.name}  {t.kind}  {t.destination}  {state}{pinned}")
            self.stdout.write(
                f"    last success: {last}"
                + (f"; last error: {t.last_error}" if t.last_error else "")
            )

    def do_trust(self, name: str, **options: Any) -> None:
        target = self.target(name)
        if target.kind != TargetKind.RSYNC:
            raise CommandError(f"{target.name} is a local folder: there is no host key.")
        try:
            keys = keyscan(target.host, target.port)
            with tempfile.NamedTemporaryFile("w", suffix=".keys") as scanned:
                scanned.write(keys)
                scanned.flush()
                prints = fingerprints(Path(scanned.name))
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        changed = bool(target.host_key) and target.host_key.strip() != keys.strip()
        target.host_key = keys
        target.save()
        publishing_dir()
        write_known_hosts(target.known_hosts_file(), keys)
        self.stdout.write(f"Pinned the host key{'s' if len(prints) > 1 else ''} of {target.name}:")
        for line in prints:
            self.stdout.write(f"  {line}")
        if changed:
            self.stdout.write(self.style.WARNING("This replaces a different key pinned before."))
        self.stdout.write(
            "Check the fingerprint against the server's own (ssh-keygen -lf "
            "/etc/ssh/ssh_host_ed25519_key.pub on it); if it differs, do not publish."
        )

    def do_keygen(self, name: str | None, **options: Any) -> None:
        path = Path(self.target(name).remote_path) if name else Path(EXAMPLE_PATH)
        key = default_key()
        try:
            public = generate_key(key)
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Public key ({key}.pub):\n{public}\n")
        self.stdout.write("Add this line to the publish user's ~/.ssh/authorized_keys")
        self.stdout.write("(deploy/vps-setup.sh installs the publish gate it names):")
        self.stdout.write(authorized_keys_line(public, str(path)))

    def do_now(self, name: str | None, **options: Any) -> None:
        targets = [self.target(name)] if name else list(PublishTarget.objects.filter(enabled=True))
        if not targets:
            raise CommandError("No enabled publish targets.")
        failures = []
        for target in targets:
            run = publish_target(target.pk, force=True)
            if run is None:
                failures.append(f"{target.name}: a publish is already running or it is disabled.")
            elif run.outcome != Outcome.OK:
                failures.append(f"{target.name}: {run.error}")
            else:
                seconds = run.seconds or 0.0
                self.stdout.write(
                    f"{target.name}: published {run.files} files in {seconds:.2f} s "
                    f"(release {run.release})"
                )
        if failures:
            raise CommandError("Publishing failed. " + " ".join(failures))


def describe(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
