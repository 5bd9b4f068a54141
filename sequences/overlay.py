"""Traffic-camera style text overlay drawn onto sequence frames.

The overlay is drawn at the frame's output resolution, so text stays crisp in the
final GIF/MP4 instead of being scaled with the picture.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from cameras.units import Units, degree_sign, temperature_in
from sequences.choices import OverlayStyle

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Chosen to stay readable on the dark bar: pure (200, 0, 0) red or a deep purple
# would be too dark against 60% black, so red and purple are slightly lifted.
# The road-surface wording and the closed product's level names, which share colours.
CONDITION_COLOURS: dict[str, RGB] = {
    "Dry": (0, 200, 0),
    "Clear": (0, 200, 0),
    "Wet": (80, 190, 255),
    "Light snow": (255, 220, 0),
    "Light": (255, 220, 0),
    "Moderate snow": (255, 140, 0),
    "Moderate": (255, 140, 0),
    "Heavy snow": (255, 40, 40),
    "Heavy": (255, 40, 40),
    "Ice possible": (190, 110, 255),
    "Ice Possible": (190, 110, 255),
}
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
ALERT_YELLOW: RGB = (255, 215, 0)
PLACEHOLDER_GREY: RGB = (175, 175, 175)

BAR_ALPHA = 0.6
# Darkening with a lookup table is exactly "black at BAR_ALPHA composited over the
# image" (out = in * (1 - alpha)) but far cheaper than building an RGBA layer.
_BAR_LUT = [round(v * (1 - BAR_ALPHA)) for v in range(256)] * 3

REFERENCE_HEIGHT = 1080
TITLE_PX, MAIN_PX, SMALL_PX = 48, 36, 28
MIN_FONT_PX = 12
MOBILE_SCALE = 1.5  # phones show the GIF small, so mobile text is drawn larger
MAX_ALERTS = 2
ELLIPSIS = "…"
ALERT_SEPARATOR = "   |   "

DEBIAN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
MATPLOTLIB_FONT = Path("mpl-data/fonts/ttf/DejaVuSans-Bold.ttf")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class OverlayInfo:
    place: str
    captured_at: datetime  # aware, already in the camera's time zone
    condition: str | None = None
    temperature_c: float | None = None
    alerts: tuple[str, ...] = ()  # already worded in `units` (analytics.alerts)
    units: Units = Units.METRIC  # how the temperature is shown; it is given in °C


@dataclass(frozen=True)
class _Span:
    text: str
    colour: RGB


@dataclass(frozen=True)
class _Row:
    """One logical bar row: spans pinned left and spans pinned right."""

    font: Font
    left: tuple[_Span, ...]
    right: tuple[_Span, ...] = ()


@dataclass(frozen=True)
class _Fonts:
    title: Font
    main: Font
    small: Font


# --------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=1)
def _font_path() -> Path | None:
    if DEBIAN_FONT.is_file():
        return DEBIAN_FONT
    # Locate matplotlib's bundled copy without importing matplotlib (a slow import).
    spec = importlib.util.find_spec("matplotlib")
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(root) / MATPLOTLIB_FONT
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=64)
def load_font(size: int) -> Font:
    """DejaVu Sans Bold at `size` px, or Pillow's built-in font if it is missing."""
    path = _font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _px(reference_px: int, height: int, scale: float) -> int:
    return max(MIN_FONT_PX, round(reference_px * height / REFERENCE_HEIGHT * scale))


def _fonts_for(height: int, style: OverlayStyle) -> _Fonts:
    scale = MOBILE_SCALE if style == OverlayStyle.MOBILE else 1.0
    return _Fonts(
        title=load_font(_px(TITLE_PX, height, scale)),
        main=load_font(_px(MAIN_PX, height, scale)),
        small=load_font(_px(SMALL_PX, height, scale)),
    )


def _line_metrics(font: Font) -> tuple[int, int]:
    """(ascent, descent) so every line has the same height whatever its text."""
    if isinstance(font, ImageFont.FreeTypeFont):
        return font.getmetrics()
    top, bottom = font.getbbox("Ag")[1::2]
    return int(-top), int(bottom)


def _line_height(font: Font) -> int:
    ascent, descent = _line_metrics(font)
    return ascent + descent


# ------------------------------------------------------------------------ text


def format_timestamp(moment: datetime) -> str:
    """`Sat 28 Nov 2026 14:05:30 EST`, independent of the process locale."""
    text = (
        f"{_DAYS[moment.weekday()]} {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M:%S}"
    )
    zone = moment.tzname()
    return f"{text} {zone}" if zone else text


def format_temperature(celsius: float, units: Units = Units.METRIC) -> str:
    """Whole degrees: "-3 °C", or "27 °F" in US units."""
    # `or 0` turns -0 (e.g. from -0.3) into 0 so we never show "-0 °C".
    return f"{round(temperature_in(celsius, units)) or 0} {degree_sign(units)}"


def _alert_prefix() -> str:
    # Pillow's fallback font has no warning sign; a missing glyph would show as a box.
    return "⚠ " if _font_path() is not None else "! "


