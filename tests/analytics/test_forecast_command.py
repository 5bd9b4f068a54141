"""`manage.py forecast NAME` against the recorded NWS responses served locally."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command


@pytest.fixture
def us_camera(camera):
    camera.latitude, camera.longitude = 30, -85
    camera.save()
    return camera


def test_it_prints_the_alerts_in_the_camera_zone(nws, us_camera, capsys):
    """Derived: the recording's snowfallAmount for 2022-02-04T06:00Z/PT6H set to 30 mm."""
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["snowfallAmount"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T06"))["value"] = 30
    with time_machine.travel(dt.datetime(2022, 2, 4, tzinfo=dt.UTC), tick=False):
        call_command("forecast", "Main Street")
    out = capsys.readouterr().out
    # A camera in Florida: US units (3 cm is 1.2 in).
    assert "Snow 1–2 in from Fri 01:00" in out
    assert "Temperature: 73.0 °F" in out


def test_it_prints_metric_where_the_camera_uses_it(nws, us_camera, capsys):
    us_camera.units = "metric"
    us_camera.save()
    layer = nws.json("/gridpoints/TAE/58,65")["properties"]["snowfallAmount"]["values"]
    next(v for v in layer if v["validTime"].startswith("2022-02-04T06"))["value"] = 30
    with time_machine.travel(dt.datetime(2022, 2, 4, tzinfo=dt.UTC), tick=False):
        call_command("forecast", "Main Street")
    out = capsys.readouterr().out
    assert "Snow 2–4 cm from Fri 01:00" in out
    assert "Temperature: 22.8 °C" in out


def test_it_prints_json(nws, us_camera, capsys):
    with time_machine.travel(dt.datetime(2022, 2, 4, tzinfo=dt.UTC), tick=False):
        call_command("forecast", "main-street", "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["alerts"], data["provider"]) == ("ok", [], "nws")


def test_it_says_unavailable_when_the_provider_is_down(weather_server, us_camera, capsys):
    weather_server.routes["/points/30,-85"] = 503
    call_command("forecast", "main-street")
    assert "Forecast unavailable: " in capsys.readouterr().out


def test_it_refuses_an_unknown_camera(db):
    with pytest.raises(CommandError, match="No camera named"):
        call_command("forecast", "nowhere")
