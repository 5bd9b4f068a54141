"""The names the road-condition code shares with the models, the API and the pages: states,
levels, labels, lights, thresholds. No image code here, so the web process can import the
models without NumPy or OpenCV."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

Polygon = list[tuple[float, float]]
# Frames a learned bare road needs before it is compared with (analytics.reference).
MIN_SAMPLES = 20


class Level(models.TextChoices):
    """The closed product's levels, kept for its overlay wording."""

    CLEAR = "clear", "Clear"
    LIGHT = "light", "Light"
    MODERATE = "moderate", "Moderate"
    HEAVY = "heavy", "Heavy"
    ICE_POSSIBLE = "ice_possible", "Ice Possible"


class State(models.TextChoices):
    DRY = "dry", "Dry"
    WET = "wet", "Wet"
    SNOW = "snow", "Snow"
    ICE = "ice", "Ice possible"
    UNKNOWN = "unknown", "Unknown"


class Truth(models.TextChoices):
    DRY = "dry", "Dry"
    WET = "wet", "Wet"
    SNOW = "snow", "Snow or slush"
    ICE = "ice", "Ice"
    NOT_VISIBLE = "not_visible", "Road not visible"


class Light(models.TextChoices):
    DAY = "day", "Day"
    TWILIGHT = "twilight", "Dawn or dusk"
    NIGHT = "night", "Lit night"


@dataclass(frozen=True)
class Thresholds:
    """What the picture is measured and decided with; `ConditionThresholds` rows override
    the defaults per camera, and operator labels move `light` and `wet` (analytics.labels)."""

    light: float = 0.10
    moderate: float = 0.25
    heavy: float = 0.50
    ice: float = 0.45
    freezing_c: float = 0.0
    # A road this glossy looks wet in a single picture (rare: see the module docstring).
    wet: float = 0.60
    snow_max_saturation: int = 35
    # Snow must be at least this bright relative to the bright end of the scene (90th pct).
    snow_relative_value: float = 0.78
    snow_min_value: int = 110
    snow_max_texture: float = 14.0
    # Packed snow, slush and pale concrete: darker and rougher than fresh snow.
    pale_relative_value: float = 0.55
    pale_max_texture: float = 24.0
    night_brightness: float = 0.22


def state_label(state: str, level: str) -> str:
    """The public wording: "Dry", "Wet", "Light snow", "Ice possible"; "—" for Unknown."""
    if state == State.SNOW and level in (Level.LIGHT, Level.MODERATE, Level.HEAVY):
        return f"{Level(level).label} snow"
    if state == State.UNKNOWN:
        return "—"
    return str(State(state).label)


def style_key(state: str, level: str) -> str:
    """The CSS and colour key of a state: its snow level, "dry", "wet", "ice_possible" or
    "unknown"."""
    if state == State.SNOW and level:
        return level
    if state == State.ICE:
        return Level.ICE_POSSIBLE
    if state in (State.DRY, State.WET):
        return str(state)
    return "unknown"
