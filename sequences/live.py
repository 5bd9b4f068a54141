"""Live updates: the typed messages, the one helper that sends them, and the database watcher.

Viewers subscribe to `ws/live/` (all cameras) or `ws/live/<slug>/` (one camera) and receive
JSON objects. Every message has `type` and `camera` (the camera's slug); times are ISO 8601
in UTC, URLs are relative to the site.

- `sequence.updated`: a new sequence was built. `sequence_id`, `built_at`,
  `first_captured_at`, `last_captured_at`, `frame_count`, `gif_url`, `mp4_url` and `webp_url`
  (each with `?v=<sequence_id>`; empty when that format was not built).
- `camera.health`: the camera's health changed. `health` (`unknown`, `ok`, `degraded`,
  `offline`), `last_frame_at` (null before the first frame), `last_error` (empty when none),
  `consecutive_failures`.
- `condition.updated`: a new road-condition reading; the state is the published one
  (`analytics.stability`). `state` (`dry`, `wet`, `snow`, `ice`, `unknown`), `style` (`dry`,
  `wet`, `light`, `moderate`, `heavy`, `ice_possible`, `unknown`: the colour), `label`
  ("Light snow"; "—" when Unknown), `level` (the closed product's "Light"; empty when
  Unknown), `reason` (plain words), `measured_at`, `temperature_c` (null when unknown; always
  °C), `units` (`metric` or `us`: how the camera shows temperatures, °C or °F),
  `alerts` (texts in those units, in the order they start), `forecast_status` (`ok`, `unavailable`,
  `pending`, `no_location`) and `forecast_label` (its text).

Who sends them depends on the channel layer:
- embedded (in-memory layer, `LIVE_WATCH_DATABASE`): the worker cannot reach the web
  process's viewers, so the web process's `DatabaseWatcher` polls the database for new
  sequences, readings and changed health, and broadcasts what it finds;
- scale-out (channels_redis): the worker sends directly, from the receivers below (sequence
  built, `health_changed`, a `ConditionReading` saved), after its transaction commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from analytics.alerts import ForecastStatus
from analytics.kinds import Level, state_label, style_key
from analytics.models import ConditionReading
from analytics.service import current_conditions
from cameras.models import Camera
from cameras.signals import health_changed
from sequences.choices import OutputFormat
from sequences.models import Sequence

log = logging.getLogger(__name__)

ALL_CAMERAS = "live"


def camera_group(slug: str) -> str:
    """The channel layer group of one camera's viewers. Group names must stay under 100
    characters, so a long slug (up to 100) is replaced by its digest."""
    name = f"live.{slug}"
    return name if len(name) < 100 else f"live.{hashlib.sha256(slug.encode()).hexdigest()}"


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


class CameraHealth(TypedDict):
    type: Literal["camera.health"]
    camera: str
    health: str
    last_frame_at: str | None
    last_error: str
    consecutive_failures: int


class ConditionUpdated(TypedDict):
    type: Literal["condition.updated"]
    camera: str
    state: str
    style: str
    label: str
    level: str
    reason: str
    measured_at: str
    temperature_c: float | None
    units: str
    alerts: list[str]
    forecast_status: str
    forecast_label: str


LiveMessage = SequenceUpdated | CameraHealth | ConditionUpdated


def sequence_updated(sequence: Sequence) -> SequenceUpdated:
    def url(kind: OutputFormat) -> str:
        return f"{sequence.url_for(kind)}?v={sequence.pk}" if sequence.file_for(kind)[0] else ""

    return {
        "type": "sequence.updated",
        "camera": sequence.camera.slug,
        "sequence_id": sequence.pk,
        "built_at": sequence.built_at.isoformat(),
        "first_captured_at": sequence.first_captured_at.isoformat(),
        "last_captured_at": sequence.last_captured_at.isoformat(),
        "frame_count": sequence.frame_count,
        "gif_url": url(OutputFormat.GIF),
        "mp4_url": url(OutputFormat.MP4),
        "webp_url": url(OutputFormat.WEBP),
    }


def camera_health(camera: Camera) -> CameraHealth:
    return {
        "type": "camera.health",
        "camera": camera.slug,
        "health": camera.health,
        "last_frame_at": camera.last_frame_at.isoformat() if camera.last_frame_at else None,
        "last_error": camera.last_error,
        "consecutive_failures": camera.consecutive_failures,
    }


def condition_updated(reading: ConditionReading) -> ConditionUpdated:
    """The reading's published state and its time; temperature, alerts and forecast as the
    viewer shows them now (the forecast's temperature when there is one, else the reading's)."""
    now = current_conditions(reading.camera)
    temperature = now.temperature_c if now.temperature_c is not None else reading.temperature_c
    state, level = reading.published_state, reading.published_level
    return {
        "type": "condition.updated",
        "camera": reading.camera.slug,
        "state": state,
        "style": style_key(state, level),
        "label": state_label(state, level),
        "level": Level(level).label if level else "",
        "reason": reading.published_reason,
        "measured_at": reading.measured_at.isoformat(),
        "temperature_c": temperature,
        "units": reading.camera.display_units.value,
        "alerts": now.alerts,
        "forecast_status": now.forecast_status,
        "forecast_label": _forecast_label(now.forecast_status),
    }


def _forecast_label(status: str) -> str:
    return str(ForecastStatus(status).label)


async def abroadcast(event: LiveMessage) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    await layer.group_send(ALL_CAMERAS, dict(event))
    await layer.group_send(camera_group(event["camera"]), dict(event))


def broadcast(event: LiveMessage) -> None:
    """The one way to send: to every viewer of all cameras and of this camera. Never raises:
    a viewer that misses a message catches up by polling."""
    try:
        async_to_sync(abroadcast)(event)
    except Exception:
        log.exception("live broadcast of %s failed", event["type"])


def _send_after_commit(build: Any, *args: Any) -> None:
    """Scale-out only: build the message once the row is committed, then send it."""
    if settings.LIVE_WATCH_DATABASE:
        return
    transaction.on_commit(lambda: broadcast(build(*args)))


def announce(sequence: Sequence) -> None:
    """Tell viewers about a sequence just built in this process. With the in-memory layer the
    web process's watcher announces it instead (once, from the process the viewers are in)."""
    if not settings.LIVE_WATCH_DATABASE:
        broadcast(sequence_updated(sequence))


