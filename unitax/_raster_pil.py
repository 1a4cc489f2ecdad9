"""PIL-exact polygon runs: ``ImageDraw.Draw(img).polygon(xy, fill=v)``.

Private; import from `unitax._raster`, which documents what all kernels
share. The reference is ``polygon_generic`` in Pillow's ``Draw.c``, on an
``"L"`` image: vertices truncated, float32 scanline crossings,
``ROUND_UP``/``ROUND_DOWN`` ends, the corner rule, and horizontal edges as
lines. The fill includes the boundary pixels; no separate outline is drawn
when only ``fill`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from unitax._raster_runs import Runs, _batched, _Grouped, _Ints, _rings, _spread

__all__ = ["pil_polygon_runs", "pil_polygons_runs"]

_F32 = np.float32
_Floats = NDArray[np.float32]


def _roundf(x: _Floats) -> NDArray[np.float64]:
    """C ``roundf``: halves away from zero."""
    wide = x.astype(np.float64)
    return np.copysign(np.floor(np.abs(wide) + 0.5), wide)


def _pil_round(x: _Floats, *, up: bool) -> _Ints:
    """``ROUND_UP`` or ``ROUND_DOWN``: ``f ± 0.5F`` is float32, ``fabs(f)`` double."""
    wide = np.abs(x.astype(np.float64))
    if up:
        out = np.where(x >= 0, np.floor(x + _F32(0.5)), -np.floor(wide + 0.5))
    else:
        out = np.where(x >= 0, np.ceil(x - _F32(0.5)), -np.ceil(wide - 0.5))
    return out.astype(np.int64)


class _Edges(NamedTuple):
    """Pillow's non-horizontal edges, in edge-table order."""

    y0: _Ints
    ymin: _Ints
    ymax: _Ints
    slope: _Floats
    x0: _Floats
    group: _Ints

    def x_at(self, k: _Ints, row: _Ints) -> _Floats:
        """``(row - y0) * dx + x0``, in float32 as in Pillow."""
        return (row - self.y0[k]).astype(_F32) * self.slope[k] + self.x0[k]


def _pil_kernel(
    xy: NDArray[np.float64], points: _Ints, height: int, width: int
) -> _Grouped:
    vx, vy = xy[0::2].astype(np.int64), xy[1::2].astype(np.int64)  # C (int)
    successor, owner, first = _rings(points)
    last = first + points - 1
    keep = np.ones(vx.size, bool)  # no closing edge onto an equal first point
    keep[last] = (vx[last] != vx[first]) | (vy[last] != vy[first])
    e = np.flatnonzero(keep)
    x0, y0, x1, y1, g = vx[e], vy[e], vx[successor[e]], vy[successor[e]], owner[e]
    flat = y0 == y1  # horizontal edges are drawn as lines
    lines = [np.where((y0 >= 0) & (y0 < height), g * height + y0, -1)[flat]]
    lefts, rights = [np.minimum(x0, x1)[flat]], [np.maximum(x0, x1)[flat]]
    top = np.clip(np.minimum.reduceat(vy, first), 0, height - 1)
    bottom = np.clip(np.maximum.reduceat(vy, first), 0, height)
    x0, y0, x1, y1, g = x0[~flat], y0[~flat], x1[~flat], y1[~flat], g[~flat]
    slope = (x1 - x0).astype(_F32) / (y1 - y0).astype(_F32)
    ed = _Edges(y0, np.minimum(y0, y1), np.maximum(y0, y1), slope, x0.astype(_F32), g)
    lo, bottom = np.maximum(ed.ymin, top[g]), bottom[g]
    n = np.maximum(np.minimum(np.minimum(ed.ymax, bottom), height - 1) - lo + 1, 0)
    x = _spread(lo - y0, n).astype(_F32) * np.repeat(slope, n) + np.repeat(ed.x0, n)
    line = _spread(g * height + lo, n)
    # an edge's last row is doubled unless it is the polygon's last; its first
    # row and an undoubled last row are open to the corner rule
    end = np.cumsum(n) - 1
    at_end = (n > 0) & (lo + n - 1 == ed.ymax)
    opens = np.flatnonzero((n > 0) & (lo == ed.ymin))
    closes = np.flatnonzero(at_end & (ed.ymax >= bottom))
    k = np.concatenate([opens, closes])
    entry = np.concatenate([end[opens] - n[opens] + 1, end[closes]])
    k, entry = k[slope[k] != 0], entry[slope[k] != 0]
    if k.size:
        _pil_corners(x, entry, k, line[entry] % height, ed, height)
    dup = end[at_end & (ed.ymax < bottom)]
    x, line = np.concatenate([x, x[dup]]), np.concatenate([line, line[dup]])
    bits = x.view(np.int32)  # sort by (line, x): x as monotone bits
    key = line << 32 | (bits ^ ((bits >> 31) & 0x7FFFFFFF)).astype(np.int64) + 2**31
    key.sort()
    line, bits = key >> 32, ((key & 0xFFFFFFFF) - 2**31).astype(np.int32)
    x = (bits ^ ((bits >> 31) & 0x7FFFFFFF)).view(_F32)
    if line.size % 2 == 0 and np.array_equal(line[0::2], line[1::2]):
        left = np.arange(0, line.size, 2)
    else:  # a row with an odd count drops its last crossing
        start = np.flatnonzero(np.diff(line, prepend=-1))
        size = np.diff(start, append=line.size)
        pos = np.arange(line.size) - np.repeat(start, size)
        left = np.flatnonzero((pos % 2 == 0) & (pos + 1 < np.repeat(size, size)))
    lines.append(line[left])
    lefts.append(_pil_round(x[left], up=True))
    rights.append(_pil_round(x[left + 1], up=False))
    line, lo, hi = (np.concatenate(a) for a in (lines, lefts, rights))
    return _union(line, lo, hi, height, width)


