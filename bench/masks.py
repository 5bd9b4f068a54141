"""Privacy mask benchmark: what masking adds to storing a frame, and what OpenCV's Haar
cascades find of licence plates and faces on real road frames.

    .venv/bin/python -m bench.masks          # ~1 minute, prints Markdown

1. Cost per 1280×720 frame (real frames of the shared highway clip, JPEG quality 90 as a
   camera sends them), median CPU time of 60 on one thread (CPU time, not wall time, so
   other work on a shared machine does not blur it). The baseline is storing a frame without
   masks: the camera's bytes are stored untouched. With masks, capture decodes, masks and
   re-encodes (quality 90). 0, 1 and 3 masks (17 %, 2 % and 14 % of the frame), each style.
2. Detection (cameras.masks.detect): on frames of the shared highway clip, whose visible
   plates were located by eye (PLATES below), and on the shared road stills (boxes counted
   only: nobody labelled plates or faces there). A box "on a plate" contains a plate's
   labelled centre. OpenCV 5 (the project's pin) has no cascades; the table then says so.
   To measure anyway, run it with OpenCV 4 in a scratch venv, no Django needed:

       python3 -m venv /tmp/cv4 && /tmp/cv4/bin/pip install 'opencv-python-headless<5' numpy av
       PYTHONPATH=. /tmp/cv4/bin/python bench/masks.py
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import av
import cv2
import numpy as np

from cameras import masks
from cameras.masks import Privacy, Region

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
CLIP = TESTDATA / "videos" / "highway_overpass_720p.mp4"
STILLS = {
    "Anchorage street webcams (1280×960)": TESTDATA / "road_images" / "fixed_camera_unlabelled",
    "UK motorway CCTV (352×288)": TESTDATA / "road_images" / "fixed_camera_uk",
}
RUNS = 60
T = TypeVar("T")
SHAPES = (
    ((0.0, 0.25), (0.3, 0.2), (0.32, 0.6), (0.0, 0.7)),  # a house at the left, 17 %
    ((0.8, 0.05), (0.95, 0.05), (0.95, 0.2), (0.8, 0.2)),  # a window, 2 %
    ((0.6, 0.7), (1.0, 0.55), (1.0, 1.0), (0.75, 1.0)),  # a pavement, 14 %
)
# Plates in the clip's frames that a person can point at, located by eye (centre x, y in
# pixels; all between about 7 and 38 pixels wide, most under 15).
PLATES: dict[int, list[tuple[int, int]]] = {
    0: [(692, 95), (740, 93), (673, 58)],
    66: [(719, 165), (682, 79), (743, 78)],
    133: [(758, 541), (1123, 648), (1104, 154)],
    200: [(622, 103), (700, 132), (746, 94), (877, 62), (623, 62)],
    267: [(524, 283), (700, 139), (545, 108), (851, 48)],
    334: [(1128, 175), (1244, 169), (679, 72), (674, 41), (568, 74)],
}


def clip_frames(indices: list[int]) -> dict[int, np.ndarray]:
    wanted, found = set(indices), {}
    with av.open(str(CLIP)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                found[i] = frame.to_ndarray(format="bgr24")
            if len(found) == len(wanted):
                break
    return found


def median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.thread_time()
        work()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1000


def rotating(items: list[T]) -> Callable[[], T]:
    """Each call the next item, round and round: no run hits a cache warmed by the last."""
    cycle = itertools.cycle(items)
    return lambda: next(cycle)


def cost_table(jpegs: list[bytes], images: list[np.ndarray]) -> list[str]:
    next_jpeg, next_image = rotating(jpegs), rotating(images)
    copy_ms = median_ms(lambda: next_image().copy())
    rows = [
        "| masks | style | apply on the decoded frame (ms) | decode + apply + encode (ms) |",
        "|---:|---|---:|---:|",
        "| 0 | — (baseline: the camera's bytes are stored untouched) | 0 | 0 |",
        f"| — | none (decode + encode alone) | — | "
        f"{median_ms(lambda: masks.mask_jpeg(next_jpeg(), Privacy())):.1f} |",
    ]
    for count in (1, 3):
        for style in masks.STYLES:
            privacy = Privacy(regions=tuple(Region(shape, style) for shape in SHAPES[:count]))

            def apply(privacy: Privacy = privacy) -> None:
                masks.apply_privacy(next_image().copy(), privacy)

            def whole(privacy: Privacy = privacy) -> None:
                masks.mask_jpeg(next_jpeg(), privacy)

            applied = max(0.0, median_ms(apply) - copy_ms)
            rows.append(f"| {count} | {style} | {applied:.1f} | {median_ms(whole):.1f} |")
    return rows


def detect_row(
    name: str,
    images: list[np.ndarray],
    labelled: list[list[tuple[int, int]]] | None,
    upscale: int = 1,
) -> str:
    plate_boxes = face_boxes = on_plate = frames_plate = frames_face = 0
    times = []
    for i, image in enumerate(images):
        big = (
            image
            if upscale == 1
            else cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
        )
        started = time.thread_time()
        plates = masks.detect(big, plates=True, faces=False)
        middle = time.thread_time()
        faces = masks.detect(big, plates=False, faces=True) if upscale == 1 else []
        times.append((middle - started, time.thread_time() - middle))
        plates = [(x // upscale, y // upscale, w // upscale, h // upscale) for x, y, w, h in plates]
        plate_boxes += len(plates)
        face_boxes += len(faces)
        frames_plate += bool(plates)
        frames_face += bool(faces)
        if labelled is not None:
            on_plate += sum(
                any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in plates)
                for cx, cy in labelled[i]
            )
    visible = "not labelled" if labelled is None else str(sum(len(p) for p in labelled))
    found = "—" if labelled is None else f"{on_plate}"
    plate_ms = statistics.median(t[0] for t in times) * 1000
    face_ms = "—" if upscale != 1 else f"{statistics.median(t[1] for t in times) * 1000:.0f}"
    face_counts = "—" if upscale != 1 else f"{face_boxes} on {frames_face}"
    return (
        f"| {name} | {len(images)} | {visible} | {plate_boxes} on {frames_plate} | {found} | "
        f"{face_counts} | {plate_ms:.0f} | {face_ms} |"
    )


def detection_table() -> list[str]:
    problem = masks.detection_problem()
    if problem:
        return [f"Not measured here: {problem}", "Run it with OpenCV 4 (see the docstring)."]
    rows = [
        "| frames | n | plates visible by eye | plate boxes on frames | boxes on a plate | "
        "face boxes on frames | plates ms/frame | faces ms/frame |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    clip = clip_frames(list(PLATES))
    images = [clip[i] for i in PLATES]
    labelled = list(PLATES.values())
    rows.append(detect_row("highway clip (1280×720)", images, labelled))
    rows.append(detect_row("the same, upscaled ×3 for plates", images, labelled, upscale=3))
    for name, folder in STILLS.items():
        stills = [cv2.imread(str(p)) for p in sorted(folder.glob("*.jpg"))]
        rows.append(detect_row(name, [s for s in stills if s is not None], None))
    return rows


def main() -> None:
    if not CLIP.is_file():
        sys.exit(f"The shared test data is not here ({CLIP}): nothing to measure.")
    cv2.setNumThreads(1)
    clip = clip_frames(list(range(0, 300, 10)))
    images = list(clip.values())
    jpegs = [cv2.imencode(".jpg", i, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for i in images]
    print(f"# Privacy masks (OpenCV {cv2.__version__}, one thread)\n")
    print("## Cost per 1280×720 frame, median CPU time of 60\n")
    print("\n".join(cost_table(jpegs, images)))
    print("\n## Automatic blurring: Haar cascades on real frames\n")
    print("\n".join(detection_table()))


if __name__ == "__main__":
    main()
