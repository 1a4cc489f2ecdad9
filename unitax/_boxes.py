"""Boxes on the canvas: their rectangles, and targets of boxes alone.

Private to `unitax._canvas`: `BoxLayer` is the part of `Canvas` that paints
boxes. Boxes alone on a canvas are kept as rectangles and painted straight
into the target at the end, with the windows that sets of them share
(`_cliques`) combined on small ``uint32`` grids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from unitax._codes import _code_table, _drop_absent, _Final, _finals, _take_codes
from unitax._regions import _spans
from unitax._values import Values
from unitax.annotations import RLE, Annotation, Box, Polygon, Tag

__all__ = ["BoxLayer"]

_Rect = tuple[int, int, int, int, int, int, int, int, int, str, int, str]
# A box as a rectangle with a single claim: (r0, r1, c0, c1, value, rule).
_Solid = tuple[int, int, int, int, int, str]
# Windows (r0, r1, c0, c1) that sets of boxes share, and the sets: `_cliques`.
_Cliques = list[tuple[tuple[int, int, int, int], tuple[int, ...]]]
_MAX_RECTS = 4096  # more boxes than this, or more overlaps, go on the uint32 canvas


class BoxLayer:
    """The box painting of `unitax._canvas.Canvas`, which mixes it in."""

    if TYPE_CHECKING:  # what it uses of the canvas
        shape: tuple[int, int]
        outside: str
        values: Values
        rects: list[_Rect]
        solids: list[_Solid] | None
        claimed: set[int]
        box_nodes: dict[int, int]

        def node_for(self, annotation: Polygon | RLE | Box | Tag) -> int | None: ...
        def fail(self, annotation: Annotation, reason: str) -> None: ...
        def _complement_bits(self) -> int: ...
        def _pristine(self) -> bool: ...
        def _flush(self) -> None: ...
        def _work(self) -> NDArray[np.uint32]: ...
        def _claim_view(
            self, view: NDArray[np.uint32], value: int, rule: str
        ) -> None: ...

    def paint_box(self, box: Box, policy: str, core: float, overlap: str) -> None:
        node = self.box_nodes.get(box.label)
        if node is None:
            node = self.node_for(box)
            if node is None:
                return
            self.box_nodes[box.label] = node
        height, width = self.shape
        x0, y0, x1, y1 = box.xyxy
        if x1 <= x0 or y1 <= y0:
            self.fail(
                box, f"box must have positive width and height, got xyxy {box.xyxy}"
            )
            return
        r0, r1, c0, c1 = _spans(x0, y0, x1, y1, height, width)
        if r0 >= r1 or c0 >= c1:
            self.fail(
                box, f"box {box.xyxy} covers no pixel centre of the {self.shape} image"
            )
            return
        rule = "distribution" if policy == "distribution" else overlap
        solid: _Solid | None
        if policy != "core":
            rect = (r0, r1, c0, c1, 0, 0, 0, 0, node, rule, node, rule)
            solid = (r0, r1, c0, c1, node, rule)
        else:
            half_w, half_h = (x1 - x0) * core / 2, (y1 - y0) * core / 2
            center_x, center_y = (x0 + x1) / 2, (y0 + y1) / 2
            i0, i1, j0, j1 = _spans(
                center_x - half_w,
                center_y - half_h,
                center_x + half_w,
                center_y + half_h,
                height,
                width,
            )
            band, band_rule = Values.UNKNOWN, rule
            if self.outside != "complement":  # the band ends as ignore, as pixels do
                solid = (i0, i1, j0, j1, node, rule)  # no box claims: the core alone
            elif node != Values.IGNORE:  # the band: the object, or none of the labels
                either = self.values.bits(node) | self._complement_bits()
                band, band_rule = self.values.of_bits(either), "union"
                solid = None
            else:  # an ignored box: nothing is known on its band either
                solid = None
            rect = (r0, r1, c0, c1, i0, i1, j0, j1, band, band_rule, node, rule)
        if self.rects or self._pristine():
            self.rects.append(rect)  # painted at the end, straight into the target
            if solid is None:
                self.solids = None
            elif (
                self.solids is not None and solid[0] < solid[1] and solid[2] < solid[3]
            ):
                self.solids.append(solid)
            return
        self._flush()
        self._paint_rect(self._work().reshape(self.shape), rect)

    def _paint_rect(
        self, grid: NDArray[np.uint32], rect: _Rect, origin: tuple[int, int] = (0, 0)
    ) -> None:
        """Claim ``rect`` on ``grid``, a window of the image at ``origin``.

        The parts of the box outside the window are left out.
        """
        height, width = grid.shape
        top, left = origin
        r0, r1, c0, c1, i0, i1, j0, j1, band, band_rule, value, rule = rect
        r0, r1 = max(r0 - top, 0), min(r1 - top, height)
        c0, c1 = max(c0 - left, 0), min(c1 - left, width)
        if r0 >= r1 or c0 >= c1:
            return
        outer = grid[r0:r1, c0:c1]
        i0, i1 = max(i0 - top, r0), min(i1 - top, r1)
        j0, j1 = max(j0 - left, c0), min(j1 - left, c1)
        if i0 >= i1 or j0 >= j1:  # no core: all band
            self._claim_view(outer, band, band_rule)
            return
        if int(outer.min()) == Values.UNSET:  # no claim there yet: two slices
            outer[...] = band
            grid[i0:i1, j0:j1] = value
            self.claimed.update((band, value))
            return
        for strip in (  # the band: above, below, left and right of the core
            grid[r0:i0, c0:c1],
            grid[i1:r1, c0:c1],
            grid[i0:i1, c0:j0],
            grid[i0:i1, j1:c1],
        ):
            self._claim_view(strip, band, band_rule)
        self._claim_view(grid[i0:i1, j0:j1], value, rule)

    def _rects_target(
        self, outside: str, removed: int
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final] | None:
        """Boxes alone: slices of the target, in its dtype.

        Solids (module comments) are painted with their final values, in
        order; then each window that a set of them shares is painted with
        their claims combined in order, smaller sets first, so that each pixel
        ends with the combination of exactly the boxes over it. Other boxes
        are painted with their band and core, and each window two of them
        share is claimed afresh on ``uint32`` by all the boxes that touch it.
        None where boxes overlap too much.
        """
        pixels = self.shape[0] * self.shape[1]
        solids = self.solids
        if solids is not None:
            cliques = _cliques(solids, pixels, deep=True)
            if cliques is None:
                return None
            return self._solids_target(solids, cliques, outside, removed)
        rects = self.rects
        cliques = _cliques(rects, pixels, deep=False)
        if cliques is None:
            return None
        grids = [self._window(rects, window) for window, _ in cliques]
        candidates = {Values.UNSET, *self.claimed}
        for rect in rects:
            candidates.add(rect[8])
            candidates.add(rect[10])
        final = _finals(
            self.values, sorted(candidates), outside, removed, self._complement_bits
        )
        value = final.value
        array = np.full(self.shape, value[Values.UNSET], dtype=final.dtype)
        for r0, r1, c0, c1, i0, i1, j0, j1, band, _, node, _ in rects:
            array[r0:r1, c0:c1] = value[band]
            if i0 < i1 and j0 < j1:
                array[i0:i1, j0:j1] = value[node]
        if grids:
            table = _code_table(final)
            for (top, left), grid in grids:
                height, width = grid.shape
                array[top : top + height, left : left + width] = _take_codes(
                    table, grid
                )
        return _drop_absent(array, final, self.values.nodes)

    def _solids_target(
        self,
        solids: list[_Solid],
        cliques: _Cliques,
        outside: str,
        removed: int,
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
        """Solids alone, with the sets of them that share windows: `_cliques`."""
        folded: dict[tuple[int, ...], int] = {}
        combine = self.values.combine
        for _, members in cliques:
            rest = members[:-1]
            before = folded[rest] if len(rest) > 1 else solids[rest[0]][4]
            last = solids[members[-1]]
            folded[members] = combine(before, last[4], last[5])
        candidates = {Values.UNSET, *folded.values(), *(s[4] for s in solids)}
        final = _finals(
            self.values, sorted(candidates), outside, removed, self._complement_bits
        )
        value = final.value
        array = np.full(self.shape, value[Values.UNSET], dtype=final.dtype)
        for r0, r1, c0, c1, node, _ in solids:
            array[r0:r1, c0:c1] = value[node]
        for (r0, r1, c0, c1), members in cliques:
            array[r0:r1, c0:c1] = value[folded[members]]
        return _drop_absent(array, final, self.values.nodes)

    def _window(
        self, rects: list[_Rect], window: tuple[int, int, int, int]
    ) -> tuple[tuple[int, int], NDArray[np.uint32]]:
        """The boxes that touch ``window`` (r0, r1, c0, c1), claimed in order."""
        r0, r1, c0, c1 = window
        grid = np.full((r1 - r0, c1 - c0), Values.UNSET, dtype=np.uint32)
        for rect in rects:
            if rect[0] < r1 and r0 < rect[1] and rect[2] < c1 and c0 < rect[3]:
                self._paint_rect(grid, rect, (r0, c0))
        return (r0, c0), grid


def _cliques(
    rects: Sequence[_Rect] | Sequence[_Solid], pixels: int, *, deep: bool
) -> _Cliques | None:
    """The windows (r0, r1, c0, c1) that sets of boxes share, and the sets.

    Pairs first, then (``deep``) sets of three, and so on: each set whose
    boxes all share a pixel, once. None where there are too many boxes or
    sets, or the pairs' windows hold more than four times ``pixels``: the
    uint32 canvas is faster then.
    """
    if len(rects) > _MAX_RECTS:
        return None
    pairs = _pairs(rects)
    if pairs is None:
        return None
    level: _Cliques = []
    later: dict[int, list[int]] = {}  # box -> the later boxes it overlaps
    for i, j in pairs:
        a, b = rects[i], rects[j]
        window = (max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]))
        level.append((window, (i, j)))
        later.setdefault(i, []).append(j)
    if sum((r1 - r0) * (c1 - c0) for (r0, r1, c0, c1), _ in level) > 4 * pixels:
        return None
    found = list(level)
    while deep and level:
        bigger: _Cliques = []
        for (w0, w1, v0, v1), members in level:
            for k in later.get(members[0], ()):
                if k <= members[-1]:
                    continue
                r0, r1, c0, c1 = rects[k][:4]
                if r0 < w1 and w0 < r1 and c0 < v1 and v0 < c1:
                    window = (max(w0, r0), min(w1, r1), max(v0, c0), min(v1, c1))
                    bigger.append((window, (*members, k)))
        found.extend(bigger)
        if len(found) > _MAX_RECTS:
            return None
        level = bigger
    return found


def _pairs(rects: Sequence[_Rect] | Sequence[_Solid]) -> list[tuple[int, int]] | None:
    """The pairs (i, j), i < j, of boxes that share a pixel; None if too many.

    A sweep down the rows for few boxes, numpy blocks for many.
    """
    count = len(rects)
    pairs: list[tuple[int, int]] = []
    if count <= 256:
        order = sorted(range(count), key=[rect[0] for rect in rects].__getitem__)
        spans = [rects[k][:4] for k in order]
        for a, (_, r1, c0, c1) in enumerate(spans):
            for b in range(a + 1, count):
                s0, _, d0, d1 = spans[b]
                if s0 >= r1:  # this and all later boxes start below box a
                    break
                if d0 < c1 and c0 < d1:
                    i, j = order[a], order[b]
                    pairs.append((i, j) if i < j else (j, i))
        return sorted(pairs) if len(pairs) <= _MAX_RECTS else None
    flat = np.array([v for rect in rects for v in rect[:4]], dtype=np.int64)
    top, bottom, left, right = flat.reshape(-1, 4).T
    block = max(1, (1 << 16) // count)
    for start in range(0, count, block):
        part = slice(start, start + block)
        first, second = np.nonzero(
            (top[part, None] < bottom)
            & (top < bottom[part, None])
            & (left[part, None] < right)
            & (left < right[part, None])
        )
        first += start
        keep = second > first
        pairs.extend(zip(first[keep].tolist(), second[keep].tolist(), strict=True))
        if len(pairs) > _MAX_RECTS:
            return None
    return pairs
