#!/usr/bin/python3
"""Forced command for imgserv's publish key on the VPS (authorized_keys `command=`).

    command="/usr/local/lib/imgserv/publish-gate /srv/imgserv/bundle",restrict ssh-ed25519 ...

The key may do exactly two things, both inside the bundle folder given here:
  1. rsync *into* releases/<timestamp>/ (never read, never anywhere else), and
  2. make such a release current (symlink switch) and prune old releases.
Anything else is refused. The client's command is never given to a shell: the rsync
arguments are checked one by one, and for the switch only the release name is taken from
it (a fixed pattern) and the steps are done here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys

RSYNC = "/usr/bin/rsync"
KEEP = 3
RELEASE = r"\d{8}T\d{12}Z"
SWITCH = re.compile(
    rf"^cd -- \S+ && ln -sfn releases/({RELEASE}) current\.tmp && mv -T current\.tmp current"
    r"(?: && .*)?$"
)
SHORT_FLAGS = re.compile(r"^-[rtcvz]*e\.[A-Za-z]+$")
LONG_OPTIONS = {"--mkpath", "--stats", "--link-dest", "../../current"}
TIMEOUT = re.compile(r"^--timeout=\d{1,5}$")


def die(message: str) -> None:
    print(f"publish-gate: {message}", file=sys.stderr)
    sys.exit(1)


def switch(root: str, release: str) -> None:
    if not os.path.isdir(os.path.join(root, "releases", release)):
        die(f"no release {release}")
    temporary = os.path.join(root, "current.tmp")
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(f"releases/{release}", temporary)
    os.replace(temporary, os.path.join(root, "current"))
    current = os.readlink(os.path.join(root, "current"))
    releases = sorted(os.listdir(os.path.join(root, "releases")))
    for name in releases[:-KEEP]:
        if f"releases/{name}" != current and re.fullmatch(RELEASE, name):
            shutil.rmtree(os.path.join(root, "releases", name), ignore_errors=True)


def check_rsync(root: str, argv: list[str]) -> None:
    if argv[:2] != ["rsync", "--server"] or "--sender" in argv:
        die("only uploads with rsync are allowed")
    if len(argv) < 4:
        die("unexpected rsync arguments")
    *options, dot, destination = argv[2:]
    if dot != ".":
        die("unexpected rsync arguments")
    for option in options:
        if not (SHORT_FLAGS.match(option) or option in LONG_OPTIONS or TIMEOUT.match(option)):
            die(f"rsync option {option!r} is not allowed")
    if not re.fullmatch(rf"{re.escape(root)}/releases/{RELEASE}/?", destination):
        die("uploads must go into releases/<timestamp>/ of the bundle folder")


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].startswith("/"):
        die("usage: publish-gate /absolute/bundle/folder")
    root = sys.argv[1].rstrip("/")
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    matched = SWITCH.match(command)
    if matched:
        switch(root, matched.group(1))
        return
    argv = shlex.split(command)
    check_rsync(root, argv)
    os.execv(RSYNC, [RSYNC, *argv[1:]])


if __name__ == "__main__":
    main()
