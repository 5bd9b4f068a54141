"""The published state: decided over the last readings, so it does not flicker.

Each reading has its own state; the public sees the *published* one, decided from the
camera's last readings (newest first, within `WINDOW`):

- **Worse quickly.** States are ranked Dry < Wet < Light snow < Ice possible < Moderate snow
  < Heavy snow (ice beats a thin snow cover, as in the closed product). The published rank
  rises to the highest rank that at least 2 of the last 3 known readings reach: one odd frame
  does not raise it, two in a row do. The first reading of a camera is published at once.
- **Better slowly.** It falls only when all of the last 4 known readings are below it, and
  then to the highest of those 4.
- **Unknown** readings are skipped while known ones remain in the window; when the newest 3
  readings are all Unknown (or nothing known is left), the published state is Unknown with the
  newest reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.kinds import Level, State

RAISE_OF, RAISE_NEED = 3, 2
HOLD = 4
UNKNOWN_RUN = 3
RANKS: dict[tuple[str, str], int] = {
    (State.DRY, Level.CLEAR): 0,
    (State.WET, Level.CLEAR): 1,
    (State.SNOW, Level.LIGHT): 2,
    (State.ICE, Level.ICE_POSSIBLE): 3,
    (State.SNOW, Level.MODERATE): 4,
    (State.SNOW, Level.HEAVY): 5,
}


@dataclass(frozen=True)
class Stated:
    """A reading's state, or the published one."""

    state: str
    level: str
    reason: str

    @property
    def rank(self) -> int | None:
        return RANKS.get((self.state, self.level))


def publish(recent: Sequence[Stated], previous: Stated | None) -> Stated:
    """`recent`: the camera's readings in the window, newest first (the new one included);
    `previous`: what was published before the new reading, if anything."""
    if not recent:
        return previous or Stated(State.UNKNOWN, "", "no reading yet")
    newest_unknown = [r for r in recent[:UNKNOWN_RUN] if r.rank is None]
    known = [r for r in recent if r.rank is not None]
    if not known or len(newest_unknown) == UNKNOWN_RUN:
        return Stated(State.UNKNOWN, "", recent[0].reason)
    rank = _raised(known[:RAISE_OF])
    if previous is not None and previous.rank is not None:
        rank = max(rank, min(previous.rank, max(r.rank or 0 for r in known[:HOLD])))
    return _newest_with(rank, known, previous)


def _raised(readings: list[Stated]) -> int:
    """The highest rank reached by RAISE_NEED of these readings (by the only one, if one)."""
    ranks = sorted((r.rank or 0 for r in readings), reverse=True)
    return ranks[min(RAISE_NEED, len(ranks)) - 1]


def _newest_with(rank: int, known: list[Stated], previous: Stated | None) -> Stated:
    for reading in known:
        if reading.rank == rank:
            return reading
    if previous is not None and previous.rank == rank:
        return previous
    state, level = next(key for key, value in RANKS.items() if value == rank)
    return Stated(state, level, "held from the last readings")
