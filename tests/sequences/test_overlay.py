"""Tests for the traffic-camera overlay (pure Pillow, no database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image, ImageFont

from cameras.units import Units
from sequences import overlay
from sequences.choices import OverlayStyle
from sequences.overlay import (
    CONDITION_COLOURS,
    OverlayInfo,
    draw_overlay,
    format_temperature,
    format_timestamp,
)

WIDTH, HEIGHT = 1280, 720
GREY = 128
DARKENED_GREY = round(GREY * (1 - overlay.BAR_ALPHA))  # what the bar makes of GREY
NEW_YORK = ZoneInfo("America/New_York")
CAPTURED = datetime(2026, 11, 28, 14, 5, 30, tzinfo=NEW_YORK)
DRAWING_STYLES = [OverlayStyle.FULL, OverlayStyle.MINIMAL, OverlayStyle.MOBILE]


def make_info(**changes: object) -> OverlayInfo:
    fields: dict[str, object] = {
        "place": "A1 Northbound, Junction 7",
        "captured_at": CAPTURED,
        "condition": "Moderate snow",
        "temperature_c": -3.0,
        "alerts": ("Snow ploughs on route",),
    }
    fields.update(changes)
    return OverlayInfo(**fields)  # type: ignore[arg-type]


def grey_image(width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    return Image.new("RGB", (width, height), (GREY, GREY, GREY))


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def rendered(style: OverlayStyle = OverlayStyle.FULL, **changes: object) -> np.ndarray:
    """Pixels of the overlay drawn on a plain grey 1280x720 frame."""
    return pixels(draw_overlay(grey_image(), make_info(**changes), style))


def bottom(array: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    return array[-int(array.shape[0] * fraction) :]


def bar_height(image: Image.Image) -> int:
    """Rows at the bottom whose left-most pixel was darkened by the bar (no text there)."""
    column = pixels(image)[:, 0, 0]
    height = 0
    while height < len(column) and column[-1 - height] == DARKENED_GREY:
        height += 1
    return height


@pytest.fixture
def pillow_font_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pretend DejaVu is not installed anywhere."""
    overlay.load_font.cache_clear()
    monkeypatch.setattr(overlay, "_font_path", lambda: None)
    yield
    overlay.load_font.cache_clear()


@pytest.mark.parametrize("style", list(OverlayStyle))
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (320, 240), (160, 90)])
def test_it_keeps_the_output_size_and_mode(style: OverlayStyle, size: tuple[int, int]) -> None:
    out = draw_overlay(grey_image(*size), make_info(), style)
    assert out.size == size
    assert out.mode == "RGB"


