"""The viewer's 24-hour chart, rendered on the server as inline SVG (no charting library, no
script): the past 24 hours of road-condition readings on the left of "now", the next 24 hours
of forecast on the right, and a text summary that is the chart's accessible name.

Top panel: one bar per past hour, its height and colour the hour's most frequent published
level (what the viewer's badge showed; hours whose state was Unknown throughout get no bar), and
per forecast hour the snowfall (blue bars) and the hours with ice possible (purple columns).
Bottom panel: temperature, measured (grey) and forecast (orange), with the freezing line.
Temperatures and snow are drawn and worded in the camera's units (°F and inches in US units).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from django.db.models import Avg, Count
from django.db.models.functions import TruncHour
from django.utils.safestring import SafeString, mark_safe

from analytics.alerts import HORIZON, HOUR, is_icy
from analytics.kinds import Level
from analytics.models import ConditionReading
from analytics.weather import Hour
from cameras.models import Camera
from cameras.units import Units, degree_sign, depth_in, depth_unit, freezing_point, temperature_in

# The badge colours (viewer.css), so the chart and the badge tell the same story.
LEVEL_COLOURS = {
    Level.CLEAR: "#2f9e44",
    Level.LIGHT: "#ffd43b",
    Level.MODERATE: "#f76707",
    Level.HEAVY: "#e03131",
    Level.ICE_POSSIBLE: "#9775fa",
}
SEVERITY = {
    Level.CLEAR: 1,
    Level.LIGHT: 2,
    Level.MODERATE: 3,
    Level.HEAVY: 4,
    Level.ICE_POSSIBLE: 4,
}
SNOW_COLOUR = "#74c0fc"
ICE_COLOUR = "#9775fa"
PAST_TEMPERATURE = "#ced4da"
FORECAST_TEMPERATURE = "#ffa94d"
TEXT = "#d0d0d0"
GRID = "#3a3a3a"

# Drawn for the width it is shown at (a side panel, a phone): text stays at least ~10 px.
WIDTH, HEIGHT = 480, 250
LEFT, RIGHT = 46, 474
TOP, BOTTOM = 28, 118  # condition / snow panel
T_TOP, T_BOTTOM = 146, 200  # temperature panel
AXIS_Y = 218
FONT = 14


@dataclass(frozen=True)
class PastHour:
    """One hour of readings: its most frequent published level ("" when the state was Unknown
    all hour), mean snow coverage and temperature."""

    start: dt.datetime
    level: str
    snow_coverage: float
    temperature_c: float | None = None


def past_hours(camera: Camera, now: dt.datetime) -> list[PastHour]:
    """The readings of the past 24 hours, grouped by hour in the database (a camera can store
    thousands of readings a day; the chart needs 24 rows). The published level is charted, as
    the badge shows it; an Unknown reading has none."""
    rows = (
        ConditionReading.objects.filter(
            camera=camera, measured_at__gte=now - HORIZON, measured_at__lte=now
        )
        .annotate(hour=TruncHour("measured_at", tzinfo=dt.UTC))
        .values("hour", "published_level")
        .annotate(n=Count("id"), coverage=Avg("snow_coverage"), temperature=Avg("temperature_c"))
        .order_by()
    )
    by_hour: dict[dt.datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_hour[row["hour"]].append(dict(row))
    return [_merge(hour, groups) for hour, groups in sorted(by_hour.items())]


def _merge(hour: dt.datetime, groups: list[dict[str, Any]]) -> PastHour:
    total = sum(g["n"] for g in groups)
    # Most frequent known level; a tie goes to the more severe one. "" when all were Unknown.
    known = [
        (g["n"], SEVERITY[Level(g["published_level"])], g["published_level"])
        for g in groups
        if g["published_level"]
    ]
    level = max(known)[2] if known else ""
    coverage = sum(g["coverage"] * g["n"] for g in groups) / total
    temps = [(g["temperature"], g["n"]) for g in groups if g["temperature"] is not None]
    temperature = sum(t * n for t, n in temps) / sum(n for _, n in temps) if temps else None
    return PastHour(hour, level, coverage, temperature)


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    summary: str


def render(
    past: list[PastHour],
    forecast: list[Hour],
    now: dt.datetime,
    tz: zoneinfo.ZoneInfo,
    *,
    ident: str = "chart",
    units: Units = Units.METRIC,
) -> Chart:
    """The chart for [now − 24 h, now + 24 h); `forecast` empty means none is available."""
    start = now - HORIZON
    future = [h for h in forecast if now - HOUR < h.time < now + HORIZON]
    summary = summarise(past, future, tz, units)
    parts = [
        f'<svg class="chart-svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{ident}-title" font-family="system-ui, sans-serif" font-size="{FONT}">',
        f'<title id="{ident}-title">{escape(summary)}</title>',
        *_frame(start, now, tz, units),
        *_past_bars(past, start),
        *_forecast_bars(future, start, now, units),
        *_temperatures(past, future, start, units),
    ]
    parts.append("</svg>")
    # Safe: every text and attribute value above is escaped or a number.
    return Chart(mark_safe("".join(parts)), summary)


def x_of(time: dt.datetime, start: dt.datetime) -> float:
    fraction = (time - start) / (2 * HORIZON)
    return LEFT + (RIGHT - LEFT) * min(max(fraction, 0.0), 1.0)


def _hour_width() -> float:
    return (RIGHT - LEFT) / 48


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = FONT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" fill="{TEXT}" text-anchor="{anchor}" '
        f'font-size="{size}">{escape(text)}</text>'
    )


def _frame(start: dt.datetime, now: dt.datetime, tz: zoneinfo.ZoneInfo, units: Units) -> list[str]:
    mid = x_of(now, start)
    parts = [
        _text(LEFT, 16, "Road, past 24 h"),
        _text(RIGHT, 16, "Snow and ice, next 24 h", "end"),
        _text(LEFT, T_TOP - 8, f"Temperature {degree_sign(units)}"),
    ]
    for severity, name in ((1, "Clear"), (2, "Light"), (3, "Mod."), (4, "Heavy")):
        y = BOTTOM - (BOTTOM - TOP) * severity / 4
        parts.append(_text(LEFT - 4, y + 10, name, "end", 11))
    parts.append(
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{GRID}"/>'
        f'<line x1="{LEFT}" y1="{T_BOTTOM}" x2="{RIGHT}" y2="{T_BOTTOM}" stroke="{GRID}"/>'
    )
    # Ticks every 6 hours of the camera's clock; midnight is named by its weekday.
    tick = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    while tick <= now + HORIZON:
        if tick >= start and tick.hour % 6 == 0:
            x = x_of(tick, start)
            label = f"{tick:%a}" if tick.hour == 0 else f"{tick:%H:%M}"
            parts.append(
                f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{T_BOTTOM}" stroke="{GRID}" '
                'stroke-dasharray="2 3"/>'
            )
            parts.append(_text(x, AXIS_Y, label, "middle", 13))
        tick = (tick.astimezone(dt.UTC) + HOUR).astimezone(tz)
    parts.append(
        f'<line x1="{mid:.1f}" y1="{TOP - 4}" x2="{mid:.1f}" y2="{T_BOTTOM + 4}" '
        'stroke="#ffffff" stroke-width="1.5"/>'
    )
    parts.append(_text(mid, HEIGHT - 6, f"now {now.astimezone(tz):%H:%M %Z}", "middle", 13))
    return parts


def _past_bars(past: list[PastHour], start: dt.datetime) -> list[str]:
    known = [h for h in past if h.level]
    if not known:
        text = "Road state unknown" if past else "No readings"
        return [_text((LEFT + x_of(start + HORIZON, start)) / 2, 78, text, "middle")]
    parts = []
    width = _hour_width()
    for hour in known:
        level = Level(hour.level)
        height = (BOTTOM - TOP) * SEVERITY[level] / 4
        x = x_of(hour.start, start)
        tip = f"{level.label}, snow cover {hour.snow_coverage:.0%}"
        parts.append(
            f'<rect class="level level-{level.value}" x="{x + 0.5:.1f}" '
            f'y="{BOTTOM - height:.1f}" width="{width - 1:.1f}" height="{height:.1f}" '
            f'fill="{LEVEL_COLOURS[level]}"><title>{escape(tip)}</title></rect>'
        )
    return parts


def _forecast_bars(
    future: list[Hour], start: dt.datetime, now: dt.datetime, units: Units
) -> list[str]:
    mid = x_of(now, start)
    if not future:
        return [_text((mid + RIGHT) / 2, 78, "Forecast unavailable", "middle")]
    parts = []
    width = _hour_width()
    most = max([1.0, *(h.snowfall_cm for h in future)])
    for hour in future:
        x = max(x_of(hour.time, start), mid)
        right = x_of(hour.time + HOUR, start)
        if right <= x:
            continue
        if is_icy(hour):
            parts.append(
                f'<rect class="ice" x="{x:.1f}" y="{TOP}" width="{right - x:.1f}" '
                f'height="{BOTTOM - TOP}" fill="{ICE_COLOUR}" fill-opacity="0.5">'
                "<title>Ice possible</title></rect>"
            )
        if hour.snowfall_cm > 0:
            height = max(2.0, (BOTTOM - TOP) * hour.snowfall_cm / most)
            amount = f"{depth_in(hour.snowfall_cm, units):.1f} {depth_unit(units)}"
            parts.append(
                f'<rect class="snow" x="{x + 0.5:.1f}" y="{BOTTOM - height:.1f}" '
                f'width="{min(width, right - x) - 1:.1f}" height="{height:.1f}" '
                f'fill="{SNOW_COLOUR}"><title>Snow {amount}</title></rect>'
            )
    return parts


def _temperatures(
    past: list[PastHour], future: list[Hour], start: dt.datetime, units: Units
) -> list[str]:
    measured = [
        (h.start + HOUR / 2, temperature_in(h.temperature_c, units))
        for h in past
        if h.temperature_c is not None
    ]
    forecast = [
        (h.time + HOUR / 2, temperature_in(h.temperature_c, units))
        for h in future
        if h.temperature_c is not None
    ]
    values = [t for _, t in measured + forecast]
    if not values:
        return [_text((LEFT + RIGHT) / 2, (T_TOP + T_BOTTOM) / 2 + 4, "No temperature", "middle")]
    freezing = freezing_point(units)
    low, high = min([*values, freezing]) - 1, max([*values, freezing]) + 1

    def y(value: float) -> float:
        return T_BOTTOM - (T_BOTTOM - T_TOP) * (value - low) / (high - low)

    line = y(freezing)
    parts = [
        f'<line x1="{LEFT}" y1="{line:.1f}" x2="{RIGHT}" y2="{line:.1f}" stroke="#8ec5ff" '
        'stroke-dasharray="4 3"/>',
        _text(LEFT - 4, line + 4, _degrees(freezing), "end", 12),
    ]
    # The warmest and coldest values, unless they would print over the freezing label.
    for value, y_label in ((high - 1, T_TOP + 4), (low + 1, T_BOTTOM)):
        if round(value) != round(freezing):
            parts.append(_text(LEFT - 4, y_label, _degrees(value), "end", 12))
    for series, colour, name in (
        (measured, PAST_TEMPERATURE, "measured"),
        (forecast, FORECAST_TEMPERATURE, "forecast"),
    ):
        if not series:
            continue
        points = " ".join(f"{x_of(t, start):.1f},{y(v):.1f}" for t, v in series)
        parts.append(
            f'<polyline class="temperature {name}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>'
        )
    return parts


def _degrees(value: float) -> str:
    """Whole degrees with a real minus sign, as people read them."""
    rounded = round(value)
    return f"−{-rounded}°" if rounded < 0 else f"{rounded}°"


def summarise(
    past: list[PastHour],
    future: list[Hour],
    tz: zoneinfo.ZoneInfo,
    units: Units = Units.METRIC,
) -> str:
    """The chart in words: its accessible name and the caption under it."""
    return f"{_past_summary(past, tz)} {_forecast_summary(future, tz, units)}"


def _past_summary(past: list[PastHour], tz: zoneinfo.ZoneInfo) -> str:
    if not past:
        return "Past 24 h: no road-condition readings."
    known = [h for h in past if h.level]
    if not known:
        return "Past 24 h: road state unknown."
    counts = Counter(h.level for h in known)
    usual = Level(counts.most_common(1)[0][0]).label
    worst = max(known, key=lambda h: (SEVERITY[Level(h.level)], h.start))
    cover = max(h.snow_coverage for h in known)
    text = f"Past 24 h: mostly {usual}"
    if worst.level != counts.most_common(1)[0][0]:
        local = worst.start.astimezone(tz)
        text += f", {Level(worst.level).label} at {local:%a %H:%M}"
    unknown = len(past) - len(known)
    if unknown:
        text += f"; unknown for {unknown} hour{'' if unknown == 1 else 's'}"
    return f"{text}; snow cover up to {cover:.0%}."


def _forecast_summary(future: list[Hour], tz: zoneinfo.ZoneInfo, units: Units) -> str:
    if not future:
        return "Next 24 h: forecast unavailable."
    parts = []
    temps = [temperature_in(h.temperature_c, units) for h in future if h.temperature_c is not None]
    if temps:
        low, high = _degrees(min(temps))[:-1], _degrees(max(temps))[:-1]
        parts.append(f"{low} to {high} {degree_sign(units)}")
    snowy = [h for h in future if h.snowfall_cm > 0]
    if snowy:
        total = f"{depth_in(sum(h.snowfall_cm for h in snowy), units):.1f} {depth_unit(units)}"
        parts.append(f"snow {total} from {snowy[0].time.astimezone(tz):%a %H:%M}")
    icy = [h for h in future if is_icy(h)]
    if icy:
        hours = "hour" if len(icy) == 1 else "hours"
        parts.append(
            f"ice possible for {len(icy)} {hours} from {icy[0].time.astimezone(tz):%a %H:%M}"
        )
    if not snowy and not icy:
        parts.append("no snow or ice forecast")
    return f"Next 24 h: {'; '.join(parts)}."
