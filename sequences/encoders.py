"""Sequence encoders (animated GIF, MP4, animated WebP) and the atomic file write they share."""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Final

import av
import cv2
import numpy as np
from PIL import GifImagePlugin, Image

from sequences.choices import OptimisationLevel

# Published files must be readable by the web server; NamedTemporaryFile creates 0600.
PUBLISHED_MODE = 0o644
GIF_TRAILER = b";"
GIF_DELAY_UNIT_MS = 10  # GIF stores frame delays in hundredths of a second
GIF_MAX_DELAY_MS = 0xFFFF * GIF_DELAY_UNIT_MS
# Each frame is drawn over the previous one ("do not dispose"), which lets us write
# only the changed rectangle of a frame.
DISPOSAL_KEEP = 1
# Palette statistics come from every PALETTE_STRIDE-th pixel of every frame: enough
# samples for a stable palette at a fraction of the cost of quantizing full frames.
PALETTE_STRIDE = 4
# The median-cut seed (the slowest step) looks at a sparser grid still: the k-means
# rounds on the full sample correct it. Measured: -40 ms, -0.0001 SSIM, -0.6% bytes.
MEDIANCUT_STRIDE = 8
# The palette is fitted and applied with distances in a luma/chroma space where chroma
# counts CHROMA_WEIGHT as much as luma: the eye (and SSIM) sees banding in the grey road
# long before a slight hue shift. Measured on ten 1280x720 overlaid highway frames at
# 192 colours (bench.sequences): 0.6 gave SSIM 0.9887 / 5.86 MB, 0.5 gave 0.9899 /
# 6.00 MB, against the closed product's per-frame palettes at 0.9886 / 6.45 MB; plain
# RGB distances were worse on both counts than 0.6 (0.987 / 5.89 MB on another set).
CHROMA_WEIGHT = 0.5
_LUMA = np.array([0.299, 0.587, 0.114])
# _METRIC @ rgb = (luma, weighted blue-difference, weighted red-difference)
_METRIC = np.stack(
    [_LUMA, CHROMA_WEIGHT * (np.eye(3)[2] - _LUMA), CHROMA_WEIGHT * (np.eye(3)[0] - _LUMA)]
).astype(np.float32)
# Lloyd (k-means) rounds polishing the seed palette (see shared_palette). On highway
# frames at 192 colours: median cut alone SSIM 0.984 / 34.4 dB; with octree seeds and
# 3 rounds 0.988 / 39.7 dB and 6% fewer bytes. The third round still gained 0.0004
# SSIM; more gained nothing.
KMEANS_ROUNDS = 3
# Octree entries in the seed palette, to keep small saturated overlay colours: with 16
# the green "Clear" text still vanished at 128 colours; 32 kept every condition colour.
OCTREE_SEEDS = 32
# Pixels are matched to the palette by colour keys of KEY_BITS per channel (nearest entry
# computed once per distinct key). Pillow's own palette mapping is approximate (a 6-bit
# cache): it cost 0.004 SSIM; 7 bits is within 0.0005 of exact at a quarter of the cost.
KEY_BITS = 7
_KEY_SHIFT = 8 - KEY_BITS
# Keys keep one byte per channel (its top bits zero) so they pack cheaply: 0x00RRGGBB.
_KEY_SPACE = 1 << (16 + KEY_BITS)
# Measured on ten 1280x720 highway frames: Floyd-Steinberg made the GIF ~20% larger
# and ~65% slower to encode, and its noise "crawls" between frames, with no visible
# gain on camera footage once the palette is shared (and it cost 0.03 SSIM).
# Frame-difference transparency was measured too: exact (index-equal) transparency made
# the file 4% larger (transparent pixels break LZW runs in moving noise), and
# tolerance-based transparency traded far more SSIM than it saved bytes.

# MP4: H.264 in yuv420p (the only chroma format every browser decodes), High profile,
# level chosen by x264. Measured on ten 1280x720 frames, one core: ultrafast/crf 23
# 0.13 s 1.34 MB SSIM 0.979; superfast/crf 23 0.21 s 1.06 MB SSIM 0.983; veryfast/crf 23
# 0.33-0.42 s 0.87 MB SSIM 0.981; faster and slower presets cost more time for ~no bytes.
MP4_CODEC: Final = "libx264"
MP4_PIXEL_FORMAT = "yuv420p"
MP4_OPTIONS = {"preset": "superfast", "crf": "23", "profile": "high"}
# The moov atom (index) goes before the media data so browsers can start playing
# before the whole file has downloaded.
MP4_CONTAINER_OPTIONS = {"movflags": "+faststart"}

