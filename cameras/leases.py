"""Which capture node holds which camera: leases in the database, kept alive by heartbeats.

Every capture node (a `manage.py worker` process, on this machine or another) beats once a
second. A node holds a camera by its lease (`Camera.lease_owner`, `lease_until`) and renews
it on each beat; a lease not renewed for `TTL` is free for any node to take, so when a node
dies its cameras move to the others within a few seconds (less than a capture spacing). Each
node holds at most its fair share, `ceil(enabled cameras / live nodes)`, so the nodes split
the cameras between them. All claims are conditional updates: two nodes can never hold one
camera.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import socket

from django.db.models import Q
from django.utils import timezone

from cameras.models import Camera, CaptureNode

HEARTBEAT = dt.timedelta(seconds=1)
# A lease (or a node) not renewed for this long is taken to be dead.
TTL = dt.timedelta(seconds=4)
# Nodes silent for this long are forgotten.
FORGET_NODES_AFTER = dt.timedelta(days=1)


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(node: str, now: dt.datetime, held: int) -> None:
    updated = CaptureNode.objects.filter(name=node).update(heartbeat_at=now, cameras=held)
    if not updated:
        CaptureNode.objects.create(name=node, started_at=now, heartbeat_at=now, cameras=held)


def live_nodes(now: dt.datetime) -> int:
    return CaptureNode.objects.filter(heartbeat_at__gte=now - TTL).count()


def fair_share(now: dt.datetime) -> int:
    enabled = Camera.objects.filter(enabled=True).count()
    return math.ceil(enabled / max(1, live_nodes(now)))


def renew(node: str, camera_ids: list[int], now: dt.datetime) -> set[int]:
    """Extend this node's leases on these cameras; the ids it still holds (a camera that was
    disabled, deleted or taken over after a missed beat is not among them)."""
    held = Camera.objects.filter(pk__in=camera_ids, lease_owner=node, enabled=True)
    held.update(lease_until=now + TTL)
    return set(held.values_list("pk", flat=True))


def claim(node: str, now: dt.datetime, wanted: int) -> list[int]:
    """Take up to `wanted` enabled cameras whose lease is free or stale."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    candidates = Camera.objects.filter(free, enabled=True).order_by("pk")
    taken: list[int] = []
    for pk, owner, until in candidates.values_list("pk", "lease_owner", "lease_until")[
        : wanted * 2
    ]:
        if len(taken) >= wanted:
            break
        # The lease as read: if another node took or renewed it since, this updates nothing.
        same = Camera.objects.filter(pk=pk, lease_owner=owner, lease_until=until)
        if same.update(lease_owner=node, lease_until=now + TTL) == 1:
            taken.append(pk)
    return taken


def release(node: str, camera_ids: list[int] | set[int]) -> None:
    Camera.objects.filter(pk__in=list(camera_ids), lease_owner=node).update(
        lease_owner="", lease_until=None
    )


def leave(node: str, now: dt.datetime | None = None) -> None:
    """A node stopping cleanly: its cameras are free at once, for the other nodes."""
    Camera.objects.filter(lease_owner=node).update(lease_owner="", lease_until=None)
    CaptureNode.objects.filter(name=node).delete()
    CaptureNode.objects.filter(
        heartbeat_at__lt=(now or timezone.now()) - FORGET_NODES_AFTER
    ).delete()
