"""The demo's RGB images: a scene rendered with the looks of its leaves.

`_render` gives each pixel its leaf's colour and texture, a tint per object,
the glyph of each sign plate and the lit lamp of each traffic light, then the
dataset's colour shift (`_DOMAINS`) and noise. Private to `unitax.demo`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from unitax._demo_scenes import _Canvas
from unitax._demo_world import _COLOURS, _World

_SIGN_PLATES = {  # GTSDB category -> (plate, border, glyph)
    "prohibitory": ((235, 235, 235), (200, 25, 25), (20, 20, 20)),
    "danger": ((240, 235, 220), (210, 40, 20), (15, 15, 15)),
    "mandatory": ((30, 75, 185), (30, 75, 185), (240, 240, 240)),
    "other": ((245, 200, 20), (240, 240, 240), (30, 30, 30)),
}
_DOMAINS = {  # dataset -> (gain, offset, noise sigma)
    "cityscapes": ((1.0, 1.0, 1.05), (0.0, 0.0, 0.0), 3.0),
    "vistas": ((1.08, 1.0, 0.9), (8.0, 4.0, -4.0), 4.0),
    "gtsdb": ((1.1, 1.05, 1.0), (-12.0, -10.0, -8.0), 3.0),
    "openimages": ((0.95, 1.0, 1.0), (10.0, 10.0, 10.0), 4.0),
    "heldout": ((0.45, 0.5, 0.72), (8.0, 8.0, 22.0), 6.0),
}


def _render(
    canvas: _Canvas,
    world: _World,
    rng: np.random.Generator,
    domain: tuple[tuple[float, ...], tuple[float, ...], float],
) -> NDArray[np.uint8]:
    height = canvas.shape[0]
    leaves = canvas.leaves
    image = world.colour[leaves].copy()
    phase = (
        canvas.x * world.frequency[leaves, 0] + canvas.y * world.frequency[leaves, 1]
    )
    image += (world.amplitude[leaves] * np.sin(2 * np.pi * phase))[..., None]
    tint = rng.normal(0.0, 12.0, (canvas.count + 1, 3))
    tint[0] = 0.0
    image += tint[canvas.objects]
    sky = leaves == world.leaf["sky"]
    image[sky] += (canvas.y[sky] / height * 50.0)[:, None]
    for x0, y0, x1, y1, kind, cls in canvas.signs:
        _sign(image, world, rng, (x0, y0, x1, y1), kind, cls)
    lights = np.array([(230, 30, 20), (240, 190, 20), (30, 220, 80)], dtype=float)
    for x, y, radius, lamp in canvas.lamps:
        glow = canvas.ellipse(x, y, radius, radius) & (
            leaves == world.leaf["traffic light"]
        )
        image[glow] = lights[lamp]
    gain, offset, noise = domain
    image = image * np.asarray(gain) + np.asarray(offset)
    image += rng.normal(0.0, noise, image.shape)
    pixels: NDArray[np.uint8] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return pixels


def _sign(
    image: NDArray[np.float64],
    world: _World,
    rng: np.random.Generator,
    box: tuple[int, int, int, int],
    kind: str,
    cls: int,
) -> None:
    x0, y0, x1, y1 = box
    rows, cols = y1 - y0, x1 - x0
    v, u = np.mgrid[0:rows, 0:cols]
    u, v = (u + 0.5) / cols, (v + 0.5) / rows
    if kind == "sign back":
        plate = np.where(np.abs(u - 0.5) < 0.12, 110.0, 155.0)
        image[y0:y1, x0:x1] = plate[..., None]
        return
    if kind == "sign front":
        colours = (_COLOURS["sign front"], _COLOURS["sign front"], (240, 240, 240))
        glyph = rng.random((4, 4)) < 0.5
    else:
        colours = _SIGN_PLATES[world.categories[cls]]
        glyph = world.glyphs[cls]
    plate, border, ink = (np.asarray(c, dtype=float) for c in colours)
    patch = np.broadcast_to(plate, (rows, cols, 3)).copy()
    edge = np.minimum(np.minimum(u, 1 - u), np.minimum(v, 1 - v)) < 0.18
    patch[edge] = border
    inner = (u >= 0.2) & (u < 0.8) & (v >= 0.2) & (v < 0.8)
    cell_u = np.clip(((u - 0.2) / 0.6 * 4).astype(int), 0, 3)
    cell_v = np.clip(((v - 0.2) / 0.6 * 4).astype(int), 0, 3)
    patch[inner & glyph[cell_v, cell_u]] = ink
    image[y0:y1, x0:x1] = patch