# WebP (quality, method) per level. Method 2 is the knee: on ten 1280x720 frames method
# 0 -> 2 saved 15-19% bytes for +0.15 s, 2 -> 4 saved another 4-6% for +0.5 s.
# Quality 90/80/70 measured SSIM 0.985/0.969/0.956 at 24%/15%/12% of the baseline GIF.
WEBP_SETTINGS: dict[str, tuple[int, int]] = {
    OptimisationLevel.LOW: (90, 2),
    OptimisationLevel.BALANCED: (80, 2),
    OptimisationLevel.AGGRESSIVE: (70, 2),
}
WEBP_MAX_DURATION_MS = (1 << 24) - 1  # WebP frame durations are 24-bit milliseconds


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temp path next to `path`; on success it atomically replaces `path`.

    The temp file lives in the same folder so `os.replace` is a same-filesystem
    rename: readers see either the old file or the complete new one, never a
    partial write. On any exception the temp file is deleted and `path` is untouched.
    """
    path = Path(path)
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as handle:
        tmp_path = Path(handle.name)
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        tmp_path.chmod(PUBLISHED_MODE)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    # Data must reach the disk before the rename, or a crash could publish an empty file.
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    # Persist the rename itself; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _rgb_arrays(frames: Sequence[Image.Image]) -> list[np.ndarray]:
    return [np.asarray(frame if frame.mode == "RGB" else frame.convert("RGB")) for frame in frames]


def _colour_keys(rgb: np.ndarray) -> np.ndarray:
    """One uint32 key per pixel: the colour at KEY_BITS per channel, 0x00RRGGBB layout."""
    reduced = rgb >> _KEY_SHIFT if _KEY_SHIFT else rgb
    # RGB -> BGRA puts R in the third byte of a little-endian uint32; cv2 does it in one pass.
    keys = cv2.cvtColor(np.ascontiguousarray(reduced), cv2.COLOR_RGB2BGRA).view(np.uint32)
    return np.bitwise_and(keys[..., 0], 0xFFFFFF)


def _key_colours(keys: np.ndarray) -> np.ndarray:
    """The RGB colour at the centre of each key's cell, as float32 rows."""
    channels = np.stack([keys >> 16, keys >> 8, keys], axis=1) & 0xFF
    return channels.astype(np.float32) * (1 << _KEY_SHIFT) + ((1 << _KEY_SHIFT) - 1) / 2


def _in_metric(colours: np.ndarray) -> np.ndarray:
    # cv2.transform, not `@`: numpy hands even a (n, 3) @ (3, 3) product to BLAS, whose
    # thread pool busy-waits; on a worker pinned to one core that tripled this step.
    rows = np.ascontiguousarray(colours, dtype=np.float32).reshape(-1, 1, 3)
    return cv2.transform(rows, _METRIC).reshape(-1, 3)