def _fresh_health(camera_id: int) -> CameraHealth | None:
    camera = Camera.objects.filter(pk=camera_id).first()
    return camera_health(camera) if camera else None


def _send_health(camera_id: int) -> None:
    message = _fresh_health(camera_id)
    if message is not None:
        broadcast(message)


@receiver(health_changed, dispatch_uid="live.health_changed")
def push_health(sender: type[Camera], camera: Camera, **kwargs: Any) -> None:
    # Read back from the row: capture updates health with a queryset, not on the instance.
    if not settings.LIVE_WATCH_DATABASE:
        transaction.on_commit(lambda: _send_health(camera.pk))


@receiver(post_save, sender=ConditionReading, dispatch_uid="live.condition_reading")
def push_condition(
    sender: type[ConditionReading], instance: ConditionReading, created: bool, **kwargs: Any
) -> None:
    if created:
        _send_after_commit(condition_updated, instance)


@dataclass
class WatchState:
    """What the watcher has already announced."""

    last_sequence: int = 0
    last_reading: int = 0
    health: dict[int, str] = field(default_factory=dict)


def _latest_pk(model: type[Sequence] | type[ConditionReading]) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _health_by_camera() -> dict[int, str]:
    return dict(Camera.objects.values_list("pk", "health"))


def start_state() -> WatchState:
    close_old_connections()
    return WatchState(_latest_pk(Sequence), _latest_pk(ConditionReading), _health_by_camera())


def changes_since(state: WatchState) -> list[LiveMessage]:
    """What happened since the last look, oldest first; updates `state`. Of several readings
    of one camera only the newest is announced: the viewer shows one."""
    close_old_connections()
    messages: list[LiveMessage] = []
    health = _health_by_camera()
    changed = [pk for pk, value in health.items() if state.health.get(pk, value) != value]
    state.health = health
    for camera in Camera.objects.filter(pk__in=changed):
        messages.append(camera_health(camera))
    sequences = Sequence.objects.filter(pk__gt=state.last_sequence).select_related("camera")
    for sequence in sequences.order_by("pk"):
        state.last_sequence = sequence.pk
        messages.append(sequence_updated(sequence))
    newest: dict[int, ConditionReading] = {}
    readings = ConditionReading.objects.filter(pk__gt=state.last_reading).select_related("camera")
    for reading in readings.order_by("pk"):
        state.last_reading = reading.pk
        newest[reading.camera_id] = reading
    messages.extend(condition_updated(r) for r in newest.values())
    return messages


class DatabaseWatcher:
    """Broadcasts what another process stored. Needed only with the in-memory layer (embedded
    mode), where the worker cannot reach this process's viewers."""

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
        state = await sync_to_async(start_state, thread_sensitive=False)()
        while True:
            await asyncio.sleep(settings.LIVE_WATCH_INTERVAL)
            try:
                messages = await sync_to_async(changes_since, thread_sensitive=False)(state)
            except Exception:
                log.exception("live watcher could not read the database")
                continue
            for message in messages:
                await abroadcast(message)
