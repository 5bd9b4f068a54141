"""The 24-hour chart: server-rendered SVG of past readings and the forecast."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from analytics.kinds import Level, State
from analytics.models import ConditionReading
from analytics.weather import Hour
from sequences import chart

NOW = dt.datetime(2026, 11, 28, 17, 30, tzinfo=dt.UTC)
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def hours_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=n)


def past() -> list[chart.PastHour]:
    return [
        chart.PastHour(hours_ago(5).replace(minute=0), Level.CLEAR, 0.02, 1.5),
        chart.PastHour(hours_ago(4).replace(minute=0), Level.LIGHT, 0.12, 0.5),
        chart.PastHour(hours_ago(3).replace(minute=0), Level.MODERATE, 0.31, -0.5),
        chart.PastHour(hours_ago(2).replace(minute=0), Level.CLEAR, 0.05, -1.0),
        chart.PastHour(hours_ago(1).replace(minute=0), Level.CLEAR, 0.04, -1.5),
    ]


def forecast() -> list[Hour]:
    start = NOW.replace(minute=0)
    hours = [Hour(start + dt.timedelta(hours=i), temperature_c=-2.0 - i / 4) for i in range(24)]
    hours[9] = Hour(start + dt.timedelta(hours=9), temperature_c=-4.0, snowfall_cm=1.2)
    hours[10] = Hour(start + dt.timedelta(hours=10), temperature_c=-4.0, snowfall_cm=0.8)
    hours[12] = Hour(start + dt.timedelta(hours=12), temperature_c=-1.0, ice_mm=0.3)
    return hours


def test_it_plots_one_bar_per_past_hour_in_its_level_colour():
    svg = chart.render(past(), forecast(), NOW, NEW_YORK).svg
    bars = re.findall(r'<rect class="level level-(\w+)"[^>]*fill="(#\w+)"', svg)
    assert bars == [
        ("clear", chart.LEVEL_COLOURS[Level.CLEAR]),
        ("light", chart.LEVEL_COLOURS[Level.LIGHT]),
        ("moderate", chart.LEVEL_COLOURS[Level.MODERATE]),
        ("clear", chart.LEVEL_COLOURS[Level.CLEAR]),
        ("clear", chart.LEVEL_COLOURS[Level.CLEAR]),
    ]
    heights = [float(h) for h in re.findall(r'class="level [^"]*"[^>]*height="([\d.]+)"', svg)]
    assert heights[2] == 3 * heights[0]  # Moderate stands three times as high as Clear
    assert "<title>Moderate, snow cover 31%</title>" in svg


def test_it_plots_forecast_snow_and_ice_right_of_now():
    svg = chart.render(past(), forecast(), NOW, NEW_YORK).svg
    now_x = chart.x_of(NOW, NOW - chart.HORIZON)
    snow = [float(x) for x in re.findall(r'<rect class="snow" x="([\d.]+)"', svg)]
    ice = [float(x) for x in re.findall(r'<rect class="ice" x="([\d.]+)"', svg)]
    assert len(snow) == 2 and len(ice) == 1
    assert all(x > now_x for x in snow + ice)
    assert "<title>Snow 1.2 cm</title>" in svg
    assert 'class="temperature forecast"' in svg and 'class="temperature measured"' in svg


def test_it_labels_the_axes_in_the_camera_zone_and_marks_now():
    svg = chart.render(past(), forecast(), NOW, NEW_YORK).svg
    assert 'role="img"' in svg
    assert "now 12:30 EST" in svg
    assert ">Sun<" in svg  # midnight in New York, named by its weekday
    assert ">18:00<" in svg and ">06:00<" in svg


def test_it_summarises_the_chart_in_words_as_its_accessible_name():
    result = chart.render(past(), forecast(), NOW, NEW_YORK, ident="chart-x")
    assert result.summary == (
        "Past 24 h: mostly Clear, Moderate at Sat 09:00; snow cover up to 31%. "
        "Next 24 h: −8 to −1 °C; snow 2.0 cm from Sat 21:00; "
        "ice possible for 1 hour from Sun 00:00."
    )
    assert 'aria-labelledby="chart-x-title"' in result.svg
    assert f'<title id="chart-x-title">{result.summary}</title>' in result.svg


def test_it_says_so_when_there_is_no_data():
    result = chart.render([], [], NOW, NEW_YORK)
    assert "No readings" in result.svg and "Forecast unavailable" in result.svg
    assert result.summary == (
        "Past 24 h: no road-condition readings. Next 24 h: forecast unavailable."
    )


LEVEL_STATES = {
    Level.CLEAR: State.DRY,
    Level.LIGHT: State.SNOW,
    Level.HEAVY: State.SNOW,
    "": State.UNKNOWN,
}


def reading(
    camera, at: dt.datetime, level: str, coverage: float, published: str | None = None
) -> None:
    """A reading at `level` ("" for Unknown), published at `published` (its own by default)."""
    shown = level if published is None else published
    ConditionReading.objects.create(
        camera=camera, measured_at=at, state=LEVEL_STATES[level], level=level,
        published_state=LEVEL_STATES[shown], published_level=shown, snow_coverage=coverage,
        wetness=0, ice_likelihood=0, brightness=0.5, confidence=0.8, temperature_c=-1.0,
    )  # fmt: skip


def test_it_groups_stored_readings_by_hour_with_the_most_frequent_level(camera):
    base = hours_ago(3).replace(minute=0)
    reading(camera, base + dt.timedelta(minutes=5), Level.LIGHT, 0.12)
    reading(camera, base + dt.timedelta(minutes=10), Level.LIGHT, 0.14)
    reading(camera, base + dt.timedelta(minutes=15), Level.HEAVY, 0.6)
    reading(camera, base + dt.timedelta(hours=1), Level.CLEAR, 0.0)
    reading(camera, hours_ago(30), Level.HEAVY, 0.9)  # older than the chart

    rows = chart.past_hours(camera, NOW)
    assert [(r.start, r.level) for r in rows] == [
        (base, Level.LIGHT),
        (base + dt.timedelta(hours=1), Level.CLEAR),
    ]
    assert round(rows[0].snow_coverage, 3) == round((0.12 + 0.14 + 0.6) / 3, 3)
    assert rows[0].temperature_c == -1.0


def test_it_charts_the_published_level_as_the_badge_shows_it(camera):
    base = hours_ago(2).replace(minute=0)
    for minutes in (5, 10, 15):
        # One-off heavy readings that the published state held at Light.
        reading(camera, base + dt.timedelta(minutes=minutes), Level.HEAVY, 0.6, Level.LIGHT)
    assert [r.level for r in chart.past_hours(camera, NOW)] == [Level.LIGHT]


def test_it_counts_only_known_levels_and_keeps_an_unknown_hour_without_one(camera):
    base = hours_ago(3).replace(minute=0)
    reading(camera, base + dt.timedelta(minutes=5), "", 0.0)
    reading(camera, base + dt.timedelta(minutes=10), "", 0.0)
    reading(camera, base + dt.timedelta(minutes=15), Level.LIGHT, 0.15)
    reading(camera, base + dt.timedelta(hours=1), "", 0.0)

    rows = chart.past_hours(camera, NOW)
    assert [(r.start, r.level) for r in rows] == [
        (base, Level.LIGHT),
        (base + dt.timedelta(hours=1), ""),
    ]
    assert rows[1].temperature_c == -1.0  # the weather is known even when the road is not


def test_it_draws_no_bar_for_an_unknown_hour_and_says_how_long_it_was_unknown():
    hours = [*past(), chart.PastHour(hours_ago(6).replace(minute=0), "", 0.0, 2.0)]
    result = chart.render(hours, forecast(), NOW, NEW_YORK)
    assert len(re.findall(r'<rect class="level ', result.svg)) == len(past())
    assert result.summary.startswith(
        "Past 24 h: mostly Clear, Moderate at Sat 09:00; unknown for 1 hour; snow cover up to 31%."
    )


def test_it_says_so_when_the_road_state_was_unknown_all_day():
    hours = [chart.PastHour(hours_ago(n).replace(minute=0), "", 0.0, -1.0) for n in (1, 2)]
    result = chart.render(hours, [], NOW, NEW_YORK)
    assert "Road state unknown" in result.svg
    assert '<rect class="level ' not in result.svg
    assert 'class="temperature measured"' in result.svg
    assert result.summary.startswith("Past 24 h: road state unknown.")
