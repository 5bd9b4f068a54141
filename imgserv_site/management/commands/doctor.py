"""`manage.py doctor`: check the installation and print one line per finding.

✓ fine, ! worth a look (does not fail), ✗ a problem: the command then exits 1. It lives in
imgserv_site because it checks every app's part of the installation, publish targets too.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import os
import subprocess
from argparse import ArgumentParser
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cameras.configure import check as check_camera
from cameras.models import Camera
from imgserv_site.health import check_database, check_disk, check_worker
from mqtt.client import probe as probe_broker
from mqtt.config import MqttConfigError, configured_broker
from mqtt.models import BrokerConnection, LinkState
from publishing.models import PublishTarget, TargetKind
from publishing.tasks import transport_for
from publishing.transports import (
    COMMAND_TIMEOUT,
    RsyncTransport,
    TransportError,
    TransportErrorKind,
    run,
)

# The camera sources give up each network step after 5 s; this bounds the whole check.
CAMERA_TIMEOUT_S = 12.0
# A bundle this far behind the newest build is worth a look, though publishing retries.
LAG_WARNING_S = 900
# A worker's MQTT status row older than this is of a worker no longer running.
MQTT_STATUS_FRESH = dt.timedelta(seconds=90)
LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", "localhost")


class Level(enum.Enum):
    OK = "✓"
    WARN = "!"
    FAIL = "✗"


@dataclass(frozen=True)
class Finding:
    name: str
    level: Level
    detail: str


def ok(name: str, detail: str) -> Finding:
    return Finding(name, Level.OK, detail)


def warn(name: str, detail: str) -> Finding:
    return Finding(name, Level.WARN, detail)


def fail(name: str, detail: str) -> Finding:
    return Finding(name, Level.FAIL, detail)


def from_check(name: str, result: Any) -> Finding:
    """imgserv_site.health's {ok, detail} as a finding."""
    return Finding(name, Level.OK if result["ok"] else Level.FAIL, result["detail"])


def database() -> Finding:
    result = check_database()
    detail = f"{result['detail']} ({connection.vendor})" if result["ok"] else result["detail"]
    return Finding("database", Level.OK if result["ok"] else Level.FAIL, detail)


def migrations() -> Finding:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return ok("migrations", "all applied")
    names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:3])
    more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
    return fail("migrations", f"{len(plan)} pending: {names}{more}; run `manage.py migrate`")


def worker() -> Finding:
    result = check_worker()
    if not result["ok"]:
        return fail("worker", f"{result['detail']}; is `manage.py worker` running?")
    return from_check("worker", result)


def disk() -> Finding:
    return from_check("disk", check_disk())


def camera_finding(camera: Camera, job: Callable[[], Any]) -> Finding:
    name = f"camera {camera.slug}"
    where = camera.masked_url
    try:
        result = job()
    except FutureTimeout:
        return fail(name, f"{where} — no answer within {CAMERA_TIMEOUT_S:.0f} s")
    except Exception as exc:
        return fail(name, f"{where} — {scrub(str(exc) or type(exc).__name__, camera)}")
    return ok(name, f"{where} — {result.milliseconds:.0f} ms, {result.width}×{result.height}")


def scrub(text: str, camera: Camera) -> str:
    """Sources keep secrets out of their errors; this is the belt to those braces."""
    return text.replace(camera.password, "***") if camera.password else text


def cameras() -> list[Finding]:
    enabled = list(Camera.objects.filter(enabled=True))
    if not enabled:
        return [warn("cameras", "no enabled camera")]
    # In parallel, so ten dead cameras cost one timeout, not ten.
    pool = ThreadPoolExecutor(max_workers=min(8, len(enabled)))
    futures = [(c, pool.submit(check_camera, c)) for c in enabled]
    findings = [
        camera_finding(c, partial(future.result, timeout=CAMERA_TIMEOUT_S)) for c, future in futures
    ]
    pool.shutdown(wait=False, cancel_futures=True)
    return findings


def target_finding(target: PublishTarget, connect: bool) -> Finding:
    name = f"publish {target.name}"
    if not target.enabled:
        return ok(name, "disabled")
    if target.consecutive_failures:
        return fail(name, f"failing ({target.consecutive_failures}×): {target.last_error}")
    lag = target.lag_seconds(timezone.now())
    if connect:
        problem = reach(target)
        if problem:
            return fail(name, problem)
    if target.last_success_at is None:
        return warn(name, "never published yet")
    since = f"last success {ago(target.last_success_at)}"
    if lag is not None and lag > LAG_WARNING_S:
        return warn(name, f"{since}; {lag / 60:.0f} min behind the newest build")
    return ok(name, f"{since}; up to date" if not lag else f"{since}; {lag:.0f} s behind")


def ago(when: Any) -> str:
    seconds = (timezone.now() - when).total_seconds()
    return f"{seconds / 60:.0f} min ago" if seconds >= 120 else f"{seconds:.0f} s ago"


