"""`manage.py camera add|update|list|remove|check|capture`.

It lives in imgserv_site because a camera's options include its sequence settings, and
cameras may not import sequences.
"""

from __future__ import annotations

import difflib
import math
import time
import zoneinfo
from argparse import ArgumentParser, ArgumentTypeError
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from cameras.capture import capture_frame
from cameras.configure import check, set_source
from cameras.models import Camera
from cameras.sources import CaptureError, open_source
from cameras.units import Units
from sequences.choices import OptimisationLevel, OverlayStyle
from sequences.models import SequenceSettings


def sequence_options(parser: ArgumentParser) -> None:
    parser.add_argument("--url", help="rtsp://…, http(s)://… snapshot, onvif://host[:port], demo:")
    parser.add_argument("--username", help="User name for the camera.")
    parser.add_argument(
        "--password-file",
        type=Path,
        help="File holding the camera password (kept out of the shell history and `ps`).",
    )
    parser.add_argument("--location", help="Place name shown on the overlay.")
    parser.add_argument(
        "--latitude", type=latitude, help="Decimal degrees, north positive: 39.74 (forecasts)."
    )
    parser.add_argument(
        "--longitude", type=longitude, help="Decimal degrees, east positive: -104.99."
    )
    parser.add_argument(
        "--time-zone", type=time_zone, help="e.g. America/Denver (overlay and viewer times)."
    )
    parser.add_argument(
        "--units",
        choices=Units.values,
        help="metric (°C, cm) or us (°F, inches); auto (the default): the site's UNITS, else "
        "from the location (US units in the United States).",
    )
    parser.add_argument("--update-interval", type=int, help="Minutes: 1, 2, 5, 10, 15 or 30.")
    parser.add_argument("--frames", type=int, help="Frames per sequence, 5–30.")
    parser.add_argument("--frame-duration", help="Seconds per frame, 0.5–5.0.")
    parser.add_argument("--optimisation", choices=OptimisationLevel.values)
    parser.add_argument("--overlay", choices=OverlayStyle.values)
    parser.add_argument("--disable", action="store_true", help="Stop capturing from it.")
    parser.add_argument("--enable", action="store_true", help="Capture from it again.")


