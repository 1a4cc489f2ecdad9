"""Annotation types: what one image of a dataset says, in its own label ids.

Every annotation names a label *id* of its sample's label space and, where
the source file has one, a ``key`` (annotation id, object index) that errors
and reports quote. They are frozen values; the geometry conventions are
documented once, in `unitax.rasterize`.

=========== =================================================================
type        carries
=========== =================================================================
`Mask`      dense label ids: an ``(H, W)`` array, or a PNG file read on use
`Polygon`   a shapely (Multi)Polygon in ``(x, y)`` pixel coordinates
`RLE`       COCO run-length encoding (column-major), compressed or not
`Box`       ``xyxy`` corners in pixel coordinates
`Tag`       an image-level label, positive or verified negative
=========== =================================================================

A `Sample` is one image with its annotations; a `Dataset` is a label space,
its samples, and the report of what a reader skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax.labels import LabelSpace

__all__ = [
    "RLE",
    "Annotation",
    "Box",
    "Dataset",
    "Mask",
    "Polygon",
    "Sample",
    "Skip",
    "Tag",
]

Key: TypeAlias = int | str | None


_LABEL_TYPES = (int, np.integer)  # tuples: a `X | Y` union is made on every call
_AREA_TYPES = (shapely.Polygon, shapely.MultiPolygon)


def _check_label(label: object) -> None:
    if type(label) is int:
        return
    if not isinstance(label, _LABEL_TYPES) or isinstance(label, bool):
        raise TypeError(f"label must be an int label id, got {label!r}")


@dataclass(frozen=True, slots=True)
class Mask:
    """Dense per-pixel label ids, in memory or in a PNG file.

    Parameters
    ----------
    source
        An ``(H, W)`` integer array, or the path of a PNG holding one.
    encoding
        ``"ids"``: pixel values are ids (single-channel PNG: L, P, I;16, I).
        ``"rgb"``: ids are coded as ``R + 256 G + 256² B`` (COCO and Vistas
        panoptic PNGs).
    divisor
        The label id is ``value // divisor`` (KITTI and Vistas instance PNGs
        store ``label * 256 + instance``).
    segments
        For panoptic masks: ``{segment id: label id}``. Segment ids not
        listed (and 0) mean "not annotated".
    key
        What reports call this annotation (usually the file name).

    Examples
    --------
    >>> mask = ux.annotations.Mask(np.array([[7, 7], [26, 0]], dtype=np.uint8))
    >>> mask.shape
    (2, 2)
    """

    source: NDArray[np.integer] | Path
    encoding: Literal["ids", "rgb"] = "ids"
    divisor: int = 1
    segments: Mapping[int, int] | None = None
    key: Key = None

    def __post_init__(self) -> None:
        if self.encoding not in ("ids", "rgb"):
            raise ValueError(
                f"encoding must be one of ('ids', 'rgb'), got {self.encoding!r}"
            )
        if self.divisor < 1:
            raise ValueError(f"divisor must be >= 1, got {self.divisor!r}")
        if self.segments is not None:
            object.__setattr__(self, "segments", MappingProxyType(dict(self.segments)))
        if isinstance(self.source, np.ndarray):
            expected_ndim = 3 if self.encoding == "rgb" else 2
            if self.source.ndim != expected_ndim or not np.issubdtype(
                self.source.dtype, np.integer
            ):
                raise ValueError(
                    f"mask array must be an integer array with {expected_ndim} axes "
                    f"for encoding {self.encoding!r}, got {self.source.dtype} with "
                    f"shape {self.source.shape}"
                )
            array = self.source.view()
            array.flags.writeable = False
            object.__setattr__(self, "source", array)
        else:
            object.__setattr__(self, "source", Path(self.source))

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(height, width)`` of an in-memory mask; ``None`` for a file."""
        if isinstance(self.source, np.ndarray):
            return (int(self.source.shape[0]), int(self.source.shape[1]))
        return None


@dataclass(frozen=True, slots=True)
class Polygon:
    """A polygon or multipolygon region of one label.

    Parameters
    ----------
    geometry
        shapely ``Polygon`` or ``MultiPolygon`` in ``(x, y)`` pixel
        coordinates; holes are kept. Parts of a multipolygon may overlap
        (COCO's multi-part segmentations are their union).
    label
        The label id.
    convention
        Which pixels a polygon covers: ``"coco"`` is bit-exact with
        pycocotools; ``"pil"`` with ``PIL.ImageDraw.polygon`` (the Cityscapes
        and LabelMe tools). See `unitax.rasterize`.
    key
        The annotation's id in its file.

    Examples
    --------
    >>> square = shapely.box(0, 0, 2, 2)
    >>> ux.annotations.Polygon(square, label=3).label
    3
    """

    geometry: shapely.Polygon | shapely.MultiPolygon
    label: int
    convention: Literal["coco", "pil"] = "coco"
    key: Key = None

    def __post_init__(self) -> None:
        _check_label(self.label)
        if not isinstance(self.geometry, _AREA_TYPES):
            raise TypeError(
                "geometry must be a shapely Polygon or MultiPolygon, "
                f"got {type(self.geometry).__name__}"
            )
        if self.convention not in ("coco", "pil"):
            raise ValueError(
                f"convention must be one of ('coco', 'pil'), got {self.convention!r}"
            )


