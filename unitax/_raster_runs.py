"""`Runs`, and the machinery the exact raster kernels share.

Private; import from `unitax._raster`. `_batched` validates polygons (see
`unitax._raster` for what is accepted) and runs a polygon kernel over them in
chunks whose keys stay within int64, `_rings` closes each polygon's ring, and
`_toggles` and `_toggles_to_runs` turn parity fills (the COCO polygon kernel
and RLE) into canonical runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_COORD", "Runs"]

MAX_COORD = 1e12
"""Largest accepted |coordinate|, in pixels."""

_Ints = NDArray[np.int64]
_Grouped = tuple[_Ints, "Runs"]  # polygon of each run, and the runs
_Kernel = Callable[[NDArray[np.float64], _Ints, int, int], _Grouped]


class Runs(NamedTuple):
    """Pixel runs: ``(r, c)`` is in iff ``starts[k] <= c < stops[k]``, ``rows[k] == r``.

    Kernels return them clipped to the image, sorted by ``(row, start)``,
    disjoint and not touching.
    """

    rows: _Ints
    starts: _Ints
    stops: _Ints


def _check_shape(height: int, width: int) -> tuple[int, int]:
    """Sides below 2**20 keep all keys of the kernels within int64."""
    valid = int(height) == height and int(width) == width
    if not (valid and 0 <= height < 2**20 and 0 <= width < 2**20):
        shape = (height, width)
        raise ValueError(f"expected integer height, width in [0, 2**20), got {shape}")
    return int(height), int(width)


def _spread(base: _Ints, counts: _Ints, step: int = 1) -> _Ints:
    """``concatenate([base[i] + step * arange(counts[i]) for i])``."""
    offsets = np.repeat(base - step * (np.cumsum(counts) - counts), counts)
    return offsets + np.arange(0, step * offsets.size, step)


def _batched(
    kernel: _Kernel, polygons: Sequence[ArrayLike], height: int, width: int
) -> tuple[Runs, ...]:
    """Validate, run ``kernel(xy, points, height, width)``, split by polygon."""
    height, width = _check_shape(height, width)
    flats = [np.asarray(p, dtype=np.float64).reshape(-1) for p in polygons]
    sizes = np.array([f.size for f in flats], np.int64)
    for index in np.flatnonzero((sizes % 2 == 1) | (sizes < 6))[:1]:
        size = int(sizes[index])
        msg = f"at least 3 points (6 coordinates), got {size // 2} points"
        if size % 2:
            msg = f"an even number of coordinates (x0, y0, ...), got {size}"
        raise ValueError(f"polygon {index}: expected {msg}")
    xy = np.concatenate(flats) if flats else np.zeros(0)
    bad = np.flatnonzero(~(np.abs(xy) <= MAX_COORD))  # also nan
    if bad.size:
        index = int(np.searchsorted(np.cumsum(sizes), bad[0], side="right"))
        msg = f"finite coordinates within ±{MAX_COORD:g} px, got {xy[bad[0]]!r}"
        raise ValueError(f"polygon {index}: expected {msg}")
    if height == 0 or width == 0:
        return tuple(Runs(*[np.zeros(0, np.int64)] * 3) for _ in flats)
    out: list[Runs] = []
    ends = np.concatenate([[0], np.cumsum(sizes)])
    chunk = min(2**31 // (height + 1), 2**62 // ((height + 2) * (width + 2) ** 2))
    for i in range(0, sizes.size, chunk):  # keys stay within int64
        points = sizes[i : i + chunk] // 2
        group, runs = kernel(xy[ends[i] : ends[i + points.size]], points, height, width)
        cuts = np.searchsorted(group, np.arange(points.size + 1)).tolist()
        out.extend(Runs(*(a[lo:hi] for a in runs)) for lo, hi in pairwise(cuts))
    return tuple(out)


def _rings(points: _Ints) -> tuple[_Ints, _Ints, _Ints]:
    """Per vertex: the next one (closing each ring), and its polygon; firsts."""
    first = np.cumsum(points) - points
    successor = np.arange(1, int(points.sum()) + 1)
    successor[first + points - 1] = first
    return successor, np.repeat(np.arange(points.size), points), first


def _toggles(keys: _Ints, count: int, height: int, width: int) -> _Ints:
    """Boundary toggles of parity fills given as column-major positions.

    A sorted ``key = group * (height*width + 1) + position`` flips the pixels
    from ``position`` on: on the vertical pixel boundaries ``(c, r)``,
    ``(c+1, r)``, ``(c, height)`` and ``(c+1, 0)``; the last two cancel in
    columns with an even count.
    """
    area = height * width
    odd = np.flatnonzero(np.bincount(keys // (area + 1), minlength=count) % 2)
    if odd.size:  # close what is left open, as rleFrPoly's last count does
        keys = np.sort(np.concatenate([keys, odd * (area + 1) + area]))
    group, position = np.divmod(keys, area + 1)
    column, row = np.divmod(position, height)
    column += group * (width + 2)
    first = np.flatnonzero(np.diff(column, prepend=-1))
    odd = column[first[np.diff(first, append=column.size) % 2 == 1]]
    pieces = [column * (height + 1) + row, odd * (height + 1) + height]
    return np.concatenate([*pieces, pieces[0] + height + 1, pieces[1] + 1])


def _toggles_to_runs(toggles: _Ints, height: int, width: int) -> _Grouped | None:
    """Row runs from ``(group * (width+2) + boundary) * (height+1) + row`` toggles.

    Rows where a boundary has been toggled an odd number of times are where it
    separates inside from outside; expanded, they are the row transitions,
    which pair up into runs. None if a boundary is toggled an odd count.
    """
    toggles.sort()
    lo, hi = toggles[0::2], toggles[1::2]
    if np.any(lo // (height + 1) != hi // (height + 1)):
        return None
    lo, hi = lo[lo != hi], hi[lo != hi]
    boundary, top = np.divmod(lo, height + 1)
    group, column = np.divmod(boundary, width + 2)
    cross = _spread((group * height + top) * (width + 1) + column, hi - lo, width + 1)
    cross.sort()
    line, starts = np.divmod(cross[0::2], width + 1)
    group, rows = np.divmod(line, height)
    return group, Runs(rows, starts, cross[1::2] - line * (width + 1))
