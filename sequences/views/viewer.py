"""The viewer pages: `/`, `/iframe` and the same for one camera. Everything a viewer needs is
in the HTML (loop, times, condition, alerts, chart), so the page works with JavaScript off;
`static/imgserv/viewer.js` then keeps it current from the live socket."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from analytics.alerts import ForecastStatus, forecast_state
from analytics.service import Conditions, current_conditions
from cameras.models import Camera, Health
from cameras.units import Units, temperature_text
from sequences import chart
from sequences.models import DayDigest, Sequence

# A camera whose newest frame is older than this many update intervals is shown as offline
# even when its health says otherwise (the worker itself may have stopped).
OFFLINE_AFTER_INTERVALS = 3
MAX_ALERTS = 2


def ago(since: dt.datetime, now: dt.datetime) -> str:
    """As viewer.js writes it, so the text doesn't change when the script takes over."""
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 1:
        return "updated just now"
    if minutes < 120:
        return f"updated {minutes} min ago"
    return f"updated {minutes // 60} h ago"


@dataclass
class Tile:
    camera: Camera
    sequence: Sequence | None
    conditions: Conditions
    now: dt.datetime
    chart: chart.Chart | None = None
    day: DayDigest | None = None

    @property
    def offline_after(self) -> dt.timedelta:
        return OFFLINE_AFTER_INTERVALS * dt.timedelta(minutes=self.camera.update_interval_minutes)

    @property
    def newest_frame_at(self) -> dt.datetime | None:
        if self.camera.last_frame_at is not None:
            return self.camera.last_frame_at
        return self.sequence.last_captured_at if self.sequence else None

    @property
    def offline(self) -> bool:
        if self.camera.health == Health.OFFLINE:
            return True
        newest = self.newest_frame_at
        return newest is not None and self.now - newest > self.offline_after

    @property
    def ago(self) -> str:
        return ago(self.sequence.last_captured_at, self.now) if self.sequence else ""

    @property
    def level_class(self) -> str:
        return f"level-{self.conditions.style}"

    @property
    def condition_text(self) -> str:
        """The state's wording; "—" when it is Unknown (the reason is in the title)."""
        if self.conditions.state is None:
            return "No reading"
        return self.conditions.label or "—"

    @property
    def units(self) -> Units:
        """The camera's, resolved; viewer.js converts live temperatures by the tile's."""
        return self.camera.display_units

    @property
    def temperature(self) -> str:
        return temperature_text(self.conditions.temperature_c, self.units)

    @property
    def alerts(self) -> list[str]:
        return self.conditions.alerts[:MAX_ALERTS]

    @property
    def day_title(self) -> str:
        """ "Yesterday at a glance", or the day's date when the newest built day is older."""
        if self.day is None:
            return ""
        yesterday = self.now.astimezone(self.camera.tz).date() - dt.timedelta(days=1)
        if self.day.date == yesterday:
            return "Yesterday at a glance"
        return f"{self.day.date:%a %-d %b} at a glance"

    @property
    def forecast_note(self) -> str:
        """Said plainly when there is no current forecast; nothing when there is."""
        status = self.conditions.forecast_status
        return "" if status == ForecastStatus.OK else str(ForecastStatus(status).label)


def newest_day(camera: Camera) -> DayDigest | None:
    """The newest day at a glance that has a strip (sequences.digest)."""
    return camera.day_digests.exclude(strip="").order_by("-date").first()


def tiles(slug: str | None = None, *, with_chart: bool = True) -> list[Tile]:
    cameras = Camera.objects.filter(enabled=True)
    if slug:
        cameras = cameras.filter(pk=get_object_or_404(cameras, slug=slug).pk)
    now = timezone.now()
    result = []
    for camera in cameras:
        tile = Tile(camera, camera.sequences.first(), current_conditions(camera, now), now)
        if with_chart:
            forecast = forecast_state(camera, now).hours
            past = chart.past_hours(camera, now)
            tile.chart = chart.render(
                past, forecast, now, camera.tz, ident=f"chart-{camera.slug}", units=tile.units
            )
            tile.day = newest_day(camera)
        result.append(tile)
    return result


def _page(request: HttpRequest, slug: str | None, compact: bool) -> HttpResponse:
    context = {
        "tiles": tiles(slug, with_chart=not compact),
        "compact": compact,
        "slug": slug,
        "now": timezone.now(),
    }
    return render(request, "viewer.html", context)


@require_safe
def viewer(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    return _page(request, slug, compact=False)


@require_safe
def iframe(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Compact viewer for embedding in another site's page: the loop, times and condition."""
    return _page(request, slug, compact=True)
