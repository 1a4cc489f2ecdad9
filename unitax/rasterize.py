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
  annotation win, also over an ignored label, as drawing does (``order``
  decides which is later).
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

from collections.abc import Iterable
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from unitax._canvas import Canvas, Values, lookup
from unitax._png import MAX_PIXELS
from unitax.annotations import RLE, Annotation, Box, Mask, Polygon, Tag
from unitax.targets import Extra, Target
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = ["Extra", "Policy", "Target", "rasterize", "remap", "stack"]

Overlap = Literal["specific", "union", "ignore", "last"]
Boxes = Literal["fill", "core", "distribution"]
Outside = Literal["ignore", "complement"]
Order = Literal["file", "area"]
Errors = Literal["strict", "lenient"]


class Policy(BaseModel):
    """How one dataset's annotations become targets (see `unitax.rasterize`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    overlap: Overlap = "specific"
    order: Order = "file"
    boxes: Boxes = "fill"
    box_core: float = Field(default=0.5, gt=0.0, le=1.0)
    outside: Outside = "ignore"
    errors: Literal["strict", "lenient"] = "strict"


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
    if mask.dtype == np.uint8 or mask.dtype == np.uint16:
        # A table over every id of the dtype: no scan for the ids' range.
        full = np.full(1 << (8 * mask.dtype.itemsize), ignore, dtype=table.dtype)
        full[: min(len(full), len(table))] = table[: len(full)]
        return lookup(full, mask)
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
    masks: list[Mask] = []
    regions: list[Polygon | RLE] = []
    box_list: list[Box] = []
    tags: list[Tag] = []
    layers: dict[type, list[Any]] = {
        Mask: masks,
        Polygon: regions,
        RLE: regions,
        Box: box_list,
        Tag: tags,
    }
    for annotation in annotations:
        layer = layers.get(type(annotation))
        if layer is None:  # a subclass, or not an annotation
            kind = next((k for k in layers if isinstance(annotation, k)), None)
            if kind is None:
                name = type(annotation).__name__
                raise TypeError(f"expected an annotation, got {name}")
            layer = layers[kind]
        layer.append(annotation)
    canvas = Canvas(label_map, (height, width), errors, outside=outside, tags=tags)
    for mask in masks:
        canvas.paint_mask(mask, max_pixels=max_pixels)
    canvas.next_layer()
    if order == "area":
        regions.sort(key=lambda a: -_area(a))
    canvas.paint_regions(regions, overlap, last=not box_list)
    canvas.next_layer()
    if order == "area":
        box_list.sort(key=lambda box: -box.area)
    for box in box_list:
        canvas.paint_box(box, boxes, box_core, overlap)
    return canvas.finish()


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
    canvas = Canvas.__new__(Canvas)
    values = Values(taxonomy)
    canvas.values, canvas.taxonomy = values, taxonomy
    canvas.shape = lower.array.shape
    canvas.skipped = [*lower.skipped, *upper.skipped]

    def work(target: Target) -> NDArray[np.uint32]:
        table = np.full(int(target.array.max(initial=0)) + 1, Values.UNSET, np.uint32)
        table[: min(len(table), values.nodes)] = np.arange(
            min(len(table), values.nodes), dtype=np.uint32
        )
        for k, extra in enumerate(target.extra):
            if values.nodes + k < len(table):
                table[values.nodes + k] = _extra_value(values, extra)
        if target.ignore_index < len(table):
            table[target.ignore_index] = Values.UNSET
        values_of: NDArray[np.uint32] = table[target.array.ravel()]
        return values_of

    low, high = work(lower), work(upper)
    merged = np.where(high == Values.UNSET, low, high)
    both = (high != Values.UNSET) & (low != Values.UNSET)
    if both.any():
        merged[both] = values.combine_arrays(low[both], high[both], "specific")
    index = taxonomy.index
    positive = [index(n) for n in (*lower.positive, *upper.positive)]
    negative = [index(n) for n in (*lower.negative, *upper.negative)]
    return canvas._target(merged, positive, negative)


def _extra_value(values: Values, extra: Extra) -> int:
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
