"""The annotation pass of `read_coco`: checks, batches and builds annotations.

Private to `unitax.formats.coco`, which documents what is read and how
problems are reported. Plain polygons are checked one by one here and built
all at once in `Collected.finish` (one vectorised shapely call); RLE, boxes
and crowd regions are built on the spot by `unitax.formats._coco_json.region`.
"""

from __future__ import annotations

import struct
from array import array
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax.annotations import Annotation, _checked_polygon
from unitax.formats._coco_json import (
    INT64,
    NUMBERS,
    Image,
    InvalidError,
    check_ring,
    copy_ints,
    region,
)
from unitax.formats._common import Ledger

__all__ = ["Collected"]


class Collected:
    """The annotation pass: checks each annotation, batches polygon coordinates.

    Polygons are built afterwards in one vectorised shapely call; other
    annotations are built on the spot. ``built[i]`` is ``None`` for a polygon
    until `finish`.
    """

    def __init__(
        self,
        path: Path,
        ledger: Ledger,
        label_ids: set[int],
        images: dict[int, Image | str],
    ) -> None:
        self.path, self.ledger, self.label_ids = path, ledger, label_ids
        self.images = images
        self.index: dict[int, tuple[int, tuple[int, int]]] = {}
        for known, image in images.items():
            if isinstance(image, Image):
                self.index[known] = (len(self.index), image.shape)
        self.seen: set[int] = set()
        self.done = 0  # annotations checked so far: the position of the next
        self.built: list[Annotation | None] = []
        self.owner = array("q")  # usable-image index of each built annotation
        self.orphans: Counter[int] = Counter()  # annotations of unusable images
        self.coords = bytearray()  # all polygon coordinates, flat float64
        self.ring_points = array("q")  # points per ring
        self.rings = array("q")  # rings per polygon annotation
        self.slots = array("q")  # index into built of each polygon annotation
        self.labels = array("q")
        self.keys = array("q")  # copied: see `_Collected.run`

    def skip(self, where: str, reason: str) -> None:
        self.ledger.skip(f"{self.path}: {where}", reason)

    def run(self, annotations: list[Any]) -> None:
        """Check the next annotations (all, or a piece); keep the usable ones.

        Nothing kept refers to an object of the parsed JSON: ids and numbers
        are copied (`copy_ints`, arrays), so that the document's memory can
        be released before the geometries are built.
        """
        images, index, seen = self.images, self.index, self.seen
        label_ids, skip = self.label_ids, self.skip
        coords, ring_points = self.coords, self.ring_points
        add_ring, packers = ring_points.append, _PACKERS
        add_rings, add_slot = self.rings.append, self.slots.append
        add_label, add_key = self.labels.append, self.keys.append
        built, add_owner = self.built, self.owner.append
        done, self.done = self.done, self.done + len(annotations)
        for position, item in enumerate(annotations, done):
            if type(item) is not dict:
                skip(f"annotations[{position}]", _expected("an object", item))
                continue
            key = item.get("id")
            if not (type(key) is int and -INT64 <= key < INT64):  # is_id, inlined
                skip(
                    f"annotations[{position}]",
                    f"id must be an int (64 bits), got {key!r}",
                )
                continue
            if key in seen:
                skip(f"annotation {key}", "annotation ids must be unique")
                continue
            seen.add(key)
            image_id = item.get("image_id")
            found = index.get(image_id) if type(image_id) is int else None
            if found is None:
                if type(image_id) is int and isinstance(images.get(image_id), str):
                    self.orphans[image_id] += 1
                else:
                    skip(
                        f"annotation {key}",
                        f"image_id must be an id of the images table, got {image_id!r}",
                    )
                continue
            label = item.get("category_id")
            if type(label) is not int or label not in label_ids:
                skip(
                    f"annotation {key}",
                    f"category_id must be the id of a category, got {label!r}",
                )
                continue
            crowd = item.get("iscrowd", 0)
            if crowd not in (0, 1):
                skip(f"annotation {key}", f"iscrowd must be 0 or 1, got {crowd!r}")
                continue
            segmentation = item.get("segmentation")
            if type(segmentation) is list and segmentation and not crowd:
                n_coords, n_rings = len(coords), len(ring_points)
                try:
                    for ring in segmentation:
                        size = len(ring) if type(ring) is list else 0
                        if size < 6 or size & 1:
                            check_ring(ring)
                        coords += (packers.get(size) or _packer(size))(*ring)
                        add_ring(size >> 1)
                except (InvalidError, struct.error) as err:
                    del coords[n_coords:], ring_points[n_rings:]
                    reason = str(err) if isinstance(err, InvalidError) else NUMBERS
                    skip(f"annotation {key}", reason)
                    continue
                add_rings(len(segmentation))
                add_slot(len(built))
                add_label(label)
                add_key(key)
                built.append(None)
            else:
                try:
                    annotation = region(
                        item, segmentation, label, copy_ints(key)[0], found[1]
                    )
                except InvalidError as err:
                    skip(f"annotation {key}", str(err))
                    continue
                built.append(annotation)
            add_owner(found[0])

    def finish(self, n_images: int) -> list[tuple[Annotation, ...]]:
        """Build the polygons; return each usable image's annotations."""
        owner = np.frombuffer(self.owner, dtype=np.int64).copy()
        geometries, keep = self._polygons()
        slots = np.frombuffer(self.slots, dtype=np.int64)
        owner[slots[~keep]] = -1
        built, labels, keys, slot_list = self.built, self.labels, self.keys, self.slots
        make = _checked_polygon()  # the run checked labels and keys
        for i, geometry in zip(np.flatnonzero(keep).tolist(), geometries, strict=True):
            built[slot_list[i]] = make(geometry, labels[i], "coco", keys[i])
        order = np.argsort(owner, kind="stable")[np.count_nonzero(owner < 0) :]
        ends = np.cumsum(np.bincount(owner[order], minlength=n_images)).tolist()
        ordered: list[Any] = [built[i] for i in order.tolist()]
        starts = [0, *ends][: len(ends)]  # no image, no start
        return [tuple(ordered[a:b]) for a, b in zip(starts, ends, strict=True)]

    def _polygons(self) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
        """All polygon geometries at once, and which annotations were usable."""
        coords = np.frombuffer(self.coords, dtype=np.float64).reshape(-1, 2)
        ring_points = np.frombuffer(self.ring_points, dtype=np.int64)
        rings = np.frombuffer(self.rings, dtype=np.int64)
        keep = np.ones(len(rings), dtype=bool)
        if not len(rings):
            return np.empty(0, dtype=object), keep
        ring_owner = np.repeat(np.arange(len(rings)), rings)
        ring_start = np.concatenate(([0], np.cumsum(ring_points)[:-1]))
        finite = np.logical_and.reduceat(np.isfinite(coords).all(axis=1), ring_start)
        closed = (coords[ring_start] == coords[ring_start + ring_points - 1]).all(1)
        short = closed & (ring_points < 4)
        for ring in np.flatnonzero(~finite | short).tolist():
            polygon = int(ring_owner[ring])
            if keep[polygon]:
                keep[polygon] = False
                reason = NUMBERS if not finite[ring] else _SHORT
                self.skip(f"annotation {self.keys[polygon]}", reason)
        ring_keep = keep[ring_owner]
        counts = rings[keep]
        geometries = np.empty(len(counts), dtype=object)
        multi = counts > 1
        for chosen, kind in ((~multi, "polygon"), (multi, "multipolygon")):
            if chosen.any():
                ring_chosen = ring_keep.copy()
                ring_chosen[ring_keep] = np.repeat(chosen, counts)
                geometries[chosen] = _ragged(
                    coords,
                    ring_start[ring_chosen],
                    ring_points[ring_chosen],
                    counts[chosen],
                    kind,
                )
        return geometries, keep


