"""Tests for the GIF encoder and the atomic write it shares (no database)."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import GifImagePlugin, Image, ImageSequence

from sequences import encoders
from sequences.choices import OptimisationLevel, OverlayStyle
from sequences.encoders import atomic_write, encode_gif
from sequences.overlay import OverlayInfo, draw_overlay

WIDTH, HEIGHT = 320, 180
VIDEO = Path(__file__).resolve().parents[3] / "shared/testdata/videos/highway_overpass_720p.mp4"


def moving_square_frames(count: int = 10) -> list[Image.Image]:
    """A gradient background with a red square moving right one step per frame."""
    ramp = np.linspace(0, 255, WIDTH, dtype=np.uint8)
    background = np.stack([np.tile(ramp, (HEIGHT, 1))] * 3, axis=2)
    frames = []
    for index in range(count):
        frame = background.copy()
        frame[40:80, 20 + 25 * index : 60 + 25 * index] = (255, 0, 0)
        frames.append(Image.fromarray(frame))
    return frames


def gradient_with_noise(width: int = 640, height: int = 360) -> Image.Image:
    """Photo-like content: smooth colour gradients plus sensor-style noise."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width * 255, y / height * 255, (x + y) / (width + height) * 255], axis=2)
    noisy = base + rng.normal(0, 12, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def read_back(path: Path) -> tuple[GifImagePlugin.GifImageFile, list[int], list[np.ndarray]]:
    gif = Image.open(path)
    assert isinstance(gif, GifImagePlugin.GifImageFile)
    durations, decoded = [], []
    for frame in ImageSequence.Iterator(gif):
        durations.append(frame.info["duration"])
        decoded.append(np.asarray(frame.convert("RGB")).astype(np.int16))
    return gif, durations, decoded


def encode(frames: Sequence[Image.Image], path: Path, level: str = "balanced") -> int:
    return encode_gif(frames, path, duration_ms=500, level=OptimisationLevel(level))


def test_it_writes_every_frame_at_the_duration_and_loops_forever(tmp_path: Path) -> None:
    path = tmp_path / "loop.gif"
    encode(moving_square_frames(), path)
    gif, durations, _ = read_back(path)
    assert gif.n_frames == 10
    assert durations == [500] * 10
    assert gif.info["loop"] == 0


def test_it_keeps_identical_consecutive_frames(tmp_path: Path) -> None:
    frames = moving_square_frames()
    frames[4] = frames[3].copy()
    frames[5] = frames[3].copy()
    path = tmp_path / "still.gif"
    encode(frames, path)
    gif, durations, decoded = read_back(path)
    assert gif.n_frames == 10  # Pillow's save_all would merge these into 8 frames
    assert durations == [500] * 10
    assert np.array_equal(decoded[3], decoded[4])
    assert np.array_equal(decoded[3], decoded[5])


def test_it_keeps_a_sequence_of_one_repeated_frame(tmp_path: Path) -> None:
    frame = moving_square_frames(1)[0]
    path = tmp_path / "frozen.gif"
    encode([frame] * 3, path)
    gif, durations, _ = read_back(path)
    assert gif.n_frames == 3
    assert durations == [500] * 3


def test_it_decodes_back_to_the_input_frames(tmp_path: Path) -> None:
    frames = moving_square_frames()
    path = tmp_path / "moving.gif"
    encode(frames, path, "low")
    _, _, decoded = read_back(path)
    for index, (original, frame) in enumerate(zip(frames, decoded, strict=True)):
        # Only changed rectangles are stored, so a wrong offset would show here.
        red = (frame[..., 0] > 200) & (frame[..., 1] < 60) & (frame[..., 2] < 60)
        rows, cols = np.nonzero(red)
        assert (rows.min(), rows.max() + 1) == (40, 80)
        assert (cols.min(), cols.max() + 1) == (20 + 25 * index, 60 + 25 * index)
        assert np.abs(frame - np.asarray(original).astype(np.int16)).mean() < 6


@pytest.mark.parametrize("level", list(OptimisationLevel))
def test_it_uses_one_palette_of_the_levels_size(tmp_path: Path, level: OptimisationLevel) -> None:
    frames = [gradient_with_noise(160, 90).rotate(angle) for angle in (0, 90, 180)]
    path = tmp_path / "palette.gif"
    encode(frames, path, level)
    _, _, decoded = read_back(path)
    colours = np.unique(np.concatenate([d.reshape(-1, 3) for d in decoded]), axis=0)
    assert level.colours * 0.75 < len(colours) <= level.colours


def test_it_makes_smaller_files_at_aggressive_than_low(tmp_path: Path) -> None:
    frames = [gradient_with_noise().transpose(Image.Transpose.FLIP_LEFT_RIGHT)] * 2
    frames += [gradient_with_noise()] * 3
    sizes = {level: encode(frames, tmp_path / f"{level}.gif", level) for level in OptimisationLevel}
    low, balanced, aggressive = (sizes[level] for level in OptimisationLevel)
    assert aggressive < balanced < low


def video_frames(count: int) -> list[Image.Image]:
    cv2 = pytest.importorskip("cv2")
    if not VIDEO.is_file():
        pytest.skip(f"test video not available at {VIDEO}")
    capture = cv2.VideoCapture(str(VIDEO))
    frames = []
    for index in range(count):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index * 30)
        ok, bgr = capture.read()
        assert ok, "could not read the test video"
        frames.append(Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    capture.release()
    return frames


def test_it_makes_smaller_files_at_aggressive_on_camera_footage(tmp_path: Path) -> None:
    frames = [frame.resize((640, 360)) for frame in video_frames(3)]
    low = encode(frames, tmp_path / "low.gif", "low")
    aggressive = encode(frames, tmp_path / "aggressive.gif", "aggressive")
    assert aggressive < low


def test_it_keeps_overlay_colours_through_the_shared_palette(tmp_path: Path) -> None:
    # Median cut merged the small red "Heavy" text into the grey road; guard that.
    captured = datetime(2026, 11, 28, 14, 5, 30, tzinfo=ZoneInfo("America/New_York"))
    info = OverlayInfo("Highway", captured, condition="Heavy", alerts=("Crash ahead",))
    frames = [draw_overlay(frame, info, OverlayStyle.FULL) for frame in video_frames(2)]
    path = tmp_path / "overlay.gif"
    encode(frames, path, "aggressive")
    bar = read_back(path)[2][0][-60:]
    red, green, blue = bar[..., 0], bar[..., 1], bar[..., 2]
    assert np.count_nonzero((red > 200) & (green < 90) & (blue < 90)) > 50


def test_it_returns_the_bytes_written(tmp_path: Path) -> None:
    path = tmp_path / "size.gif"
    written = encode(moving_square_frames(3), path)
    assert written == path.stat().st_size > 0


def test_it_publishes_a_world_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "public.gif"
    encode(moving_square_frames(2), path)
    assert stat.S_IMODE(path.stat().st_mode) == encoders.PUBLISHED_MODE


def fail_on_third_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    real_getdata = GifImagePlugin.getdata
    calls = []

    def getdata(*args: Any, **kwargs: Any) -> list[bytes]:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real_getdata(*args, **kwargs)

    monkeypatch.setattr(encoders.GifImagePlugin, "getdata", getdata)


def test_it_leaves_the_old_file_alone_when_encoding_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "camera.gif"
    path.write_bytes(b"previous gif")
    fail_on_third_frame(monkeypatch)
    with pytest.raises(RuntimeError, match="disk on fire"):
        encode(moving_square_frames(), path)
    assert path.read_bytes() == b"previous gif"
    assert sorted(tmp_path.iterdir()) == [path]  # no .tmp left behind


def test_it_creates_nothing_when_the_first_encode_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_third_frame(monkeypatch)
    with pytest.raises(RuntimeError):
        encode(moving_square_frames(), tmp_path / "new.gif")
    assert list(tmp_path.iterdir()) == []


def test_it_replaces_the_file_only_when_the_block_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"old")
    with atomic_write(path) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"new")
        assert path.read_bytes() == b"old"  # readers still see the old file meanwhile
    assert path.read_bytes() == b"new"
    assert sorted(tmp_path.iterdir()) == [path]

    with pytest.raises(KeyError), atomic_write(path) as tmp:
        tmp.write_bytes(b"half")
        raise KeyError("interrupted")
    assert path.read_bytes() == b"new"
    assert sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("duration_ms", [0, 333, -500])
def test_it_refuses_durations_a_gif_cannot_store(tmp_path: Path, duration_ms: int) -> None:
    with pytest.raises(ValueError, match="multiple of 10"):
        encode_gif(
            moving_square_frames(2),
            tmp_path / "x.gif",
            duration_ms=duration_ms,
            level=OptimisationLevel.LOW,
        )
    assert list(tmp_path.iterdir()) == []


def test_it_refuses_frames_of_different_sizes(tmp_path: Path) -> None:
    frames = [*moving_square_frames(2), Image.new("RGB", (10, 10))]
    with pytest.raises(ValueError, match="same size"):
        encode(frames, tmp_path / "x.gif")
    with pytest.raises(ValueError, match="at least one"):
        encode([], tmp_path / "x.gif")
