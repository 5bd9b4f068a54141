"""The road's state from three witnesses: the picture, the weather history and the camera's
own learned bare road. When they do not agree well enough the state is Unknown, with the
reason in plain words: the public is never shown a guess.

The rules, in order (each with its physical reason):

1. A picture that cannot show the road (`analytics.quality`) gives Unknown.
2. **Snow** needs the picture to show a snow-white road *and* snow to be physically possible.
   Weather that rules snow out (too warm; three days above freezing with no snowfall) makes a
   snow-white picture "picture and weather disagree". A snow-white road with signs of pale
   pavement (`analytics.condition`, point 5) counts only as *pale*.
3. A **pale** road (packed snow, slush, or concrete: the picture cannot tell) is snow when the
   weather supports snow or the camera's learned bare road is much darker and its lane
   markings are hidden; it is pavement when the weather rules snow out or the learned road
   looks the same; otherwise Unknown.
4. **Ice possible** needs freezing air *and* a source of water: freezing rain or drizzle, or a
   wet-looking road while the weather brought precipitation or air at its dew point. A
   wet-looking road below freezing without that evidence may be brine on a salted road or
   ice: Unknown.
5. **Wet** is a road that looks wet (glossy in the picture, or darker than this camera's
   learned dry road), or a bare road while it rained in the last hours and no learned road
   says otherwise. Otherwise **Dry**.

Confidence is a product of four factors, each from 0 to 1: how well the picture shows the
road (size, contrast, night, glare), the margin of the deciding measurement past its
threshold, whether the weather supports the state (1.0) or is unknown (0.75), and whether
the learned bare road agrees (1.0) or is not learned yet (0.85). A claim under
`MIN_CONFIDENCE` becomes Unknown. `bench/analytics.py` checks that high-confidence readings
are right more often than low ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analytics.condition import Condition, coverage_level, ramp
from analytics.evidence import RECENT_SNOW_CM, WETTING_MM, Support, Verdict, WeatherEvidence
from analytics.kinds import Level, State, Thresholds, state_label
from analytics.quality import Quality

MIN_CONFIDENCE = 0.25
# Snow claimed by the picture alone (the weather neither supports nor rules it out) must be
# this sure: pale pavement passes for snow too easily.
ALONE_CONFIDENCE = 0.5
# Signs of pale pavement (analytics.condition, point 5).
WHITER_RATIO = 1.35
VEGETATION = 0.12
CLIPPED = 0.3
# Learned-road comparison: scores from analytics.reference, 0–1.
REFERENCE_SAYS = 0.5
REFERENCE_DENIES = 0.2


class Reason:
    DISAGREE = "picture and weather disagree"
    PALE = "pale road: packed snow or pale pavement, and no snowfall history to tell"
    BRINE = "wet-looking road below freezing: water, brine or ice, and no precipitation history"
    PALE_SIGNS = "pale road with signs of pavement, while snow is about"
    UNSURE = "too uncertain to say"
    ROAD_GUESSED = "snow is about and the road's outline is only guessed: draw the road region"


@dataclass(frozen=True)
class ReferenceComparison:
    """How a frame differs from the camera's learned bare road in the same light."""

    samples: int
    snow_score: float
    wet_score: float
    marking_visibility: float | None = None
    brightness_ratio: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "snow_score": round(self.snow_score, 3),
            "wet_score": round(self.wet_score, 3),
            "marking_visibility": self.marking_visibility,
            "brightness_ratio": self.brightness_ratio,
        }


@dataclass(frozen=True)
class Decision:
    state: str
    level: str
    reason: str
    confidence: float
    ice_likelihood: float = 0.0
    notes: list[str] = field(default_factory=list)
    # The confidence this claim needs to be published (analytics.decision._finish).
    needs: float = MIN_CONFIDENCE

    @property
    def label(self) -> str:
        return state_label(self.state, self.level)


def level_for(state: str, coverage: float, t: Thresholds) -> str:
    """The closed product's level of a state ("" for Unknown)."""
    if state == State.SNOW:
        level = coverage_level(coverage, t)
        return Level.LIGHT if level == Level.CLEAR else level
    if state == State.ICE:
        return Level.ICE_POSSIBLE
    if state in (State.DRY, State.WET):
        return Level.CLEAR
    return ""


def unknown(reason: str, notes: list[str] | None = None) -> Decision:
    return Decision(State.UNKNOWN, "", reason, 0.0, notes=notes or [])


@dataclass(frozen=True)
class _Look:
    """What the picture (with the learned road) says, before the weather is asked."""

    kind: str  # "snow", "pale", "pale-pavement" or "bare"
    coverage: float
    margin: float
    notes: list[str]


