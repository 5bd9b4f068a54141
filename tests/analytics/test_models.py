"""Model validation and the operator override."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from analytics.kinds import Thresholds
from analytics.models import ConditionThresholds, RoadRegion


def test_it_prefers_the_operator_polygon(camera):
    region = RoadRegion.objects.create(
        camera=camera,
        auto_polygon=[[0, 1], [0.5, 0.5], [1, 1]],
        operator_polygon=[[0, 1], [0.4, 0.6], [1, 1]],
    )
    assert region.effective_polygon() == [(0, 1), (0.4, 0.6), (1, 1)]
    assert region.source == "operator"


@pytest.mark.parametrize(
    "polygon", [[[0, 1], [1, 1]], [[0, 1], [2, 1], [1, 0]], "x", [[0, True], [1, 1], [1, 0]]]
)
def test_it_refuses_a_bad_polygon(camera, polygon):
    with pytest.raises(ValidationError, match="at least three"):
        RoadRegion.objects.create(camera=camera, operator_polygon=polygon)


def test_it_refuses_thresholds_that_do_not_rise(camera):
    with pytest.raises(ValidationError, match="light < moderate < heavy"):
        ConditionThresholds.objects.create(camera=camera, light=0.3, moderate=0.2)


def test_it_gives_the_classifier_the_operators_thresholds(camera):
    assert ConditionThresholds.for_camera(camera) == Thresholds()
    ConditionThresholds.objects.create(camera=camera, heavy=0.8, freezing_c=1.0)
    chosen = ConditionThresholds.for_camera(camera)
    assert (chosen.heavy, chosen.freezing_c) == (0.8, 1.0)
