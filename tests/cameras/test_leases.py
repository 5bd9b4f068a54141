"""Leases: which capture node holds which camera (cameras.leases)."""

from __future__ import annotations

import datetime as dt

from cameras import leases
from cameras.models import Camera, CaptureNode, SourceKind

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def cameras(count: int) -> list[Camera]:
    return [
        Camera.objects.create(
            name=f"c{i}", slug=f"c{i}", location_name=f"C{i}", source_kind=SourceKind.DEMO
        )
        for i in range(count)
    ]


def test_a_camera_is_held_by_one_node_only(db):
    cameras(3)
    first = leases.claim("a:1", NOW, 3)
    assert len(first) == 3
    assert leases.claim("b:2", NOW, 3) == []


def test_a_stale_lease_is_taken_over(db):
    cameras(2)
    leases.claim("a:1", NOW, 2)
    assert leases.claim("b:2", NOW + leases.TTL / 2, 2) == []
    taken = leases.claim("b:2", NOW + leases.TTL + dt.timedelta(milliseconds=1), 2)
    assert len(taken) == 2
    assert set(Camera.objects.values_list("lease_owner", flat=True)) == {"b:2"}


def test_renewing_keeps_only_what_the_node_still_holds(db):
    one, two = cameras(2)
    leases.claim("a:1", NOW, 2)
    later = NOW + leases.TTL * 2
    leases.claim("b:2", later, 1)  # takes the stale lease of the first camera
    Camera.objects.filter(pk=two.pk).update(enabled=False)
    assert leases.renew("a:1", [one.pk, two.pk], later) == set()


def test_live_nodes_split_the_cameras_fairly(db):
    cameras(5)
    leases.beat("a:1", NOW, 0)
    assert leases.fair_share(NOW) == 5
    leases.beat("b:2", NOW, 0)
    assert leases.fair_share(NOW) == 3
    assert leases.fair_share(NOW + leases.TTL * 2) == 5  # nobody beat since: none is live


def test_a_node_leaving_frees_its_cameras_at_once(db):
    cameras(2)
    leases.beat("a:1", NOW, 2)
    leases.claim("a:1", NOW, 2)
    leases.leave("a:1", NOW)
    assert not CaptureNode.objects.exists()
    assert len(leases.claim("b:2", NOW, 2)) == 2
