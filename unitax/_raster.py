"""Exact raster kernels: COCO and PIL polygons and COCO RLE as pixel runs.

Private. Each kernel reproduces a reference rasteriser bit for bit in
vectorised numpy and returns `Runs`, which `paint` writes without a
full-image temporary. ``*_polygons_runs`` solve many polygons in one pass.

* `coco_polygon_runs`: pycocotools' ``rleFrPoly`` (``maskApi.c``): vertices
  scaled by 5 and truncated, a Bresenham-like walk, a boundary point where the
  walk passes a column centre, parity fill down each column. The walk is not
  materialised; its crossings are solved per edge, so the cost follows the
  polygon's width inside the image, not its perimeter.
* `pil_polygon_runs`: ``ImageDraw.Draw(img).polygon(xy, fill=v)`` on an ``"L"``
  image (``polygon_generic``, Pillow's ``Draw.c``): vertices truncated, float32
  scanline crossings, ``ROUND_UP``/``ROUND_DOWN`` ends, the corner rule, and
  horizontal edges as lines. The fill includes the boundary pixels; no
  separate outline is drawn when only ``fill`` is given.
* `rle_runs`: COCO RLE, uncompressed or compressed (``rleFrString``).

On purpose unlike the references: a polygon is always a polygon (fewer than 3
points is an error; ``frPyObjects`` reads a segmentation whose *first* polygon
has 4 numbers as ``[x, y, w, h]`` boxes, and raises ``TypeError`` for lists in
pycocotools 2.0.11). Coordinates must be finite and within ``±MAX_COORD``; the
references compute in C ``int`` and are exact here while that cannot overflow
(|coordinate| < 2e8); beyond, they are undefined and these kernels evaluate
the same formulas in 64 bits, at no cost for vertices far outside the image.
Zero-area polygons are valid and mostly empty, yet follow the references:
pycocotools' 1/5 px snapping leaves slivers of some collinear polygons, and
Pillow draws the degenerate outline. Exactness assumes IEEE arithmetic
without fused multiply-add, as in the x86-64 reference wheels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MAX_COORD",
    "Runs",
    "coco_polygon_runs",
    "coco_polygons_runs",
    "paint",
    "pil_polygon_runs",
    "pil_polygons_runs",
    "rle_runs",
    "runs_to_mask",
]

MAX_COORD = 1e12
"""Largest accepted |coordinate|, in pixels."""

_Ints = NDArray[np.int64]
_F32 = np.float32
_Floats = NDArray[np.float32]
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


# -- COCO polygons --------------------------------------------------------------


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


# -- PIL polygons ---------------------------------------------------------------


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


# -- COCO RLE -------------------------------------------------------------------


def _rle_counts(counts: str | bytes | ArrayLike) -> _Ints:
    """The counts of a COCO RLE: integers, or rleFrString's text."""
    if not isinstance(counts, str | bytes):
        array = np.asarray(counts)
        if array.size and (array.ndim != 1 or array.dtype.kind not in "iu"):
            got = f"{array.dtype} {array.shape}"
            raise ValueError(f"expected a flat list of integer RLE counts, got {got}")
        return array.astype(np.int64).reshape(-1)
    text = counts.encode("ascii", "replace") if isinstance(counts, str) else counts
    c = np.frombuffer(text, np.uint8).astype(np.int64) - 48
    bad = np.flatnonzero((c < 0) | (c > 63))
    if bad.size:
        char = text[bad[0] : bad[0] + 1]
        raise ValueError(f"expected RLE characters '0'..'o', got {char!r} at {bad[0]}")
    if c.size and c[-1] & 0x20:
        raise ValueError("expected the RLE string to end a count, got a continuation")
    end = np.flatnonzero(~c & 0x20)  # a count: 5-bit chunks, low first, 0x20 more
    size = np.diff(end, prepend=-1)
    if size.size and size.max() > 12:
        raise ValueError(f"expected at most 12 characters a count, got {size.max()}")
    shift = 5 * (np.arange(c.size) - np.repeat(end - size + 1, size))
    value = np.add.reduceat((c & 0x1F) << shift, end - size + 1) if c.size else c
    value -= np.where(c[end] & 0x10, np.int64(1) << 5 * size, 0)  # sign bit
    value[1::2] = np.cumsum(value[1::2])  # counts[i] += counts[i - 2], i > 2
    value[2::2] = np.cumsum(value[2::2])
    return value


