"""What the weather says about the road surface, from the hours before a frame was taken.

A picture can look like snow when it is pale concrete, and like a wet road when it is a
shadow. The weather history tells what is physically possible, so each question gets one
of three answers (`Support`):

- **snow on the road** is possible after recent snowfall, with snow on the ground, or when it
  has stayed cold enough to keep older snow; it is ruled out when it is warm, or when three
  days passed above freezing with no snowfall and no snow on the ground;
- **moisture** (what turns to ice) comes from recent precipitation, melting snow, or air at
  its dew point (fog, frost); it is ruled out by a dry day with dry air;
- **freezing** is the air at or below the camera's freezing threshold.

`None` in a field means "not known": with nothing known every answer is UNKNOWN and the
picture decides alone, with lower confidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import models

# Above this air temperature snow does not lie on a road that carries traffic.
SNOW_MELTS_C = 6.0
# Above this, snow on the road needs snow falling now or lately (it melts within hours).
SNOW_LINGERS_C = 3.0
# Snowfall that counts as "recent" over 72 h, and a snow depth that counts as "on the ground".
RECENT_SNOW_CM = 0.5
SNOW_ON_GROUND_CM = 1.0
# Precipitation that wets a road, in the last 6 hours.
WETTING_MM = 0.2
# Air within this of its dew point deposits water (fog, condensation) or frost.
DEW_SPREAD_C = 1.0
# Air this far from its dew point dries a road.
DRY_SPREAD_C = 3.0


class Support(models.TextChoices):
    SUPPORTS = "supports", "supports"
    RULES_OUT = "rules_out", "rules out"
    UNKNOWN = "unknown", "unknown"


@dataclass(frozen=True)
class Verdict:
    support: str
    why: str


@dataclass(frozen=True)
class WeatherEvidence:
    """The weather at and before one moment; every field is optional."""

    temperature_c: float | None = None
    dew_point_c: float | None = None
    snowfall_24h_cm: float | None = None
    snowfall_72h_cm: float | None = None
    precipitation_6h_mm: float | None = None
    precipitation_24h_mm: float | None = None
    freezing_precipitation_12h: bool | None = None
    hours_below_freezing_72h: int | None = None
    snow_depth_cm: float | None = None
    # How many past hours the history covers (0: only the current temperature, if that).
    hours_known: int = 0
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeatherEvidence:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def is_empty(self) -> bool:
        return self.temperature_c is None and self.hours_known == 0

    def snow(self) -> Verdict:
        """Could snow lie on the road now?"""
        t = self.temperature_c
        fell_today = _positive(self.snowfall_24h_cm, RECENT_SNOW_CM)
        fell = fell_today or _positive(self.snowfall_72h_cm, RECENT_SNOW_CM)
        lying = _positive(self.snow_depth_cm, SNOW_ON_GROUND_CM)
        if t is not None and t > SNOW_MELTS_C:
            return Verdict(Support.RULES_OUT, f"{t:.0f} °C is too warm for snow on a road")
        # Only a known snowless day rules it out: unknown snowfall is not "no snowfall".
        if (
            t is not None
            and t > SNOW_LINGERS_C
            and self.snowfall_24h_cm is not None
            and not fell_today
        ):
            return Verdict(Support.RULES_OUT, f"{t:.0f} °C and no snowfall today")
        if fell or lying:
            return Verdict(Support.SUPPORTS, _snow_reason(self))
        if self._snowless_and_mild():
            return Verdict(Support.RULES_OUT, "no snowfall and no frost in the last 3 days")
        if self.snowfall_72h_cm == 0 and self.snow_depth_cm == 0:
            return Verdict(Support.RULES_OUT, "no snowfall in 3 days and no snow on the ground")
        return Verdict(Support.UNKNOWN, "no snowfall history")

    def moisture(self) -> Verdict:
        """Is there water on or over the road that could freeze?"""
        wet = _positive(self.precipitation_6h_mm, WETTING_MM)
        if self.freezing_precipitation_12h:
            return Verdict(Support.SUPPORTS, "freezing rain or drizzle in the last 12 h")
        if wet:
            return Verdict(Support.SUPPORTS, f"{self.precipitation_6h_mm:.1f} mm in the last 6 h")
        spread = self.dew_spread_c
        if spread is not None and spread <= DEW_SPREAD_C:
            return Verdict(Support.SUPPORTS, "air at its dew point (fog, condensation or frost)")
        if _positive(self.snowfall_24h_cm, RECENT_SNOW_CM):
            return Verdict(Support.SUPPORTS, "snow in the last 24 h")
        dry_day = self.precipitation_24h_mm == 0
        if dry_day and (spread is None or spread > DRY_SPREAD_C):
            return Verdict(Support.RULES_OUT, "no precipitation in 24 h and dry air")
        return Verdict(Support.UNKNOWN, "no precipitation history")

    def freezing(self, freezing_c: float = 0.0) -> Verdict:
        t = self.temperature_c
        if t is None:
            return Verdict(Support.UNKNOWN, "no temperature")
        if t <= freezing_c:
            return Verdict(Support.SUPPORTS, f"{t:.0f} °C")
        return Verdict(Support.RULES_OUT, f"{t:.0f} °C")

    def dry_and_mild(self, freezing_c: float = 0.0) -> bool:
        """Weather in which the road is bare and dry: what a bare-road reference learns from."""
        t = self.temperature_c
        if t is None or t <= freezing_c + 2.0 or self.hours_known < 6:
            return False
        no_rain = self.precipitation_6h_mm == 0 and (self.precipitation_24h_mm or 0.0) < 1.0
        no_snow = self.snow().support == Support.RULES_OUT
        spread = self.dew_spread_c
        return no_rain and no_snow and (spread is None or spread > DRY_SPREAD_C)

    @property
    def dew_spread_c(self) -> float | None:
        if self.temperature_c is None or self.dew_point_c is None:
            return None
        return self.temperature_c - self.dew_point_c

    def _snowless_and_mild(self) -> bool:
        return (
            self.hours_known >= 72
            and self.snowfall_72h_cm == 0
            and self.hours_below_freezing_72h == 0
            and not _positive(self.snow_depth_cm, SNOW_ON_GROUND_CM)
        )


def _positive(value: float | None, at_least: float) -> bool:
    return value is not None and value >= at_least


def _snow_reason(e: WeatherEvidence) -> str:
    if _positive(e.snowfall_72h_cm, RECENT_SNOW_CM):
        return f"{e.snowfall_72h_cm:.0f} cm of snow in the last 3 days"
    if _positive(e.snowfall_24h_cm, RECENT_SNOW_CM):
        return f"{e.snowfall_24h_cm:.0f} cm of snow in the last 24 h"
    return f"{e.snow_depth_cm:.0f} cm of snow on the ground"
