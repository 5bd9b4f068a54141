from __future__ import annotations

import uuid

import pytest


@pytest.fixture(autouse=True)
def fresh_counters(settings) -> None:
    """Login-failure and rate-limit counters live in the cache; each test gets its own empty one.

    Not cache.clear(): in scale-out mode that would flush the Redis database of the task queue.
    """
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4()}",
        }
    }
