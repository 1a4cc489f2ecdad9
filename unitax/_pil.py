"""Fill many PIL-convention polygons at once with Pillow itself.

Where later polygons simply cover earlier ones (``overlap="last"``, as in
Cityscapes' ``json2labelImg``), drawing them all with Pillow into one image,
each with its own value, gives exactly the per-polygon masks of
`unitax._raster.pil_polygon_runs` composed in order (tested), at Pillow's
speed, with one image-sized temporary per image rather than per polygon.

Each ring goes straight to Pillow's C drawing call (``ImageDraw.Draw.draw``,
what `ImageDraw.ImageDraw.polygon` calls for a fill without outline), as a
slice of one flat list of coordinates; the image comes back to numpy through
the Arrow C data interface (no copy) where Pillow holds it in one block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

__all__ = ["SAFE_COORD", "pil_fill"]

SAFE_COORD = 2e8
"""Largest |coordinate| for which Pillow's 32-bit arithmetic is exact."""


def pil_fill(
    coords: NDArray[np.float64],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    values: NDArray[np.integer[Any]],
    height: int,
    width: int,
    *,
    background: int = 0,
) -> NDArray[np.integer[Any]]:
    """Draw ring ``i``, ``coords[starts[i]:stops[i]]``, with ``values[i]``.

    ``coords`` holds ``(x, y)`` points, rings without their closing point.
    Later rings are drawn over earlier ones; ``background`` is left where
    none is. Give the parts of one polygon the same value to unite them. The
    result is ``uint8`` when every value is below 256, else ``int32``; it may
    be read-only (it shares Pillow's memory).

    Raises
    ------
    ValueError
        If a ring has fewer than 3 points, a non-finite coordinate, or one
        beyond `SAFE_COORD` (callers then fall back to the numpy kernels).

    Examples
    --------
    >>> square = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    >>> coords = np.concatenate([square, square + 1])
    >>> pil_fill(coords, np.array([0, 4]), np.array([4, 8]), np.array([1, 2]), 4, 4)
    array([[1, 1, 1, 0],
           [1, 2, 2, 2],
           [1, 2, 2, 2],
           [0, 2, 2, 2]], dtype=uint8)
    """
    starts, stops = np.asarray(starts), np.asarray(stops)
    if (stops - starts < 3).any():
        raise ValueError("expected rings of 3 or more points")
    if len(coords) and (
        not np.isfinite(coords).all() or np.abs(coords).max() > SAFE_COORD
    ):
        raise ValueError(f"expected finite coordinates within {SAFE_COORD:g}")
    values = np.asarray(values)
    top = int(values.max()) if len(values) else 0
    mode = (
        "L"
        if top < 256 and 0 <= background < 256 and values.min(initial=0) >= 0
        else "I"
    )
    image = Image.new(mode, (width, height), background)
    core = ImageDraw.Draw(image).draw
    # Pillow's ink for an "L" or "I" image is the value itself; asked once each.
    inks = {v: core.draw_ink(v) for v in set(values.tolist())}
    flat = coords.ravel().tolist()
    draw = core.draw_polygon
    for a, b, value in zip(
        (2 * starts).tolist(), (2 * stops).tolist(), values.tolist(), strict=True
    ):
        draw(flat[a:b], inks[value], 1)
    return _as_array(image)


def _as_array(image: Image.Image) -> NDArray[np.integer[Any]]:
    """``image`` as a numpy array; no copy where Pillow holds it in one block."""
    import pyarrow as pa  # a dependency of unitax; imported here, on first use

    try:
        flat: NDArray[np.integer[Any]] = pa.array(image).to_numpy(zero_copy_only=True)
    except (ValueError, TypeError, pa.ArrowException):  # rows in several blocks
        return np.asarray(image)
    return flat.reshape(image.height, image.width)