def _pil_corners(
    x: _Floats, entry: _Ints, k: _Ints, row: _Ints, ed: _Edges, height: int
) -> None:
    """Pillow's "connect discontiguous corners", in place on ``x[entry]``.

    Edge ``k`` at an end ``row`` takes the first earlier edge that also ends at
    ``row``, crosses it at the same rounded x and reaches the next (previous)
    row; if both are over a pixel beyond, the crossing moves next to theirs.
    """
    count = ed.slope.size
    ev = np.flatnonzero(ed.slope != 0)
    ev_row, ev = np.concatenate([ed.ymin[ev], ed.ymax[ev]]), np.tile(ev, 2)
    inside = (ev_row >= 0) & (ev_row < height)
    events = np.sort(((ed.group[ev] * height + ev_row) * count + ev)[inside])
    base = (ed.group[k] * height + row) * count
    lo = np.searchsorted(events, base)
    n = np.searchsorted(events, base + k) - lo  # edges before k
    pair, other = np.repeat(np.arange(k.size), n), events[_spread(lo, n)] % count
    xi, r = x[entry][pair], row[pair]
    near = r + np.where(r == ed.ymax[k[pair]], -1, 1)
    hit = (_roundf(xi) == _roundf(ed.x_at(other, r))) & (ed.ymin[other] <= near)
    hit = np.flatnonzero(hit & (near <= ed.ymax[other]))
    hit = hit[np.diff(pair[hit], prepend=-1) != 0]  # the first one breaks
    p, other, xi, near = pair[hit], other[hit], xi[hit], near[hit]
    adj, adj_o = ed.x_at(k[p], near), ed.x_at(other, near)
    out = np.where(
        (xi > adj + 1) & (xi > adj_o + 1), _roundf(np.maximum(adj, adj_o)) + 1, xi
    )
    left = (xi < adj - 1) & (xi < adj_o - 1)
    x[entry[p]] = np.where(left, _roundf(np.minimum(adj, adj_o)) - 1, out)


def _union(line: _Ints, lo: _Ints, hi: _Ints, height: int, width: int) -> _Grouped:
    """Canonical runs of spans ``[lo, hi]`` on ``line = group * height + row >= 0``."""
    lo, hi = np.maximum(lo, 0), np.minimum(hi, width - 1) + 1
    key = ((line * (width + 1) + lo) * (width + 1) + hi)[(lo < hi) & (line >= 0)]
    key.sort(kind="stable")  # mostly sorted already
    start, stop = np.divmod(key, width + 1)
    reach = np.maximum.accumulate(start - start % (width + 1) + stop)
    new = np.flatnonzero(start > np.concatenate([[-1], reach[:-1]]))
    line, lo = np.divmod(start[new], width + 1)
    hi = reach[np.append(new, key.size)[1:] - 1] - line * (width + 1)
    return line // height, Runs(line % height, lo, hi)


def pil_polygons_runs(
    polygons: Sequence[ArrayLike], height: int, width: int
) -> tuple[Runs, ...]:
    """`pil_polygon_runs` of many polygons at once (faster than one by one)."""
    return _batched(_pil_kernel, polygons, height, width)


def pil_polygon_runs(xy: ArrayLike, height: int, width: int) -> Runs:
    """Pixel runs of a polygon as Pillow fills it, bit-exact.

    ``ImageDraw.Draw(image).polygon(xy, fill=1)`` on an ``"L"`` image, as in
    Cityscapes' ``json2labelImg`` and labelme: vertices truncated towards zero,
    boundary pixels included.

    Parameters
    ----------
    xy : array_like of float
        ``[(x0, y0), ...]`` or ``x0, y0, ...``, at least 3 points.
    height, width : int
        Image shape.

    Raises
    ------
    ValueError
        As `coco_polygon_runs`.

    Examples
    --------
    >>> from unitax._raster import pil_polygon_runs, runs_to_mask
    >>> runs = pil_polygon_runs([(1, 1), (4, 1), (4, 3), (1, 3)], 4, 5)
    >>> runs_to_mask(runs, 4, 5).astype(np.uint8)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 1],
           [0, 1, 1, 1, 1],
           [0, 1, 1, 1, 1]], dtype=uint8)
    """
    return pil_polygons_runs([xy], height, width)[0]
