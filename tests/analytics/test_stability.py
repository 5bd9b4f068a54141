"""The published state does not flicker: worse quickly, better slowly (analytics.stability)."""

from __future__ import annotations

from analytics.kinds import Level, State
from analytics.stability import Stated, publish

DRY = Stated(State.DRY, Level.CLEAR, "bare road")
WET = Stated(State.WET, Level.CLEAR, "wet road")
LIGHT = Stated(State.SNOW, Level.LIGHT, "snow")
MODERATE = Stated(State.SNOW, Level.MODERATE, "snow")
HEAVY = Stated(State.SNOW, Level.HEAVY, "snow")
ICE = Stated(State.ICE, Level.ICE_POSSIBLE, "ice")
UNKNOWN = Stated(State.UNKNOWN, "", "road not visible: lens fogged or obstructed")


def run(readings: list[Stated]) -> list[Stated]:
    """Publish after each reading in turn, oldest first, as the service does."""
    published: list[Stated] = []
    history: list[Stated] = []
    for reading in readings:
        history.insert(0, reading)
        published.append(publish(history[:6], published[-1] if published else None))
    return published


def test_the_first_reading_is_published_at_once():
    assert run([MODERATE]) == [MODERATE]


def test_one_odd_frame_does_not_change_the_published_state():
    published = run([DRY, DRY, HEAVY, DRY, DRY])
    assert {p.state for p in published} == {State.DRY}


def test_it_moves_to_a_worse_state_on_the_second_reading():
    published = run([DRY, DRY, MODERATE, MODERATE])
    assert [p.state for p in published] == [State.DRY] * 3 + [State.SNOW]
    assert published[-1].level == Level.MODERATE


def test_it_goes_back_to_dry_only_after_four_dry_readings():
    published = run([MODERATE, MODERATE, DRY, DRY, DRY, DRY])
    levels = [p.level for p in published]
    assert levels == [Level.MODERATE] * 5 + [Level.CLEAR]


def test_alternating_readings_publish_the_worse_state_steadily():
    published = run([LIGHT, DRY] * 5)
    assert [p.level for p in published[1:]] == [Level.LIGHT] * 9


def test_ice_outranks_light_snow_but_not_moderate():
    assert run([LIGHT, ICE, ICE])[-1].state == State.ICE
    assert run([MODERATE, MODERATE, ICE, ICE])[-1].level == Level.MODERATE


def test_a_single_unknown_reading_holds_the_published_state():
    assert run([WET, WET, UNKNOWN])[-1] == WET


def test_three_unknown_readings_in_a_row_publish_unknown_with_the_reason():
    published = run([WET, WET, UNKNOWN, UNKNOWN, UNKNOWN])[-1]
    assert (published.state, published.reason) == (State.UNKNOWN, UNKNOWN.reason)


def test_the_published_reason_comes_from_a_reading_in_that_state():
    published = run([DRY, Stated(State.WET, Level.CLEAR, "bare road, 3.0 mm"), WET])[-1]
    assert published.state == State.WET and published.reason in ("wet road", "bare road, 3.0 mm")
