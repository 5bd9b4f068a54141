"""The data folder is the service's own: nobody else on the machine reads the database, its
WAL, the secret key or the key of the camera passwords.

Every entry point (`manage.py`, so the worker and every command, and `imgserv_site.asgi`, so
daphne) calls `protect()` before anything reads the settings:

- The process umask. A login shell's 022 lets everyone read new files, so it becomes 077
  (files 0600, folders 0700) before the settings make the data folder and the secret key.
  Two cases keep group access, because nginx reads media and static files through their group
  in production (deploy/install.sh makes those folders setgid, group nginx's):
  - a umask that already keeps others out (the systemd units' 0027) is the operator's choice
    and is kept;
  - a command run by hand from a login shell on such an installation (the media or static
    folder is setgid and group-readable) gets 027, so the folders it makes stay readable to
    nginx.
- Files made before (e.g. under an older version): the database and its -wal/-shm/-journal,
  `secret_key` and the key file lose every group and other bit (SQLite gives a new -wal and
  -shm the database's mode); the data and media folders lose the read and write bits the
  umask masks, but keep their execute bits, through which nginx reaches media and static
  files in production.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
GROUP_UMASK = 0o027
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def shared_with_a_group(folder: Path) -> bool:
    """Set up to be read through its group: setgid, group may list it."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISGID) and mode & 0o050 == 0o050


def restrict_umask() -> int:
    """Sets the umask as this module says and returns it. Reads the settings (and so makes
    the data folder) only after the umask is private."""
    inherited = os.umask(PRIVATE_UMASK)
    if inherited & 0o007 == 0o007:
        os.umask(inherited)
        return inherited
    from django.conf import settings

    if any(shared_with_a_group(Path(f)) for f in (settings.MEDIA_ROOT, settings.STATIC_ROOT)):
        os.umask(GROUP_UMASK)
        return GROUP_UMASK
    return PRIVATE_UMASK


def _chmod_without(path: Path, bits: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & bits:
            path.chmod(mode & ~bits)


def sqlite_database() -> Path | None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != "django.db.backends.sqlite3" or not name or ":memory:" in name:
        return None
    return Path(name)


def secret_files() -> list[Path]:
    from django.conf import settings

    from cameras.secrets import key_file

    files = [Path(settings.DATA_DIR) / "secret_key", key_file()]
    database = sqlite_database()
    if database is not None:
        files += [database.with_name(database.name + suffix) for suffix in SQLITE_COMPANIONS]
    return files


def protect_existing(umask: int) -> None:
    from django.conf import settings

    for path in secret_files():
        _chmod_without(path, 0o077)
    for folder in {Path(settings.DATA_DIR), Path(settings.MEDIA_ROOT)}:
        _chmod_without(folder, umask & 0o066)


def protect() -> None:
    protect_existing(restrict_umask())
