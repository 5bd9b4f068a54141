"""`manage.py publish add|list|keygen|trust|setup-vps|update-vps|now`: set up and run publish
targets. The README's "Publishing a public page" runs them in that order."""

from __future__ import annotations

import getpass
import re
import sys
import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from publishing.models import USER_RE, Outcome, PublishTarget, TargetKind
from publishing.tasks import publish_target, publishing_dir, write_known_hosts
from publishing.transports import (
    GATE_PATH,
    TransportError,
    authorized_keys_line,
    fingerprints,
    generate_key,
    keyscan,
)
from publishing.vps import (
    AdminLogin,
    ProofFailed,
    addresses,
    fetch_status,
    run_setup,
    upload,
)

RSYNC_RE = re.compile(r"^(?P<user>[^@\s]+)@(?P<host>[^:\s]+):(?P<path>/\S*)$")
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$"
)
EMAIL_RE = re.compile(r"^[^@\s'\"]+@[^@\s'\"]+$")
DONE_RE = re.compile(r"^vps-setup: done: (https://\S+?)/ serves")
EXAMPLE_PATH = "/srv/imgserv/bundle"


def default_key() -> Path:
    return publishing_dir() / "id_ed25519"


class Command(BaseCommand):
    help = "Publish the public bundle: add, list, keygen, trust, setup-vps, update-vps, now."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a target.")
        add.add_argument("name")
        where = add.add_mutually_exclusive_group(required=True)
        where.add_argument("--rsync", metavar="USER@HOST:PATH")
        where.add_argument(
            "--directory",
            metavar="PATH",
            help="A folder on this machine; a relative path is inside the data folder.",
        )
        add.add_argument("--port", type=int, default=22)
        add.add_argument("--identity", metavar="KEYFILE", help="Default: the `keygen` key.")
        sub.add_parser("list", help="Targets and their last result.")
        keygen = sub.add_parser("keygen", help="Create the target's key pair (kept if there).")
        keygen.add_argument("name", nargs="?", help="Target whose path the key is limited to.")
        trust = sub.add_parser("trust", help="Fetch and show the server's host key; pin it.")
        trust.add_argument("name")
        trust.add_argument("--yes", action="store_true", help="Pin without asking.")
        for action, words in (
            ("setup-vps", "Set up the target's server: gate, key, nginx, certificate."),
            ("update-vps", "Update the target's server: gate, nginx site, then the pages."),
        ):
            vps = sub.add_parser(action, help=words)
            vps.add_argument("name")
            vps.add_argument(
                "--login",
                default="root",
                metavar="USER[@HOST]",
                help="Your admin login on the server (root, or a user who may sudo).",
            )
            how = vps.add_mutually_exclusive_group()
            how.add_argument("--password-file", metavar="FILE", help="Else it is asked for.")
            how.add_argument("--admin-key", metavar="KEYFILE", help="Log in with this key.")
            vps.add_argument("--yes", action="store_true", help="Pin the host key unasked.")
            if action == "setup-vps":
                vps.add_argument("--domain", required=True)
                vps.add_argument("--email", required=True, help="For Let's Encrypt's notices.")
                vps.add_argument(
                    "--staging", action="store_true", help="Let's Encrypt's staging CA (a try)."
                )
        now = sub.add_parser("now", help="Publish now (all enabled targets, or one).")
        now.add_argument("name", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action'].replace('-', '_')}")(**options)

    def target(self, name: str, purpose: str = "") -> PublishTarget:
        target = PublishTarget.objects.filter(name=name).first()
        if target is None:
            hint = (
                f"add it first: `manage.py publish add {name} --rsync USER@HOST:/PATH`"
                if purpose
                else "see `publish list`"
            )
            raise CommandError(f"No publish target named “{name}”: {hint}.")
        if purpose and target.kind != TargetKind.RSYNC:
            raise CommandError(f"{target.name} is a local folder: there is no server to {purpose}.")
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
            target.remote_path = str(Path(settings.DATA_DIR, directory or "").resolve())
        try:
            target.save()
        except ValidationError as exc:
            raise CommandError(describe(exc)) from exc
        self.stdout.write(f"Added {target.name}: {target.destination}")
        if target.kind == TargetKind.DIRECTORY:
            self.warn_outside_data(Path(target.remote_path))
            return
        key = Path(target.identity_file)
        first = (
            f"`manage.py publish keygen {target.name}` (creates {key}), then "
            if not key.is_file()
            else ""
        )
        self.stdout.write(
            f"Next: {first}`manage.py publish setup-vps {target.name} --domain DOMAIN --email "
            "EMAIL` sets the server up; on a server you set up yourself, `manage.py publish "
            f"trust {target.name}`."
        )

    def warn_outside_data(self, folder: Path) -> None:
        data = Path(settings.DATA_DIR).resolve()
        if folder == data or data in folder.parents:
            return
        self.stderr.write(
            f"Warning: {folder} is outside the data folder ({data}). The installed worker "
            "(systemd, ProtectSystem=strict) may write only inside the data folder, so "
            "publishing there fails with “read-only file system”. Use a folder inside it "
            "(a relative --directory is, e.g. `--directory public`), or allow this one with "
            f"`systemctl edit imgserv-worker`: [Service] ReadWritePaths={folder}"
        )

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

    def do_keygen(self, name: str | None, **options: Any) -> None:
        target = self.target(name, "limit a key to") if name else None
        path = target.remote_path if target else EXAMPLE_PATH
        key = Path(target.identity_file) if target else default_key()
        try:
            public = generate_key(key)
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Public key ({key}.pub):\n{public}\n")
        setup = f"`manage.py publish setup-vps {name}`" if name else "`publish setup-vps NAME`"
        self.stdout.write(
            f"{setup} installs it on the server for you. By hand: this line goes into the "
            "publish user's ~/.ssh/authorized_keys, and works only where the publish gate it "
            f"names is installed ({GATE_PATH}, root-owned, from deploy/publish-gate.py; "
            "deploy/vps-setup.sh installs both):"
        )
        self.stdout.write(authorized_keys_line(public, path))

    def do_trust(self, name: str, yes: bool, **options: Any) -> None:
        target = self.target(name, "trust")
        self.pin_host_key(target, yes)

    def pin_host_key(self, target: PublishTarget, yes: bool) -> None:
        """Fetch the server's host key, show its fingerprint and pin it once confirmed."""
        try:
            keys = keyscan(target.host, target.port)
            with tempfile.NamedTemporaryFile("w", suffix=".keys") as scanned:
                scanned.write(keys)
                scanned.flush()
                prints = fingerprints(Path(scanned.name))
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        if target.host_key.strip() == keys.strip():
            self.stdout.write(f"The host key of {target.name} is pinned already and unchanged:")
            self.show(prints)
            return
        changed = bool(target.host_key)
        self.stdout.write(
            f"{target.host} (port {target.port}) offers this host key"
            f"{'s' if len(prints) > 1 else ''}:"
        )
        self.show(prints)
        if changed:
            self.stdout.write(self.style.WARNING("It differs from the key pinned before."))
        self.stdout.write(
            "Compare it with the server's own: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`"
            " on the server (or the console of your VPS provider)."
        )
        if not (yes or self.confirm("Is this the server's key? Pin it [y/N]: ")):
            raise CommandError(
                "Not pinned: nothing was trusted. Run again once you have compared the "
                "fingerprint (or with --yes)."
            )
        target.host_key = keys
        target.save()
        publishing_dir()
        write_known_hosts(target.known_hosts_file(), keys)
        words = "Pinned; it replaces the key pinned before." if changed else "Pinned."
        self.stdout.write(words)

    def show(self, prints: list[str]) -> None:
        for line in prints:
            self.stdout.write(f"  {line}")

    def confirm(self, question: str) -> bool:
        return self.ask(question).strip().lower() in ("y", "yes")

    def ask(self, question: str, secret: bool = False) -> str:
        """One answer from the operator: typed at the terminal, or a line on stdin."""
        if secret and sys.stdin.isatty():
            return getpass.getpass(question)
        self.stdout.write(question, ending="")
        self.stdout.flush()
        try:
            answer = sys.stdin.readline().rstrip("\n")
        except OSError:  # no stdin at all: the same as no answer
            answer = ""
        if not sys.stdin.isatty():
            self.stdout.write("")  # the newline a terminal would have echoed
        return answer

    def login_user(self, target: PublishTarget, options: dict[str, Any]) -> str:
        user, _, host = str(options["login"]).partition("@")
        if host and host != target.host:
            raise CommandError(
                f"{target.name} publishes to {target.host}: give --login {user}@{target.host} "
                f"(or `publish add` the target again with the host you log in to)."
            )
        if not USER_RE.match(user):
            raise CommandError("Give --login as USER or USER@HOST (e.g. root).")
        return user

    def admin_login(self, target: PublishTarget, options: dict[str, Any]) -> AdminLogin:
        user = self.login_user(target, options)
        password, identity = "", options.get("admin_key") or ""
        if options.get("password_file"):
            try:
                password = Path(options["password_file"]).read_text().splitlines()[0]
            except (OSError, IndexError) as exc:
                raise CommandError(
                    f"Cannot read a password from {options['password_file']}."
                ) from exc
        elif not identity:
            password = self.ask(f"Password of {user}@{target.host}: ", secret=True)
            if not password:
                raise CommandError("No password given: nothing was changed on the server.")
        if identity and not Path(identity).is_file():
            raise CommandError(f"The admin key {identity} does not exist.")
        return AdminLogin(
            user=user,
            host=target.host,
            port=target.port,
            known_hosts=target.known_hosts_file(),
            password=password,
            identity=str(identity),
        )

    def do_setup_vps(self, name: str, domain: str, email: str, **options: Any) -> None:
        target = self.target(name, "set up")
        if not DOMAIN_RE.match(domain):
            raise CommandError(f"Not a domain name: {domain}")
        if not EMAIL_RE.match(email):
            raise CommandError(f"Not an e-mail address: {email}")
        self.login_user(target, options)
        key = Path(target.identity_file)
        created = not key.is_file()
        try:
            public = generate_key(key)
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Publish key: {key} ({'created' if created else 'kept'}).")
        self.pin_host_key(target, options["yes"])
        login = self.admin_login(target, options)
        arguments = ["--staging"] if options["staging"] else []
        code = self.run_script(target, login, public, [*arguments, domain, email, "key.pub"])
        if code != 0:
            raise CommandError(
                f"The server's setup stopped (vps-setup.sh exit {code}): see its words above. "
                "Nothing was published; run the same command again once it is fixed."
            )
        self.publish_and_prove(target, domain, verify=not options["staging"])

    def do_update_vps(self, name: str, **options: Any) -> None:
        target = self.target(name, "update")
        if not target.host_key:
            raise CommandError(f"No host key is pinned for {target.name}: run `publish setup-vps`.")
        try:
            public = generate_key(Path(target.identity_file))
        except TransportError as exc:
            raise CommandError(str(exc)) from exc
        login = self.admin_login(target, options)
        lines: list[str] = []
        code = self.run_script(target, login, public, ["--update", "key.pub"], lines)
        if code != 0:
            raise CommandError(
                f"The server's update stopped (vps-setup.sh exit {code}): see its words above. "
                "Its nginx site was left as it was."
            )
        urls = [m[1] for m in map(DONE_RE.match, lines) if m]
        domain = urls[-1].removeprefix("https://") if urls else ""
        self.publish_and_prove(target, domain, verify=True)

    def run_script(
        self,
        target: PublishTarget,
        login: AdminLogin,
        public_key: str,
        arguments: list[str],
        lines: list[str] | None = None,
    ) -> int:
        environment = {
            "BUNDLE_DIR": target.remote_path,
            "PUBLISH_USER": target.user,
            "SERVER_ADDRESSES": ",".join(addresses(target.host)),
        }

        def write(line: str) -> None:
            self.stdout.write(f"  {line}")
            if lines is not None:
                lines.append(line)

        self.stdout.write(f"Setting up {target.host} as {login.user} (deploy/vps-setup.sh):")
        try:
            folder = upload(login, public_key)
            return run_setup(login, folder, arguments, environment, write)
        except TransportError as exc:
            raise CommandError(str(exc)) from exc

    def publish_and_prove(self, target: PublishTarget, domain: str, verify: bool) -> None:
        self.do_now(target.name)
        if not domain:
            return
        try:
            status = fetch_status(domain, verify=verify)
        except ProofFailed as exc:
            raise CommandError(f"Published, but the public page does not answer: {exc}") from exc
        cameras = len(status.get("cameras", []))
        checked = "" if verify else " (staging certificate: not checked)"
        self.stdout.write(
            f"https://{domain}/status.json answers over HTTPS{checked}: {cameras} camera"
            f"{'' if cameras == 1 else 's'}, generated {status.get('generated_at', '?')}."
        )

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
                failures.append(f"{target.name}: {run.error}{missing_key(target)}")
            else:
                seconds = run.seconds or 0.0
                self.stdout.write(
                    f"{target.name}: published {run.files} files in {seconds:.2f} s "
                    f"(release {run.release})"
                )
        if failures:
            raise CommandError("Publishing failed. " + " ".join(failures))


def missing_key(target: PublishTarget) -> str:
    """The path the key was looked for at, for the operator only (never in /status)."""
    if target.kind != TargetKind.RSYNC or Path(target.identity_file).is_file():
        return ""
    return (
        f" (looked for {target.identity_file}: create it with `manage.py publish keygen "
        f"{target.name}`, or `publish add` the target again with --identity)"
    )


def describe(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
