"""The road region editor in a real browser: Debian's headless Chromium, driven by Playwright,
against a real daphne with a camera that has stored frames. An operator logs in, draws a
polygon on the camera's latest frame, saves it with the admin's own Save, and the boundary
view then draws that polygon.

Screenshots are kept in `test-artifacts/` to look at.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.live_site import chromium, live_site, playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SLUG = "main-street"
USER, PASSWORD = "boss", "pw-for-browser-tests"
# Where the operator clicks, as fractions of the frame; the fifth point is undone.
CLICKS = [(0.15, 0.9), (0.4, 0.45), (0.6, 0.45), (0.85, 0.9), (0.5, 0.15)]
KEPT = CLICKS[:4]
# A click lands on a whole CSS pixel of a canvas some hundreds of pixels wide.
TOLERANCE = 0.005
# The road region's editor; the camera page also has one per privacy mask (imgserv_site.admin).
ROAD = '.road-region-editor[data-kind="road"]'

pytestmark = pytest.mark.integration

expect = playwright().expect

# A camera with five stored frames and no road region yet (opening its page detects one), and
# an admin.
SETUP = f"""
import datetime as dt
from django.contrib.auth import get_user_model
from django.utils import timezone
from cameras.models import Camera
from tests.factories import frames

camera = Camera.objects.create(
    name="Main Street", slug="{SLUG}", location_name="Main St at 5th Ave",
    time_zone="America/New_York", capture_width=640, capture_height=360,
    update_interval_minutes=5, frames_per_sequence=5,
)
frames(camera, 5, timezone.now() - dt.timedelta(seconds=40))
get_user_model().objects.create_superuser("{USER}", password="{PASSWORD}")
print(camera.pk)
"""

STORED = f"""
import json
import urllib.error
import urllib.request
from analytics.models import RoadRegion
print(json.dumps(RoadRegion.objects.get(camera__slug="{SLUG}").operator_polygon))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with chromium() as browser, live_site(tmp_path_factory.mktemp("editor")) as site:
        site.manage("collectstatic", "--noinput", "-v0")
        camera_id = int(site.manage("shell", "-c", SETUP).split()[-1])
        site.start()
        yield {"base": site.base, "run": site.manage, "camera_id": camera_id, "browser": browser}


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Any:
    return server["browser"]


@pytest.fixture
def page(server: dict[str, Any], browser: Any) -> Iterator[Any]:
    """The camera's admin page, logged in, with the editor's frame and the boundary shown."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The admin runs under the site's CSP; a violation (inline script or style) shows here.
    page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None)
    page.goto(server["base"] + "/admin/login/")
    page.fill("#id_username", USER)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(server["base"] + "/admin/")
    open_camera_page(page, server)
    yield page
    context.close()
    assert not errors


def open_camera_page(page: Any, server: dict[str, Any]) -> None:
    page.goto(f"{server['base']}/admin/cameras/camera/{server['camera_id']}/change/")
    expect(page.locator(f"{ROAD} .road-region-editor__canvas")).to_be_visible()
    expect(page.locator(".road-boundary__image")).to_be_visible(timeout=20_000)
    page.locator(ROAD).scroll_into_view_if_needed()


def click_at(page: Any, point: tuple[float, float]) -> None:
    box = page.locator(f"{ROAD} .road-region-editor__canvas").bounding_box()
    page.mouse.click(box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"])


def field_polygon(page: Any) -> list[list[float]]:
    value = page.locator(f"{ROAD} .road-region-editor__field").input_value()
    polygon: list[list[float]] = json.loads(value)
    return polygon


def assert_near(polygon: list[list[float]], expected: list[tuple[float, float]]) -> None:
    assert len(polygon) == len(expected), polygon
    for (x, y), (ex, ey) in zip(polygon, expected, strict=True):
        assert abs(x - ex) <= TOLERANCE and abs(y - ey) <= TOLERANCE, (polygon, expected)
        # Fractions rounded to 4 decimals.
        assert round(x, 4) == x and round(y, 4) == y


def fetch(page: Any, url: str) -> tuple[bytes, dict[str, str]]:
    """As the signed-in operator: the boundary's pictures are for staff only."""
    response = page.request.get(url, timeout=20_000)
    assert response.ok, (response.status, url)
    return response.body(), response.headers  # names in lower case


