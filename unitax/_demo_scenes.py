"""The demo's scenes: a leaf and an object id per pixel, drawn along a street.

`_draw_scene` paints a `_Canvas` in painter's order: sky, buildings and
vegetation, then the ground (road, sidewalk, markings), then poles with signs
and traffic lights, trash cans, vehicles, persons and riders from far to near,
and last the sign plates on top of everything. Private to `unitax.demo`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unitax._demo_world import _World


class _Canvas:
    """A scene being drawn: leaf and object per pixel, painter's order."""

    def __init__(self, shape: tuple[int, int], leaf: Mapping[str, int]) -> None:
        self.shape = shape
        self.leaf = leaf
        self.leaves = np.zeros(shape, dtype=np.uint8)
        self.objects = np.zeros(shape, dtype=np.uint16)
        rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
        self.y: NDArray[np.float64] = rows + 0.5
        self.x: NDArray[np.float64] = cols + 0.5
        self.count = 0
        self.signs: list[tuple[int, int, int, int, str, int]] = []
        self.lamps: list[tuple[float, float, float, int]] = []

    def new(self) -> int:
        self.count += 1
        return self.count

    def fill(self, mask: NDArray[np.bool_], kind: str, obj: int = 0) -> None:
        self.leaves[mask] = self.leaf[kind]
        self.objects[mask] = obj

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> NDArray[np.bool_]:
        """Pixels whose centres lie in ``[x0, x1) x [y0, y1)``."""
        return (self.x >= x0) & (self.x < x1) & (self.y >= y0) & (self.y < y1)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> NDArray[np.bool_]:
        rx, ry = max(rx, 0.5), max(ry, 0.5)
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0


@dataclass(frozen=True, slots=True)
class _Street:
    """The road's perspective: ``t`` is 0 at the horizon, 1 at the bottom."""

    horizon: float
    bottom: float
    centre: float
    drift: float
    width: float

    def y(self, t: float) -> float:
        return self.horizon + t * (self.bottom - self.horizon)

    def cx(self, t: Any) -> Any:
        return self.centre + self.drift * t

    def road(self, t: Any) -> Any:
        return self.width * (0.01 + 0.48 * t)

    def side(self, t: Any) -> Any:
        return self.road(t) + self.width * (0.005 + 0.2 * t)


def _draw_scene(
    rng: np.random.Generator,
    shape: tuple[int, int],
    world: _World,
    *,
    gtsdb: str,
    plain: bool,
) -> _Canvas:
    height, width = shape
    canvas = _Canvas(shape, world.leaf)
    street = _Street(
        horizon=height * rng.uniform(0.36, 0.5),
        bottom=float(height),
        centre=width * rng.uniform(0.4, 0.6),
        drift=width * rng.uniform(-0.15, 0.15),
        width=float(width),
    )
    _background(canvas, rng, street)
    _ground(canvas, rng, street)
    many_signs = gtsdb == "gtsdb"
    p_gtsdb = 0.0 if plain else (0.8 if many_signs else 0.5)
    poles = int(rng.integers(2, 6) if many_signs else rng.integers(1, 5))
    things = [_pole(canvas, rng, street, p_gtsdb) for _ in range(poles)]
    if rng.random() < 0.5:
        things.append(_trash_can(canvas, rng, street))
    for draw_thing, most in ((_vehicle, 4), (_person, 4), (_rider, 3)):
        count = int(rng.integers(0, most))
        things.extend(draw_thing(canvas, rng, street) for _ in range(count))
    for _, draw in sorted(things, key=lambda thing: thing[0]):
        draw()
    for x0, y0, x1, y1, kind, _ in canvas.signs:  # on top of everything
        canvas.fill(canvas.rect(x0, y0, x1, y1), kind, canvas.new())
    return canvas


