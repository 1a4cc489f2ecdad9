"""The working canvas of `unitax.rasterize`: values, claims and layers.

Private: the conventions and the semantics are documented in
`unitax.rasterize`; this module implements them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax import _raster
from unitax._png import read_label_png
from unitax.annotations import RLE, Annotation, Box, Mask, Polygon, Skip, Tag
from unitax.errors import FormatError
from unitax.targets import Extra, Target
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = ["Canvas", "Values"]


class Values:
    """The value table of one target under construction.

    Values below ``len(taxonomy)`` are nodes; the next ones are *extras*,
    numbered as they first appear: a ``"set"`` of leaves; a ``"union"`` (the
    antichain of the most specific claims at a pixel, kept so that combining
    claims is order-free, and turned into its set of leaves at the end); or a
    ``"mixture"`` (a uniform mixture over such an antichain of nodes). Three
    sentinels sit at the top of ``uint32``: ``UNSET`` (no claim at all: the
    outside policy applies), ``UNKNOWN`` (no claim, but not outside: a void
    mask pixel, a box's ignore band) and ``IGNORE`` (a contradiction or a
    label sent to ignore: it overrides claims).
    """

    UNSET = 0xFFFFFFFF
    UNKNOWN = 0xFFFFFFFE
    IGNORE = 0xFFFFFFFD
    _KINDS = ("set", "union", "mixture")

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.nodes = len(taxonomy)
        self.node_bits = [taxonomy.leaf_bits(name) for name in taxonomy.names]
        self.by_bits: dict[int, int] = {}
        for index, bits in enumerate(self.node_bits):
            self.by_bits.setdefault(bits, index)
        self.extras: list[tuple[str, int, frozenset[int]]] = []
        self.extra_index: dict[tuple[str, int, frozenset[int]], int] = {}

    def bits(self, value: int) -> int:
        if value < self.nodes:
            return self.node_bits[value]
        return self.extras[value - self.nodes][1]

    def kind(self, value: int) -> str:
        if value < self.nodes:
            return "node"
        if value >= self.IGNORE:
            return "sentinel"
        return self.extras[value - self.nodes][0]

    def of_bits(self, bits: int) -> int:
        """A leaf set's value: the node with exactly these leaves, else an extra."""
        if bits == 0:
            return self.IGNORE
        node = self.by_bits.get(bits)
        return node if node is not None else self._extra("set", bits, frozenset())

    def group(self, kind: str, members: frozenset[int]) -> int:
        """A union or mixture over ``members``; one member is itself."""
        if not members:
            return self.IGNORE
        if len(members) == 1:
            return next(iter(members))
        bits = 0
        for member in members:
            bits |= self.bits(member)
        return self._extra(kind, bits, members)

    def _extra(self, kind: str, bits: int, members: frozenset[int]) -> int:
        key = (kind, bits, members)
        index = self.extra_index.get(key)
        if index is None:
            index = self.nodes + len(self.extras)
            self.extras.append(key)
            self.extra_index[key] = index
        return index

    def members(self, value: int) -> frozenset[int]:
        if self.kind(value) in ("union", "mixture"):
            return self.extras[value - self.nodes][2]
        return frozenset({value})

    def antichain(self, old: int, new: int) -> frozenset[int]:
        """The most specific claims among ``old``'s and the claim ``new``.

        The minimal elements of a set of claims do not depend on the order
        the claims arrive in, which makes ``"union"`` and ``"distribution"``
        order-free.
        """
        members = self.members(old)
        new_bits = self.bits(new)
        if any(self.bits(m) & ~new_bits == 0 for m in members):
            return members  # a member is at least as specific as the claim
        kept = {m for m in members if new_bits & ~self.bits(m)}
        return frozenset({*kept, new})

    def combine(self, old: int, new: int, rule: str) -> int:
        """The value of a pixel holding ``old`` when the claim ``new`` arrives."""
        if old == self.UNSET or old == new:
            return new
        if new in (self.UNSET, self.UNKNOWN):
            return old
        if old == self.UNKNOWN:
            return new
        if self.IGNORE in (old, new):
            return self.IGNORE
        if rule == "last":
            return new
        if rule == "ignore":
            return self.IGNORE
        if rule == "specific":
            return self.of_bits(self.bits(old) & self.bits(new))
        kind = "union" if rule == "union" else "mixture"
        return self.group(kind, self.antichain(old, new))

    def combine_arrays(
        self, old: NDArray[np.uint32], new: NDArray[np.uint32], rule: str
    ) -> NDArray[np.uint32]:
        """`combine` elementwise, computed once per distinct pair of values."""
        pairs = np.stack([old, new])
        uniques, inverse = np.unique(pairs, axis=1, return_inverse=True)
        table = np.array(
            [self.combine(int(a), int(b), rule) for a, b in uniques.T], dtype=np.uint32
        )
        return table[inverse.ravel()]

    def settle(self, value: int) -> int:
        """The final form of a value: a union becomes its set of leaves."""
        if self.kind(value) == "union":
            return self.of_bits(self.bits(value))
        return value

    def without(self, value: int, removed: int) -> int:
        """``value`` with the leaves ``removed`` taken out (verified negatives)."""
        if value >= self.IGNORE or value == self.UNKNOWN:
            return value
        if self.kind(value) == "mixture":
            members = self.members(value)
            return self.group(
                "mixture", frozenset(m for m in members if self.bits(m) & ~removed)
            )
        return self.of_bits(self.bits(value) & ~removed)

    def describe(self, value: int) -> Extra:
        kind, bits, members = self.extras[value - self.nodes]
        if kind == "mixture":
            nodes = tuple(self.taxonomy.names[n] for n in sorted(members))
            return Extra(nodes=nodes, weights=tuple(1.0 / len(nodes) for _ in nodes))
        leaves = self.taxonomy.leaves
        return Extra(
            nodes=tuple(leaves[i] for i in range(len(leaves)) if bits >> i & 1)
        )

    def sort_key(self, value: int) -> tuple[int, int, tuple[int, ...]]:
        kind, bits, members = self.extras[value - self.nodes]
        return (self._KINDS.index(kind), bits, tuple(sorted(members)))


