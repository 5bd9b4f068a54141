"""Sequence build benchmark: the closed product's GIF pipeline against imgserv's encoders.

    .venv/bin/python -m bench.sequences      # ~1 minute, prints Markdown

Ten frames are taken from the shared test clip (one every second), upscaled 1280x720 ->
1920x1080 with cubic interpolation to stand in for 1080p camera frames, and saved as JPEG
(quality 90) in a temp folder: every pipeline starts from JPEG files on disk, like real
frames. Each pipeline: read -> decode -> resize to 1280x720 -> overlay -> encode.

Time is the median of three runs with every thread of the process pinned to one core.
Memory comes from a fourth run in a fresh interpreter (tracing slows Python, and memory
freed by earlier runs would hide growth): the Python heap peak (tracemalloc; it sees numpy
buffers but not Pillow/OpenCV/x264 native memory) and the peak resident set growth (VmHWM
after the run minus VmRSS before, the high-water mark reset first; it sees everything).
Quality compares the decoded output with the exact overlaid RGB frames fed to the
encoder: mean SSIM (grey, 11x11 Gaussian window, sigma 1.5) and mean PSNR (RGB).

Needs no Django settings: only sequences.encoders, sequences.overlay and sequences.choices.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np
from PIL import Image, ImageSequence

from sequences.choices import OptimisationLevel, OverlayStyle
from sequences.encoders import encode_gif, encode_mp4, encode_webp
from sequences.overlay import OverlayInfo, draw_overlay

VIDEO = Path(
    os.environ.get(
        "IMGSERV_BENCH_VIDEO",
        Path(__file__).resolve().parents[2] / "shared/testdata/videos/highway_overpass_720p.mp4",
    )
)
FRAME_COUNT = 10
CAMERA_SIZE = (1920, 1080)
OUTPUT_SIZE = (1280, 720)
JPEG_QUALITY = 90
DURATION_MS = 500
RUNS = 3
BASELINE_COLOURS = 192
START = datetime(2026, 11, 28, 14, 5, 30, tzinfo=ZoneInfo("America/New_York"))
STYLE = OverlayStyle.FULL

# Targets
GIF_SPEEDUP = 2.0
MP4_MAX_SIZE = 0.20
MP4_MIN_SSIM = 0.97
BUILD_MAX_S = 1.0


@dataclass
class Output:
    kind: str  # gif | mp4 | webp
    path: Path
    size: int


@dataclass
class Result:
    name: str
    seconds: float
    cpu_seconds: float
    heap_mb: float = 0.0
    rss_mb: float = 0.0
    outputs: list[Output] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(output.size for output in self.outputs)


Run = Callable[[list[Path], Path], tuple[list[Image.Image], list[Output]]]


# ------------------------------------------------------------------------ frames


def extract_frames(folder: Path) -> list[Path]:
    capture = cv2.VideoCapture(str(VIDEO))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    step = max(1, min(round(fps), total // FRAME_COUNT))  # one a second when the clip allows
    paths = []
    for index in range(FRAME_COUNT):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index * step)
        ok, bgr = capture.read()
        if not ok:
            sys.exit(f"Could not read frame {index * step} of {VIDEO}.")
        big = cv2.resize(bgr, CAMERA_SIZE, interpolation=cv2.INTER_CUBIC)
        path = folder / f"frame{index:02d}.jpg"
        cv2.imwrite(str(path), big, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        paths.append(path)
    capture.release()
    return paths


def overlay_info(index: int) -> OverlayInfo:
    return OverlayInfo(
        place="Highway overpass",
        captured_at=START + timedelta(seconds=30 * index),
        condition="Moderate",
        temperature_c=-2.0,
        alerts=("Crash ahead",),
    )


def pillow_frames(paths: list[Path]) -> list[Image.Image]:
    """The closed product's way: Pillow decode, Lanczos resize, then the overlay."""
    frames = []
    for index, path in enumerate(paths):
        with Image.open(path) as image:
            resized = image.convert("RGB").resize(OUTPUT_SIZE, Image.Resampling.LANCZOS)
        frames.append(draw_overlay(resized, overlay_info(index), STYLE))
    return frames


