"""The data folder is the service's own: nobody else on the machine reads the database, its
WAL, the secret key or the key of the camera passwords.

Every entry point (`manage.py`, so the worker and every command, and `imgserv_site.asgi`, so
daphne) calls `protect()` before the settings are read:

- The process umask: a login shell's 022 lets everyone read new files, so it becomes 077
  (files 0600, folders 0700). A umask that already keeps others out is the operator's choice
  and is kept: the systemd units' 0027 lets nginx read media and static files through their
  group (deploy/install.sh).
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
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def restrict_umask() -> int:
    """077 unless the inherited umask already denies everything to others; returns it."""
    inherited = os.umask(PRIVATE_UMASK)
    if inherited & 0o007 == 0o007:
        os.umask(inherited)
        return inherited
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
