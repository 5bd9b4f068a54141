from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from publishing.models import PublishTarget, TargetKind
from tests.publishing.conftest import command


def test_it_adds_an_rsync_target_with_the_default_key(db, settings):
    out = command("add", "vps", "--rsync", "pub@example.org:/srv/imgserv/bundle", "--port", "2200")
    target = PublishTarget.objects.get(name="vps")
    assert (target.kind, target.user, target.host, target.port) == (
        TargetKind.RSYNC, "pub", "example.org", 2200,
    )  # fmt: skip
    assert target.identity_file == str(settings.DATA_DIR / "publishing" / "id_ed25519")
    assert "publish trust vps" in out


def test_it_adds_a_directory_target(db, tmp_path):
    command("add", "local", "--directory", str(tmp_path / "www"))
    assert PublishTarget.objects.get().remote_path == str(tmp_path / "www")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("example.org:/srv", "USER@HOST:/absolute/path"),
        ("pub@example.org:relative", "USER@HOST:/absolute/path"),
        ("Pub User@example.org:/srv", "USER@HOST:/absolute/path"),
        ("pub@bad_host!:/srv", "host"),
        ("pub@example.org:/srv/../etc", "“..”"),
    ],
)
def test_it_refuses_a_bad_destination(db, spec, message):
    with pytest.raises(CommandError, match=message):
        command("add", "vps", "--rsync", spec)
    assert not PublishTarget.objects.exists()


def test_it_lists_targets_without_their_key(db):
    command("add", "vps", "--rsync", "pub@example.org:/srv/b", "--identity", "/keys/secret_key")
    out = command("list")
    assert "vps  rsync  pub@example.org:/srv/b (port 22)  enabled, host key not pinned" in out
    assert "secret_key" not in out


def test_it_prints_a_restricted_authorized_keys_line(db, settings):
    command("add", "vps", "--rsync", "pub@example.org:/srv/b")
    out = command("keygen", "vps")
    line = out.strip().splitlines()[-1]
    assert line.startswith('command="/usr/local/lib/imgserv/publish-gate /srv/b",restrict ')
    assert line.endswith("imgserv-publish")
    assert (settings.DATA_DIR / "publishing" / "id_ed25519").stat().st_mode & 0o077 == 0
    # A second keygen keeps the key already authorised on the server.
    assert command("keygen", "vps").strip().splitlines()[-1] == line


def test_it_exits_1_with_the_reason_when_a_publish_fails(db):
    command("add", "vps", "--rsync", "pub@example.org:/srv/b", "--identity", "/nonexistent/key")
    with pytest.raises(CommandError, match=r"No host key is pinned.*publish trust"):
        command("now", "vps")


def test_it_publishes_now_to_a_directory(build, tmp_path):
    build()
    command("add", "local", "--directory", str(tmp_path / "www"))
    out = command("now")
    assert "local: published 9 files" in out
    assert (tmp_path / "www" / "current" / "index.html").is_file()


def test_it_names_an_unknown_target(db):
    with pytest.raises(CommandError, match="No publish target named “nope”"):
        command("now", "nope")
