from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "container: boots a Debian container with systemd for minutes "
        "(deploy/test-in-container.sh; skipped unless IMGSRV_CONTAINER_TESTS=1)",
    )
