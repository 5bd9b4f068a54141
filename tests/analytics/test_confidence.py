"""Confidence means something: on the labelled web photos, snow claims made with high
confidence are right more often than those made with low confidence."""

from __future__ import annotations

from analytics.evidence import WeatherEvidence
from analytics.kinds import State
from analytics.reading import read_file_image
from tests.analytics.conftest import read_image
from tests.conftest import testdata as shared_file

# Snow is possible for every photo alike, so the picture decides what is snow.
SNOW_POSSIBLE = WeatherEvidence(temperature_c=-2.0, snowfall_24h_cm=2.0, snowfall_72h_cm=2.0)


def test_high_confidence_snow_claims_are_right_more_often_than_low_ones():
    folder = shared_file("road_images/webscraped")
    claims: list[tuple[float, bool]] = []
    for name in ("snowy", "rainy_wet", "highway_mostly_dry"):
        for path in sorted((folder / name).glob("*.jpg")):
            decision = read_file_image(read_image(path), SNOW_POSSIBLE).decision
            if decision.state == State.SNOW:
                claims.append((decision.confidence, name == "snowy"))
    high = [right for confidence, right in claims if confidence >= 0.6]
    low = [right for confidence, right in claims if confidence < 0.6]
    assert len(high) >= 20 and len(low) >= 20
    assert sum(high) / len(high) > sum(low) / len(low) + 0.05
