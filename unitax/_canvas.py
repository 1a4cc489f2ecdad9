"""The working canvas of `unitax.rasterize`: values, claims and layers.

Private: the conventions and the semantics are documented in
`unitax.rasterize`; this module implements them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax import _raster
from unitax._pil import pil_fill
from unitax._png import read_label_png
from unitax._regions import _filled, _flat, _parts, _ring, _runs, _spans
from unitax._values import _SENTINELS, Values
from unitax.annotations import RLE, Annotation, Box, Mask, Polygon, Skip, Tag
from unitax.errors import FormatError
from unitax.targets import Target
from unitax.taxonomy import LabelMap

__all__ = ["Canvas", "Values", "lookup"]


_Rect = tuple[int, int, int, int, int, int, int, int, int, str, int, str]
# A box as a rectangle with a single claim: (r0, r1, c0, c1, value, rule).
_Solid = tuple[int, int, int, int, int, str]
# Windows (r0, r1, c0, c1) that sets of boxes share, and the sets: `_cliques`.
_Cliques = list[tuple[tuple[int, int, int, int], tuple[int, ...]]]


class Canvas:
    """Layers of claims over one image, combined into a target at the end.

    The ``uint32`` work arrays are made only when needed. A mask alone on the
    canvas, or polygons drawn by Pillow alone on it (``dense``: small codes
    and their table), and boxes alone on it (``rects``, ``solids``) are kept
    as they came and turned straight into the target's dtype at the end:
    `finish`. Anything else on the canvas paints them into the work arrays
    first: `_flush`.
    """

    def __init__(
        self,
        label_map: LabelMap,
        shape: tuple[int, int],
        errors: str,
        *,
        outside: str = "ignore",
        tags: Sequence[Tag] = (),
    ) -> None:
        self.label_map = label_map
        self.taxonomy = label_map.taxonomy
        self.values = Values(self.taxonomy)
        self.shape = shape
        self.errors = errors
        self.outside, self.tags = outside, tags
        self.skipped: list[Skip] = []
        self.below: NDArray[np.uint32] | None = None  # None: no claim
        self.work: NDArray[np.uint32] | None = None  # None: no claim
        self.layer = 0
        self.dense: _Dense | None = None
        self.rects: list[_Rect] = []  # boxes of the current layer
        self.solids: list[_Solid] | None = []  # the same, if all are solids
        self.claimed: set[int] = set()  # values claimed on uint32 work arrays
        self.box_nodes: dict[int, int] = {}  # label -> node, for many boxes
        self._complement: int | None = None
        self.done: tuple[NDArray[np.unsignedinteger[Any]], _Final] | None = None

    def _blank(self) -> NDArray[np.uint32]:
        return np.full(self.shape[0] * self.shape[1], Values.UNSET, dtype=np.uint32)

    def _work(self) -> NDArray[np.uint32]:
        if self.work is None:
            self.work = self._blank()
        return self.work

    def _pristine(self) -> bool:
        return (
            self.work is None
            and self.below is None
            and self.dense is None
            and not self.rects
        )

    def _flush(self) -> None:
        """Paint the kept mask and boxes into the work arrays."""
        if self.dense is not None:
            ids, table, layer = self.dense
            self.dense = None
            values = self._dense_values(ids, table)
            if layer == self.layer:
                self.work = values
            else:  # layers went by with no claim: the mask is all that is below
                self.below = values
        rects, self.rects, self.solids = self.rects, [], []
        for rect in rects:
            self._paint_rect(self._work().reshape(self.shape), rect)

    def next_layer(self) -> None:
        """Stack the current layer on the layers below: it refines them."""
        if self.rects:
            self._flush()
        self.layer += 1
        if self.work is None:
            return
        if self.dense is not None:
            self._flush()
        work, self.work = self.work, None
        if self.below is None:
            self.below = work
            return
        both = (work != Values.UNSET) & (self.below != Values.UNSET)
        merged = np.where(work == Values.UNSET, self.below, work)
        if both.any():
            merged[both] = self.values.combine_arrays(
                self.below[both], work[both], "specific"
            )
        self.below = merged

    def claim(self, flat: NDArray[np.intp], value: int, rule: str) -> None:
        """Combine the claim ``value`` into the current layer at pixels ``flat``."""
        if flat.size == 0:
            return
        self._flush()
        self._claim(self._work(), flat, value, rule)

    def _claim(
        self, work: NDArray[np.uint32], flat: NDArray[np.intp], value: int, rule: str
    ) -> None:
        if flat.size:
            work[flat] = self._combined(work[flat], value, rule)

    def _claim_view(self, view: NDArray[np.uint32], value: int, rule: str) -> None:
        """Combine the claim ``value`` into the pixels of ``view``, in place."""
        if view.size:
            view[...] = self._combined(view, value, rule)

    def _combined(
        self, current: NDArray[np.uint32], value: int, rule: str
    ) -> NDArray[np.uint32] | int:
        """``current`` with the claim ``value`` combined in (a scalar if uniform)."""
        if int(current.min()) == Values.UNSET:  # UNSET is the largest value
            self.claimed.add(value)
            return value
        out = np.empty_like(current)
        for old in _distinct(current):
            result = self.values.combine(int(old), value, rule)
            out[current == old] = result
            self.claimed.add(result)
        return out

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

    # -- annotations ----------------------------------------------------------

    def node_for(self, annotation: Polygon | RLE | Box | Tag) -> int | None:
        """The annotation's node index, ``IGNORE`` for an ignored label, or None."""
        label = int(annotation.label)
        space = self.label_map.space
        if label in space.void and not isinstance(annotation, Tag):
            return Values.IGNORE  # a region drawn as "unlabeled" (json2labelImg)
        if label not in self.label_map.nodes:
            what = "a void id" if label in space.void else "not a label id"
            self.fail(annotation, f"label {label!r} is {what} of {space.name!r}")
            return None
        node = self.label_map.nodes[label]
        return Values.IGNORE if node is None else self.taxonomy.index(node)

    def fail(self, annotation: Annotation, reason: str) -> None:
        where = f"{type(annotation).__name__.lower()} {annotation.key!r}"
        if self.errors == "strict":
            raise FormatError(f"{where}: {reason}")
        self.skipped.append(Skip(where=where, reason=reason))

    def paint_mask(self, mask: Mask, *, max_pixels: int) -> None:
        height, width = self.shape
        if isinstance(mask.source, np.ndarray):
            ids: NDArray[Any] = mask.source
            if mask.encoding == "rgb":
                rgb = ids.astype(np.uint32)
                ids = rgb[..., 0] + (rgb[..., 1] << 8) + (rgb[..., 2] << 16)
            if ids.shape != (height, width):
                self.fail(
                    mask, f"mask must have shape {(height, width)}, got {ids.shape}"
                )
                return
        else:
            try:
                ids = read_label_png(
                    mask.source, encoding=mask.encoding, shape=(height, width),
                    max_pixels=max_pixels,
                )  # fmt: skip
            except FormatError as err:
                self.fail(mask, str(err))
                return
        if mask.segments is not None:
            ids = _segments_to_ids(ids, mask.segments, self.label_map)
        elif mask.divisor != 1:
            ids = ids // mask.divisor
        if self._pristine():
            self.dense = _Dense(ids, None, self.layer)
            return
        self._flush()
        values = self._dense_values(ids, None)
        if self.work is None:
            self.work = values
        else:  # several masks on one image: one layer, combined like regions
            unset = self.work == Values.UNSET
            self.work[unset] = values[unset]
            if (~unset).any():
                self.work[~unset] = self.values.combine_arrays(
                    self.work[~unset], values[~unset], "specific"
                )

    def _dense_values(
        self, ids: NDArray[Any], table: NDArray[np.uint32] | None
    ) -> NDArray[np.uint32]:
        """The canvas values of dense ids through ``table`` (None: a mask's), flat."""
        if table is None:
            table = self._dense_table(ids)
        return _through(table, ids).reshape(-1)

    def _dense_table(self, ids: NDArray[Any]) -> NDArray[np.uint32]:
        """The mask table for ``ids``: one entry per value of a uint8/16 dtype."""
        covered = ids.dtype == np.uint8 or ids.dtype == np.uint16
        return self._mask_table(int(np.iinfo(ids.dtype).max) if covered else _top(ids))

    def _mask_table(self, top: int) -> NDArray[np.uint32]:
        """Return the table label id -> value for masks.

        Nodes for mapped labels, ``IGNORE`` for ignored ones, ``UNKNOWN`` for
        void and unknown ids (not annotated, so other layers may claim them).
        """
        table = np.full(max(top + 1, 1), Values.UNKNOWN, dtype=np.uint32)
        for label_id, node in self.label_map.nodes.items():
            if 0 <= label_id <= top:
                table[label_id] = (
                    Values.IGNORE if node is None else self.taxonomy.index(node)
                )
        return table

    def paint_regions(
        self, regions: Sequence[Polygon | RLE], overlap: str, *, last: bool = False
    ) -> None:
        """Paint regions in order; polygon rings go to the kernels in batches.

        ``last``: no later layer will claim anything on this canvas.
        """
        if overlap == "last" and self._fill_with_pillow(regions, last):
            return
        height, width = self.shape
        rings: dict[str, list[NDArray[np.float64]]] = {"coco": [], "pil": []}
        for region in regions:
            if isinstance(region, Polygon):
                for part in _parts(region):
                    for ring in (part.exterior, *part.interiors):
                        rings[region.convention].append(_ring(ring))
        runs = {
            convention: iter(_runs(convention, each, height, width))
            for convention, each in rings.items()
        }
        for region in regions:
            pixels: NDArray[np.intp] | ValueError
            if isinstance(region, RLE):
                try:
                    pixels = self.rle_pixels(region)
                except ValueError as err:
                    pixels = err
            else:
                pixels = _filled(region, runs[region.convention], width)
            node = self.node_for(region)
            if node is None:
                continue
            if isinstance(pixels, ValueError):
                self.fail(region, str(pixels))
                continue
            self.claim(pixels, node, overlap)

    def _fill_with_pillow(self, regions: Sequence[Polygon | RLE], last: bool) -> bool:
        """Paint PIL-convention polygons, later on top, with Pillow in one go.

        Exact (see `unitax._pil`) and as fast as Pillow. Only for a fresh
        layer of polygons without holes whose labels are all known; returns
        False (nothing painted) otherwise, and the general path runs. Where
        they are all there is (``last``, nothing below, no verified negative),
        Pillow draws the target's own values: the target is done.
        """
        if not regions or self.work is not None:
            return False
        known = self.label_map.nodes.keys() | self.label_map.space.void
        # Later polygons simply cover earlier ones, so each pixel needs only
        # its last claim: draw small codes of the claims, not polygon numbers.
        claims: dict[int, int] = {}  # claim -> code
        by_label: dict[int, int] = {}  # label -> code
        codes = []
        for region in regions:
            if type(region) is not Polygon or region.convention != "pil":
                return False  # (a subclass takes the general path too)
            label = region.label
            code = by_label.get(label)
            if code is None:
                if label not in known:
                    return False
                node = self.node_for(region)  # known: never fails here
                claim = Values.IGNORE if node is None else node
                code = by_label[label] = claims.setdefault(claim, len(claims) + 1)
            codes.append(code)
        parts = np.array([region.geometry for region in regions])  # type: ignore[union-attr]
        owner = None  # parts are the regions
        if (shapely.get_type_id(parts) != shapely.GeometryType.POLYGON).any():
            parts, owner = shapely.get_parts(parts, return_index=True)
        if shapely.get_num_interior_rings(parts).any():
            return False
        coords, part = shapely.get_coordinates(parts, return_index=True)
        starts = np.flatnonzero(np.diff(part, prepend=-1))
        ends = np.append(starts[1:], len(part)) - 1  # not the closing points
        ring_codes = np.asarray(codes)[
            part[starts] if owner is None else owner[part[starts]]
        ]
        final = None
        if last and self._pristine() and all(tag.positive for tag in self.tags):
            final = self._finals([Values.UNSET, *claims], self.outside, 0)
            if final.dtype != np.uint8:
                final = None
        drawn = np.arange(len(claims) + 1)  # code -> value drawn
        if final is not None:
            drawn[0] = final.value[Values.UNSET]
            drawn[list(claims.values())] = [final.value[c] for c in claims]
        try:
            filled = pil_fill(
                coords, starts, ends, drawn[ring_codes], *self.shape,
                background=int(drawn[0]),
            )  # fmt: skip
        except ValueError:
            return False
        if final is not None:
            self.done = self._drop_absent(filled.astype(np.uint8, copy=False), final)
            return True
        size = 256 if filled.dtype == np.uint8 else len(claims) + 1
        table = np.full(size, Values.UNSET, dtype=np.uint32)
        for claim, code in claims.items():
            table[code] = claim
        if self._pristine():  # kept as codes: `finish` or `_flush` looks them up
            self.dense = _Dense(filled, table, self.layer)
            return True
        self._flush()
        self.work = self._dense_values(filled, table)
        return True

    def rle_pixels(self, region: RLE) -> NDArray[np.intp]:
        """Flat pixel indices of an RLE region (which must cover the image)."""
        height, width = self.shape
        if tuple(region.shape) != (height, width):
            raise ValueError(
                f"RLE must cover the image shape {(height, width)}, got "
                f"{tuple(region.shape)}"
            )
        return _flat(_raster.rle_runs(region.counts, height, width), width)

    def paint_box(
        self, box: Box, policy: str, core: float, overlap: str, outside: str
    ) -> None:
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
            if outside != "complement":  # the band ends as ignore, like the pixels
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

    # -- result ----------------------------------------------------------------

    def finish(self) -> Target:
        """The target of everything painted, with the tags' nodes."""
        outside = self.outside
        positive: list[int] = []
        negative: list[int] = []
        for tag in self.tags:
            node = self.node_for(tag)
            if node is not None and node != Values.IGNORE:
                (positive if tag.positive else negative).append(node)
        removed = 0
        for node in negative:
            removed |= self.values.bits(node)
        alone = self.work is None and self.below is None
        done = self.done
        if done is not None:  # drawn as the target already
            assert alone and not (removed or self.rects or self.dense)  # noqa: PT018
        elif alone and self.dense is not None:
            done = self._dense_target(outside, removed)
        elif alone and self.dense is None:
            done = self._rects_target(outside, removed)
        if done is None:
            self.next_layer()
            self._flush()
            work = self.below if self.below is not None else self._blank()
            done = self._work_target(work, outside, removed)
        return self._result(*done, positive, negative)

    def _dense_target(
        self, outside: str, removed: int
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
        """Dense ids alone: one lookup, straight into the target's dtype."""
        assert self.dense is not None
        ids, table, _ = self.dense
        if table is None:
            table = self._dense_table(ids)
        # Nodes stay nodes unless negatives remove leaves: settle the others.
        nodes = self.values.nodes
        others = table >= nodes if not removed else np.ones(len(table), dtype=bool)
        present = [int(v) for v in _distinct(table[others])]
        final = self._finals(present, outside, removed)
        codes = table.astype(final.dtype)  # right where ``others`` is False
        for value in present:
            codes[table == value] = final.value[value]
        return self._drop_absent(_through(codes, ids).reshape(self.shape), final)

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
        final = self._finals(sorted(candidates), outside, removed)
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
        return self._drop_absent(array, final)

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
        final = self._finals(sorted(candidates), outside, removed)
        value = final.value
        array = np.full(self.shape, value[Values.UNSET], dtype=final.dtype)
        for r0, r1, c0, c1, node, _ in solids:
            array[r0:r1, c0:c1] = value[node]
        for (r0, r1, c0, c1), members in cliques:
            array[r0:r1, c0:c1] = value[folded[members]]
        return self._drop_absent(array, final)

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

    def _work_target(
        self, work: NDArray[np.uint32], outside: str, removed: int
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
        """The target of the canvas values ``work``, through a table of codes."""
        values = range(self.values.nodes + len(self.values.extras))
        final = self._finals([*values, *_SENTINEL_VALUES], outside, removed)
        array = _take_codes(_code_table(final), work).reshape(self.shape)
        return self._drop_absent(array, final)

    def _drop_absent(
        self, array: NDArray[np.unsignedinteger[Any]], final: _Final
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
        """Keep only the extras ``array`` holds; renumber and retype to match."""
        if not final.extras:
            return array, final
        nodes = self.values.nodes
        if len(final.extras) <= 8:
            held = [bool((array == nodes + k).any()) for k in range(len(final.extras))]
        else:
            present = set(np.unique(array).tolist())
            held = [nodes + k in present for k in range(len(final.extras))]
        if all(held):
            return array, final
        kept = tuple(e for e, h in zip(final.extras, held, strict=True) if h)
        dtype = _dtype(nodes + len(kept))
        ignore = int(np.iinfo(dtype).max)
        size = nodes + len(final.extras)  # the target's values below ignore
        renumber = np.full(size + 1, ignore, dtype=np.int64)
        renumber[:nodes] = np.arange(nodes)
        index = iter(range(nodes, size))
        for k, h in enumerate(held):
            if h:
                renumber[nodes + k] = next(index)
        old_to_new = {
            v: (t if t < nodes else int(renumber[min(t, size)]))
            for v, t in final.value.items()
        }
        if array.dtype == np.uint8 or array.dtype == np.uint16:
            table = np.full(1 << (8 * array.dtype.itemsize), ignore, dtype=dtype)
            table[: size + 1] = renumber
            array = lookup(table, array)
        else:
            array = np.take(renumber.astype(dtype), np.minimum(array, size))
        return array, _Final(np.dtype(dtype), ignore, old_to_new, kept)

    def _complement_bits(self) -> int:
        if self._complement is None:
            covered = 0
            for node in self.label_map.nodes.values():
                if node is not None:
                    covered |= self.taxonomy.leaf_bits(node)
            self._complement = ((1 << len(self.taxonomy.leaves)) - 1) & ~covered
        return self._complement

    def _finals(self, present: Sequence[int], outside: str, removed: int) -> _Final:
        """Each canvas value's value in the target, and the extras.

        ``UNSET`` becomes the complement (``outside="complement"``), verified
        negatives are removed, unions settle into sets of leaves, extras are
        numbered in a canonical order (by leaf set, so equal annotations give
        equal targets whatever order they came in) and sentinels become ignore.
        ``present`` may hold values the target will not: `_drop_absent`.
        """
        values = self.values
        nodes = values.nodes
        settled: dict[int, int] = {}
        for value in present:
            v = value
            if v < nodes and not removed:  # a node stays itself
                settled[value] = v
                continue
            if v == Values.UNSET and outside == "complement":
                v = values.of_bits(self._complement_bits())
            if removed:
                v = values.without(v, removed)
            settled[value] = values.settle(v)
        extras = sorted(
            {v for v in settled.values() if nodes <= v < Values.IGNORE},
            key=values.sort_key,
        )
        dtype = _dtype(nodes + len(extras))
        ignore = int(np.iinfo(dtype).max)
        renumber = {old: nodes + i for i, old in enumerate(extras)}
        final = {
            value: v if v < nodes else renumber.get(v, ignore)
            for value, v in settled.items()
        }
        return _Final(np.dtype(dtype), ignore, final, tuple(extras))

    def _target(
        self, work: NDArray[np.uint32], positive: list[int], negative: list[int]
    ) -> Target:
        """The target of the canvas values ``work`` (``UNSET`` is ignore)."""
        array, final = self._work_target(work, "ignore", 0)
        return self._result(array, final, positive, negative)

    def _result(
        self,
        array: NDArray[np.unsignedinteger[Any]],
        final: _Final,
        positive: list[int],
        negative: list[int],
    ) -> Target:
        names = self.taxonomy.names
        return Target(
            array=array.reshape(self.shape),
            ignore_index=final.ignore,
            extra=tuple(self.values.describe(v) for v in final.extras),
            positive=tuple(names[n] for n in sorted(set(positive))),
            negative=tuple(names[n] for n in sorted(set(negative))),
            skipped=tuple(self.skipped),
        )


class _Dense(NamedTuple):
    ids: NDArray[Any]  # the image's ids or codes
    table: NDArray[np.uint32] | None  # ids -> canvas values; None: a mask's
    layer: int


class _Final(NamedTuple):
    dtype: np.dtype[Any]
    ignore: int
    value: dict[int, int]  # canvas value -> target value
    extras: tuple[int, ...]  # canvas values of the target's extras, in order


_MAX_RECTS = 4096  # more boxes than this, or more overlaps, go on the uint32 canvas
_STEP = 1 << 18  # bytes of ids per step of `lookup`: its temporaries stay in cache
_SENTINEL_VALUES = (Values.IGNORE, Values.UNKNOWN, Values.UNSET)


def _dtype(total: int) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if total < 255 else np.uint16 if total < 65535 else np.uint32


def _code_table(final: _Final) -> NDArray[np.unsignedinteger[Any]]:
    """Return the table code -> target value for the canvas values of ``final``."""
    codes = {(v + _SENTINELS) & 0xFFFFFFFF: t for v, t in final.value.items()}
    table = np.full(max(codes) + 1, final.ignore, dtype=final.dtype)
    table[list(codes)] = list(codes.values())
    return table


def _take_codes(
    table: NDArray[np.unsignedinteger[Any]], work: NDArray[np.uint32]
) -> NDArray[np.unsignedinteger[Any]]:
    """``table[codes of work]``, by cache-sized steps."""
    out = np.empty(work.shape, dtype=table.dtype)
    source, target = work.reshape(-1), out.reshape(-1)
    step = _STEP // 8
    codes = np.empty(min(step, source.size), dtype=np.uint32)
    for start in range(0, source.size, step):
        chunk = source[start : start + step]
        part = codes[: chunk.size]
        np.add(chunk, np.uint32(_SENTINELS), out=part)
        np.take(table, part, out=target[start : start + step])
    return out


def lookup(
    table: NDArray[np.unsignedinteger[Any]], ids: NDArray[Any]
) -> NDArray[np.unsignedinteger[Any]]:
    """Return ``table[ids]`` for ``uint8`` or ``uint16`` ids, all in ``table``.

    A ``uint8`` -> ``uint8`` table runs through `bytes.translate` (a C loop,
    several times faster than numpy's indexing); others through `numpy.take`
    by steps, so that the ``intp`` copy of the ids stays small and in cache.
    """
    if ids.dtype != np.uint8 and ids.dtype != np.uint16:
        raise TypeError(f"ids must be uint8 or uint16, got {ids.dtype}")
    if len(table) != 1 << (8 * ids.dtype.itemsize):
        raise ValueError(
            f"table must have one entry per {ids.dtype} value, got {len(table)}"
        )
    out = np.empty(ids.shape, dtype=table.dtype)
    source, target = ids.reshape(-1), out.reshape(-1)
    if table.dtype == np.uint8 and ids.dtype == np.uint8:
        table_bytes = table.tobytes()
        source_bytes, target_bytes = source.data, target.data
        for start in range(0, source.size, _STEP):
            stop = start + _STEP
            chunk = bytearray(source_bytes[start:stop])
            target_bytes[start:stop] = chunk.translate(table_bytes)
        return out
    step = _STEP // 8
    for start in range(0, source.size, step):
        stop = start + step
        np.take(table, source[start:stop], out=target[start:stop], mode="wrap")
    return out


def _through(table: NDArray[Any], ids: NDArray[Any]) -> NDArray[Any]:
    """``table[ids]``: `lookup` where ``table`` covers the ids' dtype."""
    if (ids.dtype == np.uint8 or ids.dtype == np.uint16) and len(table) == 1 << (
        8 * ids.dtype.itemsize
    ):
        return lookup(table, ids)
    return np.take(table, ids)


def _top(ids: NDArray[Any]) -> int:
    return int(ids.max()) if ids.size else 0


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


def _distinct(values: NDArray[np.uint32]) -> list[int] | NDArray[np.uint32]:
    """The distinct values of an array that mostly holds very few."""
    found: list[int] = []
    rest = values.reshape(-1)
    while rest.size and len(found) < 8:
        value = rest[0]
        found.append(int(value))
        rest = rest[rest != value]
    return np.unique(values) if rest.size else found


def _segments_to_ids(
    segments_image: NDArray[Any], segments: Any, label_map: LabelMap
) -> NDArray[np.int64]:
    """Panoptic segment ids -> label ids; unknown segments become a void id."""
    void = min(label_map.space.void) if label_map.space.void else -1
    uniques, inverse = np.unique(segments_image, return_inverse=True)
    mapped = np.array([segments.get(int(u), void) for u in uniques], dtype=np.int64)
    return mapped[inverse].reshape(segments_image.shape)
