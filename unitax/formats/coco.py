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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unitax._files import read_bytes
from unitax._json_chunks import Chunked, UnsplitError
from unitax.annotations import Dataset, Sample
from unitax.errors import FormatError
from unitax.formats._coco_collect import Collected
from unitax.formats._coco_json import (
    Image,
    default_space_name,
    load_json_object,
    read_categories,
    read_images,
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


_PIECE = 1 << 15  # bytes of annotations parsed at a time: their objects stay in cache


def _first_pass(
    path: Path,
    root: Path,
    errors: Errors,
    name: str,
    label_space: LabelSpace | None,
    check_images: bool,
) -> tuple[Ledger, LabelSpace, dict[int, Image | str], Collected]:
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
) -> tuple[Ledger, LabelSpace, dict[int, Image | str], Collected]:
    """Check the tables, then the annotations: ``pieces``, or the document's."""
    categories = table(document, "categories", path)
    space = read_categories(categories, path, name=name, label_space=label_space)
    images = table(document, "images", path)
    table_ = read_images(images, path, root, ledger, check_images=check_images)
    if pieces is None:
        pieces = iter((table(document, "annotations", path, required=False),))
    document.clear()  # the tables' JSON goes before the annotations are read
    del categories, images
    collected = Collected(path, ledger, {label.id for label in space.labels}, table_)
    for piece in pieces:
        ledger.found(len(piece))
        collected.run(piece)
    return ledger, space, table_, collected