def _ragged(
    coords: NDArray[np.float64],
    starts: NDArray[np.int64],
    ring_points: NDArray[np.int64],
    counts: NDArray[np.int64],
    kind: str,
) -> NDArray[np.object_]:
    """(Multi)polygons from the rings at ``starts``, closed as shapely closes them.

    One gather builds the closed coordinates: each ring's points, plus its
    first point again where the last one differs.
    """
    ends = starts + ring_points
    open_ = (coords[starts] != coords[ends - 1]).any(axis=1)
    sizes = ring_points + open_
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    take = np.arange(offsets[-1], dtype=np.int64)
    take += np.repeat(starts - offsets[:-1], sizes)
    take[offsets[1:][open_] - 1] = starts[open_]
    closed = coords[take]
    del take
    if kind == "polygon":
        parts: tuple[NDArray[np.int64], ...] = (offsets, np.arange(len(counts) + 1))
        geometry_type = shapely.GeometryType.POLYGON
    else:
        group_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=group_offsets[1:])
        parts = (offsets, np.arange(len(sizes) + 1), group_offsets)
        geometry_type = shapely.GeometryType.MULTIPOLYGON
    return shapely.from_ragged_array(geometry_type, closed, parts)


_PACKERS: dict[int, Callable[..., bytes]] = {}


def _packer(size: int) -> Callable[..., bytes]:
    """``pack(*ring)``: the ring's numbers as float64 bytes (2.5x `array.extend`).

    Like `array.array`, it takes floats and ints (bools too) and refuses
    anything else, and ints beyond float64, with `struct.error`.
    """
    pack = _PACKERS[size] = struct.Struct(f"={size}d").pack
    return pack


_SHORT = "polygon rings must have at least 3 distinct points"


def _expected(what: str, value: object) -> str:
    return f"expected {what}, got {type(value).__name__}"
