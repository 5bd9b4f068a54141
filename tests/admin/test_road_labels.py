"""Operators label frames in the admin, and the camera's page shows what the labels add up to.

Everything runs on real frames: the demo scene rendered as a JPEG, stored as a frame and
analysed by `analytics.analysis.analyze_frame`, with three snowy days of weather history and a
road region drawn by the operator (the decision trusts a drawn region). The snowy scene then
reads as snow. An operator who says such frames show a dry road (a pale surface, say) makes
that camera, and only that camera, stop calling the same picture snow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import cv2
import numpy as np
import pytest
import time_machine
from django.test import Client

from analytics import labelling
from analytics.analysis import analyze_frame
from analytics.models import (
    ConditionReading,
    ConditionThresholds,
    FrameLabel,
    RoadReference,
    RoadRegion,
    WeatherHour,
)
from analytics.service import frame_path
from cameras.capture import store_frame
from cameras.models import Camera, Frame, SourceKind
from cameras.sources import Grab
from cameras.sources.demo import render_scene

NOON = dt.datetime(2026, 1, 15, 17, 0, tzinfo=dt.UTC)  # noon in New York
# The carriageway and the snowy right-hand verge, as fractions of the frame.
WITH_VERGE = [[0.2, 1.0], [0.45, 0.4], [0.6, 0.4], [0.9, 1.0]]
LABEL_PAGE = "/admin/analytics/framelabel/camera/{pk}/"


@pytest.fixture(autouse=True)
def pinned_time() -> Iterator[None]:
    with time_machine.travel(NOON + dt.timedelta(hours=1), tick=False):
        yield


@pytest.fixture
def staff_client(client: Client, django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("boss", password="pw-for-tests")
    client.force_login(user)
    return client


def snowy_place(camera: Camera) -> Camera:
    """Three days of light snowfall at −3 °C before NOON, and the operator's road region."""
    for hours in range(72):
        WeatherHour.objects.create(
            camera=camera,
            time=NOON - dt.timedelta(hours=hours),
            provider="open_meteo",
            temperature_c=-3.0,
            dew_point_c=-5.0,
            precipitation_mm=0.5,
            snowfall_cm=0.5,
        )
    RoadRegion.objects.create(camera=camera, operator_polygon=WITH_VERGE)
    return camera


@pytest.fixture
def snowy(camera: Camera) -> Camera:
    return snowy_place(camera)


def picture(camera: Camera, minutes: int, *, snow: bool = True, seed: int = 0) -> Frame:
    at = NOON + dt.timedelta(minutes=minutes)
    image = render_scene(640, 360, at.astimezone(camera.tz), snow=snow, seed=seed)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return store_frame(camera, Grab(jpeg=data.tobytes(), width=640, height=360), at)


def read(camera: Camera, minutes: int, *, snow: bool = True, seed: int = 0) -> ConditionReading:
    reading = analyze_frame(picture(camera, minutes, snow=snow, seed=seed))
    assert reading is not None
    return reading