def imgserv_frames(paths: list[Path]) -> list[Image.Image]:
    """As sequences.builder.load_frame: JPEG reduced decode when the frame is >= 2x the
    output, area resize, then the overlay."""
    frames = []
    for index, path in enumerate(paths):
        data = np.fromfile(path, np.uint8)
        reduce = CAMERA_SIZE[0] >= 2 * OUTPUT_SIZE[0] and CAMERA_SIZE[1] >= 2 * OUTPUT_SIZE[1]
        bgr = cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2 if reduce else cv2.IMREAD_COLOR)
        if bgr is None:
            sys.exit(f"Could not decode {path}.")
        if (bgr.shape[1], bgr.shape[0]) != OUTPUT_SIZE:
            bgr = cv2.resize(bgr, OUTPUT_SIZE, interpolation=cv2.INTER_AREA)
        image = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        frames.append(draw_overlay(image, overlay_info(index), STYLE))
    return frames


# --------------------------------------------------------------------- pipelines


def baseline(paths: list[Path], out: Path) -> tuple[list[Image.Image], list[Output]]:
    frames = pillow_frames(paths)
    indexed = [frame.quantize(BASELINE_COLOURS) for frame in frames]  # per-frame median cut
    path = out / "baseline.gif"
    indexed[0].save(
        path,
        save_all=True,
        append_images=indexed[1:],
        optimize=True,
        duration=DURATION_MS,
        loop=0,
    )
    return frames, [Output("gif", path, path.stat().st_size)]


def gif(level: OptimisationLevel) -> Run:
    def run(paths: list[Path], out: Path) -> tuple[list[Image.Image], list[Output]]:
        frames = imgserv_frames(paths)
        path = out / f"imgserv-{level.value}.gif"
        size = encode_gif(frames, path, duration_ms=DURATION_MS, level=level)
        return frames, [Output("gif", path, size)]

    return run


def mp4(paths: list[Path], out: Path) -> tuple[list[Image.Image], list[Output]]:
    frames = imgserv_frames(paths)
    path = out / "imgserv.mp4"
    return frames, [Output("mp4", path, encode_mp4(frames, path, duration_ms=DURATION_MS))]


def webp(level: OptimisationLevel) -> Run:
    def run(paths: list[Path], out: Path) -> tuple[list[Image.Image], list[Output]]:
        frames = imgserv_frames(paths)
        path = out / f"imgserv-{level.value}.webp"
        size = encode_webp(frames, path, duration_ms=DURATION_MS, level=level)
        return frames, [Output("webp", path, size)]

    return run


def whole_build(paths: list[Path], out: Path) -> tuple[list[Image.Image], list[Output]]:
    frames = imgserv_frames(paths)
    gif_path, mp4_path = out / "build.gif", out / "build.mp4"
    level = OptimisationLevel.BALANCED
    gif_size = encode_gif(frames, gif_path, duration_ms=DURATION_MS, level=level)
    mp4_size = encode_mp4(frames, mp4_path, duration_ms=DURATION_MS)
    return frames, [Output("gif", gif_path, gif_size), Output("mp4", mp4_path, mp4_size)]


# ----------------------------------------------------------------------- quality


def ssim(first: np.ndarray, second: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004) of two RGB frames on grey: 11x11 Gaussian window,
    sigma 1.5, K1=0.01, K2=0.03, L=255; border pixels the window can't cover excluded."""
    a = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY).astype(np.float64)
    b = cv2.cvtColor(second, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5)[5:-5, 5:-5]

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float((num / den).mean())


