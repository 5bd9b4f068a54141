"""Frames from 50 real motorway cameras (`fixed_camera_uk/`, summer, labelled by eye): no
false snow or ice, and the obstructed one is Unknown. The benchmark prints the same counts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analytics.evidence import WeatherEvidence
from analytics.kinds import State
from analytics.reading import read_file_image
from tests.analytics.conftest import read_image
from tests.conftest import testdata as shared_file


def frames() -> list[tuple[Path, str]]:
    folder = shared_file("road_images/fixed_camera_uk")
    with (folder / "labels.csv").open() as f:
        return [(folder / row["file"], row["label"]) for row in csv.DictReader(f)]


def states(weather: WeatherEvidence) -> dict[str, tuple[str, str]]:
    return {
        path.name: (label, read_file_image(read_image(path), weather).decision.state)
        for path, label in frames()
    }


@pytest.fixture(scope="module")
def at_plus_15() -> dict[str, tuple[str, str]]:
    return states(WeatherEvidence(temperature_c=15.0))


@pytest.fixture(scope="module")
def at_minus_2() -> dict[str, tuple[str, str]]:
    return states(WeatherEvidence(temperature_c=-2.0))


def false_alarms(found: dict[str, tuple[str, str]]) -> list[str]:
    return [name for name, (_label, state) in found.items() if state in (State.SNOW, State.ICE)]


def test_it_reads_all_fifty_frames(at_plus_15):
    assert len(at_plus_15) == 50


def test_it_claims_no_snow_or_ice_on_dry_motorways_at_plus_15(at_plus_15):
    assert false_alarms(at_plus_15) == []


def test_it_claims_snow_or_ice_at_most_once_at_minus_2_without_moisture(at_minus_2):
    assert len(false_alarms(at_minus_2)) <= 1, false_alarms(at_minus_2)


def test_it_calls_most_dry_motorways_dry_when_snow_is_ruled_out(at_plus_15):
    dry = [state for label, state in at_plus_15.values() if label == "dry"]
    assert dry.count(State.DRY) >= 40, dry


def test_it_says_unknown_for_the_obstructed_lens(at_plus_15, at_minus_2):
    obstructed = [n for n, (label, _state) in at_plus_15.items() if label == "obstructed"]
    assert obstructed
    for name in obstructed:
        assert at_plus_15[name][1] == at_minus_2[name][1] == State.UNKNOWN
