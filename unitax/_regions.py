"""Pixels of polygon and RLE regions, from the exact kernels of `unitax._raster`.

Private to the canvas of `unitax.rasterize`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax import _raster
from unitax.annotations import Polygon


def _ring(ring: shapely.LinearRing) -> NDArray[np.float64]:
    """Ring coordinates without shapely's closing repeat of the first vertex."""
    coords = np.asarray(ring.coords, dtype=np.float64)
    if len(coords) > 1 and (coords[0] == coords[-1]).all():
        coords = coords[:-1]
    return coords


def _parts(region: Polygon) -> list[shapely.Polygon]:
    geometry = region.geometry
    if isinstance(geometry, shapely.MultiPolygon):
        return list(geometry.geoms)
    return [geometry]


def _filled(
    region: Polygon, runs: Iterator[_raster.Runs | ValueError], width: int
) -> NDArray[np.intp] | ValueError:
    """A polygon's pixels from its rings' runs, taken from ``runs`` in order.

    The first broken ring's error is returned instead; all of the polygon's
    rings are taken either way, so that ``runs`` stays in step.
    """
    filled = np.empty(0, dtype=np.intp)
    error: ValueError | None = None
    for part in _parts(region):
        outer, *holes = [next(runs) for _ in range(1 + len(part.interiors))]
        if error is None:
            error = next(
                (r for r in (outer, *holes) if isinstance(r, ValueError)), None
            )
        if error is not None:
            continue
        pixels = _flat(outer, width)  # type: ignore[arg-type]
        for hole in holes:
            cut = _flat(hole, width)  # type: ignore[arg-type]
            pixels = np.setdiff1d(pixels, cut, assume_unique=True)
        filled = pixels if not filled.size else np.union1d(filled, pixels)
    return error if error is not None else filled


def _runs(
    convention: str, rings: list[NDArray[np.float64]], height: int, width: int
) -> list[_raster.Runs | ValueError]:
    """Runs of many rings in one batch; one by one where some ring is broken."""
    if not rings:
        return []
    batch = (
        _raster.coco_polygons_runs
        if convention == "coco"
        else _raster.pil_polygons_runs
    )
    single = (
        _raster.coco_polygon_runs if convention == "coco" else _raster.pil_polygon_runs
    )
    try:
        return list(batch(rings, height, width))
    except ValueError:
        results: list[_raster.Runs | ValueError] = []
        for ring in rings:
            try:
                results.append(single(ring, height, width))
            except ValueError as err:
                results.append(err)
        return results


def _flat(runs: _raster.Runs, width: int) -> NDArray[np.intp]:
    """Flat pixel indices of row runs, in increasing order of run."""
    rows, starts, stops = (np.asarray(a, dtype=np.intp) for a in runs)
    lengths = stops - starts
    keep = lengths > 0
    rows, starts, lengths = rows[keep], starts[keep], lengths[keep]
    if not lengths.size:
        return np.empty(0, dtype=np.intp)
    ends = np.cumsum(lengths)
    shift = np.repeat(rows * width + starts - (ends - lengths), lengths)
    # The kernels' runs are sorted and disjoint, so these are sorted and unique.
    flat: NDArray[np.intp] = np.arange(int(ends[-1]), dtype=np.intp) + shift
    return flat


def _spans(
    x0: float, y0: float, x1: float, y1: float, height: int, width: int
) -> tuple[int, int, int, int]:
    """A box's pixel spans (r0, r1, c0, c1) by the pixel-centre rule, clipped.

    The pixels whose centres lie in ``[y0, y1) x [x0, x1)``.
    """
    ceil = math.ceil
    r0, r1, c0, c1 = ceil(y0 - 0.5), ceil(y1 - 0.5), ceil(x0 - 0.5), ceil(x1 - 0.5)
    return (
        r0 if r0 > 0 else 0,
        r1 if r1 < height else height,
        c0 if c0 > 0 else 0,
        c1 if c1 < width else width,
    )