def test_it_returns_identical_pixels_for_style_none() -> None:
    rng = np.random.default_rng(1)
    image = Image.fromarray(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    out = draw_overlay(image, make_info(), OverlayStyle.NONE)
    assert np.array_equal(np.asarray(out), np.asarray(image))


@pytest.mark.parametrize("style", DRAWING_STYLES)
def test_it_changes_the_picture_without_touching_the_input(style: OverlayStyle) -> None:
    image = grey_image()
    out = draw_overlay(image, make_info(), style)
    assert np.all(np.asarray(image) == GREY)
    assert not np.array_equal(np.asarray(out), np.asarray(image))


@pytest.mark.parametrize("heavy", ["Heavy snow", "Heavy"])
def test_it_draws_heavy_in_red_not_blue(heavy: str) -> None:
    bar = bottom(rendered(condition=heavy))
    red, green, blue = bar[..., 0], bar[..., 1], bar[..., 2]
    assert np.count_nonzero((red > 200) & (green < 90) & (blue < 90)) > 50
    # The closed product's BGR/RGB swap bug painted "Heavy" blue.
    assert np.count_nonzero((blue > 200) & (red < 90) & (green < 90)) == 0


@pytest.mark.parametrize(
    ("surface", "level"),
    [
        ("Dry", "Clear"),
        ("Light snow", "Light"),
        ("Moderate snow", "Moderate"),
        ("Heavy snow", "Heavy"),
        ("Ice possible", "Ice Possible"),
    ],
)
def test_it_gives_both_wordings_of_a_state_the_same_colour(surface: str, level: str) -> None:
    assert CONDITION_COLOURS[surface] == CONDITION_COLOURS[level]


@pytest.mark.parametrize("condition", list(CONDITION_COLOURS))
def test_it_colour_codes_every_condition(condition: str) -> None:
    bar = bottom(rendered(condition=condition))
    colour = np.array(CONDITION_COLOURS[condition])
    matches = np.abs(bar - colour).sum(axis=2) <= 30
    assert np.count_nonzero(matches) > 50


def test_it_shows_a_placeholder_when_the_condition_is_unknown() -> None:
    unknown = rendered(condition=None)
    clear = rendered(condition="Dry")
    assert not np.array_equal(bottom(unknown), bottom(clear))
    placeholder = np.abs(bottom(unknown) - overlay.PLACEHOLDER_GREY).sum(axis=2) < 30
    assert np.count_nonzero(placeholder) > 20


def test_it_blends_the_bar_over_a_white_image() -> None:
    white = Image.new("RGB", (WIDTH, HEIGHT), "white")
    out = pixels(draw_overlay(white, make_info(), OverlayStyle.FULL))
    corner = out[-1, 0]  # bottom-left margin: bar, no text
    assert np.all(corner > 60)
    assert np.all(corner < 160)


def test_it_lets_stripes_show_through_the_bar() -> None:
    stripes = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for start in range(0, WIDTH, 16):
        stripes[:, start : start + 8] = 255  # 8 px white, 8 px black
    out = pixels(draw_overlay(Image.fromarray(stripes), make_info(), OverlayStyle.FULL))
    bottom_row = out[-1, :, 0]
    white_centres, black_centres = bottom_row[4::16], bottom_row[12::16]
    assert np.all((white_centres > 60) & (white_centres < 160))
    assert np.all(black_centres == 0)


def test_it_draws_the_capture_time() -> None:
    first = rendered()
    second = rendered(captured_at=CAPTURED + timedelta(seconds=7))
    assert not np.array_equal(bottom(first), bottom(second))
    assert np.array_equal(first[: HEIGHT // 2], second[: HEIGHT // 2])  # title unchanged


def test_it_formats_time_like_a_traffic_camera() -> None:
    assert format_timestamp(CAPTURED) == "Sat 28 Nov 2026 14:05:30 EST"
    summer = datetime(2026, 7, 4, 9, 0, 1, tzinfo=NEW_YORK)
    assert format_timestamp(summer) == "Sat 04 Jul 2026 09:00:01 EDT"


@pytest.mark.parametrize(
    ("celsius", "text"), [(-3.2, "-3 °C"), (0.0, "0 °C"), (-0.3, "0 °C"), (21.6, "22 °C")]
)
def test_it_formats_temperatures(celsius: float, text: str) -> None:
    assert format_temperature(celsius) == text


@pytest.mark.parametrize(
    ("celsius", "text"),
    [(-3.2, "26 °F"), (0.0, "32 °F"), (-17.9, "0 °F"), (-18.1, "-1 °F"), (21.6, "71 °F")],
)
def test_it_formats_temperatures_in_fahrenheit_for_us_units(celsius: float, text: str) -> None:
    assert format_temperature(celsius, Units.US) == text


def bar_texts(info: OverlayInfo, style: OverlayStyle = OverlayStyle.FULL) -> list[str]:
    """The bar's rows as the overlay lays them out to draw them."""
    fonts = overlay._fonts_for(HEIGHT, style)
    return [
        "".join(span.text for span in row.left + row.right)
        for row in overlay._bar_rows(info, style, fonts)
    ]


def test_it_writes_the_temperature_in_the_units_it_is_given() -> None:
    [metric, _alerts] = bar_texts(make_info(temperature_c=-3.0))
    [us, _alerts] = bar_texts(make_info(temperature_c=-3.0, units=Units.US))
    assert "-3 °C    Sat 28 Nov 2026 14:05:30 EST" in metric
    assert "27 °F    Sat 28 Nov 2026 14:05:30 EST" in us
    assert "°C" not in us


def test_it_draws_fahrenheit_other_than_celsius() -> None:
    assert not np.array_equal(
        bottom(rendered(temperature_c=-3.0)), bottom(rendered(temperature_c=-3.0, units=Units.US))
    )
    # Minimal shows no temperature, so the units change nothing there.
    assert np.array_equal(
        rendered(OverlayStyle.MINIMAL, units=Units.METRIC),
        rendered(OverlayStyle.MINIMAL, units=Units.US),
    )


def test_it_shows_zero_degrees() -> None:
    zero = rendered(temperature_c=0.0)
    missing = rendered(temperature_c=None)
    assert not np.array_equal(bottom(zero), bottom(missing))


def test_it_leaves_temperature_and_alerts_out_of_minimal() -> None:
    bare = rendered(OverlayStyle.MINIMAL, temperature_c=None, alerts=())
    busy = rendered(OverlayStyle.MINIMAL, temperature_c=5.0, alerts=("Crash", "Fog"))
    assert np.array_equal(bare, busy)


def test_it_draws_a_second_bar_row_for_alerts_in_yellow() -> None:
    without = draw_overlay(grey_image(), make_info(alerts=()), OverlayStyle.FULL)
    with_alerts = draw_overlay(grey_image(), make_info(alerts=("Crash", "Fog")), OverlayStyle.FULL)
    assert bar_height(with_alerts) > bar_height(without)
    bar = bottom(pixels(with_alerts))
    yellow = np.abs(bar - np.array(overlay.ALERT_YELLOW)).sum(axis=2) <= 30
    assert np.count_nonzero(yellow) > 50


def test_it_uses_larger_text_for_mobile() -> None:
    mobile = draw_overlay(grey_image(), make_info(), OverlayStyle.MOBILE)
    minimal = draw_overlay(grey_image(), make_info(), OverlayStyle.MINIMAL)
    assert bar_height(mobile) > bar_height(minimal) * 1.3


def test_it_scales_text_with_the_output_height() -> None:
    small = bar_height(draw_overlay(grey_image(640, 360), make_info(), OverlayStyle.MINIMAL))
    large = bar_height(draw_overlay(grey_image(1920, 1080), make_info(), OverlayStyle.MINIMAL))
    assert 2.5 < large / small < 3.5


def test_it_keeps_a_very_long_place_name_inside_the_frame() -> None:
    out = rendered(place="Junction " * 33 + "End")  # 300 characters
    top = out[: HEIGHT // 5]
    assert np.all(top[:, -3:] == GREY)  # nothing drawn in the right margin
    black_columns = np.flatnonzero(np.all(top == 0, axis=2).any(axis=0))
    assert black_columns.max() > WIDTH * 0.9  # shortened to fit, not dropped


def test_it_keeps_long_alerts_inside_the_frame() -> None:
    bar = bottom(rendered(alerts=("Lane closures " * 30, "Second alert " * 30)), 0.1)
    assert np.all(bar[:, -3:] == DARKENED_GREY)


def test_it_shortens_text_with_an_ellipsis() -> None:
    font = overlay.load_font(24)
    short = overlay._shorten("Junction " * 40, font, 300)
    assert short.endswith(overlay.ELLIPSIS)
    assert font.getlength(short) <= 300


@pytest.mark.usefixtures("pillow_font_only")
def test_it_falls_back_to_pillows_font_without_dejavu() -> None:
    out = draw_overlay(grey_image(), make_info(), OverlayStyle.FULL)
    assert out.size == (WIDTH, HEIGHT)
    assert bar_height(out) > 20
    font = overlay.load_font(30)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow >= 10.1 sizes its own font
    assert "DejaVu" not in (font.getname()[0] or "")
