"""What the COCO readers share: the JSON document, its categories and images.

`read_coco` and `read_coco_panoptic` read the same ``images`` and
``categories`` tables; this module checks them once, with the file and the
image id in every message. It also holds the checks of COCO annotation
values other than plain polygons (RLE, boxes, crowd regions), which
`read_coco` builds one by one (plain polygons are built in bulk there).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from pycocotools import mask as mask_utils

from unitax._files import read_text
from unitax._png import image_shape
from unitax.annotations import RLE, Annotation, Box
from unitax.errors import FormatError, UnitaxError
from unitax.formats._common import Ledger
from unitax.formats._paths import SafePaths
from unitax.labels import Label, LabelSpace

__all__ = [
    "INT64",
    "NUMBERS",
    "Image",
    "InvalidError",
    "check_ring",
    "copy_ints",
    "default_space_name",
    "is_id",
    "load_json_object",
    "read_categories",
    "read_images",
    "region",
    "table",
]

_SPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_RLE_CHARS = bytes(range(48, 112))  # pycocotools writes 6-bit groups from '0'
NUMBERS = "polygon coordinates must be finite numbers"
INT64 = 1 << 63  # ids are ints of 64 bits: -INT64 <= id < INT64
_SIDE = 1 << 31  # image sides must be below this


def is_id(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an int of 64 bits, as every COCO id must be."""
    return type(value) is int and -INT64 <= value < INT64


