"""Polygons drawn by operators on a camera's picture: lists of [x, y] points, each a fraction
of the frame (0–1), so they survive a change of resolution. The road region (analytics) and
the privacy masks (cameras.models.PrivacyMask) are both stored and checked this way."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

POLYGON_MESSAGE = (
    "Give a list of at least three [x, y] points with 0 ≤ x, y ≤ 1, "
    "e.g. [[0, 1], [0.5, 0.4], [1, 1]]."
)
MASK_REQUIRED = "Draw the region to hide: " + POLYGON_MESSAGE[0].lower() + POLYGON_MESSAGE[1:]
# A mask's editor offers 12 points; typed ones may have more, within reason.
MASK_MAX_POINTS = 64
# Less than this share of the frame is a slip of the mouse, not a region worth hiding.
MASK_MIN_AREA = 0.0001


def validate_polygon(value: Any) -> None:
    """A list of at least three [x, y] points, each within 0–1 (fractions of the frame), or
    empty (no polygon)."""
    if value in (None, []):
        return
    if not isinstance(value, list) or len(value) < 3:
        raise ValidationError(POLYGON_MESSAGE)
    for point in value:
        ok = isinstance(point, list | tuple) and len(point) == 2
        if not ok or not all(
            isinstance(c, int | float) and not isinstance(c, bool) and 0 <= c <= 1 for c in point
        ):
            raise ValidationError(POLYGON_MESSAGE)


def area(points: list[Any]) -> float:
    """The polygon's area as a share of the frame (shoelace formula; 0 for a line)."""
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )
    return abs(twice) / 2


def validate_mask_polygon(value: Any) -> None:
    """A privacy mask's polygon (the field itself refuses an empty one: MASK_REQUIRED), as
    `validate_polygon` says, with at most MASK_MAX_POINTS points, and enclosing some area
    (three points in a line hide nothing)."""
    validate_polygon(value)
    if len(value) > MASK_MAX_POINTS:
        raise ValidationError(f"At most {MASK_MAX_POINTS} points, not {len(value)}.")
    if area(value) < MASK_MIN_AREA:
        raise ValidationError(
            "The points enclose no area (they lie on a line, or all but on one): "
            "draw around the region to hide."
        )