def _background(canvas: _Canvas, rng: np.random.Generator, street: _Street) -> None:
    width = canvas.shape[1]
    horizon = street.horizon
    canvas.fill(np.ones(canvas.shape, dtype=bool), "sky")
    x = -rng.uniform(0, 10)
    while x < width:
        span = width * rng.uniform(0.08, 0.25)
        choice = rng.random()
        if choice < 0.65:
            top = horizon * rng.uniform(0.1, 0.85)
            canvas.fill(canvas.rect(x, top, x + span, horizon + 1), "building")
        elif choice < 0.9:
            crown = horizon * rng.uniform(0.25, 0.6)
            canvas.fill(
                canvas.ellipse(x + span / 2, horizon - crown * 0.7, span / 2, crown)
                | canvas.rect(x, horizon - crown * 0.5, x + span, horizon + 1),
                "vegetation",
            )
        x += span
    if rng.random() < 0.4:
        x0 = width * rng.uniform(0, 0.6)
        tall = horizon * rng.uniform(0.08, 0.2)
        span = width * rng.uniform(0.15, 0.4)
        canvas.fill(canvas.rect(x0, horizon - tall, x0 + span, horizon + 1), "fence")


def _ground(canvas: _Canvas, rng: np.random.Generator, street: _Street) -> None:
    width = canvas.shape[1]
    below = canvas.y >= street.horizon
    t = np.clip((canvas.y - street.horizon) / (street.bottom - street.horizon), 0, 1)
    away = np.abs(canvas.x - street.cx(t))
    road = below & (away < street.road(t))
    canvas.fill(below & (away >= street.side(t)), "terrain")
    canvas.fill(below & (away < street.side(t)), "sidewalk")
    canvas.fill(road, "road")
    dashes = np.sin(2 * np.pi * 1.3 / (t + 0.08)) > 0.2
    lane = road & dashes & (away < np.maximum(0.6, 0.012 * width * t)) & (t > 0.04)
    canvas.fill(lane, "lane marking")
    if rng.random() < 0.5:
        middle, half = rng.uniform(0.45, 0.8), rng.uniform(0.05, 0.1)
        band = road & (t > middle - half) & (t < middle + half)
        offset = canvas.x - street.cx(t) + street.road(t)
        stripes = np.floor(offset / np.maximum(street.road(t) * 0.16, 1.0)) % 2 == 0
        canvas.fill(band & stripes, "crosswalk")
    if rng.random() < 0.5:
        t0 = rng.uniform(0.3, 0.9)
        cx = street.cx(t0) + rng.uniform(-0.6, 0.6) * street.road(t0)
        size = width * (0.01 + 0.04 * t0)
        canvas.fill(
            canvas.ellipse(cx, street.y(t0), size, size * 0.4) & road, "manhole"
        )


def _on_sidewalk(rng: np.random.Generator, street: _Street, t: float) -> float:
    side = 1.0 if rng.random() < 0.5 else -1.0
    road, outer = street.road(t), street.side(t)
    return float(street.cx(t) + side * (road + rng.uniform(0.3, 0.8) * (outer - road)))


def _pole(
    canvas: _Canvas, rng: np.random.Generator, street: _Street, p_gtsdb: float
) -> tuple[float, Callable[[], None]]:
    height, width = canvas.shape
    t = rng.uniform(0.1, 0.75)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    tall = height * (0.18 + 0.5 * t)
    thick = max(1.0, 0.02 * width * t)
    top = max(2.0, base - tall)
    what = rng.random()
    size = max(7, round(width * (0.03 + 0.09 * t)))
    if what < 0.7:
        choice = rng.random()
        cls = int(rng.integers(0, 43))
        kind = (
            f"gtsdb {cls}"
            if choice < p_gtsdb
            else ("sign front" if choice < p_gtsdb + (1 - p_gtsdb) / 2 else "sign back")
        )
        x0, y0 = round(x - size / 2), round(top - size * 0.6)
        wide = size if kind != "sign front" else round(size * 1.3)
        fits = x0 >= 0 and y0 >= 0 and x0 + wide <= width
        clear = all(
            x0 + wide + 1 < a or b + 1 < x0 or y0 + size + 1 < c or d + 1 < y0
            for a, c, b, d, _, _ in canvas.signs
        )
        if fits and clear:
            canvas.signs.append((x0, y0, x0 + wide, y0 + size, kind, cls))
    lamp = rng.integers(0, 3)

    def draw() -> None:
        pole = canvas.new()
        canvas.fill(canvas.rect(x - thick / 2, top, x + thick / 2, base), "pole", pole)
        if 0.7 <= what < 0.9:
            side = max(3.0, size * 0.45)
            canvas.fill(
                canvas.rect(x - side / 2, top - side * 2.4, x + side / 2, top + 1),
                "traffic light",
                canvas.new(),
            )
            centre_y = top - side * 2.4 + side * (0.4 + 0.8 * lamp)
            canvas.lamps.append((x, centre_y, side * 0.3, int(lamp)))
        elif what >= 0.9:
            reach = size * 0.8 * (1 if x < street.cx(t) else -1)
            canvas.fill(
                canvas.rect(min(x, x + reach), top - 2, max(x, x + reach), top + 1)
                | canvas.ellipse(x + reach, top + 1, size * 0.3, size * 0.15),
                "street light",
                canvas.new(),
            )

    return t, draw


