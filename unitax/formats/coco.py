"""COCO instances JSON: polygons, RLE, crowd regions and box-only annotations.

Reading
-------
Each entry of ``images`` becomes a `Sample` (key: the image id as text,
shape: the JSON's ``height`` and ``width``; the image is not opened unless
``check_images=True``, which reads its header). ``file_name`` is resolved
under ``images`` (default: the JSON file's folder) and must stay there.
Each annotation becomes, in file order:

==============================================  ===========================
``segmentation``                                annotation
==============================================  ===========================
list of flat ``[x0, y0, x1, y1, ...]`` lists    `Polygon` (``MultiPolygon``
                                                for several parts, which may
                                                overlap: their union counts),
                                                ``convention="coco"``
``{"counts": str, "size": [h, w]}``             `RLE`, compressed (``bytes``)
``{"counts": [int, ...], "size": [h, w]}``      `RLE`, uncompressed (tuple)
empty list, or missing                          `Box` from ``bbox`` (x, y, w, h)
==============================================  ===========================

An RLE ``size`` written as the text ``"[h, w]"`` (panopticapi's
``panoptic_coco_detection_format.json`` does) is read as the list.
A file without ``annotations`` (image info only) gives samples without
annotations. ``iscrowd=1`` sets `RLE.crowd`. Crowd regions stored as
polygons or as a box alone (rare) are converted to a crowd `RLE` with
pycocotools' own ``frPyObjects``, as pycocotools does when it reads them,
because `Polygon` and `Box` carry no crowd flag. ``key`` is the annotation id.

Polygon coordinates are kept exactly as written (float64). shapely closes
each ring; a ring already closed in the file (last point = first) is
therefore written back without the repeated point.

The label space comes from ``categories`` (name: ``label_space_name``,
default the file stem if it is a valid name, else ``"coco"``); a given
``label_space`` must contain every category with the same id and name.

Errors
------
Structural problems are `FormatError` in every mode: an unreadable or
invalid JSON document, ``images`` or ``categories`` missing or of the wrong
type, a broken category, duplicate image ids. Everything else is per
annotation (strict: error; lenient: skipped, and counted): a wrong type or a
missing key, a duplicate annotation id, an ``image_id`` or ``category_id``
not in the tables, a polygon ring with fewer than 3 points (pycocotools
would read a 4-number ring as a box), an odd number of coordinates, NaN or
infinite values, an RLE whose size is not the image's or whose counts do
not cover it. An unusable image (bad size, file name leading outside the
root, header disagreeing with the JSON) skips all of its annotations.

Writing
-------
`write_coco` (in `unitax.formats._coco_write`, re-exported here) writes a
dataset that `read_coco` reads back.
"""

from __future__ import annotations

import contextlib
import gc
import os
import struct
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from unitax._files import read_bytes
from unitax._json_chunks import Chunked, UnsplitError
from unitax.annotations import Annotation, Dataset, Sample, _checked_polygon
from unitax.errors import FormatError
from unitax.formats._coco_json import (
    NUMBERS,
    Image,
    InvalidError,
    check_ring,
    copy_ints,
    default_space_name,
    load_json_object,
    read_categories,
    read_images,
    region,
    table,
)
from unitax.formats._coco_write import write_coco
from unitax.formats._common import Errors, Ledger
from unitax.labels import LabelSpace

__all__ = ["read_coco", "write_coco"]


