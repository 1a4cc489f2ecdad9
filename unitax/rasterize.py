"""Annotations -> unified targets: one per-pixel image of node indices.

Conventions (the only place they are written down)
--------------------------------------------------
* Geometry is in ``(x, y)`` pixel coordinates; pixel ``(row, col)`` covers
  ``[col, col + 1) x [row, row + 1)``. Shapes are ``(height, width)``.
* **Boxes** use the pixel-centre rule: a pixel is inside ``(x0, y0, x1, y1)``
  iff its centre ``(col + 0.5, row + 0.5)`` lies in ``[x0, x1) x [y0, y1)``.
  Parts outside the image are clipped.
* **Polygons** follow their source's own tool, bit for bit: ``"coco"`` as
  pycocotools (``frPyObjects`` + ``decode``), ``"pil"`` as
  ``PIL.ImageDraw.polygon`` (Cityscapes' ``json2labelImg``, LabelMe). Parts of
  a multipolygon are united, holes are removed. **RLE** decodes as pycocotools.
* **Masks** are remapped with the label map's lookup table; void and unmapped
  ids become ignore. Values are never rescaled, axes never reordered.
* A target holds node indices (inner nodes included: a coarse label is its
  node), ``taxonomy.ignore_index`` where nothing is known, and, from
  ``len(taxonomy)`` on, indices of the sample's *extra* sets (`Extra`):
  knowledge no single node expresses, such as "none of this dataset's labels"
  or "car or bus".

How annotations combine
-----------------------
Every annotation claims that the truth at its pixels lies in its node's leaf
set. Claims are combined as sets:

* Layers stack in a fixed order: masks, then polygons and RLE, then boxes.
  A later layer *refines* an earlier one: the result is the intersection of
  the two claims (a sign box on a Cityscapes ``traffic sign`` region gives the
  sign class); disjoint claims contradict each other and give ignore.
* Within a layer, ``overlap`` decides: ``"specific"`` intersects as above (the
  more specific node wins; unrelated nodes give ignore; order-free);
  ``"union"`` keeps the more specific of nested nodes and the union of
  unrelated ones (one of the objects is in front: order-free); ``"ignore"``
  writes ignore wherever two different nodes meet; ``"last"`` lets the later
  annotation win (``order`` decides which is later).
* Boxes: ``boxes="fill"`` claims the whole box (IV2018's GTSDB labels);
  ``"core"`` claims only the centre ``box_core`` fraction of each side and
  leaves a band of ignore (Khoreva et al. 2017, Box^i); ``"distribution"``
  claims the box and, where unrelated boxes overlap, stores a uniform mixture
  over their nodes (IV2019: car and bus -> 1/2, 1/2).
* Pixels no annotation claims are ignore, or with ``outside="complement"``
  (only for an exhaustive label space) the set of leaves that none of the
  space's labels covers.
* Tags carry no pixels: positive tags are listed in `Target.positive`;
  verified negatives (`Target.negative`) are removed from every pixel's set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax import _raster
from unitax._png import MAX_PIXELS, read_label_png
from unitax.annotations import RLE, Annotation, Box, Mask, Polygon, Skip, Tag
from unitax.errors import FormatError
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = ["Extra", "Target", "rasterize", "remap", "stack"]

Overlap = Literal["specific", "union", "ignore", "last"]
Boxes = Literal["fill", "core", "distribution"]
Outside = Literal["ignore", "complement"]
Order = Literal["file", "area"]
Errors = Literal["strict", "lenient"]


@dataclass(frozen=True, slots=True)
class Extra:
    """A sample's extra target value: a set of leaves, or a mixture of nodes.

    ``weights is None``: the truth is one of ``nodes`` (their leaves united);
    otherwise ``weights[i]`` is the probability of ``nodes[i]``.
    """

    nodes: tuple[str, ...]
    weights: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A unified per-pixel target and the image-level knowledge beside it.

    Parameters
    ----------
    array : ndarray of shape (H, W), uint8 or uint16
        Node indices, ``len(taxonomy) + k`` for ``extra[k]``, and
        ``ignore_index``.
    ignore_index
        The value meaning "no supervision" (the dtype's maximum).
    extra
        The sample's extra sets and mixtures.
    positive, negative
        Nodes tagged present / verified absent on the whole image.
    skipped
        Annotations left out under ``errors="lenient"``, with reasons.
    """

    array: NDArray[np.unsignedinteger[Any]]
    ignore_index: int
    extra: tuple[Extra, ...] = ()
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    skipped: tuple[Skip, ...] = ()


