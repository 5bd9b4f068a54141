"""An operator draws a privacy mask on the camera's admin page in a real browser (Chromium,
daphne) with the road region's editor, saves it, and the next frame the camera stores is
masked there."""

from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np
import pytest

from tests.viewer import test_road_region_editor_browser as road

# The road region editor's real daphne, Chromium and signed-in camera page.
server, browser, page = road.server, road.browser, road.page
expect = road.expect

pytestmark = pytest.mark.integration

# The row "Add another privacy mask" makes (the admin's hidden template is .empty-form).
NEW_MASK = '.inline-related:not(.empty-form) .road-region-editor[data-kind="mask"]'
CORNERS = [(0.1, 0.2), (0.4, 0.2), (0.4, 0.6), (0.1, 0.6)]

STORED = f"""
import json
from cameras.models import PrivacyMask
mask = PrivacyMask.objects.get(camera__slug="{road.SLUG}")
print(json.dumps([mask.polygon, mask.style]))
"""

CAPTURE = f"""
from cameras.capture import capture_frame
from cameras.models import Camera
from cameras.sources import open_source
camera = Camera.objects.get(slug="{road.SLUG}")
source = open_source(camera)
frame = capture_frame(camera, source)
source.close()
print(frame.pk)
"""


def click_on(page: Any, editor: Any, point: tuple[float, float]) -> None:
    box = editor.locator(".road-region-editor__canvas").bounding_box()
    page.mouse.click(box["x"] + point[0] * box["width"], box["y"] + point[1] * box["height"])


def test_an_operator_draws_a_mask_and_the_next_stored_frame_is_masked(server, page):
    page.get_by_role("button", name="Add another privacy mask").click()
    editor = page.locator(NEW_MASK)
    expect(editor.locator(".road-region-editor__canvas")).to_be_visible()
    status = editor.locator(".road-region-editor__status")
    expect(status).to_contain_text("around the region to hide")
    assert editor.locator('[data-action="detected"]').count() == 0

    editor.locator(".road-region-editor__stage").scroll_into_view_if_needed()
    for point in CORNERS:
        click_on(page, editor, point)
    click_on(page, editor, CORNERS[0])  # the first point closes it
    expect(status).to_have_text("Polygon closed with 4 points: Save to store it.")
    page.screenshot(path=str(road.ARTIFACTS / "privacy-mask-drawn.png"), full_page=True)
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()

    polygon, style = json.loads(server["run"]("shell", "-c", STORED).strip().splitlines()[-1])
    road.assert_near(polygon, CORNERS)
    assert style == "solid"

    frame_id = int(server["run"]("shell", "-c", CAPTURE).split()[-1])
    response = page.request.get(
        f"{server['base']}/admin/analytics/conditionreading/frame/{frame_id}.jpg"
    )
    assert response.ok
    image = cv2.imdecode(np.frombuffer(response.body(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    height, width = image.shape[:2]
    inside = image[
        round(0.25 * height) : round(0.55 * height), round(0.15 * width) : round(0.35 * width)
    ]
    outside = image[round(0.25 * height) : round(0.55 * height), round(0.55 * width) :]
    assert np.abs(inside.astype(int)).max() <= 8  # black, within JPEG's error
    assert outside.std() > 10
