"""The working canvas of `unitax.rasterize`: values, claims and layers.

Private: the conventions and the semantics are documented in
`unitax.rasterize`; this module implements them, with `unitax._boxes` (box
painting, mixed into `Canvas`), `unitax._codes` (canvas values to target
values), `unitax._values` (the claim algebra) and `unitax._regions`,
`unitax._raster` and `unitax._pil` (region pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax import _raster
from unitax._boxes import BoxLayer, _Rect, _Solid
from unitax._codes import (
    _SENTINEL_VALUES,
    _code_table,
    _distinct,
    _drop_absent,
    _Final,
    _finals,
    _take_codes,
    _through,
    _top,
    lookup,
)
from unitax._pil import pil_fill
from unitax._png import read_label_png
from unitax._regions import _filled, _flat, _parts, _ring, _runs
from unitax._values import Values
from unitax.annotations import RLE, Annotation, Box, Mask, Polygon, Skip, Tag
from unitax.errors import FormatError
from unitax.targets import Target
from unitax.taxonomy import LabelMap

__all__ = ["Canvas", "Values", "lookup"]


class Canvas(BoxLayer):
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
            final = _finals(
                self.values,
                [Values.UNSET, *claims],
                self.outside,
                0,
                self._complement_bits,
            )
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
            self.done = _drop_absent(
                filled.astype(np.uint8, copy=False), final, self.values.nodes
            )
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
        final = _finals(self.values, present, outside, removed, self._complement_bits)
        codes = table.astype(final.dtype)  # right where ``others`` is False
        for value in present:
            codes[table == value] = final.value[value]
        return _drop_absent(
            _through(codes, ids).reshape(self.shape), final, self.values.nodes
        )

    def _work_target(
        self, work: NDArray[np.uint32], outside: str, removed: int
    ) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
        """The target of the canvas values ``work``, through a table of codes."""
        values = range(self.values.nodes + len(self.values.extras))
        final = _finals(
            self.values,
            [*values, *_SENTINEL_VALUES],
            outside,
            removed,
            self._complement_bits,
        )
        array = _take_codes(_code_table(final), work).reshape(self.shape)
        return _drop_absent(array, final, self.values.nodes)

    def _complement_bits(self) -> int:
        if self._complement is None:
            covered = 0
            for node in self.label_map.nodes.values():
                if node is not None:
                    covered |= self.taxonomy.leaf_bits(node)
            self._complement = ((1 << len(self.taxonomy.leaves)) - 1) & ~covered
        return self._complement

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


def _segments_to_ids(
    segments_image: NDArray[Any], segments: Any, label_map: LabelMap
) -> NDArray[np.int64]:
    """Panoptic segment ids -> label ids; unknown segments become a void id."""
    void = min(label_map.space.void) if label_map.space.void else -1
    uniques, inverse = np.unique(segments_image, return_inverse=True)
    mapped = np.array([segments.get(int(u), void) for u in uniques], dtype=np.int64)
    return mapped[inverse].reshape(segments_image.shape)
