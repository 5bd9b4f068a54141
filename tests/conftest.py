from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django_q.conf import Conf

from cameras.models import Camera, SourceKind
from tests.processes import child_env  # noqa: F401  (a fixture, for tests that start processes)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TESTDATA = SHARED / "testdata"

# The checkout's own data folder: a developer's database, media and secret key. The test
# settings point DATA_DIR elsewhere; this makes any write that still lands here fail the test
# that made it (in this process, by an audit hook) or the run (a child process, at the end).
REPO_DATA = ROOT / "data"
_REPO_DATA_PREFIX = str(REPO_DATA) + os.sep
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Audit events that change files: the argument positions of each path and of its dir_fd (a
# relative path is relative to that open folder, not to the working directory, unless it is
# -1 or None).
_WRITE_EVENTS: dict[str, tuple[tuple[int, int | None], ...]] = {
    "os.mkdir": ((0, 2),),
    "os.rmdir": ((0, 1),),
    "os.remove": ((0, 1),),
    "os.rename": ((0, 2), (1, 3)),
    "os.link": ((1, 3),),
    "os.symlink": ((1, 2),),
    "os.truncate": ((0, None),),
    "os.chmod": ((0, 2),),
    "os.utime": ((0, 3),),
    "shutil.rmtree": ((0, 1),),
    "sqlite3.connect": ((0, None),),
}
_repo_data_writes: list[str] = []
_data_before = pytest.StashKey[set[str] | None]()


def _in_repo_data(path: object, dir_fd: object) -> bool:
    if not isinstance(path, str | bytes | os.PathLike):
        return False  # a file descriptor
    name = os.fsdecode(path)
    if not os.path.isabs(name) and dir_fd not in (None, -1):
        return False  # relative to some open folder, not to the working directory
    absolute = os.path.abspath(name)
    return absolute == str(REPO_DATA) or absolute.startswith(_REPO_DATA_PREFIX)


def _refuse_repo_data_writes(event: str, args: tuple[Any, ...]) -> None:
    if event == "open":
        # os.open's event has no dir_fd; only the writes matter.
        if not (isinstance(args[2], int) and args[2] & _WRITE_FLAGS):
            return
        named: list[tuple[object, object]] = [(args[0], None)]
    elif event in _WRITE_EVENTS:
        named = [
            (args[at], args[fd] if fd is not None and fd < len(args) else None)
            for at, fd in _WRITE_EVENTS[event]
        ]
    else:
        return
    for path, dir_fd in named:
        if _in_repo_data(path, dir_fd):
            _repo_data_writes.append(f"{event} {os.fsdecode(path)}")  # type: ignore[arg-type]
            raise RuntimeError(f"a test wrote into the checkout's data folder: {event} {path}")


sys.addaudithook(_refuse_repo_data_writes)


@pytest.fixture(autouse=True)
def no_writes_to_repo_data() -> Iterator[None]:
    """Fail the test even where the code under test swallowed the hook's exception."""
    before = len(_repo_data_writes)
    yield
    if len(_repo_data_writes) > before:
        pytest.fail(
            "wrote into the checkout's data folder: " + "; ".join(_repo_data_writes[before:])
        )


def _repo_data_entries() -> set[str] | None:
    """What the checkout's data folder holds at the top (None: no folder), less SQLite's own
    side files, which a server running from this checkout makes and removes as it likes."""
    if not REPO_DATA.is_dir():
        return None
    return {
        p.name for p in REPO_DATA.iterdir() if not p.name.endswith(("-wal", "-shm", "-journal"))
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[_data_before] = _repo_data_entries()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A process started by a test is outside the audit hook: what it made shows here."""
    before, after = session.stash.get(_data_before, None), _repo_data_entries()
    if after is None or after == before:
        return
    made = sorted(after ^ (before or set())) or ["the folder itself"]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"FAILED: the test run wrote into {REPO_DATA}: {', '.join(made)}"
    if reporter is not None:
        reporter.write_line(message, red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Tests talk to 127.0.0.1 only: a weather call that no test routed to its own local server
# fails at once on this closed port instead of reaching the real API.
NO_WEATHER = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Every test writes its frames and sequences into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path
    settings.NWS_API_URL = settings.OPEN_METEO_API_URL = NO_WEATHER
    # Each test its own cache, so rate-limit counters never carry over from other tests.
    # (Not cache.clear(): in scale-out mode that would wipe the Redis database the queue uses.)
    settings.CACHES = {
        name: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{name}-{uuid.uuid4()}",
        }
        for name in ("default", "shared")
    }
    return settings.MEDIA_ROOT


@pytest.fixture
def sync_tasks() -> Iterator[None]:
    """Run Django-Q2 tasks inline, as the worker would, so a test sees their effect."""
    before = Conf.SYNC
    Conf.SYNC = True
    yield
    Conf.SYNC = before


@pytest.fixture
def camera(db) -> Camera:
    return Camera.objects.create(
        name="Main Street",
        slug="main-street",
        location_name="Main St at 5th Ave",
        time_zone="America/New_York",
        source_kind=SourceKind.DEMO,
        capture_width=640,
        capture_height=360,
        update_interval_minutes=1,
        frames_per_sequence=5,
    )


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose tool or data this machine lacks, saying which; under CI=true fail
    instead: CI has the shared test data and `make test` installs every tool
    (deploy/system-packages.txt), so a skip there would hide a missing file or package."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: CI has everything the tests need)")
    pytest.skip(reason, allow_module_level=True)


def testdata(relative: str) -> Path:
    """A file from ../shared/testdata, or a skip saying why (a user's clone has none)."""
    path = TESTDATA / relative
    if not path.exists():
        unavailable(f"{path} is absent: the shared test data is only on the project's machines")
    return path
