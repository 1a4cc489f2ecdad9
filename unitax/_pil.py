"""Fill many PIL-convention polygons at once with Pillow itself.

Where later polygons simply cover earlier ones (``overlap="last"``, as in
Cityscapes' ``json2labelImg``), drawing them all with Pillow into one image,
each with its own value, gives exactly the per-polygon masks of
`unitax._raster.pil_polygon_runs` composed in order (tested), at Pillow's
speed, with one image-sized temporary per image rather than per polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

__all__ = ["SAFE_COORD", "pil_fill"]

SAFE_COORD = 2e8
"""Largest |coordinate| for which Pillow's 32-bit arithmetic is exact."""


def pil_fill(
    rings: Sequence[NDArray[np.float64]],
    values: Sequence[int],
    height: int,
    width: int,
) -> NDArray[np.integer[Any]]:
    """Draw ``rings[i]`` (``(k, 2)`` points) with ``values[i]``, in order.

    Later rings are drawn over earlier ones; 0 is left where none is. Give
    the parts of one polygon the same value to unite them. The result is
    ``uint8`` when every value is below 256, else ``int32``.

    Raises
    ------
    ValueError
        If a ring has fewer than 3 points, a non-finite coordinate, or one
        beyond `SAFE_COORD` (callers then fall back to the numpy kernels).

    Examples
    --------
    >>> square = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    >>> pil_fill([square, square + 1], [1, 2], 4, 4)
    array([[1, 1, 1, 0],
           [1, 2, 2, 2],
           [1, 2, 2, 2],
           [0, 2, 2, 2]], dtype=uint8)
    """
    if any(len(ring) < 3 for ring in rings):
        raise ValueError("expected rings of 3 or more points")
    if rings:
        every = np.concatenate(rings)
        if not np.isfinite(every).all() or np.abs(every).max() > SAFE_COORD:
            raise ValueError(f"expected finite coordinates within {SAFE_COORD:g}")
    mode = "L" if max(values, default=0) < 256 else "I"
    image = Image.new(mode, (width, height), 0)
    draw = ImageDraw.Draw(image)
    for ring, value in zip(rings, values, strict=True):
        draw.polygon(ring.ravel().tolist(), fill=int(value))
    filled: NDArray[np.integer[Any]] = np.asarray(image)
    return filled
