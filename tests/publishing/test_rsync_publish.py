"""The issue's must-shows, against a real sshd (with the publish gate as forced command),
real rsync and a real nginx serving deploy/nginx/vps-bundle.conf over HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone

from publishing.management.commands.publish import Command as PublishCommand
from publishing.models import Outcome, PublishRun, PublishTarget
from publishing.tasks import publish_all, transport_for
from publishing.transports import TransportError, TransportErrorKind
from sequences.models import Sequence
from tests.publishing.conftest import CAMERA_HOST, CAMERA_PASSWORD, command

pytestmark = pytest.mark.integration
RELEASE = "20260101T000000000000Z"
FILES = {
    "/main-street/latest.gif": "image/gif",
    "/main-street/latest.mp4": "video/mp4",
    "/main-street/latest.webp": "image/webp",
    "/main-street/latest.jpg": "image/jpeg",
}


def releases(sshd) -> list[str]:
    return sorted(os.listdir(sshd.bundle / "releases"))


def served_build(nginx) -> str:
    return json.loads(nginx.get("/status.json").body)["cameras"][0]["built_at"]


def timed_publish(name: str) -> float:
    started = time.perf_counter()
    command("now", name)
    return time.perf_counter() - started


def test_it_lands_a_bundle_that_nginx_serves_over_https(gated_target, build, sshd, nginx):
    sequence = build()
    first = timed_publish(gated_target)
    media = Path(settings.MEDIA_ROOT)
    for page in ("/", "/index.html", "/iframe", "/iframe.html"):
        reply = nginx.get(page)
        assert reply.status == 200, page
        assert b"viewer.js" in reply.body
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert reply.headers["Cache-Control"] == "public, max-age=600"
    for path, content_type in FILES.items():
        reply = nginx.get(path)
        assert (reply.status, reply.headers["Content-Type"]) == (200, content_type), path
        assert reply.headers["Cache-Control"] == "public, max-age=60"
    assert nginx.get("/main-street/latest.gif").body == (media / sequence.gif).read_bytes()
    assert nginx.get("/main-street/latest.mp4").body == (media / sequence.mp4).read_bytes()
    status = nginx.get("/status.json")
    assert status.headers["Cache-Control"].startswith("public, max-age=15")
    assert served_build(nginx) == sequence.built_at.isoformat()
    assert nginx.get("/health").status == 200
    redirect = nginx.get("/index.html", https=False)
    assert (redirect.status, redirect.headers["Location"]) == (301, "https://localhost/index.html")
    build()
    following = timed_publish(gated_target)
    print(f"\npublish over ssh+rsync: first {first:.2f} s, next {following:.2f} s")


def test_it_replaces_the_bundle_atomically_and_keeps_the_pages(gated_target, build, sshd, nginx):
    build()
    command("now", gated_target)
    first_release = releases(sshd)[0]
    newest = build()
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def read_while_publishing() -> None:
        while not done.is_set() and len(seen) < 2000:
            page, data = nginx.get("/index.html"), nginx.get("/status.json")
            json.loads(data.body)  # always a whole status.json, never a partial one
            seen.append((page.status, data.status))

    reader = threading.Thread(target=read_while_publishing)
    reader.start()
    try:
        command("now", gated_target)
    finally:
        done.set()
        reader.join(30)
    assert seen and set(seen) == {(200, 200)}
    assert served_build(nginx) == newest.built_at.isoformat()
    assert nginx.get("/iframe").status == 200
    old, new = releases(sshd)
    assert old == first_release
    assert os.readlink(sshd.bundle / "current") == f"releases/{new}"
    # The previous release stays whole, and unchanged files are hard links into it.
    assert (sshd.bundle / "releases" / old / "index.html").is_file()
    assert (sshd.bundle / "releases" / new / "viewer.js").stat().st_nlink == 2


def test_it_keeps_three_releases_as_publishing_goes_on(gated_target, build, sshd):
    build()
    for _ in range(5):
        command("now", gated_target)
    kept = releases(sshd)
    assert len(kept) == 3
    assert os.readlink(sshd.bundle / "current") == f"releases/{kept[-1]}"


def test_it_publishes_no_secret_or_internal_detail(gated_target, build, sshd, nginx):
    build()
    command("now", gated_target)
    target = PublishTarget.objects.get(name=gated_target)
    forbidden = [
        CAMERA_PASSWORD,
        CAMERA_HOST,
        str(settings.MEDIA_ROOT),
        str(settings.DATA_DIR),
        sshd.user,
        "127.0.0.1",
        str(sshd.bundle),
        target.identity_file,
        "id_ed25519",
    ]
    published = [p for p in (sshd.bundle / "current").rglob("*") if p.is_file()]
    assert len(published) == 9
    for path in published:
        data = path.read_bytes()
        for word in forbidden:
            assert word.encode() not in data, f"{word!r} leaked into {path.name}"


def test_it_exits_1_when_the_server_is_down_and_catches_up_with_the_newest_after(
    gated_target,
    build,
    sshd,
    nginx,
    sync_tasks,
    django_capture_on_commit_callbacks,
    capsys,
    monkeypatch,
):
    # run_from_argv closes every connection when it ends; on PostgreSQL that would close the
    # connection holding this test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        first = build()
    assert served_build(nginx) == first.built_at.isoformat()
    sshd.stop()
    with pytest.raises(SystemExit) as exited:
        # As from the shell: a CommandError becomes exit status 1 and its message on stderr.
        PublishCommand().run_from_argv(["manage.py", "publish", "now", gated_target])
    assert exited.value.code == 1
    assert "refused the connection: is its SSH server running?" in capsys.readouterr().err
    # Builds carry on (their publish task fails or waits, without holding them up) ...
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            newest = build()
    assert Sequence.objects.count() == 3
    # ... and the public keeps the last good bundle.
    assert served_build(nginx) == first.built_at.isoformat()
    target = PublishTarget.objects.get(name=gated_target)
    assert target.last_error
    assert target.next_attempt_at is not None and target.next_attempt_at > timezone.now()
    sshd.start()
    # The retry comes due (its schedule runs publish_all): one upload, of the newest only.
    PublishTarget.objects.filter(pk=target.pk).update(next_attempt_at=timezone.now())
    before = releases(sshd)
    publish_all()
    assert len(releases(sshd)) == len(before) + 1
    assert served_build(nginx) == newest.built_at.isoformat()
    assert PublishRun.objects.filter(outcome=Outcome.OK).count() == 2
    target.refresh_from_db()
    assert (target.last_error, target.consecutive_failures) == ("", 0)


def test_it_refuses_a_changed_host_key_with_a_clear_message(gated_target, build, sshd, nginx):
    first = build()
    command("now", gated_target)
    pinned = PublishTarget.objects.get(name=gated_target).host_key
    sshd.stop()
    sshd.new_host_key()
    sshd.start()
    build()
    with pytest.raises(CommandError, match="The server's host key has changed"):
        command("now", gated_target)
    target = PublishTarget.objects.get(name=gated_target)
    assert target.host_key == pinned  # never silently accepted
    assert target.known_hosts_file().read_text().strip() == pinned.strip()
    assert served_build(nginx) == first.built_at.isoformat()
    # The operator re-pins on purpose, and sees the new fingerprint to compare.
    out = command("trust", gated_target, "--yes")
    new_print = subprocess.run(
        ["ssh-keygen", "-lf", f"{sshd.host_key}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert new_print in out and "replaces the key pinned before" in out
    command("now", gated_target)


def test_it_prints_the_fingerprint_of_the_key_it_pins(gated_target, sshd):
    out = command("trust", gated_target)
    expected = subprocess.run(
        ["ssh-keygen", "-lf", f"{sshd.host_key}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert expected.startswith("SHA256:") and expected in out


def test_the_gate_lets_the_key_do_nothing_but_upload_and_switch(gated_target, sshd):
    target = PublishTarget.objects.get(name=gated_target)
    ssh = [
        "ssh", "-p", str(sshd.port), "-i", target.identity_file, "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={target.known_hosts_file()}", "-o", "StrictHostKeyChecking=yes",
        f"{sshd.user}@127.0.0.1",
    ]  # fmt: skip
    for attempt in (
        "cat /etc/passwd",
        f"rsync --server --sender -re.iLsfxCIvu . {sshd.bundle}/current/",
        "rsync --server -re.iLsfxCIvu . /tmp/elsewhere/",
        f"rsync --server -re.iLsfxCIvu --copy-links . {sshd.bundle}/releases/{RELEASE}/",
    ):
        done = subprocess.run([*ssh, attempt], capture_output=True, text=True, timeout=30)
        assert done.returncode != 0, attempt
        assert "publish-gate:" in done.stderr, attempt


def test_it_says_permission_denied_when_the_server_folder_is_not_writable(
    gated_target, build, sshd
):
    build()
    sshd.bundle.chmod(0o555)  # the SSH user's own folder, now read-only to it
    try:
        with pytest.raises(CommandError) as info:
            command("now", gated_target)
    finally:
        sshd.bundle.chmod(0o755)
    message = str(info.value)
    assert "permission denied" in message.lower()
    assert "refused the key" not in message
    target = PublishTarget.objects.get(name=gated_target)
    assert target.last_error.startswith("The server denied writing the bundle folder")
    assert target.last_error in message
    assert not (sshd.bundle / "releases").exists()


def test_it_reports_each_failure_by_its_kind(gated_target, build, sshd, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "index.html").write_text("page")
    target = PublishTarget.objects.get(name=gated_target)

    def failure() -> TransportError:
        with pytest.raises(TransportError) as info:
            transport_for(PublishTarget.objects.get(pk=target.pk)).publish(bundle)
        return info.value

    sshd.bundle.chmod(0o555)
    try:
        denied = failure()
        assert denied.kind == TransportErrorKind.PERMISSION_DENIED, str(denied)
    finally:
        sshd.bundle.chmod(0o755)
    # The key is not in authorized_keys: ssh's own "Permission denied (publickey)".
    lines = sshd.authorized_keys.read_text()
    sshd.authorized_keys.write_text("")
    try:
        refused = failure()
    finally:
        sshd.authorized_keys.write_text(lines)
    assert refused.kind == TransportErrorKind.KEY_REFUSED
    assert str(refused) == "The server refused the key (is it in authorized_keys?)."
    sshd.stop()
    assert failure().kind == TransportErrorKind.REFUSED
    sshd.new_host_key()
    sshd.start()
    assert failure().kind == TransportErrorKind.HOST_KEY_MISMATCH
