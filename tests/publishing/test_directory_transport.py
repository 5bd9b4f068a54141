from __future__ import annotations

import os
from pathlib import Path

import pytest

from publishing.transports import DirectoryTransport, TransportError, TransportErrorKind


def bundle(folder: Path, version: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("page")
    (folder / "cam").mkdir()
    (folder / "cam" / "latest.gif").write_text(f"gif {version}")
    return folder


def test_it_switches_current_to_a_complete_new_release(tmp_path):
    root = tmp_path / "www"
    transport = DirectoryTransport(root)
    first = transport.publish(bundle(tmp_path / "b1", "1"))
    second = transport.publish(bundle(tmp_path / "b2", "2"))
    assert os.readlink(root / "current") == f"releases/{second.release}"
    assert (root / "current" / "cam" / "latest.gif").read_text() == "gif 2"
    # The previous release stays whole, for readers still on it.
    assert (root / "releases" / first.release / "cam" / "latest.gif").read_text() == "gif 1"


def test_it_hard_links_files_that_did_not_change(tmp_path):
    root = tmp_path / "www"
    transport = DirectoryTransport(root)
    first = transport.publish(bundle(tmp_path / "b1", "1"))
    second = transport.publish(bundle(tmp_path / "b2", "2"))
    old, new = root / "releases" / first.release, root / "releases" / second.release
    assert (new / "index.html").stat().st_ino == (old / "index.html").stat().st_ino
    assert (new / "cam/latest.gif").stat().st_ino != (old / "cam/latest.gif").stat().st_ino
    assert second.bytes_sent == len("gif 2")


def test_it_keeps_the_last_three_releases(tmp_path):
    root = tmp_path / "www"
    transport = DirectoryTransport(root)
    made = [transport.publish(bundle(tmp_path / f"b{i}", str(i))).release for i in range(5)]
    assert sorted(p.name for p in (root / "releases").iterdir()) == made[-3:]


def test_it_says_when_the_folder_cannot_be_written(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TransportError, match="Could not write the bundle folder") as info:
        DirectoryTransport(blocker / "www").publish(bundle(tmp_path / "b", "1"))
    assert info.value.kind == TransportErrorKind.WRITE_FAILED
