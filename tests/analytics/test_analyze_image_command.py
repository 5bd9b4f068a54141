"""`manage.py analyze_image` on real photos (the issue's "must show")."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from tests.analytics.conftest import image
from tests.analytics.test_condition import DRY, GLOSSY, SNOWY


def run(capsys, *args) -> list[dict]:
    call_command("analyze_image", *args, "--json")
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_it_calls_a_clear_dry_road_clear_and_a_snow_covered_one_snowy(capsys):
    dry, snowy = run(capsys, str(image(DRY)), str(image(SNOWY)))
    assert dry["level"] == "Clear"
    assert snowy["level"] in ("Light", "Moderate", "Heavy")
    keys = {"file", "level", "snow_coverage", "wetness", "ice_likelihood", "confidence"}
    assert set(dry) == keys | {"road_pixels"}


def test_it_gives_ice_possible_at_minus_three_only_on_the_glossy_road(capsys):
    glossy, dry = run(capsys, str(image(GLOSSY)), str(image(DRY)), "--temperature-c", "-3")
    assert (glossy["level"], dry["level"]) == ("Ice Possible", "Clear")


def test_it_reports_an_unreadable_file_and_still_does_the_others(capsys, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(CommandError, match="1 of 2 files"):
        call_command("analyze_image", str(broken), str(image(DRY)), "--json")
    captured = capsys.readouterr()
    assert "broken.jpg: cannot read this file as an image" in captured.err
    assert json.loads(captured.out)["level"] == "Clear"


def test_it_prints_a_readable_line_without_json(capsys):
    call_command("analyze_image", str(image(DRY)))
    assert ": Clear  snow 0%" in capsys.readouterr().out
