"""The viewer in a real browser: Debian's headless Chromium, driven by Playwright, against a
real daphne. A sequence built by another process replaces the loop on the open page without a
reload; with JavaScript off the loop and its time are still there.

Screenshots are kept in `test-artifacts/` (desktop and phone width) to look at.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_site import chromium, live_site, playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SLUG = "main-street"
# From the end of the build (the other process has exited, so its row is committed).
SWAP_WITHIN_S = 2.0

pytestmark = pytest.mark.integration

expect = playwright().expect

# A camera with five frames, a day of readings, a forecast with snow and ice, and a sequence.
SETUP = """
import datetime as dt
from django.utils import timezone
from analytics.models import ConditionReading, ForecastSnapshot
from analytics.weather import Hour
from cameras.models import Camera, Health
from sequences.builder import build_sequence
from tests.factories import frames

now = timezone.now()
camera = Camera.objects.create(
    name="Main Street", slug="main-street", location_name="Main St at 5th Ave",
    time_zone="America/New_York", capture_width=640, capture_height=360,
    update_interval_minutes=5, frames_per_sequence=5, latitude=40.71, longitude=-74.0,
)
frames(camera, 5, now - dt.timedelta(seconds=40))
Camera.objects.filter(pk=camera.pk).update(health=Health.OK, last_frame_at=now)
plan = ["clear"] * 10 + ["light"] * 4 + ["moderate"] * 3 + ["heavy"] * 2 + ["light"] * 3
plan += ["moderate"] * 2
for i, level in enumerate(plan):
    for quarter in range(4):
        state = "dry" if level == "clear" else "snow"
        ConditionReading.objects.create(
            camera=camera, measured_at=now - dt.timedelta(hours=24 - i, minutes=-15 * quarter),
            state=state, level=level, published_state=state, published_level=level,
            reason="test", snow_coverage={"clear": 0.02, "light": 0.15, "moderate": 0.35,
            "heavy": 0.6}[level], wetness=0.2, ice_likelihood=0.1, brightness=0.5,
            confidence=0.8, temperature_c=2.0 - i * 0.25,
        )
start = now.replace(minute=0, second=0, microsecond=0)
hours = []
for i in range(30):
    snow = 1.2 if 3 <= i <= 7 else 0.0
    rain = 0.6 if 13 <= i <= 15 else 0.0
    hours.append(Hour(start + dt.timedelta(hours=i), temperature_c=-3.0 + abs(i - 12) / 4,
                      snowfall_cm=snow, precipitation_mm=rain + snow,
                      ice_mm=0.2 if rain else 0.0))
ForecastSnapshot.objects.create(
    camera=camera, provider="open-meteo", fetched_at=now,
    expires_at=now + dt.timedelta(hours=6), current_temperature_c=-2.4,
    hourly=[h.to_json() for h in hours],
)
print(build_sequence(camera).pk)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with chromium() as browser, live_site(tmp_path_factory.mktemp("viewer")) as site:
        site.manage("collectstatic", "--noinput", "-v0")
        first = int(site.manage("shell", "-c", SETUP).split()[-1])
        site.start()
        yield {"base": site.base, "run": site.manage, "first": first, "browser": browser}


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Any:
    return server["browser"]


LOOP_ID = "document.querySelector('.tile .media > .loop').dataset.sequence"


def test_it_swaps_in_a_sequence_built_elsewhere_without_a_reload(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The page runs under the site's CSP; a violation (inline script or style) shows here.
    page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None)
    page.goto(server["base"] + "/")
    assert page.evaluate(LOOP_ID) == str(server["first"])
    # Locators, not wait_for_function: the CSP rightly forbids the eval that it needs.
    expect(page.locator("#live-state")).to_have_text(re.compile("^Live"))
    page.evaluate("window.sameDocument = 'yes'")

    server["run"]("sequence", "build", SLUG)
    built = time.monotonic()
    swapped = f'.tile .media > .loop:not([data-sequence="{server["first"]}"])'
    page.locator(swapped).wait_for(timeout=SWAP_WITHIN_S * 1000 + 3000)
    took = time.monotonic() - built
    assert took <= SWAP_WITHIN_S, f"the loop swapped {took:.2f} s after the build"
    new_id = int(page.evaluate(LOOP_ID))
    assert new_id > server["first"]
    assert page.evaluate("window.sameDocument") == "yes"  # no reload
    video_src = page.evaluate("document.querySelector('video.loop').src")
    assert video_src.endswith(f"/sequence/{SLUG}/latest.mp4?v={new_id}")
    assert page.locator(".badge").inner_text() == "Moderate snow"
    assert page.locator(".alerts li").count() == 2
    assert page.locator(".tile.is-offline").count() == 0
    assert not errors

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer.png"), full_page=True)
    page.close()


def test_it_fits_a_phone_screen(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page.goto(server["base"] + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "viewer-phone.png"), full_page=True)
    page.close()


def test_it_shows_the_loop_and_its_time_with_javascript_off(server, browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(server["base"] + "/")
    loop = page.locator(".tile .media > .loop")
    assert loop.is_visible()
    assert loop.evaluate("el => el.tagName") in ("VIDEO", "IMG")
    captured = page.locator(".captured time.last-captured")
    assert captured.is_visible()
    assert captured.inner_text().endswith(("EST", "EDT"))
    assert "updated" in page.locator(".captured .ago").inner_text()
    assert page.locator("svg.chart-svg").is_visible()
    context.close()
