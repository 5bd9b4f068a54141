"""Each process tree counts into its own folder; a starting tree removes the folders of ended
ones and keeps those of running ones (a restarted web server never wipes the worker's)."""

from __future__ import annotations

import os
import subprocess
import sys

from imgserv_site.metrics.folders import process_tree_folder, started


def test_a_process_makes_its_own_folder_named_by_pid_and_start_time(tmp_path):
    folder = process_tree_folder(tmp_path, "")
    assert folder == tmp_path / f"{os.getpid()}-{started(os.getpid())}"
    assert folder.is_dir()


def test_a_child_keeps_the_folder_its_parent_made(tmp_path):
    parent = process_tree_folder(tmp_path, "")
    assert process_tree_folder(tmp_path, str(parent)) == parent
    # A folder from another data folder (a test's parent process, say) is not inherited.
    elsewhere = tmp_path / "other" / "1-1"
    elsewhere.mkdir(parents=True)
    assert process_tree_folder(tmp_path, str(elsewhere)) == parent


def test_it_removes_ended_trees_and_keeps_running_ones(tmp_path):
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        alive = tmp_path / f"{running.pid}-{started(running.pid)}"
        gone = tmp_path / f"{ended.pid}-12345"
        reused = tmp_path / f"{running.pid}-1"  # same pid, another process's start time
        unrelated = tmp_path / "notes"
        for folder in (alive, gone, reused, unrelated):
            folder.mkdir()
            (folder / "counter_1.db").write_bytes(b"")
        process_tree_folder(tmp_path, "")
        assert alive.is_dir() and unrelated.is_dir()
        assert not gone.exists() and not reused.exists()
    finally:
        running.kill()
        running.wait()
