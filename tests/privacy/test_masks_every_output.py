"""Issue 13, must show 1: a camera with privacy masks, fed real road frames, shows the masked
regions filled (solid) or unrecognisable (blur, pixelate) in every output: the stored JPEG,
the GIF, MP4 and WebP of a sequence built by the real builder, the published bundle's
latest.jpg, the files the public URLs and the API serve, and the road-boundary pictures;
and the road-boundary view refuses those pictures to anonymous clients.

Each output is decoded as a viewer would (OpenCV for JPEG, Pillow for GIF and WebP, PyAV for
MP4) and measured in each masked region, a few pixels in from its edges, against the same
region of the camera's own frames. An unmasked region with detail is measured too: it keeps
its detail in every output, so the masked regions' loss is the masks' doing, not the
encoders'.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from django.conf import settings
from PIL import Image, ImageSequence

from analytics.models import RoadRegion
from cameras.capture import store_frame
from cameras.models import Camera, Frame, PrivacyMask
from cameras.sources import Grab
from publishing.bundle import build_bundle
from sequences.builder import build_sequence
from sequences.choices import OutputFormat
from tests.privacy.conftest import box, decode_jpeg, detail

START = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
# Regions as fractions of the frame (x0, y0, x1, y1), clear of the overlay's title (top left)
# and bar (bottom): the road with its arrows, the bushes on the left, the crash barriers and
# verge on the right; and a region left unmasked, the far carriageway and its barriers.
SOLID = (0.25, 0.40, 0.45, 0.60)
PIXELATE = (0.02, 0.16, 0.20, 0.40)
BLUR = (0.78, 0.30, 0.98, 0.56)
UNMASKED = (0.62, 0.08, 0.98, 0.26)
ROAD = (0.47, 0.62, 0.75, 0.95)
FILL = "#3366cc"
FILL_RGB = np.array([0x33, 0x66, 0xCC])
INSET = 6


def rectangle(rect: tuple[float, float, float, float]) -> list[list[float]]:
    x0, y0, x1, y1 = rect
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


@pytest.fixture
def masked_camera(camera: Camera) -> Camera:
    PrivacyMask.objects.create(
        camera=camera, name="road", polygon=rectangle(SOLID), style="solid", fill_colour=FILL
    )
    PrivacyMask.objects.create(camera=camera, polygon=rectangle(PIXELATE), style="pixelate")
    PrivacyMask.objects.create(camera=camera, polygon=rectangle(BLUR), style="blur")
    camera.frames_per_sequence = 5
    camera.save()
    return camera


@pytest.fixture
def stored(masked_camera: Camera, road_jpegs: list[bytes]) -> list[Frame]:
    return [
        store_frame(masked_camera, Grab(jpeg, 1280, 720), START + dt.timedelta(seconds=6 * i))
        for i, jpeg in enumerate(road_jpegs)
    ]


@pytest.fixture
def originals(road_jpegs: list[bytes]) -> list[np.ndarray]:
    return [decode_jpeg(jpeg) for jpeg in road_jpegs]


def measure(image: np.ndarray, originals: list[np.ndarray]) -> dict[str, float]:
    """Per region: how far the solid region strays from the fill colour (largest difference
    of any channel of any pixel), and each other region's detail as a share of the same
    region's detail in the camera's own frames."""

    def share(rect: tuple[float, float, float, float]) -> float:
        before = np.mean([detail(box(o, rect, INSET)) for o in originals])
        return detail(box(image, rect, INSET)) / float(before)

    solid = box(image, SOLID, INSET).astype(np.int16)
    return {
        "solid": float(np.abs(solid - FILL_RGB).max()),
        "pixelate": share(PIXELATE),
        "blur": share(BLUR),
        "unmasked": share(UNMASKED),
    }


def assert_masked(
    image: np.ndarray, originals: list[np.ndarray], what: str, tolerance: int = 10
) -> None:
    found = measure(image, originals)
    assert image.shape[:2] == (720, 1280), what
    assert found["solid"] <= tolerance, (what, found)
    assert found["blur"] < 0.15, (what, found)
    assert found["pixelate"] < 0.3, (what, found)
    assert found["unmasked"] > 0.5, (what, found)


def gif_frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as gif:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]


def webp_frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as webp:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(webp)]


def mp4_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


DECODERS = {
    OutputFormat.GIF: gif_frames,
    OutputFormat.MP4: mp4_frames,
    OutputFormat.WEBP: webp_frames,
}


def media(relative: str) -> bytes:
    return (Path(settings.MEDIA_ROOT) / relative).read_bytes()


def test_the_stored_jpeg_is_masked(stored, originals):
    for frame in stored:
        assert_masked(decode_jpeg(media(frame.file)), originals, frame.file)


@pytest.mark.parametrize("kind", list(OutputFormat))
def test_every_frame_of_each_sequence_output_is_masked(masked_camera, stored, originals, kind):
    sequence = build_sequence(masked_camera)
    built = DECODERS[kind](media(sequence.file_for(kind)[0]))
    assert len(built) >= len(stored)
    for index, image in enumerate(built):
        assert_masked(image, originals, f"{kind} frame {index}", tolerance=12)


def test_the_published_bundle_is_masked(masked_camera, stored, originals, tmp_path):
    build_sequence(masked_camera)
    bundle = build_bundle(tmp_path / "out")
    folder = bundle.path / masked_camera.slug
    still = (folder / "latest.jpg").read_bytes()
    assert still == media(stored[-1].file)
    assert_masked(decode_jpeg(still), originals, "bundle latest.jpg")
    for kind, decode in DECODERS.items():
        for index, image in enumerate(decode((folder / f"latest.{kind.value}").read_bytes())):
            assert_masked(image, originals, f"bundle latest.{kind.value} #{index}", 12)


def served(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_pictures_the_api_points_to_are_masked(masked_camera, stored, originals, client):
    build_sequence(masked_camera)
    body = client.get(f"/api/cameras/{masked_camera.slug}/sequence/latest").json()
    assert set(body["urls"]) == {kind.value for kind in OutputFormat}
    for kind, url in body["urls"].items():
        response = client.get(url)
        assert response.status_code == 200, url
        for index, image in enumerate(DECODERS[OutputFormat(kind)](served(response))):
            assert_masked(image, originals, f"{url} #{index}", tolerance=12)


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_the_road_boundary_picture_is_masked_and_for_staff_only(
    masked_camera, stored, originals, admin_client, client, kind
):
    # The road's polygon (tinted on the PNG) clear of the regions measured.
    RoadRegion.objects.create(camera=masked_camera, operator_polygon=rectangle(ROAD))
    url = "/analytics/road-boundaries"
    query = {"camera": "main-street", "format": kind}
    refused = client.get(url, query)
    assert refused.status_code == 401
    assert refused["Content-Type"].startswith("application/json")

    response = admin_client.get(url, query)
    assert response.status_code == 200
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    if kind == "jpeg":
        assert response.content == media(stored[-1].file)
    assert_masked(image, originals, f"road boundary {kind}")