class InvalidError(Exception):
    """One annotation cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Image:
    """One usable row of the ``images`` table."""

    key: str
    path: Path
    shape: tuple[int, int]


def load_json_object(path: Path) -> dict[str, Any]:
    """Parse a JSON file that must hold an object; `FormatError` names the file."""
    text = read_text(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise FormatError(
            f"{path}:{err.lineno}: invalid JSON: {err.msg} (column {err.colno})"
        ) from err
    except RecursionError as err:
        raise FormatError(f"{path}: invalid JSON: nested too deeply") from err
    if not isinstance(document, dict):
        raise FormatError(
            f"{path}: expected a JSON object with 'images' and 'categories', "
            f"got {type(document).__name__}"
        )
    return document


def table(
    document: dict[str, Any], key: str, path: Path, *, required: bool = True
) -> list[Any]:
    """Return ``document[key]``, which must be a list (``[]`` if optional)."""
    if key not in document:
        if required:
            raise FormatError(f"{path}: expected a key {key!r} (a list), got none")
        return []
    value = document[key]
    if not isinstance(value, list):
        raise FormatError(f"{path}: {key!r} must be a list, got {type(value).__name__}")
    return value


def default_space_name(path: Path, fallback: str) -> str:
    """The file stem, lowercased, if it is a valid label-space name."""
    stem = path.stem.lower()
    return stem if _SPACE_NAME.match(stem) else fallback


def read_categories(
    items: list[Any], path: Path, *, name: str, label_space: LabelSpace | None
) -> LabelSpace:
    """Build a label space from ``categories``, or check it against a given one.

    Structural problems here are errors in every mode: without a label space
    nothing else can be read.
    """
    labels = [
        _category(item, f"{path}: categories[{i}]") for i, item in enumerate(items)
    ]
    if label_space is None:
        try:
            return LabelSpace(name=name, labels=tuple(labels))
        except UnitaxError as err:
            raise FormatError(f"{path}: categories: {err}") from err
    by_id = {label.id: label.name for label in label_space.labels}
    for i, label in enumerate(labels):
        known = by_id.get(label.id)
        if known != label.name:
            got = "no such id" if known is None else f"{known!r}"
            raise FormatError(
                f"{path}: categories[{i}]: category {label.id} {label.name!r} must "
                f"be a label of the label space {label_space.name!r}, got {got}"
            )
    return label_space


def _category(item: Any, where: str) -> Label:
    if not isinstance(item, dict):
        raise FormatError(f"{where}: expected an object, got {type(item).__name__}")
    label_id, name = item.get("id"), item.get("name")
    if not is_id(label_id):
        raise FormatError(f"{where}: id must be an int (64 bits), got {label_id!r}")
    if not isinstance(name, str):
        raise FormatError(f"{where}: name must be a string, got {name!r}")
    category = item.get("supercategory")
    color = item.get("color")
    is_color = isinstance(color, list) and len(color) == 3
    if color is not None and not (is_color and all(type(c) is int for c in color)):
        raise FormatError(f"{where}: color must be 3 ints, got {color!r}")
    try:
        return Label(
            id=label_id,
            name=name,
            category=category if isinstance(category, str) and category else None,
            color=tuple(color) if color is not None else None,
        )
    except (UnitaxError, ValueError) as err:
        raise FormatError(f"{where}: {err}") from err


def read_images(
    items: list[Any],
    path: Path,
    root: Path,
    ledger: Ledger,
    *,
    check_images: bool,
) -> dict[int, Image | str]:
    """Check the ``images`` table: image id -> `Image`, or why it is unusable.

    Unusable images raise in strict mode; in lenient mode the caller records
    one `Skip` per unusable image, counting its annotations. Duplicate ids are
    errors in every mode.
    """
    resolve = SafePaths(root)
    images: dict[int, Image | str] = {}
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise FormatError(
                f"{path}: images[{position}]: expected an object, "
                f"got {type(item).__name__}"
            )
        image_id = item.get("id")
        if not is_id(image_id):
            raise FormatError(
                f"{path}: images[{position}]: id must be an int (64 bits), "
                f"got {image_id!r}"
            )
        if image_id in images:
            raise FormatError(f"{path}: image ids must be unique, got {image_id} twice")
        where = f"{path}: image {image_id}"
        try:
            images[image_id] = _image(item, image_id, where, resolve, check_images)
        except FormatError as err:
            if ledger.errors == "strict":
                raise
            images[image_id] = str(err).removeprefix(f"{where}: ")
    return images


def _image(
    item: dict[str, Any],
    image_id: int,
    where: str,
    resolve: SafePaths,
    check_images: bool,
) -> Image:
    height, width = item.get("height"), item.get("width")
    if not (type(height) is int and type(width) is int) or not (
        0 < height < _SIDE and 0 < width < _SIDE
    ):
        raise FormatError(
            f"{where}: height and width must be positive ints below 2**31, got "
            f"{height!r} and {width!r}"
        )
    name = item.get("file_name")
    if not isinstance(name, str) or not name:
        raise FormatError(
            f"{where}: file_name must be a non-empty string, got {name!r}"
        )
    file = resolve(name, where=where)
    if check_images:
        try:
            found = image_shape(file)
        except FormatError as err:
            raise FormatError(f"{where}: {err}") from err
        if found != (height, width):
            raise FormatError(
                f"{where}: height and width must match the image file {name!r}, got "
                f"{(height, width)} in the JSON and {found} in the file"
            )
    height, width = copy_ints(height, width)
    return Image(key=str(image_id), path=file, shape=(height, width))


def check_ring(ring: object) -> None:
    if type(ring) is not list:
        raise InvalidError(f"polygon rings must be lists of numbers, got {ring!r:.40}")
    if len(ring) < 6 or len(ring) % 2:
        raise InvalidError(
            "polygon rings must have an even number of coordinates, at least 6 "
            f"(3 points), got {len(ring)}"
            + (" (pycocotools would read it as a box)" if len(ring) == 4 else "")
        )


def region(
    item: dict[str, Any],
    segmentation: Any,
    label: int,
    key: int,
    shape: tuple[int, int],
) -> Annotation:
    """A box, an RLE, or a crowd region given as polygons or as a box.

    Raises
    ------
    InvalidError
        If the annotation cannot be used; the message says why.
    """
    crowd = bool(item.get("iscrowd", 0))
    height, width = shape
    if segmentation is None or segmentation == []:
        x, y, w, h = _bbox_xywh(item.get("bbox"))
        if not crowd:
            corners = (x * 1.0, y * 1.0, x + w, y + h)  # new floats, as copy_ints
            return Box(corners, label, key)
        rle = mask_utils.frPyObjects([[x, y, w, h]], height, width)[0]
        return RLE(rle["counts"], shape, label, crowd=True, key=key)
    if isinstance(segmentation, list):  # crowd polygons
        for ring in segmentation:
            check_ring(ring)
            if not all(_finite(v) for v in ring):
                raise InvalidError(NUMBERS)
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
        return RLE(rle["counts"], shape, label, crowd=True, key=key)
    if not isinstance(segmentation, dict):
        raise InvalidError(
            "segmentation must be a list of polygons, an RLE object or empty, "
            f"got {type(segmentation).__name__}"
        )
    size = segmentation.get("size")
    if isinstance(size, str):  # panopticapi writes str([h, w])
        with contextlib.suppress(ValueError):
            size = json.loads(size)
    if size != [height, width]:
        raise InvalidError(
            f"RLE size must be the image's [height, width] {[height, width]}, "
            f"got {size!r}"
        )
    counts = segmentation.get("counts")
    if isinstance(counts, str):
        if not counts.isascii() or counts.encode().translate(None, _RLE_CHARS):
            raise InvalidError(
                f"RLE counts must be a COCO RLE string, got {counts!r:.40}"
            )
        return RLE(counts.encode(), shape, label, crowd=crowd, key=key)
    if isinstance(counts, list) and all(type(c) is int and c >= 0 for c in counts):
        if sum(counts) != height * width:
            raise InvalidError(
                f"RLE counts must add up to height * width = {height * width}, "
                f"got {sum(counts)}"
            )
        return RLE(copy_ints(*counts), shape, label, crowd=crowd, key=key)
    raise InvalidError(
        "RLE counts must be a string or a list of non-negative ints, "
        f"got {counts!r:.40}"
    )


def copy_ints(*values: int) -> tuple[int, ...]:
    """New int objects, not the parsed JSON's.

    A reader that keeps no object of the parsed document lets its memory go
    back to the system once it is dropped: one surviving int would keep its
    allocator arena, and the JSON around it, alive.
    """
    return tuple(array("q", values))


def _finite(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)  # type: ignore[arg-type]


def _bbox_xywh(bbox: object) -> tuple[float, float, float, float]:
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(_finite(v) for v in bbox)
        or bbox[2] < 0
        or bbox[3] < 0
    ):
        raise InvalidError(
            "an annotation without segmentation needs bbox [x, y, width, height] "
            f"with finite numbers and width, height >= 0, got {bbox!r}"
        )
    x, y, w, h = (float(v) for v in bbox)
    return x, y, w, h
