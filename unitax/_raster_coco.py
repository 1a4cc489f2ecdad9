"""COCO-exact polygon runs: pycocotools' ``rleFrPoly`` (``maskApi.c``).

Private; import from `unitax._raster`, which documents what all kernels
share. Vertices are scaled by 5 and truncated, a Bresenham-like walk goes
round the polygon, a boundary point is where the walk passes a column
centre, and each column is parity-filled downwards. The walk is not
materialised; its crossings are solved per edge, so the cost follows the
polygon's width inside the image, not its perimeter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from unitax._raster_runs import (
    Runs,
    _batched,
    _Grouped,
    _Ints,
    _rings,
    _spread,
    _toggles,
    _toggles_to_runs,
)

__all__ = ["coco_polygon_runs", "coco_polygons_runs"]


def _columns(lo: _Ints, hi: _Ints, width: int) -> tuple[_Ints, _Ints]:
    """Per edge: count and first of the image columns with ``lo <= 5c + 2 < hi``."""
    first = np.maximum(-((2 - lo) // 5), 0)
    return np.maximum(np.minimum((hi - 3) // 5, width - 1) - first + 1, 0), first


def _coco_crossings(xy: NDArray[np.float64], points: _Ints, width: int) -> list[_Ints]:
    """``[polygon, column, v]`` of rleFrPoly's y-boundary points (v upsampled)."""
    scaled = (5.0 * xy + 0.5).astype(np.int64)  # C (int): towards zero
    successor, owner, _ = _rings(points)
    xs, ys = scaled[0::2], scaled[1::2]
    xe, ye = xs[successor], ys[successor]
    dx, dy = np.abs(xe - xs), np.abs(ye - ys)
    # x-major edges, walked from the smaller x: u = t + xs, v = (int)(ys + s*t
    # + .5); column c is where u goes 5c+2 -> 5c+3, with the smaller v
    e = np.flatnonzero((dx >= dy) & (dx > 0))
    flip = xs[e] > xe[e]
    xa, ya = np.where(flip, xe[e], xs[e]), np.where(flip, ye[e], ys[e])
    slope = (np.where(flip, ys[e], ye[e]) - ya) / dx[e]
    n, first = _columns(xa, xa + dx[e], width)
    t, s, y0 = _spread(5 * first + 2 - xa, n, 5), np.repeat(slope, n), np.repeat(ya, n)
    v = np.minimum(y0 + s * t + 0.5, y0 + s * (t + 1) + 0.5).astype(np.int64)
    parts = [(np.repeat(owner[e], n), _spread(first, n), v)]
    # y-major edges, walked from the smaller y: v = t + ys, u = (int)(xs + s*t
    # + .5); find the first t past u = 5c + 2.5 (the estimate is within one)
    e = np.flatnonzero(dy > dx)
    flip = ys[e] > ye[e]
    xa, xb = np.where(flip, xe[e], xs[e]), np.where(flip, xs[e], xe[e])
    slope = (xb - xa) / dy[e]
    u0, u1 = (xa + 0.5).astype(np.int64), (xa + slope * dy[e] + 0.5).astype(np.int64)
    n, first = _columns(np.minimum(u0, u1), np.maximum(u0, u1), width)
    column = _spread(first, n)
    line, x0, s = 5 * column + 2, np.repeat(xa, n), np.repeat(slope, n)
    up = np.repeat(xb > xa, n)
    guess = np.ceil((line + 0.5 - x0) / s).astype(np.int64) - 1
    t = guess.copy()
    for d in range(3):
        u = (x0 + s * (guess + d) + 0.5).astype(np.int64)
        t += np.where(up, u <= line, u > line)
    hit = (x0 + s * t + 0.5).astype(np.int64) == line + up  # a jump of 2 is missed
    v = np.repeat(np.where(flip, ye[e], ys[e]), n) + t - 1
    parts.append((np.repeat(owner[e], n)[hit], column[hit], v[hit]))
    return [np.concatenate(a) for a in zip(*parts, strict=True)]


def _coco_kernel(
    xy: NDArray[np.float64], points: _Ints, height: int, width: int
) -> _Grouped:
    polygon, column, v = _coco_crossings(xy, points, width)
    row = np.clip(-((2 - v) // 5), 0, height)  # ceil((v + .5) / 5 - .5)
    toggles = (polygon * (width + 2) + column) * (height + 1) + row
    toggles = np.concatenate([toggles, toggles + height + 1])
    result = _toggles_to_runs(toggles, height, width)
    if result is None:  # a column with an odd count (huge coordinates only)
        keys = np.sort(polygon * (height * width + 1) + column * height + row)
        toggles = _toggles(keys, points.size, height, width)
        result = _toggles_to_runs(toggles, height, width)
    return result  # type: ignore[return-value]


def coco_polygons_runs(
    polygons: Sequence[ArrayLike], height: int, width: int
) -> tuple[Runs, ...]:
    """`coco_polygon_runs` of many polygons at once (faster than one by one)."""
    return _batched(_coco_kernel, polygons, height, width)


def coco_polygon_runs(coords: ArrayLike, height: int, width: int) -> Runs:
    """Pixel runs of a COCO polygon, bit-exact with pycocotools.

    Parameters
    ----------
    coords : array_like of float
        ``x0, y0, x1, y1, ...`` in pixels, at least 3 points.
    height, width : int
        Image shape.

    Returns
    -------
    Runs
        The pixels of ``mask.decode(mask.frPyObjects([coords], height,
        width))``, roughly those with their centre inside.

    Raises
    ------
    ValueError
        Odd coordinate count, fewer than 3 points, or a coordinate not finite or
        beyond ``±MAX_COORD``.

    Examples
    --------
    >>> from unitax._raster import coco_polygon_runs, runs_to_mask
    >>> runs = coco_polygon_runs([1, 1, 4, 1, 4, 3, 1, 3], 4, 5)
    >>> runs
    Runs(rows=array([1, 2]), starts=array([1, 1]), stops=array([4, 4]))
    >>> runs_to_mask(runs, 4, 5).astype(np.uint8)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    return coco_polygons_runs([coords], height, width)[0]