def post_labels(client: Client, camera: Camera, truths: dict[int, str]) -> str:
    data: dict[str, object] = {"page": "1", "reading": [str(pk) for pk in truths]}
    data.update({f"r{pk}-truth": truth for pk, truth in truths.items() if truth})
    response = client.post(LABEL_PAGE.format(pk=camera.pk), data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def cell(page: str, truth: str, state: str) -> int:
    row = re.search(rf'<tr data-truth="{truth}">(.*?)</tr>', page, re.DOTALL)
    assert row, f"no agreement row for {truth}"
    found = re.search(rf'<td data-state="{state}">(\d+)</td>', row.group(1))
    assert found, f"no cell {truth} → {state}"
    return int(found.group(1))


def count(page: str, name: str) -> str:
    found = re.search(rf'data-count="{name}">([^<]*)<', page)
    assert found, name
    return found.group(1)


def camera_page(client: Client, camera: Camera) -> str:
    response = client.get(f"/admin/cameras/camera/{camera.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_reads_the_snowy_demo_scene_as_snow_before_any_label(snowy):
    reading = read(snowy, 0)
    assert (reading.state, reading.published_state) == ("snow", "snow"), reading.reason


def test_it_lists_recent_readings_with_their_frames_newest_first(staff_client, snowy):
    readings = [read(snowy, minutes, seed=minutes) for minutes in range(3)]
    page = staff_client.get(LABEL_PAGE.format(pk=snowy.pk)).content.decode()
    shown = [int(pk) for pk in re.findall(r'name="reading" value="(\d+)"', page)]
    assert shown == [r.pk for r in reversed(readings)]
    assert "2026-01-15 12:02 EST" in page  # the camera's time zone
    assert "Light snow" in page
    thumbs = re.findall(r'<img class="label-frame__image" src="([^"]+)"', page)
    assert len(thumbs) == 3
    image = staff_client.get(thumbs[0].replace("&amp;", "&"))
    assert image["Content-Type"] == "image/jpeg"
    decoded = cv2.imdecode(np.frombuffer(image.content, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape[1] == 320
    assert 'value="dry"' in page and 'value="not_visible"' in page


def test_it_paginates_the_labelling_page(staff_client, camera):
    frame = picture(camera, 0, snow=False)
    for minutes in range(30):
        ConditionReading.objects.create(
            camera=camera,
            frame=frame,
            measured_at=NOON - dt.timedelta(minutes=minutes),
            snow_coverage=0.0,
            wetness=0.1,
            ice_likelihood=0.0,
            brightness=0.5,
            confidence=0.8,
        )
    first = staff_client.get(LABEL_PAGE.format(pk=camera.pk)).content.decode()
    second = staff_client.get(LABEL_PAGE.format(pk=camera.pk), {"page": 2}).content.decode()
    assert len(re.findall(r'name="reading"', first)) == 24
    assert len(re.findall(r'name="reading"', second)) == 6
    assert "Page 2 of 2" in second


def test_it_stores_labels_with_what_the_public_saw_and_shows_the_agreement(staff_client, snowy):
    readings = [read(snowy, minutes, seed=minutes) for minutes in range(4)]
    truths = {readings[0].pk: "dry", readings[1].pk: "dry", readings[2].pk: "snow"}
    page = post_labels(staff_client, snowy, {**truths, readings[3].pk: ""})
    assert "Saved 3 labels." in page

    labels = {label.reading_id: label for label in FrameLabel.objects.all()}
    assert set(labels) == set(truths)
    for reading in readings[:3]:
        label = labels[reading.pk]
        assert label.truth == truths[reading.pk]
        assert (label.camera, label.frame, label.captured_at) == (
            snowy,
            reading.frame,
            reading.measured_at,
        )
        assert (label.said_state, label.said_level) == (
            reading.published_state,
            reading.published_level,
        )
        assert label.said_state == "snow"
        assert label.features == reading.features()
        assert label.labelled_by == "boss"
    # The page shows the saved choice, and saving it again changes nothing.
    again = post_labels(staff_client, snowy, truths)
    assert "No label changed." in again
    assert FrameLabel.objects.count() == 3
    assert re.search(rf'name="r{readings[0].pk}-truth" value="dry"[^>]*checked', again)

    shown = camera_page(staff_client, snowy)
    assert cell(shown, "dry", "snow") == 2
    assert cell(shown, "snow", "snow") == 1
    assert cell(shown, "wet", "snow") == 0
    assert (count(shown, "right"), count(shown, "wrong"), count(shown, "abstained")) == (
        "1",
        "2",
        "0",
    )
    assert count(shown, "right_share") == "33%"
    [note] = labelling.adjustments(snowy)
    assert note.startswith("snow threshold 0.10 → ") and note.endswith(" from 3 labels")
    assert note in shown
    assert f'href="{LABEL_PAGE.format(pk=snowy.pk)}"' in shown
    assert f"/admin/analytics/conditionreading/?camera__id__exact={snowy.pk}" in shown
    assert 'data-url="/analytics/road-boundaries?camera=main-street"' in shown


def test_it_changes_the_decision_of_a_labelled_camera_only(staff_client, snowy):
    other = snowy_place(
        Camera.objects.create(
            name="Other Street",
            slug="other-street",
            location_name="Other St",
            time_zone=snowy.time_zone,
            source_kind=SourceKind.DEMO,
            capture_width=640,
            capture_height=360,
        )
    )
    said = [read(snowy, minutes, seed=minutes) for minutes in range(2)]
    assert [r.state for r in said] == ["snow", "snow"]
    post_labels(staff_client, snowy, {r.pk: "dry" for r in said})

    # The same picture again: the labelled frame once its reading is gone, and the same
    # JPEG stored for a camera with the same weather and road region but no labels.
    frame = said[0].frame
    assert frame is not None
    said[0].delete()
    after = analyze_frame(frame)
    copy = store_frame(
        other, Grab(jpeg=frame_path(frame).read_bytes(), width=640, height=360), frame.captured_at
    )
    unlabelled = analyze_frame(copy)
    assert after is not None and unlabelled is not None

    assert unlabelled.state == "snow", unlabelled.reason
    assert after.state != "snow", after.reason
    assert (after.snow_coverage, after.pale_coverage) == (
        unlabelled.snow_coverage,
        unlabelled.pale_coverage,
    )
    # And a new frame of the same kind, for both cameras.
    assert read(snowy, 10, seed=7).state != "snow"
    assert read(other, 10, seed=7).state == "snow"
    assert "snow threshold 0.10 → " in camera_page(staff_client, snowy)
    assert "No labels yet." in camera_page(staff_client, other)


def test_it_keeps_a_label_and_its_count_when_retention_deletes_the_frame(staff_client, snowy):
    reading = read(snowy, 0)
    post_labels(staff_client, snowy, {reading.pk: "dry"})
    frame = reading.frame
    assert frame is not None
    frame_path(frame).unlink()
    frame.delete()

    page = staff_client.get(LABEL_PAGE.format(pk=snowy.pk)).content.decode()
    assert "frame deleted by retention" in page
    reading.delete()

    label = FrameLabel.objects.get()
    assert (label.frame, label.reading) == (None, None)
    assert (label.captured_at, label.truth, label.said_state) == (NOON, "dry", "snow")
    assert cell(camera_page(staff_client, snowy), "dry", "snow") == 1


def test_it_labels_one_frame_from_the_reading_page(staff_client, snowy):
    reading = read(snowy, 0)
    url = f"/admin/analytics/conditionreading/{reading.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert f'src="/admin/analytics/conditionreading/frame/{reading.frame_id}.jpg"' in page
    action = f"/admin/analytics/conditionreading/{reading.pk}/label/"
    assert f'action="{action}"' in page

    response = staff_client.post(action, {f"r{reading.pk}-truth": "ice"})
    assert response.status_code == 302 and response["Location"] == url
    assert FrameLabel.objects.get(reading=reading).truth == "ice"
    staff_client.post(action, {f"r{reading.pk}-truth": "wet"})
    assert FrameLabel.objects.get(reading=reading).truth == "wet"
    assert re.search(r'value="wet"[^>]*checked', staff_client.get(url).content.decode())


def test_it_refuses_a_value_that_is_not_a_truth(staff_client, snowy):
    reading = read(snowy, 0)
    page = post_labels(staff_client, snowy, {reading.pk: "slush"})
    assert "nothing was saved" in page
    assert not FrameLabel.objects.exists()


def test_it_keeps_the_labelling_page_and_frames_from_non_staff(client, django_user_model, snowy):
    reading = read(snowy, 0)
    image = f"/admin/analytics/conditionreading/frame/{reading.frame_id}.jpg"
    pages = [LABEL_PAGE.format(pk=snowy.pk), image]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.post(pages[0], {"reading": reading.pk}).status_code == 302

    visitor = django_user_model.objects.create_user("visitor", password="pw-visitor")
    client.force_login(visitor)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    clerk = django_user_model.objects.create_user("clerk", password="pw-clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get(pages[0]).status_code == 403
    assert client.get(pages[1]).status_code == 403
    post = client.post(pages[0], {"reading": reading.pk, f"r{reading.pk}-truth": "dry"})
    assert post.status_code == 403
    assert not FrameLabel.objects.exists()


def test_it_shows_the_learned_bare_road_per_light(staff_client, camera):
    RoadReference.objects.create(camera=camera, light="day", samples=25, updated_at=NOON)
    RoadReference.objects.create(camera=camera, light="night", samples=3, updated_at=NOON)
    page = camera_page(staff_client, camera)
    rows = dict(re.findall(r'<tr data-light="(\w+)">(.*?)</tr>', page, re.DOTALL))
    cells = {light: re.findall(r"<td>([^<]*)</td>", html) for light, html in rows.items()}
    assert cells == {
        "day": ["25", "2026-01-15 12:00 EST", "yes"],
        "twilight": ["0", "never", "no"],
        "night": ["3", "2026-01-15 12:00 EST", "no"],
    }
    assert "No labels yet." in page


def test_it_lists_readings_labels_learned_roads_and_weather(staff_client, snowy):
    reading = read(snowy, 0)
    post_labels(staff_client, snowy, {reading.pk: "dry"})
    readings = staff_client.get(
        "/admin/analytics/conditionreading/", {"published_state": "snow"}
    ).content.decode()
    assert "snow on the road" in readings and "Labelled?" in readings
    labels = staff_client.get("/admin/analytics/framelabel/", {"truth": "dry"}).content.decode()
    assert "boss" in labels
    weather = staff_client.get("/admin/analytics/weatherhour/", {"camera__id__exact": snowy.pk})
    assert weather.status_code == 200 and "open_meteo" in weather.content.decode()
    assert staff_client.get("/admin/analytics/weatherhour/add/").status_code == 403
    ConditionThresholds.objects.create(camera=snowy, wet=0.7)
    thresholds = staff_client.get("/admin/analytics/conditionthresholds/").content.decode()
    assert "column-wet" in thresholds and "0.7" in thresholds


def test_it_lets_an_operator_change_only_the_truth_of_a_label(staff_client, snowy):
    reading = read(snowy, 0)
    post_labels(staff_client, snowy, {reading.pk: "dry"})
    label = FrameLabel.objects.get()
    url = f"/admin/analytics/framelabel/{label.pk}/change/"
    response = staff_client.post(url, {"truth": "snow", "said_state": "dry", "labelled_by": "x"})
    assert response.status_code == 302
    label.refresh_from_db()
    assert (label.truth, label.said_state, label.labelled_by) == ("snow", "snow", "boss")


def test_it_forgets_a_learned_road_so_the_camera_learns_again(staff_client, camera):
    row = RoadReference.objects.create(camera=camera, light="day", samples=40)
    response = staff_client.post(
        "/admin/analytics/roadreference/",
        {"action": "forget", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "Forgot 1 learned road" in response.content.decode()
    assert not RoadReference.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        LABEL_PAGE,
        "/admin/cameras/camera/{camera}/change/",
        "/admin/analytics/conditionreading/{reading}/change/",
        "/admin/analytics/framelabel/{label}/change/",
    ],
)
def test_it_renders_the_new_pages_without_inline_code(staff_client, snowy, url):
    reading = read(snowy, 0)
    post_labels(staff_client, snowy, {reading.pk: "dry"})
    label = FrameLabel.objects.get()
    response = staff_client.get(
        url.format(pk=snowy.pk, camera=snowy.pk, reading=reading.pk, label=label.pk)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"


def test_it_refuses_a_label_post_without_the_csrf_token(django_user_model, snowy):
    reading = read(snowy, 0)
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-boss"))
    data = {"reading": reading.pk, f"r{reading.pk}-truth": "dry"}
    assert client.post(LABEL_PAGE.format(pk=snowy.pk), data).status_code == 403
    assert not FrameLabel.objects.exists()
    assert "csrfmiddlewaretoken" in client.get(LABEL_PAGE.format(pk=snowy.pk)).content.decode()