def decide(
    quality: Quality,
    picture: Condition,
    weather: WeatherEvidence,
    thresholds: Thresholds,
    reference: ReferenceComparison | None = None,
    road_known: bool = True,
) -> Decision:
    """`road_known`: the road region was drawn by the operator or confirmed by traffic
    moving on it; False when it is guessed from this one picture."""
    if not quality.ok:
        return unknown(str(quality.problem))
    if picture.road_pixels == 0:
        return unknown("no road in view")
    look = _look(picture, thresholds, reference)
    snow = weather.snow()
    notes = [*look.notes, f"weather: snow {snow.support}, {snow.why}"]
    if look.kind in ("snow", "pale", "pale-pavement"):
        found = _snowy(look, snow, weather, thresholds, reference, notes)
        if found is not None:
            return _finish(found, picture, quality)
    bare = _bare(picture, weather, thresholds, reference, notes)
    if bare.state == State.DRY and snow.support == Support.SUPPORTS and not road_known:
        # Snow lies around and the picture found a bare road, but where the road is was only
        # guessed: it may have measured a cleared verge or a shadow.
        return unknown(Reason.ROAD_GUESSED, notes)
    return _finish(bare, picture, quality)


def _look(picture: Condition, t: Thresholds, reference: ReferenceComparison | None) -> _Look:
    notes: list[str] = []
    vetoes = _pavement_signs(picture)
    learned_snow = reference.snow_score if reference is not None else None
    if learned_snow is not None and learned_snow <= REFERENCE_DENIES:
        vetoes.append("this camera's bare road looks the same")
    if picture.snow_coverage >= t.light and not vetoes:
        margin = ramp(picture.snow_coverage, t.light, 2 * t.light)
        return _Look("snow", picture.snow_coverage, margin, [f"snow-white {_pct(picture)}"])
    if vetoes:
        notes.append("pale pavement signs: " + ", ".join(vetoes))
    coverage = max(picture.pale_coverage, picture.snow_coverage)
    if coverage >= t.light:
        if learned_snow is not None and learned_snow >= REFERENCE_SAYS and not _hard_veto(picture):
            notes.append("brighter than this camera's bare road, lane markings hidden")
            return _Look("snow", coverage, learned_snow, notes)
        # A pale road with signs of pavement, or only partly pale, is not a snow cover.
        kind = "pale" if coverage >= t.moderate and not vetoes else "pale-pavement"
        return _Look(kind, coverage, 0.5, [*notes, f"pale surface {coverage:.0%}"])
    return _Look("bare", 0.0, 1.0 - ramp(coverage, 0.0, t.light), notes)


def _pavement_signs(picture: Condition) -> list[str]:
    signs = []
    if picture.whiter_ratio >= WHITER_RATIO:
        signs.append("paint or vehicles much whiter than the surface")
    if picture.vegetation >= VEGETATION:
        signs.append("green vegetation in view")
    if _hard_veto(picture):
        signs.append("surface over-exposed")
    return signs


def _hard_veto(picture: Condition) -> bool:
    return picture.clipped >= CLIPPED


def _snowy(
    look: _Look,
    snow: Verdict,
    weather: WeatherEvidence,
    t: Thresholds,
    reference: ReferenceComparison | None,
    notes: list[str],
) -> Decision | None:
    """Snow, Unknown, or None when the pale surface turns out to be pavement."""
    if snow.support == Support.RULES_OUT:
        if look.kind == "snow":
            return unknown(f"{Reason.DISAGREE}: looks like snow, but {snow.why}", notes)
        notes.append(f"pale surface is pavement: {snow.why}")
        return None
    supported = snow.support == Support.SUPPORTS
    if look.kind == "pale-pavement" and supported and reference is None:
        return unknown(Reason.PALE_SIGNS, notes)
    freezing = weather.freezing(t.freezing_c).support == Support.SUPPORTS
    if look.kind != "snow" and freezing and weather.freezing_precipitation_12h:
        return None  # glaze on whatever the surface is: the bare road's rules say ice
    if look.kind == "pale-pavement" and _raining(weather):
        # Pale patches on a road in the rain are reflections of the sky as often as snow.
        notes.append("pale patches while it rains: read as a bare road")
        return None
    if look.kind != "snow" and not supported:
        return unknown(Reason.PALE, notes)
    if not supported and look.coverage < t.moderate and reference is None:
        # Light snow and pale pavement look alike; alone, the picture claims only a cover.
        return unknown(Reason.PALE, notes)
    weather_factor = 1.0 if snow.support == Support.SUPPORTS else 0.75
    level = level_for(State.SNOW, look.coverage, t)
    if level == Level.LIGHT and freezing and weather.freezing_precipitation_12h:
        return _ice(f"thin snow with freezing rain at {weather.temperature_c:.0f} °C", 0.9, notes)
    confidence = (0.6 + 0.4 * look.margin) * weather_factor * _reference_factor(reference)
    if look.kind == "pale":
        confidence *= 0.8
    why = snow.why if snow.support == Support.SUPPORTS else "no snowfall history"
    return Decision(
        State.SNOW,
        level,
        f"snow on the road ({why})",
        confidence,
        notes=notes,
        needs=MIN_CONFIDENCE if supported or reference is not None else ALONE_CONFIDENCE,
    )


