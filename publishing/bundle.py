"""The public bundle: static pages, the newest loop and still per camera, the newest day at a
glance (`<slug>/day.mp4`, `<slug>/day.png`), and status.json.

Only what is listed here is written, from public fields only: names, slugs, place names,
times, condition and alerts. Never a source URL, user, password, host or local path; the
files are taken from MEDIA_ROOT but published under fixed names (`<slug>/latest.gif`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from cameras.models import Camera, Frame
from cameras.units import temperature_text
from sequences.choices import DigestStatus, OutputFormat
from sequences.models import DayDigest, Sequence

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "templates" / "publishing"
STATIC_ASSETS = ("viewer.js", "style.css")
# The pages show a placeholder once the newest frame is older than this many update intervals.
STALE_INTERVALS = 3


@dataclass(frozen=True)
class Bundle:
    path: Path
    files: int
    bytes: int
    sequence_ids: list[int]


def build_bundle(dest: Path) -> Bundle:
    """Write the whole bundle into the empty folder `dest`."""
    now = timezone.now()
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    sequence_ids = []
    for camera in Camera.objects.filter(enabled=True).order_by("name"):
        sequence = Sequence.objects.filter(camera=camera).order_by("-built_at").first()
        if sequence is None:
            continue
        files = place_files(camera, sequence, dest / camera.slug)
        if "gif" not in files:
            continue
        entry = camera_entry(camera, sequence, files, now)
        day = place_day(camera, dest / camera.slug)
        if day:
            entry["day"] = day
        entries.append(entry)
        sequence_ids.append(sequence.pk)
    status = {"generated_at": now.isoformat(), "cameras": entries}
    write_pages(dest, status)
    files_written = [p for p in dest.rglob("*") if p.is_file()]
    return Bundle(
        path=dest,
        files=len(files_written),
        bytes=sum(p.stat().st_size for p in files_written),
        sequence_ids=sequence_ids,
    )


def place_files(camera: Camera, sequence: Sequence, folder: Path) -> dict[str, str]:
    """Link or copy the loop outputs and the newest still; the public name of each placed."""
    media = Path(settings.MEDIA_ROOT)
    sources: dict[str, str] = {
        kind.value: sequence.file_for(kind)[0]
        for kind in OutputFormat
        if sequence.file_for(kind)[0]
    }
    frame = Frame.objects.filter(camera=camera).order_by("-captured_at").first()
    if frame is not None:
        sources["jpg"] = frame.file
    placed = {}
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, relative in sources.items():
        name = f"latest.{suffix}"
        # Retention may have removed a file since the row was read: publish the rest.
        if link_or_copy(media / relative, folder / name):
            placed[suffix] = f"{camera.slug}/{name}"
    return placed


def place_day(camera: Camera, folder: Path) -> dict[str, Any]:
    """The newest built day at a glance: its strip and daylight timelapse under fixed names,
    its date and sun times; nothing when none is built (or its files went)."""
    digest = (
        DayDigest.objects.filter(camera=camera, built_at__isnull=False)
        .exclude(strip="")
        .exclude(status=DigestStatus.PENDING)
        .order_by("-date")
        .first()
    )
    if digest is None:
        return {}
    media = Path(settings.MEDIA_ROOT)
    files = {}
    for suffix, relative in (("png", digest.strip), ("mp4", digest.mp4)):
        name = f"day.{suffix}"
        if relative and link_or_copy(media / relative, folder / name):
            files[suffix] = f"{camera.slug}/{name}"
    if "png" not in files:
        return {}
    tz = camera.tz
    return {
        "date": digest.date.isoformat(),
        "sun_path": digest.sun_path,
        "sunrise": digest.sunrise.astimezone(tz).isoformat() if digest.sunrise else None,
        "sunset": digest.sunset.astimezone(tz).isoformat() if digest.sunset else None,
        "frame_count": digest.frame_count,
        "daylight_frames": digest.daylight_frames,
        "files": files,
    }


def link_or_copy(source: Path, dest: Path) -> bool:
    try:
        os.link(source, dest)
    except FileNotFoundError:
        return False
    except OSError:
        # Another file system, or links not allowed: a copy costs only disk.
        try:
            shutil.copyfile(source, dest)
        except FileNotFoundError:
            return False
    return True


def camera_entry(
    camera: Camera, sequence: Sequence, files: dict[str, str], now: dt.datetime
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "slug": camera.slug,
        "name": camera.name,
        "location_name": camera.location_name,
        "time_zone": camera.time_zone,
        "update_interval_minutes": camera.update_interval_minutes,
        "stale_after_seconds": camera.update_interval_minutes * 60 * STALE_INTERVALS,
        "built_at": sequence.built_at.isoformat(),
        "first_captured_at": sequence.first_captured_at.isoformat(),
        "last_captured_at": sequence.last_captured_at.isoformat(),
        "newest_frame_at": (camera.last_frame_at or sequence.last_captured_at).isoformat(),
        "frame_count": sequence.frame_count,
        # How temperatures and snow are worded for this camera: "metric" or "us".
        "units": camera.display_units.value,
        "width": sequence.width,
        "height": sequence.height,
        "files": files,
    }
    entry.update(conditions(camera, now))
    return entry


def conditions(camera: Camera, now: dt.datetime) -> dict[str, Any]:
    """Road condition and alerts when analytics has them; nothing otherwise. The forecast's
    error message is left out: it may name the provider's URL. `temperature_c` is always °C;
    `temperature` is the text the page shows, in the camera's `units` (metric or us), and the
    alert texts are worded in those units too."""
    from analytics.service import current_conditions

    try:
        found = current_conditions(camera, now)
    except Exception:  # a broken forecast must not stop the pictures from being published
        log.exception("camera %s: conditions unavailable for the bundle", camera.slug)
        return {}
    public: dict[str, Any] = {}
    if found.state:
        # Unknown is published as such, with its reason: the page then shows no condition.
        public["condition"] = {
            "state": found.state,
            "label": found.label,
            "level": found.level_label,
            "style": found.style,
            "reason": found.reason,
            "measured_at": found.measured_at.isoformat() if found.measured_at else None,
        }
    if found.temperature_c is not None:
        public["temperature_c"] = round(found.temperature_c, 1)
        public["temperature"] = temperature_text(found.temperature_c, camera.display_units)
    if found.alerts:
        public["alerts"] = list(found.alerts)
    return public


def write_pages(dest: Path, status: dict[str, Any]) -> None:
    context = {"cameras": status["cameras"], "generated_at": status["generated_at"]}
    (dest / "index.html").write_text(
        render_to_string("publishing/index.html", context), encoding="utf-8"
    )
    (dest / "iframe.html").write_text(
        render_to_string("publishing/iframe.html", context), encoding="utf-8"
    )
    for name in STATIC_ASSETS:
        shutil.copyfile(ASSETS / name, dest / name)
    (dest / "status.json").write_text(json.dumps(status, indent=1), encoding="utf-8")