def read_coco(
    path: str | os.PathLike[str],
    *,
    images: str | os.PathLike[str] | None = None,
    label_space: LabelSpace | None = None,
    label_space_name: str | None = None,
    check_images: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read a COCO instances JSON file.

    Parameters
    ----------
    path
        The JSON file.
    images
        Folder that ``file_name`` is relative to; default: the JSON's folder.
    label_space
        Use this space instead of one built from ``categories``; every
        category must be in it with the same id and name.
    label_space_name
        Name of the space built from ``categories`` (default: the file stem,
        if it is a valid name, else ``"coco"``).
    check_images
        Read each image's header (never its pixels) and require its size to
        equal ``height`` and ``width``; off by default because it opens one
        file per image.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips what
        it cannot use and accounts for it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        One sample per usable image, in the order of ``images``.

    Raises
    ------
    FormatError
        On a structural problem, or (strict) any unusable annotation; the
        message starts with the file and the image or annotation id.

    See Also
    --------
    write_coco

    Notes
    -----
    Python's cyclic garbage collector is paused during the call (and
    restored, also on error): collections triggered while millions of JSON
    containers are alive cost about half the reading time, and nothing read
    forms a reference cycle. Polygons are built in one vectorised shapely
    call, and no object of the parsed document is kept, so its memory is
    released before the geometries are built.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> document = {
    ...     "images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 6}],
    ...     "categories": [{"id": 3, "name": "cat"}],
    ...     "annotations": [
    ...         {"id": 7, "image_id": 1, "category_id": 3,
    ...          "segmentation": [[0, 0, 4, 0, 4, 2]]},
    ...         {"id": 8, "image_id": 1, "category_id": 3,
    ...          "segmentation": [], "bbox": [1, 1, 2, 2]},
    ...     ],
    ... }
    >>> _ = (folder / "toy.json").write_text(json.dumps(document))
    >>> dataset = read_coco(folder / "toy.json")
    >>> dataset.label_space.names, dataset.samples[0].shape
    (('cat',), (4, 6))
    >>> [type(a).__name__ for a in dataset.samples[0].annotations]
    ['Polygon', 'Box']
    >>> dataset.samples[0].annotations[1].xyxy
    (1.0, 1.0, 3.0, 3.0)
    """
    path = Path(path)
    root = path.parent if images is None else Path(images)
    name = label_space_name or default_space_name(path, "coco")
    with _collector_paused():
        ledger, space, table_, collected = _first_pass(
            path, root, errors, name, label_space, check_images
        )  # the parsed document is released here, before the geometries are built
        usable = [image for image in table_.values() if isinstance(image, Image)]
        per_image = collected.finish(len(usable))
        for image_id, image in table_.items():
            if isinstance(image, str):
                count = collected.orphans[image_id]
                ledger.skip(
                    f"{path}: image {image_id}",
                    f"{image}; its {count} annotation(s) are skipped",
                    count=count,
                )
        samples = tuple(
            Sample(image.key, image.path, image.shape, found, space.name)
            for image, found in zip(usable, per_image, strict=True)
        )
        return Dataset(space, samples, skipped=tuple(ledger.skipped), read=ledger.read)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its state on exit.

    Parsing allocates millions of containers, and every collection triggered
    meanwhile traverses all of them again: about half of the reading time,
    for nothing, as neither the JSON nor what is built from it has cycles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_INT64 = 1 << 63
_PIECE = 1 << 15  # bytes of annotations parsed at a time: their objects stay in cache


def _first_pass(
    path: Path,
    root: Path,
    errors: Errors,
    name: str,
    label_space: LabelSpace | None,
    check_images: bool,
) -> tuple[Ledger, LabelSpace, dict[int, Image | str], _Collected]:
    """Read the tables and check every annotation.

    The fast way parses the ``annotations`` array piece by piece with orjson
    (`Chunked`), checking each piece before the next is parsed; the slow way,
    the standard library's parser on the whole document, reads what the fast
    one cannot (and names the line of a JSON error). A problem found on the
    fast way is raised only once every piece is known to parse, so both ways
    report the same first problem.
    """
    raw = read_bytes(path)
    chunked = Chunked.split(raw, "annotations", piece=_PIECE)
    if chunked is not None:
        try:
            return _read(path, root, Ledger(errors), name, label_space,
                         check_images, chunked.document, chunked.pieces())  # fmt: skip
        except UnsplitError:
            pass
        except FormatError:
            if chunked.valid():
                raise
    del chunked, raw  # not held while the slow way parses its own copy
    document = load_json_object(path)
    return _read(path, root, Ledger(errors), name, label_space,
                 check_images, document, None)  # fmt: skip


def _read(
    path: Path,
    root: Path,
    ledger: Ledger,
    name: str,
    label_space: LabelSpace | None,
    check_images: bool,
    document: dict[str, Any],
    pieces: Iterator[list[Any]] | None,
) -> tuple[Ledger, LabelSpace, dict[int, Image | str], _Collected]:
    """Check the tables, then the annotations: ``pieces``, or the document's."""
    categories = table(document, "categories", path)
    space = read_categories(categories, path, name=name, label_space=label_space)
    images = table(document, "images", path)
    table_ = read_images(images, path, root, ledger, check_images=check_images)
    if pieces is None:
        pieces = iter((table(document, "annotations", path, required=False),))
    document.clear()  # the tables' JSON goes before the annotations are read
    del categories, images
    collected = _Collected(path, ledger, {label.id for label in space.labels}, table_)
    for piece in pieces:
        ledger.found(len(piece))
        collected.run(piece)
    return ledger, space, table_, collected


class _Collected:
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
            if not (type(key) is int and -_INT64 <= key < _INT64):  # is_id, inlined
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