def test_it_stores_a_drawn_polygon_and_the_boundary_uses_it(server, page):
    status = page.locator(f"{ROAD} .road-region-editor__status")
    for point in CLICKS:
        click_at(page, point)
    expect(status).to_contain_text("Point 5 added")
    assert_near(field_polygon(page), CLICKS)

    page.get_by_role("button", name="Undo").click()
    assert_near(field_polygon(page), KEPT)
    click_at(page, KEPT[0])  # the first point closes the polygon
    expect(status).to_have_text("Polygon closed with 4 points: Save to store it.")
    assert_near(field_polygon(page), KEPT)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "road-region-editor-drawn.png"), full_page=True)

    page.click("input[name=_continue]")  # the admin's "Save and continue editing"
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator('.road-boundary [data-field="source"]')).to_have_text(
        "operator", timeout=20_000
    )
    page.locator(ROAD).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "road-region-editor-saved.png"), full_page=True)

    stored = json.loads(server["run"]("shell", "-c", STORED).strip().splitlines()[-1])
    assert_near(stored, KEPT)
    assert field_polygon(page) == stored  # the editor opens on what was stored

    boundary = f"{server['base']}/analytics/road-boundaries?camera={SLUG}"
    body, _ = fetch(page, boundary + "&format=json")
    meta = json.loads(body)
    assert meta["source"] == "operator"
    assert meta["polygon"] == stored
    assert abs(meta["coverage_percent"] - 100 * area(stored)) < 1.0

    png, headers = fetch(page, boundary + "&format=png")
    assert headers["x-road-source"] == "operator"
    frame, _ = fetch(page, boundary + "&format=jpeg")
    with pytest.raises(urllib.error.HTTPError) as anonymous:  # no session: no picture
        urllib.request.urlopen(boundary + "&format=jpeg", timeout=20)
    assert anonymous.value.code == 401
    drawn, plain = decode(png), decode(frame)
    height, width = plain.shape[:2]

    def pixel(image: np.ndarray, x: float, y: float) -> np.ndarray:
        return image[round(y * (height - 1)), round(x * (width - 1))]

    inside, outside = (0.5, 0.7), (0.5, 0.1)
    # Inside the stored polygon the picture is tinted green; well outside it is untouched.
    assert pixel(drawn, *inside)[1] - pixel(plain, *inside)[1] > 20
    assert np.abs(pixel(drawn, *outside) - pixel(plain, *outside)).max() < 8


def test_it_drags_copies_the_detected_region_clears_and_holds_back_an_open_polygon(server, page):
    status = page.locator(f"{ROAD} .road-region-editor__status")
    field = page.locator(f"{ROAD} .road-region-editor__field")
    before = field.input_value()

    page.get_by_role("button", name="Use detected region").click()
    detected = field_polygon(page)
    assert len(detected) >= 3
    expect(status).to_contain_text("The detected region is copied")

    page.get_by_role("button", name="Clear").click()
    assert field_polygon(page) == []
    for point in KEPT:
        click_at(page, point)
    box = page.locator(f"{ROAD} .road-region-editor__canvas").bounding_box()
    start = (box["x"] + KEPT[1][0] * box["width"], box["y"] + KEPT[1][1] * box["height"])
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 0.05 * box["width"], start[1] + 0.1 * box["height"], steps=5)
    page.mouse.up()
    expect(status).to_have_text("Point 2 moved.")
    moved = [KEPT[0], (KEPT[1][0] + 0.05, KEPT[1][1] + 0.1), *KEPT[2:]]
    assert_near(field_polygon(page), moved)

    # Not closed: Save is held back in the page, and nothing is posted.
    page.click("input[name=_continue]")
    expect(status).to_contain_text("The road polygon is not closed")
    assert page.locator(".messagelist .success").count() == 0

    page.get_by_role("button", name="Close polygon").click()
    expect(status).to_have_text("Polygon closed with 4 points: Save to store it.")
    page.get_by_role("button", name="Undo").click()  # reopens it
    page.get_by_role("button", name="Undo").click()  # puts point 2 back
    assert_near(field_polygon(page), KEPT)
    open_camera_page(page, server)  # leave without saving
    assert field.input_value() == before


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image.astype(int)


def area(polygon: list[list[float]]) -> float:
    """The shoelace area of a polygon in fractions of the frame."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2
