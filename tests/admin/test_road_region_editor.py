"""The camera's admin page: the road region editor (its files, its frame, the polygon it posts
and what the server refuses), and the source kind following the URL.

Forms are posted as the page renders them, with only the fields under test changed, so a
field added to the page later does not make these tests post an incomplete form.
"""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import RoadRegion
from analytics.service import frame_path
from cameras.models import Camera, SourceKind
from tests.factories import frames

ADD = "/admin/cameras/camera/add/"
POLYGON_MESSAGE = "Give a list of at least three [x, y] points with 0 ≤ x, y ≤ 1"


class FormFields(HTMLParser):
    """The name → value pairs a browser would post from the page's camera form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.in_form = False
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "camera_form":
            self.in_form = True
        name = a.get("name", "")
        if not self.in_form or "__prefix__" in name:
            return
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.data[name] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select:
            if self.select not in self.data or "selected" in a:
                self.data[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # As in a browser: the newline right after <textarea> is not part of the value.
            self.data[self.textarea] = self.data[self.textarea].removeprefix("\n")
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea] += data


def page_form(client: Client, url: str, **changes: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    fields = FormFields()
    fields.feed(page.content.decode())
    assert fields.data, "no camera form on the page"
    return {**fields.data, **changes}


@pytest.fixture
def staff_client(client: Client, django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(user)
    return client


@pytest.fixture
def filmed(camera: Camera) -> Camera:
    """The camera with three stored frames."""
    frames(camera, 3, timezone.now() - dt.timedelta(minutes=1))
    return camera


def change_url(camera: Camera) -> str:
    return f"/admin/cameras/camera/{camera.pk}/change/"


def frame_url(camera: Camera) -> str:
    return f"/admin/analytics/roadregion/camera/{camera.pk}/frame.jpg"


# The road region editor


def test_the_camera_page_includes_the_editor_its_files_and_its_frame(staff_client, filmed):
    html = staff_client.get(change_url(filmed)).content.decode()
    assert 'class="road-region-editor"' in html
    assert "analytics/road_region_editor.js" in html
    assert "analytics/road_region_editor.css" in html
    assert f'src="{frame_url(filmed)}"' in html
    assert 'data-min-points="4" data-max-points="12"' in html
    for action in ("undo", "close", "clear", "detected"):
        assert f'<button type="button" class="button" data-action="{action}">' in html
    # The JSON field stays the form's field: the editor writes into it, Save posts it.
    assert 'name="road_region-0-operator_polygon"' in html


def test_the_editor_is_given_the_detected_polygon(staff_client, filmed):
    detected = [[0.1, 1.0], [0.4, 0.5], [0.6, 0.5], [0.9, 1.0]]
    RoadRegion.objects.create(camera=filmed, auto_polygon=detected)
    html = staff_client.get(change_url(filmed)).content.decode()
    assert f'data-detected="{json.dumps(detected).replace(chr(34), "&quot;")}"' in html


def test_the_add_page_has_the_plain_field_without_the_editor(staff_client, db):
    html = staff_client.get(ADD).content.decode()
    assert 'name="road_region-0-operator_polygon"' in html
    assert 'class="road-region-editor"' not in html


def test_the_editor_frame_is_the_newest_stored_frame(staff_client, filmed):
    newest = filmed.frames.order_by("-captured_at").first()
    response = staff_client.get(frame_url(filmed))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-cache" in response["Cache-Control"]
    assert response.content == frame_path(newest).read_bytes()


def test_the_editor_frame_skips_a_file_retention_deleted(staff_client, filmed):
    newest, second = filmed.frames.order_by("-captured_at")[:2]
    frame_path(newest).unlink()
    response = staff_client.get(frame_url(filmed))
    assert response.content == frame_path(second).read_bytes()


def test_the_editor_frame_says_when_there_is_none_yet(staff_client, camera):
    response = staff_client.get(frame_url(camera))
    assert response.status_code == 404
    assert "No stored frame of “main-street” yet." in response.content.decode()


def test_the_editor_frame_is_for_staff_only(client, filmed, django_user_model):
    assert client.get(frame_url(filmed)).status_code == 302  # to the login page
    user = django_user_model.objects.create_user("viewer", password="pw-for-tests")
    client.force_login(user)
    assert client.get(frame_url(filmed)).status_code == 302


def test_it_stores_the_polygon_the_editor_posts(staff_client, filmed):
    drawn = [[0.15, 0.9], [0.4, 0.45], [0.6, 0.45], [0.85, 0.9]]
    data = page_form(
        staff_client, change_url(filmed), **{"road_region-0-operator_polygon": json.dumps(drawn)}
    )
    response = staff_client.post(change_url(filmed), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    region = RoadRegion.objects.get(camera=filmed)
    assert (region.operator_polygon, region.source) == (drawn, "operator")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[[0.1, 0.9], [0.5, 0.5]]", POLYGON_MESSAGE),  # two points
        ("[[0.1, 0.9], [1.5, 0.5], [0.9, 0.9]]", POLYGON_MESSAGE),  # out of the frame
        ("[[0.1, 0.9], [-0.2, 0.5], [0.9, 0.9]]", POLYGON_MESSAGE),
        ('[[0.1, 0.9], ["a", 0.5], [0.9, 0.9]]', POLYGON_MESSAGE),
        ("[[0.1, 0.9, 0.3], [0.5, 0.5], [0.9, 0.9]]", POLYGON_MESSAGE),
        ("[[0.1, 0.9], [0.5, 0.5]", "Enter a valid JSON."),
    ],
)
def test_it_refuses_a_bad_polygon_with_a_message(staff_client, filmed, value, message):
    stored = [[0.1, 1.0], [0.5, 0.5], [0.9, 1.0]]
    RoadRegion.objects.create(camera=filmed, operator_polygon=stored)
    data = page_form(staff_client, change_url(filmed), **{"road_region-0-operator_polygon": value})
    response = staff_client.post(change_url(filmed), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Please correct the error below." in html
    assert RoadRegion.objects.get(camera=filmed).operator_polygon == stored


def test_a_polygon_drawn_while_the_page_detected_the_road_goes_onto_that_region(
    staff_client, filmed
):
    # The page offered a new road region; opening it started a detection that stored one.
    data = page_form(staff_client, change_url(filmed))
    assert data["road_region-INITIAL_FORMS"] == "0"
    RoadRegion.objects.create(camera=filmed, auto_polygon=[[0, 1], [0.5, 0.4], [1, 1]])
    drawn = [[0.15, 0.9], [0.4, 0.45], [0.6, 0.45], [0.85, 0.9]]
    data["road_region-0-operator_polygon"] = json.dumps(drawn)
    response = staff_client.post(change_url(filmed), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    region = RoadRegion.objects.get(camera=filmed)
    assert region.operator_polygon == drawn
    assert region.auto_polygon == [[0, 1], [0.5, 0.4], [1, 1]]


def test_clearing_the_polygon_goes_back_to_the_detected_region(staff_client, filmed):
    RoadRegion.objects.create(
        camera=filmed,
        auto_polygon=[[0, 1], [0.5, 0.4], [1, 1]],
        method="colour+motion",
        operator_polygon=[[0.1, 1.0], [0.5, 0.5], [0.9, 1.0]],
    )
    data = page_form(staff_client, change_url(filmed), **{"road_region-0-operator_polygon": "[]"})
    response = staff_client.post(change_url(filmed), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    region = RoadRegion.objects.get(camera=filmed)
    assert (region.operator_polygon, region.source) == ([], "colour+motion")
    assert region.effective_polygon() == [(0, 1), (0.5, 0.4), (1, 1)]


# The source kind follows the URL


def new_camera(client: Client, **changes: str) -> dict[str, str]:
    return page_form(
        client, ADD, name="Hill Road", slug="hill-road", location_name="Hill Rd", **changes
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("rtsp://10.0.0.9:554/Streaming/101", SourceKind.RTSP),
        ("http://10.0.0.9/snapshot.jpg", SourceKind.HTTP),
        ("https://cam.example/snapshot.jpg", SourceKind.HTTP),
        ("onvif://10.0.0.9:8080", SourceKind.ONVIF),
    ],
)
def test_a_url_given_with_the_default_kind_sets_the_kind(staff_client, db, url, kind):
    data = new_camera(staff_client, source_url=url)
    assert data["source_kind"] == SourceKind.DEMO  # what the add page starts with
    response = staff_client.post(ADD, data, follow=True)
    assert response.status_code == 200
    camera = Camera.objects.get(slug="hill-road")
    assert (camera.source_kind, camera.source_url) == (kind, url)
    assert f"Source kind set to “{kind.label}” from the URL" in response.content.decode()


def test_a_demo_camera_without_a_url_stays_a_demo(staff_client, db):
    response = staff_client.post(ADD, new_camera(staff_client), follow=True)
    assert response.status_code == 200
    assert Camera.objects.get(slug="hill-road").source_kind == SourceKind.DEMO
    assert "Source kind set to" not in response.content.decode()


def test_an_existing_demo_camera_given_a_url_follows_it(staff_client, camera):
    data = page_form(staff_client, change_url(camera), source_url="rtsp://10.0.0.9/live")
    response = staff_client.post(change_url(camera), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    camera.refresh_from_db()
    assert camera.source_kind == SourceKind.RTSP


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [
        (
            "http",
            "rtsp://10.0.0.9/live",
            "The URL starts with rtsp:// (RTSP stream) but Source kind is “HTTP snapshot”: "
            "choose “RTSP stream” as the source kind, or give a URL that starts with http:// or https://.",
        ),
        (
            "rtsp",
            "https://cam.example/snapshot.jpg",
            "The URL starts with https:// (HTTP snapshot) but Source kind is “RTSP stream”: "
            "choose “HTTP snapshot” as the source kind, or give a URL that starts with rtsp:// or rtsps://.",
        ),
        (
            "onvif",
            "http://10.0.0.9/onvif/device_service",
            "The URL starts with http:// (HTTP snapshot) but Source kind is “ONVIF device”",
        ),
        ("rtsp", "10.0.0.9:554/live", "Start the URL with rtsp://, http://, https:// or onvif://."),
        ("demo", "ftp://10.0.0.9/x.jpg", "(a Demo camera needs no URL)"),
    ],
)
def test_it_refuses_a_kind_the_url_contradicts_naming_both(staff_client, db, kind, url, message):
    response = staff_client.post(ADD, new_camera(staff_client, source_kind=kind, source_url=url))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Camera.objects.exists()


def test_a_kind_that_matches_its_url_is_kept_without_a_note(staff_client, db):
    data = new_camera(staff_client, source_kind="http", source_url="http://10.0.0.9/snap.jpg")
    response = staff_client.post(ADD, data, follow=True)
    assert Camera.objects.get(slug="hill-road").source_kind == SourceKind.HTTP
    assert "Source kind set to" not in response.content.decode()
