"""`manage.py analyze_image` on real photos: state, reason and level, with weather flags."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.analytics.conftest import image
from tests.analytics.test_condition import DRY, GLOSSY, SNOWY


def run(capsys, *args) -> list[dict]:
    call_command("analyze_image", *args, "--json")
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_it_gives_state_reason_and_the_closed_products_level(capsys):
    (snowy,) = run(capsys, str(image(SNOWY)))
    assert (snowy["state"], snowy["level"], snowy["label"]) == ("snow", "Heavy", "Heavy snow")
    assert snowy["reason"] == "snow on the road (no snowfall history)"
    assert {"file", "confidence", "snow_coverage", "wetness", "road_pixels"} <= set(snowy)


def test_it_takes_the_weather_into_account(capsys):
    warm, snowed = (
        run(capsys, str(image(SNOWY)), "--temperature-c", "15")[0],
        run(capsys, str(image(SNOWY)), "--temperature-c", "-2", "--snowfall-24h-cm", "3")[0],
    )
    assert (warm["state"], warm["level"]) == ("unknown", None)
    assert warm["reason"].startswith("picture and weather disagree")
    assert snowed["state"] == "snow"
    assert snowed["confidence"] > run(capsys, str(image(SNOWY)))[0]["confidence"]


def test_it_gives_ice_possible_on_the_glossy_road_only_with_freezing_and_moisture(capsys):
    wet = ("--temperature-c", "-3", "--precip-6h-mm", "2")
    glossy, dry_air = (
        run(capsys, str(image(GLOSSY)), *wet)[0],
        run(capsys, str(image(GLOSSY)), "--temperature-c", "-3")[0],
    )
    assert (glossy["state"], glossy["level"]) == ("ice", "Ice Possible")
    assert dry_air["state"] != "ice"


def test_it_says_unknown_with_a_reason_for_pictures_without_a_road(capsys, tmp_path):
    pattern = np.zeros((480, 640, 3), np.uint8)
    for i, colour in enumerate([(0, 192, 192), (192, 192, 0), (0, 192, 0), (192, 0, 192)]):
        pattern[:, i * 160 : (i + 1) * 160] = colour
    tiny, flat = np.full((20, 20, 3), 99, np.uint8), np.full((480, 640, 3), 99, np.uint8)
    names = []
    for name, picture in (("bars", pattern), ("tiny", tiny), ("flat", flat)):
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), picture)
        names.append(str(path))
    found = run(capsys, *names)
    assert [f["state"] for f in found] == ["unknown"] * 3
    assert [f["reason"] for f in found] == [
        "no road in view: test pattern or graphics",
        "picture too small to show the road",
        "picture is one colour: lens covered or stream blank",
    ]


def test_it_reports_an_unreadable_file_and_still_does_the_others(capsys, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(CommandError, match="1 of 2 files"):
        call_command("analyze_image", str(broken), str(image(DRY)), "--json")
    captured = capsys.readouterr()
    assert "broken.jpg: cannot read this file as an image" in captured.err
    assert json.loads(captured.out)["file"].endswith(DRY.rsplit("/", 1)[1])


def test_it_prints_a_readable_line_without_json(capsys):
    call_command("analyze_image", str(image(SNOWY)), "--snowfall-24h-cm", "2")
    out = capsys.readouterr().out
    assert ": Snow (Heavy) — snow on the road (2 cm of snow in the last 24 h)" in out
