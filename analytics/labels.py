"""Operator labels: what the road really showed, how often the camera agreed, and what the
camera learns from them.

An operator marks a frame dry, wet, snow/slush, ice or "road not visible". The label keeps a
copy of what the camera said and of the picture's measurements, so it outlives the frame and
its reading (retention deletes both).

**Agreement** is a confusion matrix over the last 30 days: rows are the labels, columns the
published states. A check is *right* when the state matches the label, *abstained* when the
state was Unknown (right for "not visible"), and *wrong* otherwise.

**Learning** moves two of the camera's thresholds, each a decision stump on one measurement
with a physical meaning:

- `light`, the snow-white (or pale) share of the road that counts as snow: above every frame
  labelled bare (dry or wet), and down towards the frames labelled snow while it stays above
  the bare ones;
- `wet`, the gloss that counts as wet: between the frames labelled dry and those labelled wet.

With fewer than `MIN_LABELS` labels of a kind the threshold stays where it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from analytics.kinds import State, Thresholds, Truth

AGREEMENT_DAYS = 30
MIN_LABELS = 1
MARGIN = 1.15
LIGHT_RANGE = (0.03, 0.95)
# The snow threshold decides both the snow-white and the pale share of the road.
WHITISH = ("snow_coverage", "pale_coverage")
WET_RANGE = (0.2, 0.95)


EXPECTED = {
    Truth.DRY: State.DRY,
    Truth.WET: State.WET,
    Truth.SNOW: State.SNOW,
    Truth.ICE: State.ICE,
    Truth.NOT_VISIBLE: State.UNKNOWN,
}


@dataclass(frozen=True)
class Labelled:
    """One label as the learning and the agreement table read it."""

    truth: str
    said: str
    features: dict[str, Any]


@dataclass(frozen=True)
class Agreement:
    matrix: dict[str, dict[str, int]]
    right: int
    wrong: int
    abstained: int

    @property
    def total(self) -> int:
        return self.right + self.wrong + self.abstained

    @property
    def right_share(self) -> float | None:
        """Right among the checks where the camera made a claim (abstentions left out)."""
        claimed = self.right + self.wrong
        return round(self.right / claimed, 3) if claimed else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": AGREEMENT_DAYS,
            "labels": list(Truth.values),
            "states": list(State.values),
            "matrix": self.matrix,
            "right": self.right,
            "wrong": self.wrong,
            "abstained": self.abstained,
            "right_share": self.right_share,
        }


def score(truth: str, said: str) -> str:
    """ "right", "wrong" or "abstained" for one check."""
    if said == EXPECTED[Truth(truth)]:
        return "right"
    return "abstained" if said == State.UNKNOWN else "wrong"


def agreement(labels: Iterable[Labelled]) -> Agreement:
    matrix = {truth: dict.fromkeys(State.values, 0) for truth in Truth.values}
    tally = {"right": 0, "wrong": 0, "abstained": 0}
    for label in labels:
        matrix[label.truth][label.said] += 1
        tally[score(label.truth, label.said)] += 1
    return Agreement(matrix, tally["right"], tally["wrong"], tally["abstained"])


def agreement_since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=AGREEMENT_DAYS)


def learned_thresholds(
    base: Thresholds, labels: Iterable[Labelled]
) -> tuple[Thresholds, list[str]]:
    """The camera's thresholds moved by its labels, and a line per change for the operator."""
    items = list(labels)
    light, light_note = _stump(
        base.light,
        bare=_values(items, (Truth.DRY, Truth.WET), *WHITISH),
        positive=_values(items, (Truth.SNOW,), *WHITISH),
        bounds=LIGHT_RANGE,
        name="snow threshold",
    )
    wet, wet_note = _stump(
        base.wet,
        bare=_values(items, (Truth.DRY,), "wetness"),
        positive=_values(items, (Truth.WET, Truth.ICE), "wetness"),
        bounds=WET_RANGE,
        name="wet threshold",
    )
    notes = [n for n in (light_note, wet_note) if n]
    moderate = max(base.moderate, light + 0.05)
    heavy = max(base.heavy, moderate + 0.05)
    return replace(base, light=light, moderate=moderate, heavy=heavy, wet=wet), notes


def _values(items: list[Labelled], truths: tuple[str, ...], *keys: str) -> list[float]:
    """Per label of these kinds, the largest of these measurements it has."""
    found = []
    for item in items:
        values = [item.features.get(key) for key in keys]
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        if item.truth in truths and numbers:
            found.append(max(numbers))
    return found


def _stump(
    current: float,
    bare: list[float],
    positive: list[float],
    bounds: tuple[float, float],
    name: str,
) -> tuple[float, str]:
    """A threshold above every bare example and, where they separate, at or below the
    positive ones: the midpoint between the two groups."""
    low, high = bounds
    chosen = current
    if len(bare) >= MIN_LABELS and max(bare) * MARGIN > chosen:
        chosen = max(bare) * MARGIN
    if len(positive) >= MIN_LABELS and min(positive) < chosen:
        floor = max(bare) * MARGIN if bare else low
        if min(positive) > floor:
            chosen = (floor + min(positive)) / 2 if bare else min(positive) / MARGIN
    chosen = round(min(high, max(low, chosen)), 3)
    if abs(chosen - current) < 1e-3:
        return current, ""
    count = len(bare) + len(positive)
    return chosen, f"{name} {current:.2f} → {chosen:.2f} from {count} label{'s' * (count != 1)}"
