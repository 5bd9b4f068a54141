from __future__ import annotations

import datetime as dt
import re

import time_machine

from analytics.alerts import HOUR
from analytics.kinds import Level, State
from analytics.models import ConditionReading, ForecastSnapshot
from analytics.weather import Hour
from cameras.models import Camera, Health
from sequences.builder import build_sequence
from sequences.digest import build_day
from tests.factories import demo_day, frames

START = dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)


def test_it_shows_a_placeholder_before_the_first_sequence(client, camera):
    body = client.get("/").content.decode()
    assert "Waiting for the first pictures from Main St at 5th Ave" in body


def test_it_shows_the_latest_loop_with_its_capture_time_in_the_camera_zone(client, camera):
    frames(camera, 5, START)
    sequence = build_sequence(camera)
    body = client.get("/").content.decode()
    assert f'<video class="loop" src="/sequence/{camera.slug}/latest.mp4?v={sequence.pk}"' in body
    assert f'src="/sequence/{camera.slug}/latest.gif?v={sequence.pk}"' in body
    # 17:00:24 UTC is 12:00 in New York.
    assert "Sat 28 Nov 2026 12:00 EST" in body
    assert 'alt="Road camera loop at Main St at 5th Ave' in body


def test_it_connects_the_page_to_the_live_socket(client, camera):
    assert 'data-live-url="/ws/live/"' in client.get("/").content.decode()
    one = client.get(f"/camera/{camera.slug}/iframe").content.decode()
    assert f'data-live-url="/ws/live/{camera.slug}/"' in one
    assert 'class="compact"' in one


def test_it_answers_404_for_an_unknown_camera(client, camera):
    assert client.get("/camera/nope/").status_code == 404


def reading(camera, at, state, level, reason="snow on the road", temperature_c=None):
    """A reading whose own state is also the published one."""
    return ConditionReading.objects.create(
        camera=camera, measured_at=at, state=state, level=level, reason=reason,
        published_state=state, published_level=level, published_reason=reason,
        snow_coverage=0.3, wetness=0.1, ice_likelihood=0.1, brightness=0.5, confidence=0.8,
        temperature_c=temperature_c,
    )  # fmt: skip


def forecast(camera, now, **snapshot):
    camera.latitude, camera.longitude = 40.7, -74.0
    camera.save()
    start = now.replace(minute=0, second=0, microsecond=0)
    hours = [
        Hour(start + dt.timedelta(hours=i), temperature_c=-3.0, snowfall_cm=1.0 if i > 5 else 0)
        for i in range(30)
    ]
    hours[2] = Hour(start + dt.timedelta(hours=2), temperature_c=-1.0, ice_mm=0.5)
    return ForecastSnapshot.objects.create(
        camera=camera, provider="open-meteo", fetched_at=now, expires_at=now + HOUR * 6,
        hourly=[h.to_json() for h in hours], **snapshot,
    )  # fmt: skip


def test_it_shows_the_condition_badge_temperature_and_at_most_two_alerts(client, camera):
    frames(camera, 5, START)
    build_sequence(camera)
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        reading(
            camera, START + dt.timedelta(minutes=1), State.SNOW, Level.MODERATE,
            temperature_c=-2.4,
        )  # fmt: skip
        forecast(camera, START + dt.timedelta(minutes=1))
        body = client.get("/").content.decode()
    assert (
        '<span class="badge level-moderate" title="snow on the road">Moderate snow</span>' in body
    )
    # New York: °F and inches (the forecast's −3.0 °C; 19 cm of snow is 7.5 in).
    assert '<span class="temperature">26.6 °F</span>' in body
    assert 'data-units="us"' in body
    alerts = re.findall(r"<li>(.*?)</li>", body)
    assert alerts == ["Ice possible Sat 14:00–15:00", "Snow 5–10 in from Sat 18:00"]
    assert "(updated 1 min ago)" in body
    assert "is-offline" not in body
    assert 'class="forecast-note"></p>' in body


def test_it_shows_metric_where_the_camera_or_the_site_says_so(client, camera, settings):
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        forecast(camera, START + dt.timedelta(minutes=1))
        camera.units = "metric"
        camera.save()
        chosen = client.get("/").content.decode()
        camera.units = "auto"
        camera.save()
        settings.UNITS = "metric"
        site = client.get("/").content.decode()
    for body in (chosen, site):
        assert '<span class="temperature">−3.0 °C</span>' in body
        assert 'data-units="metric"' in body
        alerts = re.findall(r"<li>(.*?)</li>", body)
        assert alerts == ["Ice possible Sat 14:00–15:00", "Snow 14–24 cm from Sat 18:00"]
        assert "Temperature °C" in body
        assert "Next 24 h: −3 to −1 °C; snow 19.0 cm from Sat 18:00" in body


