"""A generated traffic-camera road scene, so the server works with no real camera attached."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from cameras.sources.base import CaptureError, Grab
from cameras.sources.base import CaptureErrorKind as Kind

Image = NDArray[np.uint8]
Floats = NDArray[np.float32]
BGR = tuple[float, float, float]
Point = tuple[float, float]

# World units are metres; x runs across the road, z along it away from the camera.
HALF_ROAD = 7.0  # four 3.5 m lanes
CAM_X = 1.6  # the pole stands over the right-hand lanes, so the road sits slightly left
CAM_H = 7.5  # a pole-mounted camera looks down on the traffic
NEAR_Z = 18.0  # ground distance seen at the bottom edge of the frame
FAR_Z = 260.0  # beyond this cars are sub-pixel, so they are skipped
LANES = (-5.25, -1.75, 1.75, 5.25)  # negative x is oncoming traffic (right-hand driving)
LAMP_X, LAMP_H, LAMP_ZS = 8.6, 9.0, (14.0, 58.0, 102.0, 146.0, 190.0)
CAR_COLOURS: tuple[BGR, ...] = (
    (225, 225, 222), (30, 30, 32), (172, 172, 168), (105, 105, 108),
    (35, 35, 170), (140, 70, 30), (50, 80, 40), (35, 170, 215),
)  # fmt: skip


@dataclass(frozen=True)
class _View:
    """Pinhole camera geometry for one frame size (hashable, so caches key on it)."""

    width: int
    height: int
    horizon: int
    vx: float
    k: float  # pixels per metre at NEAR_Z

    def project(self, x: float, z: float, h: float = 0.0) -> Point:
        s = self.k * NEAR_Z / z
        return self.vx + s * (x - CAM_X), self.horizon + s * (CAM_H - h)


@dataclass(frozen=True)
class _Light:
    day: float  # 0 at night, 1 in full daylight
    tint: BGR  # multiplier for sunlit surfaces
    sky_top: BGR
    sky_low: BGR


@dataclass(frozen=True)
class _Car:
    x: float
    z: float  # distance of the end facing the camera
    length: float
    width: float
    height: float
    roof: tuple[float, float]  # roof start/end as fractions of the length
    colour: BGR
    oncoming: bool


def _view(width: int, height: int) -> _View:
    horizon = int(height * 0.3)
    return _View(width, height, horizon, width * 0.52, (height - horizon) / CAM_H)


def _mix(a: BGR, b: BGR, t: float) -> BGR:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def _lit(colour: BGR, light: _Light) -> BGR:
    return (colour[0] * light.tint[0], colour[1] * light.tint[1], colour[2] * light.tint[2])


def _light(at: datetime, snow: bool) -> _Light:
    hours = at.hour + at.minute / 60
    sun = -math.cos(2 * math.pi * hours / 24)  # -1 at midnight, +1 at noon
    day = min(max((sun + 0.2) / 0.7, 0.0), 1.0)
    warm = math.exp(-(((sun - 0.05) / 0.22) ** 2))  # glow peaks around sunrise and sunset
    level = 0.11 + 0.89 * day
    tint = (level * (1 - 0.3 * warm), level * (1 - 0.08 * warm), level * (1 + 0.12 * warm))
    top = _mix((38, 14, 8), (205, 140, 72), day)
    low = _mix(_mix((62, 34, 22), (238, 210, 180), day), (80, 145, 250), 0.85 * warm)
    if snow:  # overcast: a flat grey sky
        top, low = _mix(top, (180 * level,) * 3, 0.8), _mix(low, (205 * level,) * 3, 0.8)
    return _Light(day, tint, top, low)


@lru_cache(maxsize=8)
def _ground_map(view: _View) -> tuple[Floats, Floats, Floats]:
    """World x and z of every pixel below the horizon (so markings are drawn analytically), and
    how much street-lamp light reaches it."""
    rows = np.arange(view.height - view.horizon, dtype=np.float32) + 0.5
    px_per_m = rows / CAM_H  # on the ground at each row
    cols = np.arange(view.width, dtype=np.float32) + 0.5 - view.vx
    x = cols[None, :] / px_per_m[:, None] + CAM_X
    z = np.broadcast_to((view.k * NEAR_Z / px_per_m)[:, None], x.shape)
    pools = sum(np.exp(-((x - LAMP_X + 2) ** 2 + (z - lz) ** 2) / 50) for lz in LAMP_ZS)
    return x.astype(np.float32), z.astype(np.float32), np.asarray(pools, np.float32)


def _grain(rng: np.random.Generator, x: Floats, z: Floats) -> Floats:
    """Pixel noise plus blotches pinned to the ground, so they shrink with distance."""
    fine = rng.standard_normal(x.shape, dtype=np.float32)
    tile = cv2.GaussianBlur(rng.standard_normal((256, 256), dtype=np.float32), (0, 0), 4)
    u, v = np.ascontiguousarray(x * 5 % 256), np.ascontiguousarray(z * 5 % 256)
    blotch = cv2.remap(tile / tile.std(), u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return (0.6 * fine + 0.7 * blotch * np.clip(70 / z, 0.3, 1)).astype(np.float32)


def _cover(dist: Floats, half: float, pixel: Floats) -> Floats:
    # Fraction of a pixel covered by a stripe: anti-aliases and fades distant lines.
    return np.clip((half + pixel / 2 - dist) / pixel, 0.0, np.minimum(1.0, 2 * half / pixel))


def _markings(x: Floats, z: Floats, view: _View) -> Floats:
    ax, metre = np.abs(x), z / (view.k * NEAR_Z)  # metre: pixel footprint across the road
    along = z * z / (view.k * NEAR_Z * CAM_H)  # pixel footprint along the road
    edge = _cover(np.abs(ax - 6.85), 0.1, metre)
    centre = _cover(np.abs(ax - 0.16), 0.07, metre)
    dash_on = np.where(along > 4, 1 / 3, _cover(np.abs(z % 12 - 2), 2, along))
    dashes = _cover(np.abs(ax - 3.5), 0.08, metre) * dash_on
    return np.maximum(np.maximum(edge, centre), dashes)


def _snow_cover(ax: Floats, track: Floats, grain: Floats) -> Floats:
    # Packed snow over the whole carriageway, thick enough to hide the lane paint; the wheel
    # tracks are pressed grey.
    slush = 0.5 + 0.4 * np.clip(track / 0.4 - 1, 0, 1)
    base = np.where(ax > HALF_ROAD + 0.7, 0.95, np.maximum(np.clip((ax - 5.9) / 0.8, 0, 1), slush))
    return np.clip(base * (1 + 0.12 * grain), 0, 0.97)


@lru_cache(maxsize=8)
def _ground(view: _View, seed: int, snow: bool) -> Floats:
    """Unlit colour of everything below the horizon; static, so built once per size."""
    x, z, _ = _ground_map(view)
    grain = _grain(np.random.default_rng(seed), x, z)
    ax, g = np.abs(x), grain[..., None]
    track = np.abs(np.abs(ax % 3.5 - 1.75) - 0.8)  # distance to the nearest wheel track
    grass = np.array([52, 108, 78], np.float32) + 14 * g
    gravel = np.array([118, 124, 130], np.float32) + 10 * g
    asphalt = np.array([92, 88, 86], np.float32) + 7 * g - 7 * (track < 0.3)[..., None]
    verge = np.where(ax[..., None] < HALF_ROAD + 0.7, gravel, grass)
    out = np.where(ax[..., None] < HALF_ROAD, asphalt, verge)
    paint = _markings(x, z, view)[..., None]
    out = out * (1 - paint) + 232 * paint
    if snow:
        cover = _snow_cover(ax, track, grain)[..., None]
        out = out * (1 - cover) + (248 + 4 * g) * cover
    return np.ascontiguousarray(out, dtype=np.float32)


def _sky(view: _View, light: _Light) -> Floats:
    t = np.linspace(0.0, 1.0, view.horizon, dtype=np.float32)[:, None] ** 1.6
    return np.asarray(light.sky_top, np.float32) * (1 - t) + np.asarray(light.sky_low) * t


def _lit_ground(view: _View, light: _Light, seed: int, snow: bool) -> Image:
    # cv2 multiplies and saturates to uint8 in one pass: several times faster than numpy here.
    albedo, gain = _ground(view, seed, snow), np.array(light.tint)
    if light.day < 0.6:  # sodium street lamps light up the dark: gain = glow * pool + tint
        glow = (0.6 - light.day) * np.array([0.6, 1.3, 1.9])
        gain = cv2.transform(_ground_map(view)[2], np.stack([glow, gain], axis=1))
    return np.asarray(cv2.multiply(albedo, gain, dtype=cv2.CV_8U), np.uint8)


def _draw_skyline(img: Image, view: _View, light: _Light, seed: int) -> None:
    """Distant hills, then the treeline, sitting on the horizon."""
    rng = np.random.default_rng(seed + 1)
    xs = np.linspace(-4, view.width + 4, 97)
    base = [(view.width + 4, view.horizon + 1), (-4, view.horizon + 1)]
    hills = _mix(light.sky_low, _lit((70, 100, 80), light), 0.45)  # hazy with distance
    for amp, rough, colour in ((0.07, 0.25, hills), (0.025, 1.0, _lit((34, 62, 40), light))):
        wave = np.cumsum(rng.standard_normal(97)) * 0.15 + rough * rng.random(97)
        tops = view.horizon - view.height * amp * (0.5 + (wave - wave.min()) / np.ptp(wave))
        outline = np.array([*zip(xs, tops, strict=True), *base], np.int32)
        cv2.fillPoly(img, [outline], colour, cv2.LINE_AA)


def _poly(img: Image, view: _View, pts: list[tuple[float, float, float]], colour: BGR) -> None:
    xy = np.array([view.project(x, z, h) for x, z, h in pts], np.float32)
    cv2.fillPoly(img, [np.round(xy * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)


def _draw_lamps(img: Image, view: _View, light: _Light) -> None:
    for z in LAMP_ZS[::-1]:
        scale = view.k * NEAR_Z / z
        width = max(1, round(0.14 * scale))
        foot, top = view.project(LAMP_X, z), view.project(LAMP_X, z, LAMP_H)
        head = view.project(LAMP_X - 2, z, LAMP_H - 0.2)
        for a, b in ((foot, top), (top, head)):
            pa, pb = (round(a[0]), round(a[1])), (round(b[0]), round(b[1]))
            cv2.line(img, pa, pb, _lit((120, 120, 125), light), width, cv2.LINE_AA)
        if light.day < 0.6:
            centre = (round(head[0]), round(head[1]))
            cv2.circle(img, centre, round(0.16 * scale), (60, 170, 255), -1, cv2.LINE_AA)
            cv2.circle(img, centre, round(0.09 * scale), (190, 235, 255), -1, cv2.LINE_AA)


@lru_cache(maxsize=16)
def _fleet(seed: int) -> tuple[tuple[float, float, _Car], ...]:
    """Per vehicle: speed (m/s), phase (m) and its look; lane-mates share speed to never merge."""
    rng, fleet = np.random.default_rng(seed), []
    for lane in LANES:
        speed, start = rng.uniform(17, 30) * (1.12 if abs(lane) < 3 else 1.0), rng.uniform(0, 1)
        for i in range(3):
            van = rng.random() < 0.2
            size = (5.2, 2.0, 2.1, (0.08, 0.85)) if van else (4.5, 1.8, 1.45, (0.3, 0.75))
            colour = CAR_COLOURS[int(rng.integers(len(CAR_COLOURS)))]
            car = _Car(lane, 0.0, *size, colour=colour, oncoming=lane < 0)
            fleet.append((speed, (start + i / 3 + rng.uniform(0, 0.1)) * (FAR_Z + 60), car))
    return tuple(fleet)


def _cars(seed: int, t: float) -> list[_Car]:
    cars = []
    for speed, phase, car in _fleet(seed):
        run = (speed * t + phase) % (FAR_Z + 60)  # the extra 60 m leave lanes empty at times
        z = FAR_Z - run if car.oncoming else run + 2.0
        if 2.0 < z < FAR_Z:
            cars.append(replace(car, z=z))
    return sorted(cars, key=lambda c: -c.z)  # painter's order: far first


def _draw_car(img: Image, view: _View, car: _Car, light: _Light) -> None:
    if view.k * NEAR_Z / car.z * car.width < 2:
        return
    x, near, far, w, top = car.x, car.z, car.z + car.length, car.width / 2, car.height
    body, (roof0, roof1) = top * 0.55, (near + f * car.length for f in car.roof)
    paint = _lit(car.colour, light)
    side = x - w if x > CAM_X else x + w  # the flank that faces the camera pole
    flank = [(side, near, 0.2), (side, far, 0.2), (side, far, body), (side, near, body)]
    # Each strip joins two cross-sections (half width, z, height); drawn back to front.
    strips: list[tuple[tuple[float, float, float], tuple[float, float, float], BGR]] = [
        ((w, near, 0), (w, far, 0), _lit((34, 34, 34), light)),  # shadow on the road
        ((w, near, body), (w, far, body), paint),  # bonnet and boot
        ((w * 0.86, roof0, top), (w * 0.86, roof1, top), _mix(paint, (255, 255, 255), 0.1)),
        ((w * 0.95, near + 0.35, body), (w * 0.86, roof0, top), _lit((58, 50, 44), light)),
        ((w, near, 0.25), (w, near, body), _mix(paint, (0, 0, 0), 0.3)),  # face to camera
    ]
    for n, ((w0, z0, h0), (w1, z1, h1), colour) in enumerate(strips):
        _poly(img, view, [(x - w0, z0, h0), (x + w0, z0, h0), (x + w1, z1, h1), (x - w1, z1, h1)],
              colour)  # fmt: skip
        if n == 0:
            _poly(img, view, flank, _mix(paint, (0, 0, 0), 0.45))
    _draw_car_lights(img, view, car, light)


def _draw_car_lights(img: Image, view: _View, car: _Car, light: _Light) -> None:
    scale = view.k * NEAR_Z / car.z
    radius = max(1, round(0.09 * scale))
    night = light.day < 0.5
    if car.oncoming:
        core: BGR = (225, 250, 255) if night else _lit((210, 215, 215), light)
    else:
        core = (60, 60, 255) if night else _lit((40, 40, 190), light)
    for side in (-1, 1):
        px, py = view.project(car.x + side * car.width * 0.36, car.z, car.height * 0.4)
        centre = (round(px), round(py))
        if night:  # a halo, since lamps bloom on a real sensor at night
            cv2.circle(img, centre, 2 * radius, _mix(core, (0, 0, 0), 0.5), -1, cv2.LINE_AA)
        cv2.circle(img, centre, radius, core, -1, cv2.LINE_AA)


def _draw_snowfall(img: Image, view: _View, light: _Light, t: float, seed: int) -> None:
    cv2.addWeighted(img, 0.85, img, 0.0, 0.15 * 200 * max(light.tint[1], 0.25), dst=img)  # haze
    rng = np.random.default_rng(seed + 2)  # same flakes every frame, so they fall smoothly
    x0, y0, near, phase = rng.random((4, view.width * view.height // 1800))
    near = near**3  # mostly small distant flakes, a few big close ones
    ys = (y0 * view.height + (0.08 + 0.5 * near) * view.height * t) % view.height
    xs = (x0 * view.width + 0.02 * view.width * np.sin(0.8 * t + 6.3 * phase)) % view.width
    radii = np.maximum(1, np.round(near * view.height / 180)).astype(int)
    grey = 250 * max(light.tint[1], 0.45)
    for px, py, r in zip(xs.astype(int), ys.astype(int), radii, strict=True):
        cv2.circle(img, (int(px), int(py)), int(r), (grey, grey, grey), -1, cv2.LINE_AA)


def render_scene(
    width: int, height: int, at: datetime, *, snow: bool = False, seed: int = 0
) -> Image:
    """A BGR frame of the road at local time `at`; the same inputs give the same pixels."""
    view, light = _view(width, height), _light(at, snow)
    t = at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1e6
    img = np.empty((height, width, 3), np.uint8)
    img[: view.horizon] = np.clip(_sky(view, light), 0, 255)[:, None, :]
    img[view.horizon :] = _lit_ground(view, light, seed, snow)
    _draw_skyline(img, view, light, seed)
    _draw_lamps(img, view, light)
    for car in _cars(seed, t):
        _draw_car(img, view, car, light)
    if snow:
        _draw_snowfall(img, view, light, t, seed)
    return img


class DemoSource:
    """A camera that needs no hardware: renders the scene at each grab."""

    # Nothing to wait for: a 1080p render takes ~12 ms, the first ~0.7 s (it fills caches).
    deadline_s = 2.0

    def __init__(
        self,
        width: int,
        height: int,
        *,
        snow: bool = False,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"demo frame size {width}x{height} is too small")
        self.width, self.height, self.snow, self.seed = width, height, snow, seed
        # The clock must give the camera's local time; UTC is only a fallback.
        self.clock = clock or (lambda: datetime.now(UTC))
        self.closed = False

    def grab(self) -> Grab:
        if self.closed:
            raise CaptureError(Kind.CLOSED, message="The demo camera has been closed.")
        frame = render_scene(self.width, self.height, self.clock(), snow=self.snow, seed=self.seed)
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise CaptureError(Kind.ENCODE_FAILED)
        return Grab(jpeg=buf.tobytes(), width=self.width, height=self.height)

    def close(self) -> None:
        self.closed = True
