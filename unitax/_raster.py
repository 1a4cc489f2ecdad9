"""Exact raster kernels: COCO and PIL polygons and COCO RLE as pixel runs.

Private. Each kernel reproduces a reference rasteriser bit for bit in
vectorised numpy and returns `Runs`, which `paint` writes without a
full-image temporary. ``*_polygons_runs`` solve many polygons in one pass.

* `coco_polygon_runs`: pycocotools' ``rleFrPoly`` (``maskApi.c``), in
  `unitax._raster_coco`.
* `pil_polygon_runs`: ``ImageDraw.Draw(img).polygon(xy, fill=v)`` on an ``"L"``
  image (``polygon_generic``, Pillow's ``Draw.c``), in `unitax._raster_pil`.
* `rle_runs`: COCO RLE, uncompressed or compressed (``rleFrString``), here.

This module is the one to import. It owns RLE decoding and painting (`paint`,
`runs_to_mask`), and re-exports the polygon kernels and `Runs`, which lives
with the machinery the kernels share (validation, batching, parity fills) in
`unitax._raster_runs`.

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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from unitax._raster_coco import coco_polygon_runs, coco_polygons_runs
from unitax._raster_pil import _pil_round as _pil_round  # for tests/test_raster.py
from unitax._raster_pil import pil_polygon_runs, pil_polygons_runs
from unitax._raster_runs import (
    MAX_COORD,
    Runs,
    _check_shape,
    _Ints,
    _toggles,
    _toggles_to_runs,
)

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
