"""Tests for the GIF, MP4 and WebP encoders and the atomic write they share (no database)."""

from __future__ import annotations

import stat
import struct
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np
import pytest
from PIL import GifImagePlugin, Image, ImageSequence, WebPImagePlugin

from sequences import encoders
from sequences.choices import OptimisationLevel, OverlayStyle
from sequences.encoders import atomic_write, encode_gif, encode_mp4, encode_webp
from sequences.overlay import ALERT_YELLOW, CONDITION_COLOURS, OverlayInfo, draw_overlay
from tests.conftest import testdata as shared_file

WIDTH, HEIGHT = 320, 180


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
    capture = cv2.VideoCapture(str(shared_file("videos/highway_overpass_720p.mp4")))
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


@pytest.mark.parametrize("condition", list(CONDITION_COLOURS))
def test_it_keeps_every_condition_colour_at_aggressive(tmp_path: Path, condition: str) -> None:
    # Median cut seeds alone lost green "Clear" and the yellow alerts into the scenery.
    captured = datetime(2026, 11, 28, 14, 5, 30, tzinfo=ZoneInfo("America/New_York"))
    info = OverlayInfo("Highway", captured, condition=condition, alerts=("Crash ahead",))
    frames = [draw_overlay(frame, info, OverlayStyle.FULL) for frame in video_frames(2)]
    path = tmp_path / "conditions.gif"
    encode(frames, path, "aggressive")
    bar = read_back(path)[2][0][-80:]
    for colour in (CONDITION_COLOURS[condition], ALERT_YELLOW):
        near = np.abs(bar - np.array(colour)).max(axis=2) < 40
        assert np.count_nonzero(near) > 100, colour


def test_it_matches_pixels_to_the_nearest_palette_colour() -> None:
    palette = np.array([[0, 0, 0], [128, 128, 128], [255, 255, 255], [255, 0, 0]], np.uint8)
    frame = np.array([[[10, 10, 10], [120, 130, 125], [250, 250, 250], [240, 20, 10]]], np.uint8)
    (indices,) = encoders.index_frames([frame], palette)
    assert indices.tolist() == [[0, 1, 2, 3]]


# ------------------------------------------------------------------------- MP4


def encode_video(frames: Sequence[Image.Image], path: Path, duration_ms: int = 500) -> int:
    return encode_mp4(frames, path, duration_ms=duration_ms)