class Canvas:
    """Layers of claims over one image, combined into a target at the end."""

    def __init__(
        self, label_map: LabelMap, shape: tuple[int, int], errors: str
    ) -> None:
        self.label_map = label_map
        self.taxonomy = label_map.taxonomy
        self.values = Values(self.taxonomy)
        self.shape = shape
        self.errors = errors
        self.skipped: list[Skip] = []
        self.below: NDArray[np.uint32] | None = None
        self.work = self._blank()

    def _blank(self) -> NDArray[np.uint32]:
        return np.full(self.shape[0] * self.shape[1], Values.UNSET, dtype=np.uint32)

    def next_layer(self) -> None:
        """Stack the current layer on the layers below: it refines them."""
        if self.below is None:
            self.below = self.work
        else:
            both = (self.work != Values.UNSET) & (self.below != Values.UNSET)
            merged = np.where(self.work == Values.UNSET, self.below, self.work)
            if both.any():
                merged[both] = self.values.combine_arrays(
                    self.below[both], self.work[both], "specific"
                )
            self.below = merged
        self.work = self._blank()

    def claim(self, flat: NDArray[np.intp], value: int, rule: str) -> None:
        """Combine the claim ``value`` into the current layer at pixels ``flat``."""
        if flat.size == 0:
            return
        current = self.work[flat]
        if (current == Values.UNSET).all():
            self.work[flat] = value
            return
        claims = np.full(flat.size, value, dtype=np.uint32)
        self.work[flat] = self.values.combine_arrays(current, claims, rule)

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
        values = np.take(
            self._mask_table(int(ids.max()) if ids.size else 0), ids.ravel()
        )
        if (self.work == Values.UNSET).all():
            self.work = values
        else:  # several masks on one image: one layer, combined like regions
            unset = self.work == Values.UNSET
            self.work[unset] = values[unset]
            if (~unset).any():
                self.work[~unset] = self.values.combine_arrays(
                    self.work[~unset], values[~unset], "specific"
                )

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

    def paint_region(self, region: Polygon | RLE, overlap: str) -> None:
        node = self.node_for(region)
        if node is None:
            return
        try:
            flat = self.region_pixels(region)
        except ValueError as err:
            self.fail(region, str(err))
            return
        self.claim(flat, node, overlap)

    def region_pixels(self, region: Polygon | RLE) -> NDArray[np.intp]:
        height, width = self.shape
        if isinstance(region, RLE):
            if tuple(region.shape) != (height, width):
                raise ValueError(
                    f"RLE must cover the image shape {(height, width)}, got "
                    f"{tuple(region.shape)}"
                )
            runs = _raster.rle_runs(region.counts, height, width)
            return _flat(runs, width)
        kernel = (
            _raster.coco_polygon_runs
            if region.convention == "coco"
            else _raster.pil_polygon_runs
        )
        geometry = region.geometry
        parts = (
            geometry.geoms if isinstance(geometry, shapely.MultiPolygon) else [geometry]
        )
        filled = np.empty(0, dtype=np.intp)
        for part in parts:
            outer = _flat(kernel(_ring(part.exterior), height, width), width)
            for hole in part.interiors:
                cut = _flat(kernel(_ring(hole), height, width), width)
                outer = np.setdiff1d(outer, cut, assume_unique=True)
            filled = outer if not filled.size else np.union1d(filled, outer)
        return filled

    def paint_box(
        self, box: Box, policy: str, core: float, overlap: str, outside: str
    ) -> None:
        node = self.node_for(box)
        if node is None:
            return
        height, width = self.shape
        x0, y0, x1, y1 = box.xyxy
        if x1 <= x0 or y1 <= y0:
            self.fail(
                box, f"box must have positive width and height, got xyxy {box.xyxy}"
            )
            return
        rows, cols = _span(y0, y1, height), _span(x0, x1, width)
        if rows[0] >= rows[1] or cols[0] >= cols[1]:
            self.fail(
                box, f"box {box.xyxy} covers no pixel centre of the {self.shape} image"
            )
            return
        rule = "distribution" if policy == "distribution" else overlap
        if policy != "core":
            self.claim(_box_flat(rows, cols, width), node, rule)
            return
        half_w, half_h = (x1 - x0) * core / 2, (y1 - y0) * core / 2
        center_x, center_y = (x0 + x1) / 2, (y0 + y1) / 2
        inner = _box_flat(
            _span(center_y - half_h, center_y + half_h, height),
            _span(center_x - half_w, center_x + half_w, width),
            width,
        )
        band = np.setdiff1d(_box_flat(rows, cols, width), inner, assume_unique=True)
        if outside == "complement":  # the box's object, or none of the labels
            either = self.values.node_bits[node] | self._complement_bits()
            self.claim(band, self.values.of_bits(either), "union")
        else:
            self.claim(band, Values.UNKNOWN, rule)
        self.claim(inner, node, rule)

    # -- result ----------------------------------------------------------------

    def finish(self, outside: str, tags: Sequence[Tag]) -> Target:
        self.next_layer()
        work = self.below if self.below is not None else self.work
        if outside == "complement":
            unset = work == Values.UNSET
            if unset.any():
                work[unset] = self.values.of_bits(self._complement_bits())
        positive: list[int] = []
        negative: list[int] = []
        for tag in tags:
            node = self.node_for(tag)
            if node is not None and node != Values.IGNORE:
                (positive if tag.positive else negative).append(node)
        if negative:
            removed = 0
            for node in negative:
                removed |= self.values.node_bits[node]
            uniques, inverse = np.unique(work, return_inverse=True)
            table = np.array(
                [self.values.without(int(u), removed) for u in uniques], dtype=np.uint32
            )
            work = table[inverse]
        return self._target(work, positive, negative)

    def _complement_bits(self) -> int:
        covered = 0
        for node in self.label_map.nodes.values():
            if node is not None:
                covered |= self.taxonomy.leaf_bits(node)
        return ((1 << len(self.taxonomy.leaves)) - 1) & ~covered

    def _target(
        self, work: NDArray[np.uint32], positive: list[int], negative: list[int]
    ) -> Target:
        nodes = self.values.nodes
        present = np.unique(work)
        settled = np.array([self.values.settle(int(v)) for v in present], np.uint32)
        if (settled != present).any():
            work = settled[np.searchsorted(present, work)]
            present = np.unique(work)
        extras = sorted(
            (int(v) for v in present if nodes <= v < Values.IGNORE),
            key=self.values.sort_key,
        )
        total = nodes + len(extras)
        dtype = np.uint8 if total < 255 else np.uint16 if total < 65535 else np.uint32
        ignore = int(np.iinfo(dtype).max)
        # Renumber the extras in a canonical order (by leaf set), so equal
        # annotations give equal targets whatever order they came in.
        renumber = {old: nodes + i for i, old in enumerate(extras)}
        specials = present[present >= nodes]
        table = np.array(
            [renumber.get(int(v), ignore) for v in specials], dtype=np.int64
        )
        array: NDArray[np.unsignedinteger[Any]] = work.astype(dtype)
        mask = work >= nodes
        if mask.any():
            array[mask] = table[np.searchsorted(specials, work[mask])]
        names = self.taxonomy.names
        return Target(
            array=array.reshape(self.shape),
            ignore_index=ignore,
            extra=tuple(self.values.describe(v) for v in extras),
            positive=tuple(names[n] for n in sorted(set(positive))),
            negative=tuple(names[n] for n in sorted(set(negative))),
            skipped=tuple(self.skipped),
        )