def remap(
    mask: NDArray[np.integer[Any]], label_map: LabelMap
) -> NDArray[np.unsignedinteger[Any]]:
    """Map an ``(H, W)`` array of label ids to node indices.

    Void, unknown and ignored ids become ``taxonomy.ignore_index``.

    Examples
    --------
    >>> space = ux.LabelSpace.from_names("toy", ["road", "car"], void=[255])
    >>> taxonomy, maps = ux.unify([space])
    >>> taxonomy.names
    ('toy/car', 'toy/road')
    >>> remap(np.array([[0, 1], [255, 9]], dtype=np.uint8), maps["toy"])
    array([[  1,   0],
           [255, 255]], dtype=uint8)
    """
    table = label_map.lut()
    ignore = label_map.taxonomy.ignore_index
    if mask.dtype == np.uint8:
        full = np.full(256, ignore, dtype=table.dtype)
        full[: min(256, len(table))] = table[:256]
        remapped: NDArray[np.unsignedinteger[Any]] = full[mask]
        return remapped
    if mask.size and (int(mask.min()) < 0 or int(mask.max()) >= len(table)):
        inside = (mask >= 0) & (mask < len(table))
        out = np.full(mask.shape, ignore, dtype=table.dtype)
        out[inside] = table[mask[inside]]
        return out
    return np.take(table, mask)


def rasterize(
    annotations: Iterable[Annotation],
    label_map: LabelMap,
    *,
    shape: tuple[int, int],
    overlap: Overlap = "specific",
    order: Order = "file",
    boxes: Boxes = "fill",
    box_core: float = 0.5,
    outside: Outside = "ignore",
    errors: Errors = "strict",
    max_pixels: int = MAX_PIXELS,
) -> Target:
    """Turn one sample's annotations into its unified target.

    Parameters
    ----------
    annotations
        The sample's annotations, in its label space's ids.
    label_map
        Where the label space's labels go in the taxonomy.
    shape
        ``(height, width)`` of the image.
    overlap
        How overlapping annotations of one layer combine (module docstring).
    order
        Which annotation is later for ``overlap="last"``: file order, or
        ``"area"`` (larger regions first, smaller ones on top).
    boxes
        ``"fill"``, ``"core"`` or ``"distribution"`` (module docstring).
    box_core
        For ``boxes="core"``: the trusted fraction of each side, in (0, 1].
    outside
        What pixels no annotation claims are: ``"ignore"``, or
        ``"complement"`` (exhaustive label spaces only).
    errors
        ``"strict"`` raises on a bad annotation; ``"lenient"`` skips it and
        reports it in `Target.skipped`.
    max_pixels
        Mask files larger than this are refused before decoding.

    Returns
    -------
    Target

    Raises
    ------
    FormatError
        For a bad annotation (unknown label id, broken geometry, RLE of the
        wrong size, degenerate box) under ``errors="strict"``; the message
        names the annotation.
    ValueError
        For an invalid option.

    Examples
    --------
    A stop sign box inside a (coarser) sign box: the specific node wins.

    >>> sign = ux.Label(id=0, name="sign")
    >>> stop = ux.Label(id=1, name="stop", parents=("sign",))
    >>> space = ux.LabelSpace(name="signs", labels=(sign, stop))
    >>> taxonomy, maps = ux.unify([space])
    >>> taxonomy.names
    ('signs/sign', 'signs/sign (other)', 'signs/stop')
    >>> Box = ux.annotations.Box
    >>> target = rasterize([Box((0, 0, 4, 3), 0), Box((1, 1, 3, 3), 1)],
    ...                    maps["signs"], shape=(4, 5))
    >>> target.array
    array([[  0,   0,   0,   0, 255],
           [  0,   2,   2,   0, 255],
           [  0,   2,   2,   0, 255],
           [255, 255, 255, 255, 255]], dtype=uint8)
    """
    _choose("overlap", overlap, Overlap)
    _choose("order", order, Order)
    _choose("boxes", boxes, Boxes)
    _choose("outside", outside, Outside)
    _choose("errors", errors, Errors)
    if not 0.0 < box_core <= 1.0:
        raise ValueError(f"box_core must be in (0, 1], got {box_core!r}")
    if outside == "complement" and not label_map.space.exhaustive:
        raise ValueError(
            f"outside='complement' needs an exhaustive label space, but "
            f"{label_map.space.name!r} is not exhaustive"
        )
    height, width = (int(shape[0]), int(shape[1]))
    canvas = _Canvas(label_map, (height, width), errors)
    masks: list[Mask] = []
    regions: list[Polygon | RLE] = []
    box_list: list[Box] = []
    tags: list[Tag] = []
    for annotation in annotations:
        if isinstance(annotation, Mask):
            masks.append(annotation)
        elif isinstance(annotation, Polygon | RLE):
            regions.append(annotation)
        elif isinstance(annotation, Box):
            box_list.append(annotation)
        elif isinstance(annotation, Tag):
            tags.append(annotation)
        else:
            raise TypeError(f"expected an annotation, got {type(annotation).__name__}")
    for mask in masks:
        canvas.paint_mask(mask, max_pixels=max_pixels)
    canvas.next_layer()
    if order == "area":
        regions.sort(key=lambda a: -_area(a))
    for region in regions:
        canvas.paint_region(region, overlap)
    canvas.next_layer()
    if order == "area":
        box_list.sort(key=lambda box: -box.area)
    for box in box_list:
        canvas.paint_box(box, boxes, box_core, overlap, outside)
    return canvas.finish(outside, tags)