def top_level_boxes(data: bytes) -> list[str]:
    """The MP4's top-level box (atom) types in file order."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode("latin-1"))
        assert size >= 8, "malformed box"
        offset += size
    return boxes


def seconds(value: int | None, time_base: Any) -> float:
    assert value is not None and time_base is not None
    return float(value * time_base)


def decode_video(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "times": [frame.time for frame in frames],
            "durations": [seconds(frame.duration, frame.time_base) for frame in frames],
            "duration_s": seconds(stream.duration, stream.time_base),
            "pixels": [frame.to_ndarray(format="rgb24") for frame in frames],
        }


def test_it_writes_a_browser_ready_h264_mp4(tmp_path: Path) -> None:
    frames = moving_square_frames()
    path = tmp_path / "clip.mp4"
    written = encode_video(frames, path)
    assert written == path.stat().st_size > 0
    video = decode_video(path)
    assert len(video["times"]) == 10
    assert video["codec"] == "h264"
    assert video["pix_fmt"] == "yuv420p"
    assert video["size"] == (WIDTH, HEIGHT)
    assert video["duration_s"] == pytest.approx(5.0, abs=0.5)
    assert stat.S_IMODE(path.stat().st_mode) == encoders.PUBLISHED_MODE


def test_it_shows_every_mp4_frame_for_the_duration(tmp_path: Path) -> None:
    path = tmp_path / "timing.mp4"
    encode_video(moving_square_frames(), path, duration_ms=500)
    video = decode_video(path)
    assert video["times"] == pytest.approx([0.5 * index for index in range(10)])
    assert video["durations"] == pytest.approx([0.5] * 10)
    assert video["duration_s"] == pytest.approx(5.0)


def test_it_puts_the_mp4_index_before_the_media(tmp_path: Path) -> None:
    path = tmp_path / "faststart.mp4"
    encode_video(moving_square_frames(3), path)
    boxes = top_level_boxes(path.read_bytes())
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_it_keeps_the_picture_in_the_mp4(tmp_path: Path) -> None:
    frames = moving_square_frames()
    path = tmp_path / "picture.mp4"
    encode_video(frames, path)
    decoded = decode_video(path)["pixels"]
    for index, (original, frame) in enumerate(zip(frames, decoded, strict=True)):
        error = np.abs(frame.astype(np.int16) - np.asarray(original).astype(np.int16))
        assert error.mean() < 4, index
        red = (frame[..., 0] > 180) & (frame[..., 1] < 80) & (frame[..., 2] < 80)
        cols = np.flatnonzero(red.any(axis=0))
        assert abs(cols.min() - (20 + 25 * index)) <= 2


@pytest.mark.parametrize("size", [(321, 181), (320, 181), (321, 180), (33, 17)])
def test_it_evens_odd_frame_sizes_for_mp4(tmp_path: Path, size: tuple[int, int]) -> None:
    frames = [frame.resize(size) for frame in moving_square_frames(3)]
    path = tmp_path / "odd.mp4"
    encode_video(frames, path)
    video = decode_video(path)
    width, height = size
    assert video["size"] == (width + width % 2, height + height % 2)
    assert len(video["pixels"]) == 3
    # The extra column/row repeats the edge, so the picture is complete and unshifted.
    decoded = video["pixels"][0][:height, :width].astype(np.int16)
    assert np.abs(decoded - np.asarray(frames[0]).astype(np.int16)).mean() < 8


def test_it_encodes_a_single_frame_mp4(tmp_path: Path) -> None:
    path = tmp_path / "one.mp4"
    encode_video(moving_square_frames(1), path, duration_ms=2000)
    video = decode_video(path)
    assert len(video["times"]) == 1
    assert video["duration_s"] == pytest.approx(2.0)


def fail_on_third_video_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    real_video_frame = encoders._video_frame
    calls = []

    def video_frame(*args: Any, **kwargs: Any) -> av.VideoFrame:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real_video_frame(*args, **kwargs)

    monkeypatch.setattr(encoders, "_video_frame", video_frame)


def test_it_leaves_the_old_mp4_alone_when_encoding_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "camera.mp4"
    path.write_bytes(b"previous mp4")
    fail_on_third_video_frame(monkeypatch)
    with pytest.raises(RuntimeError, match="disk on fire"):
        encode_video(moving_square_frames(), path)
    assert path.read_bytes() == b"previous mp4"
    assert sorted(tmp_path.iterdir()) == [path]  # no .tmp left behind


def test_it_refuses_what_an_mp4_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        encode_video([], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="same size"):
        encode_video([*moving_square_frames(2), Image.new("RGB", (10, 10))], tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="duration"):
        encode_video(moving_square_frames(2), tmp_path / "x.mp4", duration_ms=0)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------ WebP


def encode_animated_webp(
    frames: Sequence[Image.Image], path: Path, level: str = "balanced", duration_ms: int = 500
) -> int:
    return encode_webp(frames, path, duration_ms=duration_ms, level=OptimisationLevel(level))


def read_webp(path: Path) -> tuple[WebPImagePlugin.WebPImageFile, list[int], list[np.ndarray]]:
    webp = Image.open(path)
    assert isinstance(webp, WebPImagePlugin.WebPImageFile)
    durations, decoded = [], []
    for index in range(webp.n_frames):
        webp.seek(index)
        webp.load()
        durations.append(webp.info["duration"])
        decoded.append(np.asarray(webp.convert("RGB")).astype(np.int16))
    return webp, durations, decoded


def test_it_writes_a_looping_webp_with_every_frame_at_the_duration(tmp_path: Path) -> None:
    frames = moving_square_frames()
    path = tmp_path / "loop.webp"
    written = encode_animated_webp(frames, path)
    assert written == path.stat().st_size > 0
    webp, durations, decoded = read_webp(path)
    assert webp.n_frames == 10
    assert webp.info["loop"] == 0
    assert durations == [500] * 10
    for original, frame in zip(frames, decoded, strict=True):
        assert np.abs(frame - np.asarray(original).astype(np.int16)).mean() < 6
    assert stat.S_IMODE(path.stat().st_mode) == encoders.PUBLISHED_MODE


def test_it_folds_identical_webp_frames_without_changing_the_timing(tmp_path: Path) -> None:
    # libwebp merges a repeated frame into the one before (documented in encode_webp):
    # the animation plays the same picture for the same total time.
    frames = moving_square_frames()
    frames[4] = frames[3].copy()
    frames[5] = frames[3].copy()
    path = tmp_path / "still.webp"
    encode_animated_webp(frames, path)
    webp, durations, _ = read_webp(path)
    assert webp.n_frames == 8
    assert durations == [500, 500, 500, 1500, 500, 500, 500, 500]
    assert sum(durations) == 10 * 500


@pytest.mark.parametrize("level", list(OptimisationLevel))
def test_it_writes_webp_at_every_level(tmp_path: Path, level: OptimisationLevel) -> None:
    path = tmp_path / f"{level}.webp"
    encode_animated_webp(moving_square_frames(3), path, level)
    assert read_webp(path)[0].n_frames == 3


def test_it_makes_smaller_webp_at_aggressive_than_low(tmp_path: Path) -> None:
    frames = [gradient_with_noise(), gradient_with_noise().rotate(180)]
    low = encode_animated_webp(frames, tmp_path / "low.webp", "low")
    aggressive = encode_animated_webp(frames, tmp_path / "aggressive.webp", "aggressive")
    assert aggressive < low


def test_it_leaves_the_old_webp_alone_when_encoding_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save_all = Image.SAVE_ALL["WEBP"]

    def half_written(image: Image.Image, fp: Any, filename: Any) -> None:
        fp.write(b"RIFF\x00\x00\x00\x00WEBP")  # a partial file, then failure
        raise RuntimeError("disk on fire")

    assert real_save_all is WebPImagePlugin._save_all
    monkeypatch.setitem(Image.SAVE_ALL, "WEBP", half_written)
    path = tmp_path / "camera.webp"
    path.write_bytes(b"previous webp")
    with pytest.raises(RuntimeError, match="disk on fire"):
        encode_animated_webp(moving_square_frames(), path)
    assert path.read_bytes() == b"previous webp"
    assert sorted(tmp_path.iterdir()) == [path]


def test_it_refuses_what_a_webp_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        encode_animated_webp([], tmp_path / "x.webp")
    with pytest.raises(ValueError, match="duration"):
        encode_animated_webp(moving_square_frames(2), tmp_path / "x.webp", duration_ms=-1)
    assert list(tmp_path.iterdir()) == []
