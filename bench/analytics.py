"""Road condition: imgserv against the closed product's rule, in the same run.

    .venv/bin/python -m bench.analytics

Prints Markdown tables: snow-versus-bare confusion and accuracy on the labelled web photos
(`snowy` against `rainy_wet` + `highway_mostly_dry`), time per 1280×720 frame, and per-image
levels on the unlabelled fixed-camera frames. The labels are noisy (many "snowy" photos show
a cleared road in a snowy landscape); use the numbers to compare, not as a claim.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgserv_site.settings")

import django

django.setup()

from analytics.condition import Level, classify  # noqa: E402
from analytics.road import detect_road, polygon_mask  # noqa: E402

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "road_images"
SNOW, BARE = "snow", "bare"
CLASSES = {"snowy": SNOW, "rainy_wet": BARE, "highway_mostly_dry": BARE}
TRAPEZOID = [(0.1, 0.7), (0.9, 0.7), (0.8, 0.9), (0.2, 0.9)]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
SNOWY_LEVELS = {Level.LIGHT, Level.MODERATE, Level.HEAVY}


def read_image(path: Path) -> np.ndarray:
    """`cv2.imread`, raising instead of returning None when the file is absent or unreadable."""
    image = cv2.imread(str(path))
    if image is None:
        raise OSError(f"cannot read image {path}")
    return image


def baseline(image: np.ndarray) -> str:
    """The closed product: fixed trapezoid, snow = HSV S ≤ 30 and V ≥ 200, coverage levels."""
    mask = polygon_mask(TRAPEZOID, image.shape[1], image.shape[0])
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    snow = (hsv[..., 1] <= 30) & (hsv[..., 2] >= 200) & mask
    coverage = int(np.count_nonzero(snow)) / max(1, int(np.count_nonzero(mask)))
    if coverage > 0.50:
        return Level.HEAVY.label
    if coverage > 0.25:
        return Level.MODERATE.label
    return Level.LIGHT.label if coverage > 0.10 else Level.CLEAR.label


def imgserv(image: np.ndarray) -> str:
    """Road detected from this one image (a fixed camera would reuse it), then classified."""
    road = detect_road(image)
    mask = polygon_mask(road.polygon, image.shape[1], image.shape[0])
    return Level(classify(image, mask).level).label


def is_snow(label: str) -> bool:
    return label in {level.label for level in SNOWY_LEVELS}


def labelled() -> list[tuple[Path, str]]:
    base = TESTDATA / "webscraped"
    return [
        (p, truth)
        for name, truth in CLASSES.items()
        for p in sorted((base / name).iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]


def evaluate(rule: Callable[[np.ndarray], str], items: list[tuple[np.ndarray, str]]) -> dict:
    counts = {(t, p): 0 for t in (SNOW, BARE) for p in (SNOW, BARE)}
    for image, truth in items:
        counts[(truth, SNOW if is_snow(rule(image)) else BARE)] += 1
    return counts


def confusion_table(results: dict[str, dict]) -> str:
    lines = [
        "| method | snow→snow | snow→bare | bare→snow | bare→bare | accuracy | snow recall "
        "| bare specificity |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in results.items():
        total = sum(c.values())
        snow_n, bare_n = c[(SNOW, SNOW)] + c[(SNOW, BARE)], c[(BARE, SNOW)] + c[(BARE, BARE)]
        accuracy = (c[(SNOW, SNOW)] + c[(BARE, BARE)]) / total
        balanced = (c[(SNOW, SNOW)] / snow_n, c[(BARE, BARE)] / bare_n)
        lines.append(
            f"| {name} | {c[(SNOW, SNOW)]} | {c[(SNOW, BARE)]} | {c[(BARE, SNOW)]} "
            f"| {c[(BARE, BARE)]} | {accuracy:.1%} | {balanced[0]:.1%} | {balanced[1]:.1%} |"
        )
    return "\n".join(lines)


def per_frame_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def timing_table(images: list[np.ndarray]) -> str:
    frames = [cv2.resize(i, (1280, 720), interpolation=cv2.INTER_LINEAR) for i in images[:20]]
    road = detect_road(frames[0])
    mask = polygon_mask(road.polygon, 1280, 720)
    rows: dict[str, Callable[[np.ndarray], object]] = {
        "baseline rule": lambda f: baseline(f),
        "imgserv classify (road known, as per frame on a camera)": lambda f: classify(f, mask),
        "imgserv road detection (once per camera, from 1 frame)": lambda f: detect_road(f),
        "imgserv detection + classify": lambda f: imgserv(f),
    }
    lines = ["| step | median ms per 1280×720 frame |", "|---|---:|"]
    for name, fn in rows.items():
        ms = statistics.median(per_frame_ms(partial(fn, f), 5) for f in frames)
        lines.append(f"| {name} | {ms:.1f} |")
    return "\n".join(lines)


def fixed_camera_table() -> str:
    lines = ["| frame | baseline | imgserv | snow coverage | wetness | confidence |"]
    lines.append("|---|---|---|---:|---:|---:|")
    for path in sorted((TESTDATA / "fixed_camera_unlabelled").glob("*.jpg")):
        image = read_image(path)
        road = detect_road(image)
        c = classify(image, polygon_mask(road.polygon, image.shape[1], image.shape[0]))
        lines.append(
            f"| {path.name} | {baseline(image)} | {Level(c.level).label} "
            f"| {c.snow_coverage:.0%} | {c.wetness:.2f} | {c.confidence:.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    if not TESTDATA.exists():
        print(f"{TESTDATA} is absent: the shared test data is only on the project's machines")
        return 0
    items, skipped = [], []
    for path, truth in labelled():
        image = cv2.imread(str(path))
        if image is None:
            skipped.append(path.name)
        else:
            items.append((image, truth))
    print(f"## Snow vs bare, {len(items)} web photos (unreadable, skipped: {skipped or 'none'})\n")
    results = {
        "baseline (closed product)": evaluate(baseline, items),
        "imgserv": evaluate(imgserv, items),
    }
    print(confusion_table(results))
    print("\n## Time per frame\n")
    print(timing_table([image for image, _ in items]))
    print("\n## Fixed cameras (unlabelled; judged by eye in the README)\n")
    print(fixed_camera_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
