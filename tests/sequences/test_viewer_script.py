"""static/imgserv/viewer.js with live data, run by Node against a stand-in page: temperatures
arrive in °C and are shown in the tile's units, written as the server writes them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cameras.units import Units, temperature_in, temperature_text
from tests.conftest import unavailable

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "imgserv" / "viewer.js"

# Just enough of a page for the script: one tile, a socket that never connects, no timers.
PAGE = """
const made = (cls) => ({ className: cls, textContent: "", title: "", dataset: {},
  classList: { toggle() {}, contains() { return false; }, add() {} },
  replaceChildren(...kids) { this.kids = kids.map((k) => k.textContent); } });
const parts = { ".temperature": made("temperature"), ".badge": made("badge"),
  ".alerts": made("alerts"), ".forecast-note": made("forecast-note") };
const tile = { dataset: { camera: "main-street", tz: "America/New_York", health: "ok",
  units: UNITS }, classList: made("tile").classList,
  querySelector: (selector) => parts[selector] || null };
globalThis.window = globalThis;
globalThis.CSS = { escape: (text) => text };
globalThis.location = { protocol: "http:", host: "127.0.0.1:8000" };
globalThis.document = {
  body: { dataset: { now: "", statusUrl: "/status", liveUrl: "/ws/live/" } },
  getElementById: () => null,
  querySelector: (selector) => (selector.includes('"main-street"') ? tile : null),
  querySelectorAll: () => [],
  createElement: () => made(""),
};
let socket = null;
globalThis.WebSocket = function () { socket = this; };
globalThis.setInterval = () => 0;
globalThis.setTimeout = () => 0;
"""

RUN = """
const shown = [];
for (const message of MESSAGES) {
  socket.onmessage({ data: JSON.stringify(message) });
  shown.push({ temperature: parts[".temperature"].textContent, units: tile.dataset.units,
    alerts: parts[".alerts"].kids });
}
console.log(JSON.stringify(shown));
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        unavailable("node is not installed: apt-get install nodejs")
    return found


def run_page(tile_units: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    program = (
        f"const UNITS = {json.dumps(tile_units)};\n{PAGE}\n{SCRIPT.read_text()}\n"
        f"const MESSAGES = {json.dumps(messages)};\n{RUN}"
    )
    done = subprocess.run(
        [node(), "-e", program], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def condition(temperature_c: float | None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "condition.updated", "camera": "main-street", "state": "snow",
        "style": "light", "label": "Light snow", "level": "Light", "reason": "",
        "measured_at": "2026-11-28T17:00:00+00:00", "temperature_c": temperature_c,
        "alerts": ["Snow 1–2 in from Tue 03:00"], "forecast_status": "ok",
        "forecast_label": "Forecast current", **extra,
    }  # fmt: skip


def test_it_shows_a_live_temperature_in_the_tiles_units():
    shown = run_page("us", [condition(-2.5)])
    assert shown == [
        {"temperature": "27.5 °F", "units": "us", "alerts": ["Snow 1–2 in from Tue 03:00"]}
    ]
    assert run_page("metric", [condition(-2.5)])[0]["temperature"] == "−2.5 °C"


def test_it_follows_the_units_a_message_brings():
    """An operator switched the camera to metric: the next message says so."""
    shown = run_page("us", [condition(-2.5, units="metric"), condition(-3.0)])
    assert [s["temperature"] for s in shown] == ["−2.5 °C", "−3.0 °C"]
    assert shown[-1]["units"] == "metric"


def test_it_shows_nothing_for_an_unknown_temperature():
    assert run_page("us", [condition(None)])[0]["temperature"] == ""


def is_half_tenth(value: float) -> bool:
    return value * 20 == round(value * 20) and value * 10 != round(value * 10)


@pytest.mark.parametrize("units", [Units.METRIC, Units.US])
def test_it_writes_temperatures_exactly_as_the_server_does(units: Units):
    values = [round(-40 + i * 0.37, 2) for i in range(220)] + [-17.8, -0.02, 0.0, 0.04]
    # A value exactly halfway between two tenths is rounded half-even by Python and up by
    # JavaScript: leave those out.
    values = [v for v in values if not is_half_tenth(temperature_in(v, units))]
    shown = run_page(units.value, [condition(v) for v in values])
    assert [s["temperature"] for s in shown] == [temperature_text(v, units) for v in values]