def psnr(first: np.ndarray, second: np.ndarray) -> float:
    mse = np.mean((first.astype(np.float64) - second.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


def decode(output: Output) -> list[np.ndarray]:
    """Every displayed frame; a frame shown for n durations (WebP folds repeats) counts n."""
    if output.kind == "mp4":
        with av.open(str(output.path)) as container:
            return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    frames = []
    with Image.open(output.path) as image:
        for frame in ImageSequence.Iterator(image):
            frame.load()
            repeats = max(1, round(frame.info.get("duration", DURATION_MS) / DURATION_MS))
            frames.extend([np.asarray(frame.convert("RGB"))] * repeats)
    return frames


def score(result: Result, sources: list[Image.Image]) -> None:
    for output in result.outputs:
        decoded = decode(output)
        if len(decoded) != len(sources):
            sys.exit(f"{result.name}: {len(decoded)} frames decoded, {len(sources)} encoded.")
        pairs = [
            (np.asarray(src), out[: src.height, : src.width])
            for src, out in zip(sources, decoded, strict=True)
        ]
        result.ssim.append(statistics.fmean(ssim(a, b) for a, b in pairs))
        result.psnr.append(statistics.fmean(psnr(a, b) for a, b in pairs))


# ----------------------------------------------------------------------- measure


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def pin_to_one_core() -> bool:
    """Pin every thread of the process (numpy/OpenCV pools start at import) to CPU 0;
    threads started later inherit it."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    tasks = Path("/proc/self/task")
    for tid in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, {0})
    cv2.setNumThreads(1)
    return True


def memory_of(name: str, paths: list[Path], out: Path) -> tuple[float, float]:
    """(tracemalloc peak MB, resident high-water growth MB) of one run of `name`, in a fresh
    interpreter so memory freed by earlier runs can't hide the growth."""
    command = [sys.executable, "-m", "bench.sequences", "--memory", name, str(out)]
    command += [str(path) for path in paths]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    heap, rss = json.loads(done.stdout)
    return heap, rss


def memory_child(name: str, out: Path, paths: list[Path]) -> None:
    pin_to_one_core()
    run = dict(pipelines())[name]
    draw_overlay(Image.new("RGB", OUTPUT_SIZE), overlay_info(0), STYLE)  # load fonts
    rss_before = _status_kb("VmRSS")
    rss_reset = _reset_peak_rss()
    tracemalloc.start()
    run(paths, out)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = (_status_kb("VmHWM") - rss_before) / 1024 if rss_reset else float("nan")
    print(json.dumps([heap_peak / 2**20, rss]))


def measure(name: str, run: Run, paths: list[Path], out: Path) -> Result:
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        frames, outputs = run(paths, out)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    result = Result(name, statistics.median(walls), statistics.median(cpus), outputs=outputs)
    score(result, frames)
    result.heap_mb, result.rss_mb = memory_of(name, paths, out / "memory")
    return result


# ------------------------------------------------------------------------ report


def _joined(values: list[float], digits: int) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in values)


def table(results: list[Result]) -> str:
    base = results[0]
    lines = [
        "| pipeline | time s (median) | CPU s | py heap peak MB | RSS peak +MB | bytes "
        "| SSIM | PSNR dB | speed-up × | size % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.name} | {result.seconds:.3f} | {result.cpu_seconds:.3f} "
            f"| {result.heap_mb:.0f} | {result.rss_mb:.0f} | {result.size:,} "
            f"| {_joined(result.ssim, 4)} | {_joined(result.psnr, 2)} "
            f"| {base.seconds / result.seconds:.1f} | {100 * result.size / base.size:.1f} |"
        )
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def targets(results: dict[str, Result]) -> list[str]:
    base = results["baseline"]
    gif_result = results["imgserv GIF balanced"]
    mp4_result = results["imgserv MP4"]
    build = results["imgserv build (GIF balanced + MP4)"]
    speedup = base.seconds / gif_result.seconds
    gif_ok = (
        speedup >= GIF_SPEEDUP
        and gif_result.ssim[0] >= base.ssim[0]
        and gif_result.size <= base.size
    )
    mp4_share = mp4_result.size / base.size
    mp4_ok = mp4_share <= MP4_MAX_SIZE and mp4_result.ssim[0] >= MP4_MIN_SSIM
    return [
        f"- {verdict(gif_ok)} GIF build (balanced, 192 colours like the baseline) >= "
        f"{GIF_SPEEDUP:.0f}x faster at SSIM >= baseline and bytes <= baseline: "
        f"{speedup:.1f}x, SSIM {gif_result.ssim[0]:.4f} vs {base.ssim[0]:.4f}, "
        f"{gif_result.size:,} vs {base.size:,} bytes",
        f"- {verdict(mp4_ok)} MP4 <= {MP4_MAX_SIZE:.0%} of the baseline GIF at SSIM >= "
        f"{MP4_MIN_SSIM}: {mp4_share:.1%}, SSIM {mp4_result.ssim[0]:.4f}",
        f"- {verdict(build.seconds < BUILD_MAX_S)} whole {FRAME_COUNT}-frame build (decode, "
        f"resize, overlay, GIF + MP4) < {BUILD_MAX_S:.0f} s on one core: "
        f"{build.seconds:.3f} s (CPU {build.cpu_seconds:.3f} s)",
    ]


def pipelines() -> list[tuple[str, Run]]:
    return [
        ("baseline", baseline),
        *((f"imgserv GIF {level.value}", gif(level)) for level in OptimisationLevel),
        ("imgserv MP4", mp4),
        *((f"imgserv WebP {level.value}", webp(level)) for level in OptimisationLevel),
        ("imgserv build (GIF balanced + MP4)", whole_build),
    ]


def main() -> None:
    if sys.argv[1:2] == ["--memory"]:
        memory_child(sys.argv[2], Path(sys.argv[3]), [Path(arg) for arg in sys.argv[4:]])
        return
    if not VIDEO.is_file():
        sys.exit(
            f"Test clip not found: {VIDEO}\n"
            "The benchmark needs the shared test data (/work/shared/testdata) or "
            "IMGSERV_BENCH_VIDEO pointing at a video file."
        )
    pinned = pin_to_one_core()
    with tempfile.TemporaryDirectory(prefix="bench-sequences-") as tmp:
        folder = Path(tmp)
        paths = extract_frames(folder)
        (folder / "memory").mkdir()
        draw_overlay(Image.new("RGB", OUTPUT_SIZE), overlay_info(0), STYLE)  # load fonts
        results = {name: measure(name, run, paths, folder) for name, run in pipelines()}
    print(f"# Sequence build benchmark ({FRAME_COUNT} frames)\n")
    print(
        f"Input: {FRAME_COUNT} frames from {VIDEO.name} (1280x720, one a second), upscaled to "
        f"{CAMERA_SIZE[0]}x{CAMERA_SIZE[1]} with cv2 INTER_CUBIC to stand in for 1080p camera "
        f"frames, stored as JPEG q{JPEG_QUALITY}. Output {OUTPUT_SIZE[0]}x{OUTPUT_SIZE[1]}, "
        f"{DURATION_MS} ms a frame, overlay style {STYLE.value}. "
        f"{'Pinned to CPU 0' if pinned else 'NOT pinned (no sched_setaffinity)'}; "
        f"time is wall-clock, median of {RUNS} runs, per pipeline end to end (read JPEG -> "
        "decode -> resize -> overlay -> encode).\n"
    )
    print(table(list(results.values())))
    print(
        "\nBaseline (closed product): Pillow decode, LANCZOS resize, overlay, per-frame "
        f"adaptive palette (im.quantize({BASELINE_COLOURS}), median cut), save_all with "
        "optimize=True. imgserv: OpenCV reduced JPEG decode + INTER_AREA, overlay, then "
        "sequences.encoders. Two-output rows list GIF / MP4 quality; bytes are the total. "
        "Memory is from one more run in a fresh process: py heap = tracemalloc peak (misses "
        "native Pillow/OpenCV/x264 buffers); RSS peak = growth of the resident high-water "
        "mark over the run (includes native memory).\n"
    )
    print("## Targets\n")
    print("\n".join(targets(results)))


if __name__ == "__main__":
    main()
