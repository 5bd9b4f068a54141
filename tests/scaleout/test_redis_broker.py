"""Django-Q2 on the Redis broker: tasks queued by one process are run by real qcluster nodes,
each exactly once, and their results land in PostgreSQL."""

from __future__ import annotations

import pytest

from tests.scaleout.conftest import Site, wait_for

pytestmark = pytest.mark.integration

ENQUEUE = """
import json
from django_q.tasks import async_task
print(json.dumps([async_task("sequences.tasks.build_sequence", pk) for pk in IDS]))
"""


def test_it_runs_queued_builds_on_two_qcluster_nodes_into_postgresql(site: Site):
    cameras = [site.seed_camera("north"), site.seed_camera("south")]
    site.qcluster()
    site.qcluster()

    ids = [camera["id"] for camera in cameras]
    tasks = site.shell(ENQUEUE.replace("IDS", repr(ids)))

    def finished() -> list[tuple[str, bool]]:
        rows = site.sql("SELECT id, success FROM django_q_task WHERE id = ANY(%s)", tasks)
        return rows if len(rows) == len(tasks) else []

    done = wait_for(finished, 90, "both build tasks")
    assert all(success for _id, success in done), site.log_tail()
    built = site.sql("SELECT camera_id, frame_count FROM sequences_sequence ORDER BY camera_id")
    assert built == [(ids[0], 5), (ids[1], 5)]
    # The queue was Redis, not the ORM broker's table.
    assert site.sql("SELECT count(*) FROM django_q_ormq") == [(0,)]