def rle_runs(counts: str | bytes | ArrayLike, height: int, width: int) -> Runs:
    """Pixel runs of a COCO RLE, bit-exact with ``pycocotools.mask.decode``.

    Parameters
    ----------
    counts : list of int, str or bytes
        Uncompressed counts or ``mask.encode``'s compressed string: runs of 0s
        and 1s, alternating from 0s, in column-major order.
    height, width : int
        Image shape (the RLE's ``size``).

    Returns
    -------
    Runs

    Raises
    ------
    ValueError
        Malformed or negative counts, or counts not summing to height*width.

    Examples
    --------
    >>> from unitax._raster import rle_runs, runs_to_mask
    >>> runs_to_mask(rle_runs([1, 2, 3, 3, 3], 3, 4), 3, 4).astype(np.uint8)
    array([[0, 0, 1, 0],
           [1, 0, 1, 0],
           [1, 0, 1, 0]], dtype=uint8)
    """
    height, width = _check_shape(height, width)
    values = _rle_counts(counts)
    if values.size and values.min() < 0:
        at = int(np.argmin(values))
        raise ValueError(f"expected RLE counts >= 0, got {values[at]} at {at}")
    if int(values.sum()) != height * width:
        msg = f"RLE counts summing to height*width = {height * width}"
        raise ValueError(f"expected {msg}, got {int(values.sum())}")
    ends = np.cumsum(values)[1::2]
    keys = np.stack([ends - values[1::2], ends], axis=1)[values[1::2] > 0]
    if keys.size == 0:
        return Runs(*[np.zeros(0, np.int64)] * 3)
    toggles = _toggles(keys.reshape(-1), 1, height, width)
    return _toggles_to_runs(toggles, height, width)[1]  # type: ignore[index]


# -- painting -------------------------------------------------------------------


def runs_to_mask(runs: Runs, height: int, width: int) -> NDArray[np.bool_]:
    """Boolean ``(height, width)`` mask of ``runs`` (see the kernels' examples)."""
    mask = np.zeros(_check_shape(height, width), bool)
    paint(mask, runs, True)
    return mask


def _check_bounds(target: NDArray[np.generic], low: int, r1: int, c1: int) -> None:
    """``low``: the least row or start; ``r1``, ``c1``: past the last row, stop."""
    if low < 0 or r1 > target.shape[0] or c1 > target.shape[1]:
        raise ValueError(f"expected runs inside the target's shape {target.shape}")


def paint(target: NDArray[np.generic], runs: Runs, value: ArrayLike) -> None:
    """Write ``value`` into the pixels of ``runs``, in place.

    One slice assignment per run, or for dense runs a boolean mask of their
    bounding box made by one ``np.repeat``, whichever is estimated faster
    (about 0.5 µs a run against 1.7 ns a box pixel).

    Parameters
    ----------
    target : ndarray of shape (H, W)
        Modified in place.
    runs : Runs
        Inside ``target``.
    value : scalar
        As in ``target[row, start:stop] = value``.

    Raises
    ------
    ValueError
        If ``target`` is not 2-D or a run lies outside it.

    Examples
    --------
    >>> from unitax._raster import Runs, paint
    >>> target = np.zeros((2, 4), np.uint8)
    >>> paint(target, Runs(np.array([0, 1]), np.array([1, 0]), np.array([3, 1])), 7)
    >>> target
    array([[0, 7, 7, 0],
           [7, 0, 0, 0]], dtype=uint8)
    """
    if target.ndim != 2:
        raise ValueError(f"expected a 2-D target, got shape {target.shape}")
    rows, starts, stops = runs
    if rows.size < 16:  # Python lists are faster
        rows, starts, stops = rows.tolist(), starts.tolist(), stops.tolist()
        if rows:
            low = min(min(rows), min(starts))
            _check_bounds(target, low, max(rows) + 1, max(stops))
        for row, start, stop in zip(rows, starts, stops, strict=True):
            target[row, start:stop] = value
        return
    r0, r1 = int(rows.min()), int(rows.max()) + 1
    c0, c1 = int(starts.min()), int(stops.max())
    _check_bounds(target, min(r0, c0), r1, c1)
    if rows.size * 0.5 > (r1 - r0) * (c1 - c0) * 0.0017 + 15:  # µs: slices vs box
        box = target[r0:r1, c0:c1]
        edges = np.stack([starts, stops], axis=1) - c0  # row-major in the box
        edges += ((rows - r0) * box.shape[1])[:, None]
        lengths = np.diff(edges.reshape(-1), prepend=0, append=box.size)
        if lengths.min() >= 0:  # sorted and disjoint, as kernels return them
            mask = np.repeat(np.arange(lengths.size) % 2 == 1, lengths)
            fill = np.array(value, target.dtype)
            np.copyto(box, fill, where=mask.reshape(box.shape))
            return
    rows, starts, stops = rows.tolist(), starts.tolist(), stops.tolist()
    for row, start, stop in zip(rows, starts, stops, strict=True):
        target[row, start:stop] = value