def _checked_polygon() -> Callable[[Any, int, str, Key], Polygon]:
    """A maker of `Polygon` for values a reader has already checked.

    It sets the slots directly, without the frozen dataclass's per-field
    ``object.__setattr__`` and without ``__post_init__``: 0.54 instead of
    1.2 µs each (COCO train2017 has 860,001 annotations, nearly all
    polygons). Only for a shapely Polygon or MultiPolygon, an int label and a
    known convention.
    """
    new = object.__new__
    fields = vars(Polygon)  # the slots' descriptors
    geometry, label, convention, key = (
        fields[name].__set__ for name in ("geometry", "label", "convention", "key")
    )

    def make(shape: Any, label_id: int, kind: str, name: Key) -> Polygon:
        polygon = new(Polygon)
        geometry(polygon, shape)
        label(polygon, label_id)
        convention(polygon, kind)
        key(polygon, name)
        return polygon

    return make


@dataclass(frozen=True, slots=True)
class RLE:
    """A COCO run-length encoded region (column-major runs, starting with 0s).

    Parameters
    ----------
    counts
        Compressed (the COCO string, as ``bytes``) or uncompressed (a tuple
        of run lengths).
    shape
        ``(height, width)`` the runs cover.
    label
        The label id.
    crowd
        COCO's ``iscrowd``: one region covering a group of objects.
    key
        The annotation's id in its file.
    """

    counts: bytes | tuple[int, ...]
    shape: tuple[int, int]
    label: int
    crowd: bool = False
    key: Key = None

    def __post_init__(self) -> None:
        _check_label(self.label)
        if isinstance(self.counts, str):
            object.__setattr__(self, "counts", self.counts.encode("ascii"))
        elif not isinstance(self.counts, bytes):
            object.__setattr__(self, "counts", tuple(int(c) for c in self.counts))
        height, width = self.shape
        if height < 1 or width < 1:
            raise ValueError(
                f"shape must be positive (height, width), got {self.shape}"
            )


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box ``(x_min, y_min, x_max, y_max)`` in pixel coordinates.

    Examples
    --------
    >>> ux.annotations.Box((1, 1, 3, 3), label=0).area
    4.0
    """

    xyxy: tuple[float, float, float, float]
    label: int
    key: Key = None

    def __post_init__(self) -> None:
        _check_label(self.label)
        xyxy = tuple(float(v) for v in self.xyxy)
        if len(xyxy) != 4 or not all(math.isfinite(v) for v in xyxy):
            raise ValueError(f"xyxy must be 4 finite numbers, got {self.xyxy!r}")
        object.__setattr__(self, "xyxy", xyxy)

    @property
    def area(self) -> float:
        """Width times height (0 for degenerate or inverted boxes)."""
        x0, y0, x1, y1 = self.xyxy
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


@dataclass(frozen=True, slots=True)
class Tag:
    """An image-level label: present (``positive``) or verified absent."""

    label: int
    positive: bool = True
    key: Key = None

    def __post_init__(self) -> None:
        _check_label(self.label)


Annotation: TypeAlias = Mask | Polygon | RLE | Box | Tag


@dataclass(frozen=True, slots=True)
class Sample:
    """One image and its annotations.

    Parameters
    ----------
    key
        Unique within its dataset (a file stem, a COCO image id as text).
    image
        Path of the image file (not read unless needed).
    shape
        ``(height, width)`` of the image.
    annotations
        In file order (z-order policies may reorder them when rasterising).
    source
        The name of the label space the annotations use.
    split
        ``"train"``, ``"val"``, ... or ``""`` when the dataset has none.
    """

    key: str
    image: Path
    shape: tuple[int, int]
    annotations: tuple[Annotation, ...]
    source: str
    split: str = ""

    def __post_init__(self) -> None:
        height, width = self.shape
        if height < 1 or width < 1:
            raise ValueError(
                f"shape must be positive (height, width), got {self.shape}"
            )
        object.__setattr__(self, "annotations", tuple(self.annotations))
        if not isinstance(self.image, Path):
            object.__setattr__(self, "image", Path(self.image))


@dataclass(frozen=True, slots=True)
class Skip:
    """An annotation (or sample) a lenient reader left out, and why."""

    where: str
    reason: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Dataset:
    """A label space, its samples, and what reading skipped.

    ``read`` counts the annotations found in the files; every one of them
    is either in a sample or counted in ``skipped`` (checked).
    """

    label_space: LabelSpace
    samples: tuple[Sample, ...]
    skipped: tuple[Skip, ...] = ()
    read: int | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", tuple(self.samples))
        object.__setattr__(self, "skipped", tuple(self.skipped))
        used = sum(len(sample.annotations) for sample in self.samples)
        lost = sum(skip.count for skip in self.skipped)
        if self.read is None:
            object.__setattr__(self, "read", used + lost)
        elif self.read != used + lost:
            raise ValueError(
                f"annotations read must equal usable + skipped, got {self.read} read, "
                f"{used} usable and {lost} skipped"
            )
        wrong = {s.source for s in self.samples} - {self.label_space.name}
        if wrong:
            raise ValueError(
                f"samples must use label space {self.label_space.name!r}, "
                f"got {sorted(wrong)}"
            )

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)
