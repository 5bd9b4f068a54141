"""Sequence encoders (animated GIF for now) and the atomic file write they share."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

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
# Measured on ten 1280x720 highway frames: Floyd-Steinberg made the GIF ~20% larger
# and ~65% slower to encode, and its noise "crawls" between frames, with no visible
# gain on camera footage once the palette is shared.
DITHER = Image.Dither.NONE


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


def shared_palette(frames: Sequence[Image.Image], colours: int) -> Image.Image:
    """One palette image for the whole sequence, so colours don't flicker per frame.

    Frames are subsampled (not averaged) so the samples are real pixel colours,
    stacked into one mosaic and quantized once. FASTOCTREE rather than MEDIANCUT:
    median cut weights colours by pixel count and merged the small, saturated
    overlay text (orange "Moderate", yellow alerts) into the grey road, losing the
    colour coding; the octree keeps them, with equal overall error, in ~4 ms.
    """
    samples = [
        np.asarray(frame.convert("RGB"))[::PALETTE_STRIDE, ::PALETTE_STRIDE] for frame in frames
    ]
    mosaic = Image.fromarray(np.concatenate(samples, axis=0))
    return mosaic.quantize(colors=colours, method=Image.Quantize.FASTOCTREE)


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


def _write_gif(handle: BinaryIO, indexed: Sequence[Image.Image], duration_ms: int) -> None:
    """Write palette frames sharing one palette as a looping GIF.

    Pillow's own `save_all` merges identical consecutive frames into one frame with
    a summed duration (even with optimize=False), so we assemble the file ourselves
    with Pillow's public GIF helpers.
    """
    header, _ = GifImagePlugin.getheader(indexed[0], info={"loop": 0, "duration": duration_ms})
    handle.writelines(header)
    previous: np.ndarray | None = None
    for frame in indexed:
        pixels = np.asarray(frame)
        box = (0, 0, *frame.size) if previous is None else _changed_box(previous, pixels)
        params = {"duration": duration_ms, "disposal": DISPOSAL_KEEP}
        handle.writelines(GifImagePlugin.getdata(frame.crop(box), offset=box[:2], **params))
        previous = pixels
    handle.write(GIF_TRAILER)


def _check(frames: Sequence[Image.Image], duration_ms: int) -> None:
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if len({frame.size for frame in frames}) != 1:
        raise ValueError("all frames must have the same size")
    # GIF delays are centiseconds: refuse rather than silently change the timing.
    if duration_ms % GIF_DELAY_UNIT_MS or not 0 < duration_ms <= GIF_MAX_DELAY_MS:
        raise ValueError(
            f"GIF frame duration must be a positive multiple of 10 ms "
            f"up to {GIF_MAX_DELAY_MS} ms, got {duration_ms}"
        )


def encode_gif(
    frames: Sequence[Image.Image], path: Path, *, duration_ms: int, level: OptimisationLevel
) -> int:
    """Encode `frames` as an endlessly looping GIF at `path`; return bytes written."""
    _check(frames, duration_ms)
    palette = shared_palette(frames, OptimisationLevel(level).colours)
    indexed = [frame.convert("RGB").quantize(palette=palette, dither=DITHER) for frame in frames]
    with atomic_write(path) as tmp_path, tmp_path.open("wb") as handle:
        _write_gif(handle, indexed, duration_ms)
    return Path(path).stat().st_size