def _trash_can(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.2, 0.8)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    wide = canvas.shape[1] * (0.02 + 0.05 * t)

    def draw() -> None:
        shape = canvas.rect(x - wide / 2, base - wide * 1.3, x + wide / 2, base)
        canvas.fill(shape, "trash can", canvas.new())

    return t, draw


def _vehicle(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.1, 0.95)
    x = float(street.cx(t) + rng.uniform(-0.6, 0.6) * street.road(t))
    base, size = street.y(t), canvas.shape[1] * (0.04 + 0.33 * t)
    kind = str(rng.choice(["car", "car", "car", "truck", "bus"]))

    def draw() -> None:
        obj = canvas.new()
        long, tall = {"car": (1.0, 0.6), "truck": (1.1, 1.0), "bus": (1.6, 0.95)}[kind]
        half = size * long / 2
        shape = canvas.rect(x - half, base - size * 0.38, x + half, base - size * 0.08)
        if kind == "car":
            shape |= canvas.rect(
                x - half * 0.6, base - size * tall, x + half * 0.6, base - size * 0.37
            )
        else:
            shape |= canvas.rect(x - half, base - size * tall, x + half, base)
        for wheel in (x - half * 0.65, x + half * 0.65):
            shape |= canvas.ellipse(wheel, base - size * 0.1, size * 0.1, size * 0.1)
        canvas.fill(shape, kind, obj)

    return t, draw


def _person(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.15, 0.9)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    tall = canvas.shape[0] * (0.08 + 0.4 * t)

    def draw() -> None:
        wide = tall * 0.28
        shape = canvas.ellipse(x, base - tall * 0.42, wide / 2, tall * 0.42)
        shape |= canvas.ellipse(x, base - tall * 0.9, wide * 0.35, wide * 0.35)
        canvas.fill(shape, "person", canvas.new())

    return t, draw


def _rider(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.2, 0.9)
    x = float(street.cx(t) + rng.choice([-1.0, 1.0]) * 0.7 * street.road(t))
    base, size = street.y(t), canvas.shape[1] * (0.04 + 0.22 * t)
    motor = rng.random() < 0.4

    def draw() -> None:
        wheel = size * 0.22
        vehicle = np.zeros(canvas.shape, dtype=bool)
        for cx in (x - size * 0.35, x + size * 0.35):
            ring = canvas.ellipse(cx, base - wheel, wheel, wheel)
            if not motor:
                ring &= ~canvas.ellipse(cx, base - wheel, wheel * 0.6, wheel * 0.6)
            vehicle |= ring
        frame = 0.45 if motor else 0.12
        vehicle |= canvas.rect(
            x - size * 0.35,
            base - wheel * (1 + frame * 2),
            x + size * 0.35,
            base - wheel,
        )
        canvas.fill(vehicle, "motorcycle" if motor else "bicycle", canvas.new())
        seat = base - wheel * 2.2
        body = canvas.ellipse(x, seat - size * 0.3, size * 0.14, size * 0.32)
        body |= canvas.ellipse(
            x + size * 0.05, seat - size * 0.72, size * 0.1, size * 0.1
        )
        canvas.fill(body, "motorcyclist" if motor else "bicyclist", canvas.new())

    return t, draw