def stack(lower: Target, upper: Target, taxonomy: Taxonomy) -> Target:
    """Refine one target of an image with another (from another source).

    Where both know something, the result is the intersection of the two
    claims: a box of a finer class refines a coarser dense label (a GTSDB sign
    on a Cityscapes ``traffic sign`` region); disjoint claims contradict each
    other and give ignore. Where only one knows, it is kept. Tags and skipped
    annotations are joined.

    Examples
    --------
    >>> city = ux.LabelSpace.from_names("city", ["road", "sign"])
    >>> signs = ux.LabelSpace.from_names("signs", ["stop"])
    >>> rules = [ux.rules.IsA(child="signs/stop", parent="city/sign")]
    >>> taxonomy, maps = ux.unify([city, signs], rules)
    >>> taxonomy.names
    ('city/road', 'city/sign', 'city/sign (other)', 'signs/stop')
    >>> dense = rasterize([ux.annotations.Mask(np.array([[0, 1, 1]]))],
    ...                   maps["city"], shape=(1, 3))
    >>> box = rasterize([ux.annotations.Box((0, 0, 2, 1), 0)], maps["signs"],
    ...                 shape=(1, 3))
    >>> stack(dense, box, taxonomy).array
    array([[255,   3,   1]], dtype=uint8)
    """
    if lower.array.shape != upper.array.shape:
        raise ValueError(
            f"targets must have the same shape, got {lower.array.shape} and "
            f"{upper.array.shape}"
        )
    canvas = _Canvas.__new__(_Canvas)
    values = _Values(taxonomy)
    canvas.values, canvas.taxonomy = values, taxonomy
    canvas.shape = lower.array.shape
    canvas.skipped = [*lower.skipped, *upper.skipped]

    def work(target: Target) -> NDArray[np.uint32]:
        table = np.full(int(target.array.max(initial=0)) + 1, _Values.UNSET, np.uint32)
        table[: min(len(table), values.nodes)] = np.arange(
            min(len(table), values.nodes), dtype=np.uint32
        )
        for k, extra in enumerate(target.extra):
            if values.nodes + k < len(table):
                table[values.nodes + k] = _extra_value(values, extra)
        if target.ignore_index < len(table):
            table[target.ignore_index] = _Values.UNSET
        values_of: NDArray[np.uint32] = table[target.array.ravel()]
        return values_of

    low, high = work(lower), work(upper)
    merged = np.where(high == _Values.UNSET, low, high)
    both = (high != _Values.UNSET) & (low != _Values.UNSET)
    if both.any():
        merged[both] = values.combine_arrays(low[both], high[both], "specific")
    index = taxonomy.index
    positive = [index(n) for n in (*lower.positive, *upper.positive)]
    negative = [index(n) for n in (*lower.negative, *upper.negative)]
    return canvas._target(merged, positive, negative)