def _nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette entry for each RGB row, in the luma-weighted metric."""
    _, index = cv2.batchDistance(
        _in_metric(colours),
        _in_metric(palette),
        cv2.CV_32F,
        normType=cv2.NORM_L2SQR,
        K=1,
    )
    return np.asarray(index, dtype=np.intp).ravel()


def _palette_rows(image: Image.Image, colours: int, method: Image.Quantize) -> np.ndarray:
    flat = image.quantize(colors=colours, method=method).getpalette() or [0, 0, 0]
    return np.asarray(flat[: 3 * colours], dtype=np.float64).reshape(-1, 3)


def shared_palette(frames: Sequence[np.ndarray], colours: int) -> np.ndarray:
    """One palette (rows of RGB) for the whole sequence, so colours don't flicker per frame.

    Frames are subsampled (not averaged) so the samples are real pixel colours. The
    seed palette is median cut (which puts entries where the pixels are: the road)
    plus a few octree entries (one per occupied colour region, however small: median
    cut alone merged the small saturated overlay text, green "Clear", orange
    "Moderate", the yellow alerts, into the road). Count-weighted k-means rounds in
    the luma-weighted metric then polish every entry.
    """
    mosaic = np.concatenate([rgb[::PALETTE_STRIDE, ::PALETTE_STRIDE] for rgb in frames], axis=0)
    seeds = min(OCTREE_SEEDS, colours // 4)
    sparse = MEDIANCUT_STRIDE // PALETTE_STRIDE
    palette = np.concatenate(
        [
            _palette_rows(Image.fromarray(mosaic), seeds, Image.Quantize.FASTOCTREE),
            _palette_rows(
                Image.fromarray(np.ascontiguousarray(mosaic[::sparse, ::sparse])),
                colours - seeds,
                Image.Quantize.MEDIANCUT,
            ),
        ]
    )[:colours]
    keys, counts = np.unique(_colour_keys(mosaic), return_counts=True)
    samples = _key_colours(keys)
    weights = counts.astype(np.float64)
    for _ in range(KMEANS_ROUNDS):
        nearest = _nearest(samples, palette)
        size = np.bincount(nearest, weights=weights, minlength=len(palette))
        sums = np.stack(
            [
                np.bincount(nearest, weights=weights * samples[:, c], minlength=len(palette))
                for c in range(3)
            ],
            axis=1,
        )
        # An entry nobody chose keeps its colour rather than collapsing to black.
        palette = np.where(size[:, None] > 0, sums / np.maximum(size, 1)[:, None], palette)
    return np.clip(np.rint(palette), 0, 255).astype(np.uint8)


def index_frames(frames: Sequence[np.ndarray], palette: np.ndarray) -> list[np.ndarray]:
    """Each frame as palette indices: the nearest entry, worked out once per distinct key."""
    keys = [_colour_keys(rgb) for rgb in frames]
    present = np.zeros(_KEY_SPACE, dtype=bool)
    for frame_keys in keys:
        present[frame_keys] = True
    distinct = np.flatnonzero(present)
    lookup = np.zeros(_KEY_SPACE, dtype=np.uint8)
    lookup[distinct] = _nearest(_key_colours(distinct), palette)
    return [np.take(lookup, frame_keys) for frame_keys in keys]


def _changed_box(previous: np.ndarray, current: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box of the differing pixels; a 1x1 box when the frames are identical.

    Identical frames still get written (as a 1-pixel no-op update) so the frame
    count and every frame's duration come out exactly as requested.
    """
    diff = previous != current
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return (0, 0, 1, 1)
    cols = np.flatnonzero(diff.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _indexed_image(indices: np.ndarray, palette: list[int]) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(indices), "P")
    image.putpalette(palette)
    return image


def _write_gif(
    handle: BinaryIO, indexed: Sequence[np.ndarray], palette: np.ndarray, duration_ms: int
) -> None:
    """Write palette-index frames sharing one palette as a looping GIF.

    Pillow's own `save_all` merges identical consecutive frames into one frame with
    a summed duration (even with optimize=False), so we assemble the file ourselves
    with Pillow's public GIF helpers.
    """
    flat = palette.ravel().tolist()
    first = _indexed_image(indexed[0], flat)
    header, _ = GifImagePlugin.getheader(first, info={"loop": 0, "duration": duration_ms})
    handle.writelines(header)
    previous: np.ndarray | None = None
    for pixels in indexed:
        height, width = pixels.shape
        box = (0, 0, width, height) if previous is None else _changed_box(previous, pixels)
        changed = _indexed_image(pixels[box[1] : box[3], box[0] : box[2]], flat)
        params = {"duration": duration_ms, "disposal": DISPOSAL_KEEP}
        handle.writelines(GifImagePlugin.getdata(changed, offset=box[:2], **params))
        previous = pixels
    handle.write(GIF_TRAILER)


def _check_frames(frames: Sequence[Image.Image]) -> None:
    if not frames:
        raise ValueError("a sequence needs at least one frame")
    if len({frame.size for frame in frames}) != 1:
        raise ValueError("all frames must have the same size")


def _check_gif_duration(duration_ms: int) -> None:
    # GIF delays are centiseconds: refuse rather than silently change the timing.
    if duration_ms % GIF_DELAY_UNIT_MS or not 0 < duration_ms <= GIF_MAX_DELAY_MS:
        raise ValueError(
            f"GIF frame duration must be a positive multiple of 10 ms "
            f"up to {GIF_MAX_DELAY_MS} ms, got {duration_ms}"
        )