def test_it_draws_the_chart_in_the_cameras_units(client, camera):
    with time_machine.travel(START, tick=False):
        forecast(camera, START)
        body = client.get("/").content.decode()
    assert "Temperature °F" in body and "Temperature °C" not in body
    assert "Next 24 h: 27 to 30 °F; snow 7.1 in from Sat 18:00" in body
    # The freezing line is 32° in °F; the snow bars' titles are in inches.
    assert ">32°</text>" in body and ">0°</text>" not in body
    assert "<title>Snow 0.4 in</title>" in body


def test_it_draws_the_24_hour_chart_on_the_full_page_only(client, camera):
    with time_machine.travel(START, tick=False):
        reading(camera, START - dt.timedelta(hours=2), State.SNOW, Level.LIGHT)
        forecast(camera, START)
        page = client.get("/").content.decode()
        embedded = client.get("/iframe").content.decode()
    assert '<svg class="chart-svg" role="img"' in page
    assert 'class="level level-light"' in page
    assert "Past 24 h: mostly Light" in page
    assert "chart-svg" not in embedded


def test_it_shows_a_dash_for_unknown_with_the_reason_as_the_badge_title(client, camera):
    why = "picture and weather disagree: looks like snow, but too warm"
    with time_machine.travel(START, tick=False):
        reading(camera, START - dt.timedelta(minutes=2), State.UNKNOWN, "", why)
        body = client.get("/").content.decode()
    assert f'<span class="badge level-unknown" title="{why}">—</span>' in body
    assert "No reading" not in body


def test_it_says_no_reading_when_the_newest_reading_is_not_current(client, camera):
    with time_machine.travel(START, tick=False):
        reading(camera, START - dt.timedelta(hours=1), State.SNOW, Level.HEAVY)
        body = client.get("/").content.decode()
    assert '<span class="badge level-unknown">No reading</span>' in body


def test_it_says_honestly_when_the_forecast_is_unavailable(client, camera):
    with time_machine.travel(START, tick=False):
        forecast(camera, START - dt.timedelta(hours=8))
        ForecastSnapshot.objects.create(
            camera=camera, provider="open-meteo", fetched_at=START, error="HTTP 503"
        )
        body = client.get("/").content.decode()
    assert '<p class="forecast-note">Forecast unavailable</p>' in body
    assert '<span class="badge level-unknown">No reading</span>' in body
    assert "Next 24 h: forecast unavailable." in body


def test_it_shows_a_camera_offline_since_its_last_frame(client, camera):
    frames(camera, 5, START)
    build_sequence(camera)
    Camera.objects.filter(pk=camera.pk).update(
        health=Health.OK, last_frame_at=START + dt.timedelta(seconds=24)
    )
    # Three update intervals (1 min each) without a frame: offline, whatever health says.
    with time_machine.travel(START + dt.timedelta(minutes=2), tick=False):
        assert "is-offline" not in client.get("/").content.decode()
    with time_machine.travel(START + dt.timedelta(minutes=4), tick=False):
        body = client.get("/").content.decode()
    assert 'class="tile is-offline"' in body
    assert "Camera offline since" in body
    assert ">Sat 28 Nov 12:00 EST</time>" in body


def test_it_shows_a_camera_offline_when_its_health_says_so(client, camera):
    Camera.objects.filter(pk=camera.pk).update(health=Health.OFFLINE)
    body = client.get("/").content.decode()
    assert 'class="tile is-offline"' in body
    assert "No picture has been received yet." in body


def test_it_shows_yesterday_at_a_glance_with_the_sun_times(client, camera):
    camera.latitude, camera.longitude = 40.71, -74.0
    camera.save()
    day = dt.date(2026, 11, 27)
    demo_day(camera, day, spacing_min=120)
    digest = build_day(camera, day)
    with time_machine.travel(START, tick=False):  # 28 Nov in New York: the 27th was yesterday
        body = client.get("/").content.decode()
        other = client.get(f"/camera/{camera.slug}/").content.decode()
        compact = client.get("/iframe").content.decode()
    assert "Yesterday at a glance" in body and "Yesterday at a glance" in other
    assert digest.sunrise is not None
    rise = digest.sunrise.astimezone(camera.tz)
    assert f">{rise:%H:%M}</time>" in body and rise.hour == 6
    assert f'src="/sequence/{camera.slug}/day/2026-11-27.png"' in body
    assert f'href="/sequence/{camera.slug}/day/2026-11-27.mp4"' in body
    assert "Yesterday at a glance" not in compact  # the embedded viewer stays small
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        assert "Fri 27 Nov at a glance" in client.get("/").content.decode()


def test_it_shows_no_day_at_a_glance_before_one_is_built(client, camera):
    assert "at a glance" not in client.get("/").content.decode()