def _extra_value(values: _Values, extra: Extra) -> int:
    nodes = frozenset(values.taxonomy.index(name) for name in extra.nodes)
    if extra.weights is not None:
        return values.group("mixture", nodes)
    bits = 0
    for node in nodes:
        bits |= values.node_bits[node]
    return values.of_bits(bits)


def _choose(name: str, value: object, options: Any) -> None:
    choices = get_args(options)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _area(annotation: Polygon | RLE) -> float:
    if isinstance(annotation, Polygon):
        return float(annotation.geometry.area)
    return 0.0  # RLE areas are not known without decoding; keep file order


class _Values:
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


class _Canvas:
    """Layers of claims over one image, combined into a target at the end."""

    def __init__(
        self, label_map: LabelMap, shape: tuple[int, int], errors: str
    ) -> None:
        self.label_map = label_map
        self.taxonomy = label_map.taxonomy
        self.values = _Values(self.taxonomy)
        self.shape = shape
        self.errors = errors
        self.skipped: list[Skip] = []
        self.below: NDArray[np.uint32] | None = None
        self.work = self._blank()

    def _blank(self) -> NDArray[np.uint32]:
        return np.full(self.shape[0] * self.shape[1], _Values.UNSET, dtype=np.uint32)

    def next_layer(self) -> None:
        """Stack the current layer on the layers below: it refines them."""
        if self.below is None:
            self.below = self.work
        else:
            both = (self.work != _Values.UNSET) & (self.below != _Values.UNSET)
            merged = np.where(self.work == _Values.UNSET, self.below, self.work)
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
        if (current == _Values.UNSET).all():
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
            return _Values.IGNORE  # a region drawn as "unlabeled" (json2labelImg)
        if label not in self.label_map.nodes:
            what = "a void id" if label in space.void else "not a label id"
            self.fail(annotation, f"label {label!r} is {what} of {space.name!r}")
            return None
        node = self.label_map.nodes[label]
        return _Values.IGNORE if node is None else self.taxonomy.index(node)

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
        if (self.work == _Values.UNSET).all():
            self.work = values
        else:  # several masks on one image: one layer, combined like regions
            unset = self.work == _Values.UNSET
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
        table = np.full(max(top + 1, 1), _Values.UNKNOWN, dtype=np.uint32)
        for label_id, node in self.label_map.nodes.items():
            if 0 <= label_id <= top:
                table[label_id] = (
                    _Values.IGNORE if node is None else self.taxonomy.index(node)
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
            self.claim(band, _Values.UNKNOWN, rule)
        self.claim(inner, node, rule)

    # -- result ----------------------------------------------------------------

    def finish(self, outside: str, tags: Sequence[Tag]) -> Target:
        self.next_layer()
        work = self.below if self.below is not None else self.work
        if outside == "complement":
            unset = work == _Values.UNSET
            if unset.any():
                work[unset] = self.values.of_bits(self._complement_bits())
        positive: list[int] = []
        negative: list[int] = []
        for tag in tags:
            node = self.node_for(tag)
            if node is not None and node != _Values.IGNORE:
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
            (int(v) for v in present if nodes <= v < _Values.IGNORE),
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