def _ring(ring: shapely.LinearRing) -> NDArray[np.float64]:
    """Ring coordinates without shapely's closing repeat of the first vertex."""
    coords = np.asarray(ring.coords, dtype=np.float64)
    if len(coords) > 1 and (coords[0] == coords[-1]).all():
        coords = coords[:-1]
    return coords


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
    flat = np.arange(int(ends[-1]), dtype=np.intp) + shift
    return np.unique(flat)


def _span(low: float, high: float, size: int) -> tuple[int, int]:
    """Pixels whose centres lie in ``[low, high)``, clipped to ``[0, size)``."""
    start = int(np.ceil(low - 0.5))
    stop = int(np.ceil(high - 0.5))
    return max(0, start), min(size, stop)


def _box_flat(
    rows: tuple[int, int], cols: tuple[int, int], width: int
) -> NDArray[np.intp]:
    if rows[0] >= rows[1] or cols[0] >= cols[1]:
        return np.empty(0, dtype=np.intp)
    r = np.arange(rows[0], rows[1], dtype=np.intp)[:, None]
    c = np.arange(cols[0], cols[1], dtype=np.intp)[None, :]
    return (r * width + c).ravel()


def _segments_to_ids(
    segments_image: NDArray[Any], segments: Any, label_map: LabelMap
) -> NDArray[np.int64]:
    """Panoptic segment ids -> label ids; unknown segments become a void id."""
    void = min(label_map.space.void) if label_map.space.void else -1
    uniques, inverse = np.unique(segments_image, return_inverse=True)
    mapped = np.array([segments.get(int(u), void) for u in uniques], dtype=np.int64)
    return mapped[inverse].reshape(segments_image.shape)
