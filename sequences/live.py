"""Live updates: the typed messages, the one helper that sends them, and the database watcher.

Message types (each also carries `camera`, the camera's slug):
- `sequence.updated`: a new sequence was built; `sequence_id`, `built_at`, `first_captured_at`,
  `last_captured_at` (ISO 8601 UTC), `frame_count`, `gif_url`, `mp4_url` and `webp_url`
  (empty when that format was not built).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections

from sequences.choices import OutputFormat
from sequences.models import Sequence

log = logging.getLogger(__name__)

ALL_CAMERAS = "live"


def camera_group(slug: str) -> str:
    return f"live.{slug}"


class SequenceUpdated(TypedDict):
    type: Literal["sequence.updated"]
    camera: str
    sequence_id: int
    built_at: str
    first_captured_at: str
    last_captured_at: str
    frame_count: int
    gif_url: str
    mp4_url: str
    webp_url: str


def sequence_updated(sequence: Sequence) -> SequenceUpdated:
    return {
        "type": "sequence.updated",
        "camera": sequence.camera.slug,
        "sequence_id": sequence.pk,
        "built_at": sequence.built_at.isoformat(),
        "first_captured_at": sequence.first_captured_at.isoformat(),
        "last_captured_at": sequence.last_captured_at.isoformat(),
        "frame_count": sequence.frame_count,
        "gif_url": f"{sequence.url_for(OutputFormat.GIF)}?v={sequence.pk}",
        "mp4_url": f"{sequence.url_for(OutputFormat.MP4)}?v={sequence.pk}" if sequence.mp4 else "",
        "webp_url": f"{sequence.url_for(OutputFormat.WEBP)}?v={sequence.pk}"
        if sequence.webp
        else "",
    }


async def abroadcast(event: SequenceUpdated) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(ALL_CAMERAS, dict(event))
    await layer.group_send(camera_group(event["camera"]), dict(event))


def broadcast(event: SequenceUpdated) -> None:
    """Send to every viewer of all cameras and of this camera. Never raises: a viewer that
    misses a message catches up by polling."""
    try:
        async_to_sync(abroadcast)(event)
    except Exception:
        log.exception("live broadcast of %s failed", event["type"])


def announce(sequence: Sequence) -> None:
    """Tell viewers about a sequence just built in this process. With the in-memory layer the
    web process's watcher announces it instead (once, from the process the viewers are in)."""
    if not settings.LIVE_WATCH_DATABASE:
        broadcast(sequence_updated(sequence))


def _latest_id() -> int:
    close_old_connections()
    return Sequence.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _events_after(last_id: int) -> list[SequenceUpdated]:
    close_old_connections()
    news = Sequence.objects.filter(pk__gt=last_id).select_related("camera").order_by("pk")
    return [sequence_updated(s) for s in news]


class DatabaseWatcher:
    """Broadcasts sequences that another process built. Needed only with the in-memory layer
    (embedded mode), where the worker cannot reach this process's viewers."""

    _task: asyncio.Task[None] | None = None

    @classmethod
    def ensure_running(cls) -> None:
        if not settings.LIVE_WATCH_DATABASE:
            return
        loop = asyncio.get_running_loop()
        if cls._task is None or cls._task.done() or cls._task.get_loop() is not loop:
            cls._task = loop.create_task(cls._run())

    @classmethod
    async def _run(cls) -> None:
        last_id = await sync_to_async(_latest_id, thread_sensitive=False)()
        while True:
            await asyncio.sleep(settings.LIVE_WATCH_INTERVAL)
            try:
                events = await sync_to_async(_events_after, thread_sensitive=False)(last_id)
            except Exception:
                log.exception("live watcher could not read sequences")
                continue
            for event in events:
                last_id = event["sequence_id"]
                await abroadcast(event)