class Command(BaseCommand):
    help = "Add, change, list, remove, check and capture from cameras."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add a camera.")
        add.add_argument("name")
        sequence_options(add)
        update = sub.add_parser("update", help="Change a camera's options.")
        update.add_argument("name")
        sequence_options(update)
        sub.add_parser("list", help="List cameras with their health.")
        remove = sub.add_parser("remove", help="Remove a camera with its frames and sequences.")
        remove.add_argument("name")
        check_ = sub.add_parser("check", help="Connect, grab one frame and report (exit 1 if not).")
        check_.add_argument("name")
        capture = sub.add_parser("capture", help="Take frames now.")
        capture.add_argument("name")
        capture.add_argument("--count", type=int, default=1)
        capture.add_argument("--burst", action="store_true", help="As fast as possible.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"do_{action}")(**options)

    def camera(self, name: str) -> Camera:
        camera = Camera.find(name)
        if camera is None:
            raise CommandError(f"No camera named “{name}”. `manage.py camera list` shows them.")
        return camera

    def do_add(self, name: str, **options: Any) -> None:
        if not options["url"]:
            raise CommandError("--url is required to add a camera.")
        if Camera.objects.filter(name=name).exists():
            raise CommandError(f"A camera named “{name}” exists already; use `camera update`.")
        camera = Camera(name=name, slug=slugify(name)[:100], location_name=name)
        self.apply(camera, SequenceSettings(), options)
        self.stdout.write(self.style.SUCCESS(f"Added {camera.name}: {camera.masked_url}"))
        self.stdout.write(place(camera))

    def do_update(self, name: str, **options: Any) -> None:
        camera = self.camera(name)
        opts = SequenceSettings.objects.filter(camera=camera).first() or SequenceSettings()
        self.apply(camera, opts, options)
        self.stdout.write(self.style.SUCCESS(f"Updated {camera.name}: {camera.masked_url}"))
        self.stdout.write(place(camera))

    def apply(self, camera: Camera, opts: SequenceSettings, options: dict[str, Any]) -> None:
        password = read_password(options["password_file"])
        try:
            if options["url"]:
                set_source(camera, options["url"], options["username"] or "", password)
            elif options["username"] or password:
                camera.username = options["username"] or camera.username
                camera.password = password or camera.password
        except (CaptureError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        set_fields(camera, opts, options)
        try:
            with transaction.atomic():
                camera.save()
                opts.camera = camera
                opts.save()
        except ValidationError as exc:
            raise CommandError(describe(exc)) from exc

    def do_list(self, **options: Any) -> None:
        cameras = Camera.objects.all()
        if not cameras:
            self.stdout.write("No cameras. Add one with `manage.py camera add NAME --url URL`.")
        for camera in cameras:
            state = camera.health if camera.enabled else "disabled"
            seen = f"{camera.last_frame_at:%Y-%m-%d %H:%M:%S}" if camera.last_frame_at else "never"
            self.stdout.write(
                f"{camera.name:24} {state:9} last frame {seen:19} {camera.masked_url}"
            )
            if camera.last_error:
                self.stdout.write(f"{'':24} last error: {camera.last_error}")

    def do_remove(self, name: str, **options: Any) -> None:
        camera = self.camera(name)
        camera.delete()
        self.stdout.write(f"Removed {name}. Its files go at the next `manage.py cleanup`.")

    def do_check(self, name: str, **options: Any) -> None:
        camera = self.camera(name)
        try:
            result = check(camera)
        except CaptureError as exc:
            raise CommandError(f"{camera.name}: {exc}") from exc
        self.stdout.write(
            f"{camera.name}: OK in {result.milliseconds:.0f} ms, {result.width}×{result.height}, "
            f"{result.size_bytes:,} bytes ({camera.masked_url})"
        )

    def do_capture(self, name: str, count: int, burst: bool, **options: Any) -> None:
        camera = self.camera(name)
        spacing = 0.0 if burst else camera.capture_spacing.total_seconds()
        try:
            source = open_source(camera)
        except CaptureError as exc:
            raise CommandError(f"{camera.name}: {exc}") from exc
        stored = 0
        try:
            for i in range(count):
                started = time.perf_counter()
                frame = capture_frame(camera, source)
                if frame is None:
                    camera.refresh_from_db()
                    self.stderr.write(f"frame {i + 1}/{count}: {camera.last_error}")
                else:
                    stored += 1
                    self.stdout.write(f"frame {i + 1}/{count}: {frame.file}")
                if i + 1 < count:
                    time.sleep(max(0.0, spacing - (time.perf_counter() - started)))
        finally:
            source.close()
        if not stored:
            raise CommandError("No frame could be stored.")


def coordinate(text: str, limit: int, example: str, positive: str) -> float:
    """Decimal degrees within ±limit; an argparse type, so the message names the option."""
    try:
        value = float(text.replace("−", "-"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ArgumentTypeError(f"“{text}” is not a number of degrees, e.g. {example}.")
    if not -limit <= value <= limit:
        raise ArgumentTypeError(
            f"{text} is out of range: degrees from -{limit} to {limit}, {positive} positive "
            f"(e.g. {example})."
        )
    return value


def latitude(text: str) -> float:
    return coordinate(text, 90, "39.74", "north")


def longitude(text: str) -> float:
    return coordinate(text, 180, "-104.99", "east")


def time_zone(text: str) -> str:
    """An IANA zone name; a near miss is named ("did you mean America/Denver?")."""
    zones = zoneinfo.available_timezones()
    if text in zones:
        return text
    by_case = {zone.lower(): zone for zone in zones}
    close = [by_case[text.lower()]] if text.lower() in by_case else []
    close = close or difflib.get_close_matches(text, sorted(zones), n=3, cutoff=0.75)
    hint = f"did you mean {' or '.join(close)}?" if close else "e.g. America/Denver, Europe/Oslo."
    raise ArgumentTypeError(f"unknown time zone “{text}”: {hint}")


def place(camera: Camera) -> str:
    """Where the camera is and the units that follow from it, as the operator should check."""
    where = [camera.location_name, camera.time_zone]
    if camera.latitude is not None and camera.longitude is not None:
        where.append(f"{camera.latitude:g}, {camera.longitude:g}")
    else:
        where.append("no coordinates (no forecast)")
    if camera.units != Units.AUTO:
        why = "chosen for this camera"
    elif settings.UNITS != Units.AUTO:
        why = "the site's UNITS"
    else:
        why = "from the location"
    return f"  {'; '.join(where)}; units: {camera.display_units.label} ({why})"


def read_password(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the password file {path}: {exc.strerror}.") from exc


def set_fields(camera: Camera, opts: SequenceSettings, options: dict[str, Any]) -> None:
    simple = {
        "location": (camera, "location_name"),
        "latitude": (camera, "latitude"),
        "longitude": (camera, "longitude"),
        "time_zone": (camera, "time_zone"),
        "units": (camera, "units"),
        "update_interval": (camera, "update_interval_minutes"),
        "frames": (camera, "frames_per_sequence"),
        "optimisation": (opts, "optimisation"),
        "overlay": (opts, "overlay_style"),
    }
    for option, (target, attribute) in simple.items():
        if options.get(option) is not None:
            setattr(target, attribute, options[option])
    if options.get("frame_duration") is not None:
        try:
            opts.frame_duration = Decimal(options["frame_duration"])
        except InvalidOperation as exc:
            raise CommandError("--frame-duration must be a number of seconds, e.g. 0.5.") from exc
    if options.get("disable"):
        camera.enabled = False
    if options.get("enable"):
        camera.enabled = True


OPTION_NAMES = {
    "update_interval_minutes": "--update-interval",
    "frames_per_sequence": "--frames",
    "frame_duration": "--frame-duration",
    "time_zone": "--time-zone",
    "location_name": "--location",
    "latitude": "--latitude",
    "longitude": "--longitude",
    "units": "--units",
    "source_url": "--url",
}


def describe(exc: ValidationError) -> str:
    parts = []
    for field, messages in exc.message_dict.items():
        label = OPTION_NAMES.get(field, field)
        parts.append(f"{label}: {' '.join(messages)}")
    return "; ".join(parts)