def _width(spans: tuple[_Span, ...], font: Font) -> float:
    return sum(font.getlength(span.text) for span in spans)


def _shorten(text: str, font: Font, max_width: float) -> str:
    """Longest prefix of `text` + ellipsis fitting `max_width` (binary search)."""
    if font.getlength(text) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(text[:mid].rstrip() + ELLIPSIS) <= max_width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS if low else ""


def _fit(spans: tuple[_Span, ...], font: Font, max_width: float) -> tuple[_Span, ...]:
    """Drop/shorten trailing spans so the whole run fits `max_width`."""
    fitted: list[_Span] = []
    used = 0.0
    for span in spans:
        width = font.getlength(span.text)
        if used + width <= max_width:
            fitted.append(span)
            used += width
            continue
        short = _shorten(span.text, font, max_width - used)
        if short:
            fitted.append(_Span(short, span.colour))
        break
    return tuple(fitted)


# ---------------------------------------------------------------------- layout


def _condition_spans(condition: str | None) -> tuple[_Span, ...]:
    if condition is None:
        return (_Span("Condition: ", WHITE), _Span("—", PLACEHOLDER_GREY))
    return (_Span("Condition: ", WHITE), _Span(condition, CONDITION_COLOURS.get(condition, WHITE)))


def _bar_rows(info: OverlayInfo, style: OverlayStyle, fonts: _Fonts) -> list[_Row]:
    right = [_Span(format_timestamp(info.captured_at), WHITE)]
    if style == OverlayStyle.FULL and info.temperature_c is not None:
        right.insert(0, _Span(f"{format_temperature(info.temperature_c, info.units)}    ", WHITE))
    rows = [_Row(fonts.main, _condition_spans(info.condition), tuple(right))]
    alerts = [alert for alert in info.alerts if alert.strip()][:MAX_ALERTS]
    if style == OverlayStyle.FULL and alerts:
        text = ALERT_SEPARATOR.join(_alert_prefix() + alert for alert in alerts)
        rows.append(_Row(fonts.small, (_Span(text, ALERT_YELLOW),)))
    return rows


def _wrap(row: _Row, max_width: float, gap: float) -> list[_Row]:
    """Keep left and right on one line if they fit, else stack them (narrow frames)."""
    left = _fit(row.left, row.font, max_width)
    right = _fit(row.right, row.font, max_width)
    needed = _width(row.left, row.font) + _width(row.right, row.font)
    if not row.right or needed + gap <= max_width:
        return [_Row(row.font, left, right)]
    return [_Row(row.font, left), _Row(row.font, (), right)]


# --------------------------------------------------------------------- drawing


def _draw_spans(
    draw: ImageDraw.ImageDraw, x: float, baseline: int, spans: tuple[_Span, ...], font: Font
) -> None:
    for span in spans:
        draw.text((x, baseline), span.text, font=font, fill=span.colour, anchor="ls")
        x += font.getlength(span.text)


def _draw_title(image: Image.Image, place: str, font: Font, margin: int) -> None:
    pad = max(3, _line_height(font) // 5)
    text = _shorten(place, font, image.width - 2 * (margin + pad))
    ascent, descent = _line_metrics(font)
    right = margin + 2 * pad + round(font.getlength(text))
    bottom = margin + 2 * pad + ascent + descent
    draw = ImageDraw.Draw(image)
    draw.rectangle((margin, margin, right - 1, bottom - 1), fill=BLACK)
    draw.text((margin + pad, margin + pad + ascent), text, font=font, fill=WHITE, anchor="ls")


def _draw_bar(image: Image.Image, rows: list[_Row], margin: int) -> None:
    spacing = max(2, _line_height(rows[0].font) // 6)
    padding = max(3, _line_height(rows[0].font) // 3)
    height = 2 * padding + sum(_line_height(r.font) for r in rows) + spacing * (len(rows) - 1)
    top = max(0, image.height - height)
    box = (0, top, image.width, image.height)
    image.paste(image.crop(box).point(_BAR_LUT), box)

    draw = ImageDraw.Draw(image)
    y = top + padding
    for row in rows:
        ascent, descent = _line_metrics(row.font)
        baseline = y + ascent
        _draw_spans(draw, margin, baseline, row.left, row.font)
        right_x = image.width - margin - _width(row.right, row.font)
        _draw_spans(draw, right_x, baseline, row.right, row.font)
        y += ascent + descent + spacing


def draw_overlay(image: Image.Image, info: OverlayInfo, style: OverlayStyle) -> Image.Image:
    """Return a new RGB image with the overlay; the input image is never modified."""
    out = image.convert("RGB")  # convert() always copies, so the caller's frame is safe
    if style == OverlayStyle.NONE:
        return out
    fonts = _fonts_for(out.height, style)
    margin = max(4, round(_line_height(fonts.main) * 0.4))
    max_width = out.width - 2 * margin
    gap = fonts.main.getlength("    ")
    rows = [line for row in _bar_rows(info, style, fonts) for line in _wrap(row, max_width, gap)]
    _draw_bar(out, rows, margin)
    _draw_title(out, info.place, fonts.title, margin)
    return out
