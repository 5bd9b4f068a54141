"""The road region admin: operator polygon editing and the boundary block."""

from __future__ import annotations

import json

import pytest

from analytics.models import RoadRegion


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(user)
    return client


def test_it_shows_the_boundary_block_with_its_script(staff_client, camera):
    region = RoadRegion.objects.create(camera=camera, auto_polygon=[[0, 1], [0.5, 0.5], [1, 1]])
    page = staff_client.get(f"/admin/analytics/roadregion/{region.pk}/change/").content.decode()
    assert 'data-url="/analytics/road-boundaries?camera=main-street"' in page
    assert "analytics/road_boundary.js" in page
    assert "<script>" not in page.split("road-boundary")[1]


def test_it_saves_an_operator_polygon(staff_client, camera):
    region = RoadRegion.objects.create(camera=camera)
    polygon: list[list[float]] = [[0, 1], [0.3, 0.5], [0.7, 0.5], [1, 1]]
    response = staff_client.post(
        f"/admin/analytics/roadregion/{region.pk}/change/",
        {"camera": camera.pk, "operator_polygon": json.dumps(polygon)},
    )
    assert response.status_code == 302
    region.refresh_from_db()
    assert region.effective_polygon() == [tuple(p) for p in polygon]


def test_it_refuses_a_bad_operator_polygon_with_a_message(staff_client, camera):
    region = RoadRegion.objects.create(camera=camera)
    response = staff_client.post(
        f"/admin/analytics/roadregion/{region.pk}/change/",
        {"camera": camera.pk, "operator_polygon": "[[0, 1], [5, 5], [1, 1]]"},
    )
    assert response.status_code == 200
    assert "at least three [x, y] points" in response.content.decode()
