"""The rules that turn picture, weather and learned road into a state (analytics.decision)."""

from __future__ import annotations

from dataclasses import replace

from analytics.condition import Condition, Level, Thresholds
from analytics.decision import (
    ALONE_CONFIDENCE,
    Reason,
    ReferenceComparison,
    decide,
)
from analytics.evidence import WeatherEvidence
from analytics.kinds import State, state_label, style_key
from analytics.quality import Quality
from analytics.quality import Reason as QualityReason

T = Thresholds()
SEEN = Quality(None)
BARE = Condition(Level.CLEAR, 0.0, 0.02, 0.2, 0.5, 0.9, False, 50_000, whiter_ratio=1.1)
SNOW = replace(BARE, level=Level.HEAVY, snow_coverage=0.7, pale_coverage=0.8, wetness=0.1)
PALE = replace(BARE, snow_coverage=0.05, pale_coverage=0.7)
GLOSSY = replace(BARE, wetness=0.8)
NOTHING = WeatherEvidence()
WARM_WEEK = WeatherEvidence(
    temperature_c=15.0,
    snowfall_24h_cm=0.0,
    snowfall_72h_cm=0.0,
    precipitation_6h_mm=0.0,
    precipitation_24h_mm=0.0,
    hours_below_freezing_72h=0,
    snow_depth_cm=0.0,
    hours_known=72,
)
SNOWED = WeatherEvidence(
    temperature_c=-3.0, snowfall_24h_cm=4.0, snowfall_72h_cm=6.0, hours_known=72
)
COLD = WeatherEvidence(temperature_c=-2.0)
FREEZING_RAIN = WeatherEvidence(
    temperature_c=-1.0, precipitation_6h_mm=3.0, freezing_precipitation_12h=True, hours_known=12
)
COLD_RAIN = WeatherEvidence(temperature_c=-1.0, precipitation_6h_mm=2.0, hours_known=12)
COLD_AND_DRY = WeatherEvidence(
    temperature_c=-4.0, precipitation_6h_mm=0.0, precipitation_24h_mm=0.0, hours_known=24
)
RAIN = WeatherEvidence(temperature_c=8.0, precipitation_6h_mm=4.0, hours_known=12)


def test_a_picture_that_cannot_show_the_road_is_unknown_with_its_reason():
    found = decide(Quality(QualityReason.FOGGED), SNOW, SNOWED, T)
    assert (found.state, found.reason, found.level) == (State.UNKNOWN, QualityReason.FOGGED, "")


def test_snow_with_snowfall_reads_snow_with_its_level():
    found = decide(SEEN, SNOW, SNOWED, T)
    assert (found.state, found.level) == (State.SNOW, Level.HEAVY)
    assert found.label == "Heavy snow"
    assert "6 cm of snow in the last 3 days" in found.reason


def test_snow_when_the_weather_rules_it_out_is_unknown_and_says_why():
    found = decide(SEEN, SNOW, WARM_WEEK, T)
    assert found.state == State.UNKNOWN
    assert found.reason.startswith(Reason.DISAGREE)
    assert "too warm" in found.reason


def test_a_pale_road_is_pavement_when_the_weather_rules_snow_out():
    assert decide(SEEN, PALE, WARM_WEEK, T).state == State.DRY


def test_a_pale_road_is_snow_after_snowfall():
    assert decide(SEEN, PALE, SNOWED, T).state == State.SNOW


def test_a_pale_road_without_snowfall_history_is_unknown():
    found = decide(SEEN, PALE, COLD, T)
    assert (found.state, found.reason) == (State.UNKNOWN, Reason.PALE)


def test_signs_of_pavement_keep_a_white_road_from_reading_snow_alone():
    painted = replace(SNOW, whiter_ratio=1.6)
    green = replace(SNOW, vegetation=0.3)
    for picture in (painted, green):
        assert decide(SEEN, picture, COLD, T).state == State.UNKNOWN