def _check_duration(duration_ms: int, maximum: int) -> None:
    if not 0 < duration_ms <= maximum:
        raise ValueError(f"frame duration must be 1 to {maximum} ms, got {duration_ms}")


def encode_gif(
    frames: Sequence[Image.Image], path: Path, *, duration_ms: int, level: OptimisationLevel
) -> int:
    """Encode `frames` as an endlessly looping GIF at `path`; return bytes written."""
    _check_frames(frames)
    _check_gif_duration(duration_ms)
    rgb = _rgb_arrays(frames)
    palette = shared_palette(rgb, OptimisationLevel(level).colours)
    indexed = index_frames(rgb, palette)
    with atomic_write(path) as tmp_path, tmp_path.open("wb") as handle:
        _write_gif(handle, indexed, palette, duration_ms)
    return Path(path).stat().st_size


# ------------------------------------------------------------------------- MP4


def _even_rgb(frame: Image.Image) -> np.ndarray:
    """RGB pixels with even width and height (4:2:0 chroma needs both), by repeating the
    last column/row: nothing of the picture is lost."""
    rgb = np.asarray(frame if frame.mode == "RGB" else frame.convert("RGB"))
    height, width = rgb.shape[:2]
    if width % 2 or height % 2:
        rgb = cv2.copyMakeBorder(rgb, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return rgb


def _video_frame(frame: Image.Image, index: int, time_base: Fraction) -> av.VideoFrame:
    video_frame = av.VideoFrame.from_ndarray(_even_rgb(frame), format="rgb24")
    video_frame.pts = index
    video_frame.time_base = time_base
    return video_frame


def encode_mp4(frames: Iterable[Image.Image], path: Path, *, duration_ms: int) -> int:
    """Encode `frames` as an H.264 MP4 at `path`, each shown `duration_ms`; return bytes.

    The time base is one frame (duration_ms / 1000 s), so frame n starts at exactly
    n * duration_ms. Looping is left to the player (`<video loop>`). `frames` may be a
    generator: each frame is encoded as it comes, so a day of frames (sequences.digest)
    never sits in memory at once; all must have the first one's size.
    """
    _check_duration(duration_ms, GIF_MAX_DELAY_MS)
    stream_of = iter(frames)
    first = next(stream_of, None)
    if first is None:
        raise ValueError("a sequence needs at least one frame")
    time_base = Fraction(duration_ms, 1000)
    width, height = first.size
    with (
        atomic_write(path) as tmp_path,
        av.open(str(tmp_path), mode="w", format="mp4", options=MP4_CONTAINER_OPTIONS) as container,
    ):
        stream = container.add_stream(MP4_CODEC, rate=1 / time_base)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = MP4_PIXEL_FORMAT
        stream.codec_context.time_base = time_base
        stream.options = dict(MP4_OPTIONS)
        for index, frame in enumerate(itertools.chain([first], stream_of)):
            if frame.size != first.size:
                raise ValueError("all frames must have the same size")
            container.mux(stream.encode(_video_frame(frame, index, time_base)))
        container.mux(stream.encode(None))
    return Path(path).stat().st_size


# ------------------------------------------------------------------------ WebP


def encode_webp(
    frames: Sequence[Image.Image], path: Path, *, duration_ms: int, level: OptimisationLevel
) -> int:
    """Encode `frames` as an endlessly looping animated WebP at `path`; return bytes.

    libwebp folds a frame identical to the one before into it, adding the durations
    (Pillow offers no switch), so a run of identical frames plays for exactly as long
    but counts as one frame when read back. A one-frame sequence is a still WebP.
    """
    _check_frames(frames)
    _check_duration(duration_ms, WEBP_MAX_DURATION_MS)
    quality, method = WEBP_SETTINGS[OptimisationLevel(level)]
    rgb = [frame if frame.mode == "RGB" else frame.convert("RGB") for frame in frames]
    with atomic_write(path) as tmp_path:
        rgb[0].save(
            tmp_path,
            format="WEBP",
            save_all=True,
            append_images=rgb[1:],
            loop=0,
            duration=duration_ms,
            quality=quality,
            method=method,
        )
    return Path(path).stat().st_size
