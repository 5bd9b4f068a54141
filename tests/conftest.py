from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django_q.conf import Conf

from cameras.models import Camera, SourceKind
from tests.processes import child_env  # noqa: F401  (a fixture, for tests that start processes)

SHARED = Path(__file__).resolve().parents[2] / "shared"
TESTDATA = SHARED / "testdata"


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
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
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


def testdata(relative: str) -> Path:
    """A file from ../shared/testdata, or a skip saying why (a user's clone has none)."""
    path = TESTDATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is absent, and CI always has the shared test data")
        pytest.skip(f"{path} is absent: the shared test data is only on the project's machines")
    return path