def test_the_picture_alone_claims_snow_only_when_sure():
    alone = decide(SEEN, SNOW, NOTHING, T)
    assert alone.state == State.SNOW and alone.confidence >= ALONE_CONFIDENCE
    weak = replace(SNOW, confidence=0.5)
    assert decide(SEEN, weak, NOTHING, T).state == State.UNKNOWN
    assert decide(SEEN, weak, SNOWED, T).state == State.SNOW


def test_supporting_weather_raises_confidence():
    assert decide(SEEN, SNOW, SNOWED, T).confidence > decide(SEEN, SNOW, NOTHING, T).confidence


def test_freezing_rain_means_ice_possible_whatever_the_road_looks_like():
    for picture in (BARE, GLOSSY, PALE):
        found = decide(SEEN, picture, FREEZING_RAIN, T)
        assert (found.state, found.level) == (State.ICE, Level.ICE_POSSIBLE)
        assert found.label == "Ice possible"


def test_a_wet_road_below_freezing_with_rain_is_ice_possible():
    assert decide(SEEN, GLOSSY, COLD_RAIN, T).state == State.ICE


def test_a_wet_looking_road_below_freezing_without_history_is_unknown():
    found = decide(SEEN, GLOSSY, COLD, T)
    assert (found.state, found.reason) == (State.UNKNOWN, Reason.BRINE)


def test_a_wet_looking_road_below_freezing_in_dry_weather_is_a_disagreement():
    found = decide(SEEN, GLOSSY, COLD_AND_DRY, T)
    assert found.state == State.UNKNOWN and found.reason.startswith(Reason.DISAGREE)


def test_bright_pavement_below_freezing_is_not_ice():
    assert decide(SEEN, PALE, COLD_AND_DRY, T).state != State.ICE
    assert decide(SEEN, BARE, COLD_AND_DRY, T).state == State.DRY


def test_a_bare_road_in_the_rain_is_wet_and_a_glossy_one_too():
    assert decide(SEEN, BARE, RAIN, T).state == State.WET
    assert decide(SEEN, GLOSSY, NOTHING, T).state == State.WET


def test_a_bare_road_in_dry_weather_is_dry():
    found = decide(SEEN, BARE, WARM_WEEK, T)
    assert (found.state, found.level, found.label) == (State.DRY, Level.CLEAR, "Dry")


def test_the_learned_road_turns_a_pale_road_into_snow_or_pavement():
    snowy = ReferenceComparison(samples=50, snow_score=0.9, wet_score=0.0)
    same = ReferenceComparison(samples=50, snow_score=0.05, wet_score=0.0)
    assert decide(SEEN, PALE, COLD, T, snowy).state == State.SNOW
    assert decide(SEEN, SNOW, COLD, T, same).state == State.UNKNOWN


def test_the_learned_road_says_wet_when_it_is_darker():
    darker = ReferenceComparison(samples=50, snow_score=0.0, wet_score=0.8)
    as_dry = ReferenceComparison(samples=50, snow_score=0.0, wet_score=0.0)
    mild = WeatherEvidence(temperature_c=10.0)
    assert decide(SEEN, BARE, mild, T, darker).state == State.WET
    assert decide(SEEN, BARE, RAIN, T, as_dry).state == State.DRY


def test_a_guessed_road_is_not_called_dry_while_snow_lies_around():
    found = decide(SEEN, BARE, SNOWED, T, road_known=False)
    assert (found.state, found.reason) == (State.UNKNOWN, Reason.ROAD_GUESSED)
    assert decide(SEEN, BARE, SNOWED, T, road_known=True).state == State.DRY


def test_a_badly_seen_road_gives_unknown_rather_than_a_weak_claim():
    murky = replace(BARE, confidence=0.2)
    found = decide(SEEN, murky, NOTHING, T)
    assert found.state == State.UNKNOWN and found.reason.startswith(Reason.UNSURE)


def test_labels_and_styles_name_each_state():
    assert state_label(State.SNOW, Level.LIGHT) == "Light snow"
    assert state_label(State.UNKNOWN, "") == "—"
    assert style_key(State.SNOW, Level.MODERATE) == "moderate"
    assert style_key(State.WET, Level.CLEAR) == "wet"
    assert style_key(State.UNKNOWN, "") == "unknown"
