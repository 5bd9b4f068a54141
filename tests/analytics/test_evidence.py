"""What the weather history says about snow, moisture and freezing on the road."""

from __future__ import annotations

from dataclasses import replace

from analytics.evidence import Support, WeatherEvidence

# Three full days with no precipitation, no snow and no hour at or below 0 °C.
SNOWLESS = WeatherEvidence(
    snowfall_24h_cm=0.0,
    snowfall_72h_cm=0.0,
    precipitation_6h_mm=0.0,
    precipitation_24h_mm=0.0,
    freezing_precipitation_12h=False,
    hours_below_freezing_72h=0,
    snow_depth_cm=0.0,
    hours_known=72,
    source="open-meteo",
)
WARM_AND_DRY = replace(SNOWLESS, temperature_c=15, dew_point_c=5)


def test_it_rules_out_snow_at_15_degrees_after_three_snowless_days():
    assert WARM_AND_DRY.snow().support == Support.RULES_OUT


def test_it_rules_out_snow_after_three_days_above_freezing_even_when_cool():
    verdict = replace(SNOWLESS, temperature_c=2).snow()
    assert (verdict.support, verdict.why) == (
        Support.RULES_OUT,
        "no snowfall and no frost in the last 3 days",
    )


def test_it_supports_snow_after_snowfall():
    fresh = replace(SNOWLESS, snowfall_24h_cm=4.0, snowfall_72h_cm=6.0)
    assert replace(fresh, temperature_c=-2).snow().support == Support.SUPPORTS
    # Above 3 °C snow lingers only when it fell today.
    assert replace(fresh, temperature_c=4).snow().support == Support.SUPPORTS


def test_it_supports_snow_lying_on_the_ground():
    lying = replace(SNOWLESS, temperature_c=-5, snow_depth_cm=12.0, hours_below_freezing_72h=40)
    verdict = lying.snow()
    assert (verdict.support, verdict.why) == (Support.SUPPORTS, "12 cm of snow on the ground")


def test_it_rules_out_snow_when_too_warm_whatever_else_is_known():
    assert WeatherEvidence(temperature_c=8).snow().support == Support.RULES_OUT


def test_it_does_not_rule_out_snow_at_4_degrees_when_todays_snowfall_is_unknown():
    assert WeatherEvidence(temperature_c=4).snow().support == Support.UNKNOWN
    known = WeatherEvidence(temperature_c=4, snowfall_24h_cm=0.0)
    assert known.snow().support == Support.RULES_OUT


def test_it_knows_nothing_with_nothing():
    evidence = WeatherEvidence()
    assert evidence.is_empty
    assert evidence.snow().support == Support.UNKNOWN
    assert evidence.moisture().support == Support.UNKNOWN
    assert evidence.freezing().support == Support.UNKNOWN
    assert not evidence.dry_and_mild()


def test_it_takes_moisture_from_freezing_rain():
    evidence = WeatherEvidence(
        temperature_c=-1, dew_point_c=-4, freezing_precipitation_12h=True, hours_known=12
    )
    verdict = evidence.moisture()
    assert (verdict.support, verdict.why) == (
        Support.SUPPORTS,
        "freezing rain or drizzle in the last 12 h",
    )
    assert evidence.freezing().support == Support.SUPPORTS


def test_it_takes_moisture_from_rain_and_from_air_at_its_dew_point():
    rain = WeatherEvidence(temperature_c=1, precipitation_6h_mm=1.5)
    assert rain.moisture().support == Support.SUPPORTS
    fog = WeatherEvidence(temperature_c=-2, dew_point_c=-2.5, precipitation_6h_mm=0.0)
    assert fog.moisture().why == "air at its dew point (fog, condensation or frost)"


def test_it_rules_out_moisture_after_a_dry_day_in_dry_air():
    evidence = replace(SNOWLESS, temperature_c=-3, dew_point_c=-10)
    assert evidence.moisture().support == Support.RULES_OUT


def test_it_calls_a_warm_dry_snowless_spell_dry_and_mild():
    assert WARM_AND_DRY.dry_and_mild()


def test_it_does_not_call_it_dry_and_mild_when_wet_cold_humid_or_barely_known():
    assert not replace(WARM_AND_DRY, precipitation_6h_mm=0.5).dry_and_mild()
    assert not replace(WARM_AND_DRY, temperature_c=1.5).dry_and_mild()
    assert not replace(WARM_AND_DRY, dew_point_c=13).dry_and_mild()
    assert not replace(WARM_AND_DRY, hours_known=5).dry_and_mild()


def test_it_round_trips_through_a_dict():
    evidence = replace(SNOWLESS, temperature_c=-1)
    assert WeatherEvidence.from_dict({**evidence.as_dict(), "unknown": 1}) == evidence
