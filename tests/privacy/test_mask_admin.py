"""The camera's admin page: privacy masks drawn with the road region's editor, stored from
the page, refused by field when the polygon is bad; automatic blurring refused where OpenCV
cannot do it."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from cameras import masks
from cameras.models import Camera, PrivacyMask, PrivacySettings
from tests.admin.test_camera_admin import form
from tests.factories import frames

SQUARE = [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-for-tests"))
    return client


def with_masks(*rows: dict[str, str], **overrides: str) -> dict[str, str]:
    """The add form of test_camera_admin with these privacy mask rows."""
    data = form(**overrides)
    data["privacy_masks-TOTAL_FORMS"] = str(len(rows))
    for i, row in enumerate(rows):
        data.update({f"privacy_masks-{i}-{name}": value for name, value in row.items()})
    return data


def test_the_camera_page_draws_masks_with_the_road_region_editor(staff_client, camera):
    frames(camera, 1, timezone.now())
    PrivacyMask.objects.create(camera=camera, name="garden", polygon=SQUARE, style="blur")
    page = staff_client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    frame_url = f"/admin/analytics/roadregion/camera/{camera.pk}/frame.jpg"
    mask_editors = page.count('data-kind="mask"')
    assert mask_editors == 2  # the stored mask, and the template "Add another" copies
    assert page.count('data-kind="road"') == 1
    assert page.count(f'src="{frame_url}"') == 3
    assert "analytics/road_region_editor.js" in page
    assert 'name="privacy_masks-__prefix__-polygon"' in page
    stored = page.split('name="privacy_masks-0-polygon"', 1)[1].split("</textarea>", 1)[0]
    assert json.loads(stored.split(">", 1)[1].replace("&quot;", '"')) == SQUARE
    assert (
        'data-action="detected"'
        not in page.split('data-kind="mask"', 1)[1].split("</textarea>", 1)[0]
    )


def test_it_stores_a_mask_drawn_on_the_page(staff_client, db):
    row = {"name": "no. 12", "polygon": json.dumps(SQUARE), "style": "pixelate",
           "fill_colour": "#000000"}  # fmt: skip
    response = staff_client.post("/admin/cameras/camera/add/", with_masks(row))
    assert response.status_code == 302, response.content.decode()[:3000]
    mask = PrivacyMask.objects.get(camera__slug="hill-road")
    assert (mask.name, mask.polygon, mask.style) == ("no. 12", SQUARE, "pixelate")


@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        ("", "Draw the region to hide"),
        ("[[0, 0], [1, 1]]", "at least three [x, y] points"),
        ("[[0, 0], [0.5, 0.5], [1, 1]]", "enclose no area"),
        ("[[0, 0], [2, 0], [1, 1]]", "0 ≤ x, y ≤ 1"),
    ],
)
def test_it_refuses_a_bad_polygon_on_the_polygon_field(staff_client, db, polygon, message):
    row = {"name": "bad", "polygon": polygon, "style": "solid", "fill_colour": "#000000"}
    response = staff_client.post("/admin/cameras/camera/add/", with_masks(row))
    assert response.status_code == 200
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "privacy_masks"
    )
    errors = formset.formset.errors[0]
    assert set(errors) == {"polygon"}
    assert message in errors["polygon"][0]
    assert not Camera.objects.filter(slug="hill-road").exists()


def test_it_refuses_automatic_blurring_opencv_cannot_do(staff_client, db, monkeypatch):
    monkeypatch.setattr(masks, "detection_problem", lambda: "OpenCV 5.0.0 has no cascades.")
    data = form(**{"privacy-TOTAL_FORMS": "1", "privacy-0-blur_faces": "on"})
    response = staff_client.post("/admin/cameras/camera/add/", data)
    assert response.status_code == 200
    assert "OpenCV 5.0.0 has no cascades." in response.content.decode()
    assert not PrivacySettings.objects.exists()