def reach(target: PublishTarget) -> str | None:
    """`--connect`: can we get there right now? Plain words, or None."""
    if target.kind == TargetKind.DIRECTORY:
        folder = Path(target.remote_path)
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"{folder} is not a writable folder"
        return None
    transport = transport_for(target)
    assert isinstance(transport, RsyncTransport)
    endpoint = transport.endpoint
    try:
        run([*endpoint.ssh_argv(), endpoint.login, "true"], timeout=COMMAND_TIMEOUT)
    except TransportError as exc:
        # The server's forced command refuses `true`: we got in with the pinned key.
        if exc.kind != TransportErrorKind.GATE_REFUSED:
            return str(exc)
    return None


def publish_targets(connect: bool) -> list[Finding]:
    targets = list(PublishTarget.objects.all())
    if not targets:
        return [ok("publish", "no targets (the bundle is not pushed anywhere)")]
    return [target_finding(t, connect) for t in targets]


def ntp_synchronized() -> bool | None:
    """The kernel clock's NTP state from systemd; None where it cannot say."""
    try:
        done = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip()
    return {"yes": True, "no": False}.get(answer) if done.returncode == 0 else None


def time_sync() -> Finding:
    synced = ntp_synchronized()
    if synced is None:
        return warn("time sync", "unknown (timedatectl cannot tell); frames carry this clock")
    if not synced:
        return fail("time sync", "the clock is not NTP-synchronised; capture times will drift")
    return ok("time sync", "NTP-synchronised")


def is_local(host: str) -> bool:
    bare = host.strip("[]").lstrip(".")
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return bare.endswith(LOCAL_SUFFIXES)
    return address.is_private or address.is_loopback or address.is_link_local


def production_settings() -> list[Finding]:
    problems = []
    if settings.DEBUG:
        problems.append("DEBUG is on (error pages show settings and code)")
    key = settings.SECRET_KEY
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure"):
        problems.append("SECRET_KEY is short or a default; leave it unset to generate one")
    hosts = list(settings.ALLOWED_HOSTS)
    if "*" in hosts:
        problems.append("ALLOWED_HOSTS contains “*”")
    public = [h for h in hosts if h != "*" and not is_local(h)]
    if public and not settings.SESSION_COOKIE_SECURE:
        problems.append(
            f"HTTPS is off though {public[0]} is served: logins would cross the network "
            "in clear (set HTTPS=true)"
        )
    if problems:
        return [fail("settings", p) for p in problems]
    return [ok("settings", "no unsafe production setting found")]


def mqtt() -> Finding:
    """A malformed MQTT configuration, and, when one is set, whether the broker accepts a
    connection (the worker would otherwise only log it)."""
    try:
        broker = configured_broker()
    except MqttConfigError as exc:
        return fail("mqtt", str(exc))
    if broker is None:
        return ok("mqtt", "off (MQTT_URL is empty)")
    problem = probe_broker(broker)
    if problem:
        return fail("mqtt", f"{broker.display} — {problem}")
    # The workers' own links, as they last wrote them (every 30 s at least while they run).
    recent = timezone.now() - MQTT_STATUS_FRESH
    links = BrokerConnection.objects.filter(updated_at__gte=recent).exclude(state=LinkState.STOPPED)
    for link in links:
        if link.state != LinkState.CONNECTED:
            why = f": {link.last_error}" if link.last_error else ""
            return warn(
                "mqtt",
                f"{broker.display} — accepted a connection, but worker {link.node} is "
                f"{link.get_state_display().lower()}{why}",
            )
    return ok("mqtt", f"{broker.display} — the broker accepted a connection")


def run_checks(connect: bool) -> list[Finding]:
    first = database()
    if first.level is Level.FAIL:
        skipped = "not checked: the database is unreachable"
        return [first, warn("migrations", skipped), disk(), time_sync(), *production_settings()]
    return [
        first,
        migrations(),
        worker(),
        disk(),
        *cameras(),
        *publish_targets(connect),
        mqtt(),
        time_sync(),
        *production_settings(),
    ]


class Command(BaseCommand):
    help = "Check the installation (database, worker, disk, cameras, publishing, MQTT, settings)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--connect", action="store_true", help="Also connect to each publish target."
        )

    def handle(self, *args: Any, connect: bool, **options: Any) -> None:
        findings = run_checks(connect)
        width = max(len(f.name) for f in findings)
        for f in findings:
            line = f"{f.level.value} {f.name:<{width}}  {f.detail}"
            style = {Level.OK: self.style.SUCCESS, Level.WARN: self.style.WARNING}
            self.stdout.write(style.get(f.level, self.style.ERROR)(line))
        failed = [f.name for f in findings if f.level is Level.FAIL]
        warnings = sum(f.level is Level.WARN for f in findings)
        summary = f"{len(failed)} problem(s), {warnings} warning(s)"
        if failed:
            raise CommandError(f"{summary}: {', '.join(dict.fromkeys(failed))}")
        self.stdout.write(summary)
