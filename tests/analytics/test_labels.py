"""Operator labels: scoring, the agreement table, and the thresholds they move."""

from __future__ import annotations

from analytics.kinds import State, Thresholds
from analytics.labels import Labelled, Truth, agreement, learned_thresholds, score


def label(truth: str, said: str, **features: float) -> Labelled:
    return Labelled(truth, said, features)


def test_it_scores_a_check_right_wrong_or_abstained():
    assert score(Truth.SNOW, State.SNOW) == "right"
    assert score(Truth.DRY, State.SNOW) == "wrong"
    assert score(Truth.ICE, State.UNKNOWN) == "abstained"
    assert score(Truth.NOT_VISIBLE, State.UNKNOWN) == "right"
    assert score(Truth.NOT_VISIBLE, State.DRY) == "wrong"


def test_it_counts_each_label_in_its_cell():
    table = agreement(
        [
            label(Truth.DRY, State.DRY),
            label(Truth.DRY, State.SNOW),
            label(Truth.DRY, State.SNOW),
            label(Truth.SNOW, State.UNKNOWN),
        ]
    )
    assert table.matrix[Truth.DRY][State.SNOW] == 2
    assert (table.right, table.wrong, table.abstained, table.total) == (1, 2, 1, 4)
    assert table.right_share == round(1 / 3, 3)
    assert table.as_dict()["matrix"]["snow"]["unknown"] == 1


def test_without_labels_nothing_moves():
    base = Thresholds()
    assert learned_thresholds(base, []) == (base, [])


def test_a_bare_road_labelled_dry_lifts_the_snow_threshold_above_it():
    moved, notes = learned_thresholds(
        Thresholds(), [label(Truth.DRY, State.SNOW, snow_coverage=0.4, pale_coverage=0.6)]
    )
    assert moved.light > 0.6
    assert moved.light < moved.moderate < moved.heavy
    assert notes and notes[0].startswith("snow threshold 0.10 →")


def test_snow_labels_lower_the_threshold_while_it_stays_above_the_bare_road():
    items = [
        label(Truth.DRY, State.DRY, snow_coverage=0.02, pale_coverage=0.04),
        label(Truth.SNOW, State.UNKNOWN, snow_coverage=0.06, pale_coverage=0.09),
    ]
    moved, _notes = learned_thresholds(Thresholds(), items)
    assert 0.04 * 1.15 < moved.light <= 0.09


def test_overlapping_labels_keep_the_threshold_above_the_bare_road():
    items = [
        label(Truth.DRY, State.SNOW, snow_coverage=0.3),
        label(Truth.SNOW, State.SNOW, snow_coverage=0.2),
    ]
    moved, _notes = learned_thresholds(Thresholds(), items)
    assert moved.light > 0.3


def test_wet_and_dry_labels_set_the_wet_threshold_between_them():
    items = [label(Truth.DRY, State.DRY, wetness=0.3), label(Truth.WET, State.DRY, wetness=0.5)]
    moved, notes = learned_thresholds(Thresholds(), items)
    assert 0.3 < moved.wet < 0.5
    assert any(n.startswith("wet threshold") for n in notes)
