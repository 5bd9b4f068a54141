"""`manage.py analyze_image FILE… [--temperature-c T] [weather flags] [--json]`."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.core.management.base import BaseCommand, CommandError

from analytics.evidence import WeatherEvidence
from analytics.kinds import Level, State, state_label
from analytics.reading import Reading, read_file_image

# Flag, evidence field, help.
WEATHER_FLAGS = (
    ("--temperature-c", "temperature_c", "Air temperature now, °C."),
    ("--dew-point-c", "dew_point_c", "Dew point now, °C."),
    ("--snowfall-24h-cm", "snowfall_24h_cm", "Snowfall in the last 24 hours, cm."),
    ("--snowfall-72h-cm", "snowfall_72h_cm", "Snowfall in the last 72 hours, cm."),
    ("--precip-6h-mm", "precipitation_6h_mm", "Precipitation in the last 6 hours, mm."),
    ("--precip-24h-mm", "precipitation_24h_mm", "Precipitation in the last 24 hours, mm."),
    ("--snow-depth-cm", "snow_depth_cm", "Snow on the ground, cm."),
    ("--hours-below-freezing-72h", "hours_below_freezing_72h", "Hours at or below 0 °C in 72 h."),
)


class Command(BaseCommand):
    help = (
        "Decide the road's state in image files: Dry, Wet, Snow (Light/Moderate/Heavy), Ice "
        "possible or Unknown, with the reason. Each file is analysed on its own: its road is "
        "detected from that image alone, and there is no weather history or learned bare "
        "road unless the weather flags give it. Without any, the picture decides alone."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        for flag, field, text in WEATHER_FLAGS:
            kind = int if flag.startswith("--hours") else float
            parser.add_argument(flag, dest=field, type=kind, default=None, help=text)
        parser.add_argument(
            "--freezing-precip",
            action="store_true",
            help="Freezing rain or drizzle fell in the last 12 hours.",
        )
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        weather = evidence_from(options)
        failed = 0
        for name in options["files"]:
            image = read_image(Path(name))
            if image is None:
                failed += 1
                self.stderr.write(f"{name}: cannot read this file as an image")
                continue
            self.stdout.write(render(name, read_file_image(image, weather), options["json"]))
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} files could not be read")


def evidence_from(options: dict[str, Any]) -> WeatherEvidence:
    values = {field: options[field] for _flag, field, _text in WEATHER_FLAGS}
    if options.get("freezing_precip"):
        values["freezing_precipitation_12h"] = True
    # Sums given on the command line stand for a covered window, as a stored history would.
    covered = [values[k] for k in ("snowfall_72h_cm", "precipitation_24h_mm")]
    hours = 72 if any(v is not None for v in covered) else 0
    return WeatherEvidence(**values, hours_known=hours, source="command line")


def read_image(path: Path) -> np.ndarray | None:
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def render(name: str, reading: Reading, as_json: bool) -> str:
    d, p = reading.decision, reading.picture
    level = Level(d.level).label if d.level else None
    if as_json:
        data: dict[str, Any] = {
            "file": name,
            "state": d.state,
            "label": state_label(d.state, d.level),
            "reason": d.reason,
            "level": level,
            "confidence": d.confidence,
            "ice_likelihood": d.ice_likelihood,
        }
        if p is not None:
            keys = ("snow_coverage", "pale_coverage", "wetness", "road_pixels", "is_night")
            data.update({k: getattr(p, k) for k in keys})
        data["notes"] = d.notes
        return json.dumps(data)
    text = f"{name}: {State(d.state).label}"
    if d.state == State.SNOW:
        text += f" ({level})"
    text += f" — {d.reason}; confidence {d.confidence:.2f}"
    if p is not None:
        text += f"; snow {p.snow_coverage:.0%}, pale {p.pale_coverage:.0%}, wet {p.wetness:.2f}"
    return text
