"""`manage.py analyze_image FILE [FILE…] [--temperature-c T] [--json]`."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.core.management.base import BaseCommand, CommandError

from analytics.condition import Condition, Level, classify
from analytics.road import detect_road, polygon_mask


class Command(BaseCommand):
    help = (
        "Detect the road and classify its condition in image files. Each file is analysed on "
        "its own (its road is detected from that image alone)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--temperature-c",
            type=float,
            default=None,
            help="Air temperature in °C; without it, Ice Possible is never given.",
        )
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for name in options["files"]:
            image = read_image(Path(name))
            if image is None:
                failed += 1
                self.stderr.write(f"{name}: cannot read this file as an image")
                continue
            condition = analyze(image, options["temperature_c"])
            self.stdout.write(render(name, condition, options["json"]))
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} files could not be read")


def read_image(path: Path) -> np.ndarray | None:
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def analyze(image: np.ndarray, temperature_c: float | None) -> Condition:
    road = detect_road(image)
    mask = polygon_mask(road.polygon, image.shape[1], image.shape[0])
    return classify(image, mask, temperature_c)


def render(name: str, c: Condition, as_json: bool) -> str:
    if as_json:
        keys = ("level", "snow_coverage", "wetness", "ice_likelihood", "confidence", "road_pixels")
        data = {"file": name, **{k: getattr(c, k) for k in keys}}
        data["level"] = Level(c.level).label
        return json.dumps(data)
    return (
        f"{name}: {Level(c.level).label}  snow {c.snow_coverage:.0%}  wet {c.wetness:.2f}  "
        f"ice {c.ice_likelihood:.2f}  confidence {c.confidence:.2f}  road {c.road_pixels} px"
    )