def _bare(
    picture: Condition,
    weather: WeatherEvidence,
    t: Thresholds,
    reference: ReferenceComparison | None,
    notes: list[str],
) -> Decision:
    moisture = weather.moisture()
    freezing = weather.freezing(t.freezing_c)
    notes.append(f"weather: moisture {moisture.support}, {moisture.why}")
    wet_look, wet_margin = _wet_look(picture, t, reference)
    learned_dry = reference is not None and reference.wet_score <= REFERENCE_DENIES
    if freezing.support == Support.SUPPORTS:
        if weather.freezing_precipitation_12h:
            return _ice(f"freezing rain or drizzle, {freezing.why}", 0.95, notes)
        if wet_look and moisture.support == Support.SUPPORTS:
            return _ice(f"wet road at {freezing.why}, {moisture.why}", 0.9 * wet_margin, notes)
        if wet_look and moisture.support == Support.UNKNOWN:
            return unknown(Reason.BRINE, notes)
        if wet_look:
            return unknown(f"{Reason.DISAGREE}: the road looks wet, but {moisture.why}", notes)
        if _raining(weather) and not learned_dry:
            # The picture cannot show a thin glaze; what fell on a freezing road may be one.
            why = f"{weather.precipitation_6h_mm:.1f} mm in the last 6 h at {freezing.why}"
            return _ice(why, 0.6, notes)
    if wet_look:
        if moisture.support == Support.RULES_OUT and reference is None:
            return unknown(f"{Reason.DISAGREE}: the road looks wet, but {moisture.why}", notes)
        factor = 1.0 if moisture.support == Support.SUPPORTS else 0.75
        confidence = (0.6 + 0.4 * wet_margin) * factor * _reference_factor(reference)
        return Decision(State.WET, Level.CLEAR, "wet road", confidence, notes=notes)
    if _raining(weather) and not learned_dry:
        return Decision(State.WET, Level.CLEAR, f"bare road, {moisture.why}", 0.5, notes=notes)
    factor = 1.0 if moisture.support == Support.RULES_OUT else 0.75
    confidence = (0.6 + 0.4 * (1.0 - wet_margin)) * factor * _reference_factor(reference)
    return Decision(State.DRY, Level.CLEAR, "bare road", confidence, notes=notes)


def _raining(weather: WeatherEvidence) -> bool:
    """Precipitation in the last 6 hours, other than snow that was reported as such."""
    wet = weather.precipitation_6h_mm is not None and weather.precipitation_6h_mm >= WETTING_MM
    snowed = weather.snowfall_24h_cm is not None and weather.snowfall_24h_cm >= RECENT_SNOW_CM
    return wet and not snowed


def _wet_look(
    picture: Condition, t: Thresholds, reference: ReferenceComparison | None
) -> tuple[bool, float]:
    """Whether the road looks wet, and how clearly (0–1) either way."""
    if reference is not None:
        score = max(reference.wet_score, picture.wetness if picture.wetness >= t.wet else 0.0)
        return score >= REFERENCE_SAYS, abs(score - REFERENCE_SAYS) * 2
    wet = picture.wetness >= t.wet
    return wet, ramp(abs(picture.wetness - t.wet), 0.0, 0.3)


def _ice(why: str, strength: float, notes: list[str]) -> Decision:
    return Decision(
        State.ICE,
        Level.ICE_POSSIBLE,
        f"ice possible: {why}",
        max(0.4, strength),
        ice_likelihood=round(strength, 3),
        notes=notes,
    )


def _reference_factor(reference: ReferenceComparison | None) -> float:
    return 0.85 if reference is None else 1.0


def _finish(found: Decision, picture: Condition, quality: Quality) -> Decision:
    """Scale by how well the picture shows the road, and refuse what is too uncertain."""
    if found.state == State.UNKNOWN:
        return found
    confidence = round(found.confidence * picture.confidence, 3)
    if confidence < found.needs:
        return unknown(f"{Reason.UNSURE}: {found.reason}", found.notes)
    return Decision(
        found.state, found.level, found.reason, confidence, found.ice_likelihood, found.notes
    )


def _pct(picture: Condition) -> str:
    return f"{picture.snow_coverage:.0%} of the road"
