"""Parsing LabelMe JSON files: each file's image, size, shapes and flags.

Private to `unitax.formats.labelme`, whose docstring documents the format.
`_parse` checks one JSON file's frame (``imagePath``, ``imageHeight``,
``imageWidth``), each entry of ``shapes`` (`_Shape`: label, type, points,
``group_id``, mask) and the ``flags``, and returns them as a `_File`;
`unitax.formats.labelme` turns those into a label space and annotations.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unitax._png import image_shape
from unitax.errors import FormatError
from unitax.formats._common import Ledger, inside


@dataclass(frozen=True, slots=True)
class _Shape:
    index: int
    label: str
    kind: str
    points: list[tuple[float, float]]
    group: object
    mask: object


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    key: str
    image: Path
    shape: tuple[int, int]
    shapes: tuple[_Shape, ...]
    flags: dict[str, bool]


def _parse(path: Path, root: Path, ledger: Ledger) -> _File | None:
    """Read one JSON file's frame; `None` (lenient) if it is unusable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        return _unusable(ledger, path, f"expected UTF-8 text, got {err.reason}")
    except json.JSONDecodeError as err:
        return _unusable(ledger, path, f"invalid JSON: {err.msg} (line {err.lineno})")
    except OSError as err:
        return _unusable(ledger, path, f"cannot read file: {err.strerror}")
    if not isinstance(document, dict) or not isinstance(document.get("shapes"), list):
        return _unusable(ledger, path, "expected a LabelMe object with a 'shapes' list")
    try:
        image, shape = _frame(document, path, root)
    except FormatError as err:
        return _unusable(ledger, path, str(err).removeprefix(f"{path}: "))
    shapes = []
    for index, item in enumerate(document["shapes"]):
        ledger_where = f"{path}: shapes[{index}]"
        try:
            shapes.append(_shape(index, item))
        except FormatError as err:
            ledger.found()
            ledger.skip(ledger_where, str(err))
    flags = document.get("flags") or {}
    if not isinstance(flags, dict) or not all(
        isinstance(v, bool) and isinstance(k, str) for k, v in flags.items()
    ):
        ledger.skip(
            f"{path}: flags",
            f"flags must map names to true/false, got {flags!r:.60}",
            count=0,
        )
        flags = {}
    key = path.relative_to(root).with_suffix("").as_posix()
    return _File(path, key, image, shape, tuple(shapes), flags)


def _unusable(ledger: Ledger, path: Path, reason: str) -> _File | None:
    """Skip a whole file (its shapes were never counted)."""
    ledger.skip(str(path), reason, count=0)
    return None


def _frame(
    document: dict[str, Any], path: Path, root: Path
) -> tuple[Path, tuple[int, int]]:
    name = document.get("imagePath")
    if not isinstance(name, str) or not name:
        raise FormatError(f"imagePath must be a non-empty string, got {name!r}")
    name = name.replace("\\", "/")
    folder = path.parent.relative_to(root).as_posix()
    relative = name if folder == "." else f"{folder}/{name}"
    image = inside(root, relative, where=f"{path}: imagePath")
    height, width = document.get("imageHeight"), document.get("imageWidth")
    if height is None and width is None and image.is_file():
        return image, image_shape(image)
    if type(height) is not int or type(width) is not int or height < 1 or width < 1:
        raise FormatError(
            f"imageHeight and imageWidth must be positive ints, got {height!r} and "
            f"{width!r}"
        )
    return image, (height, width)


def _shape(index: int, item: Any) -> _Shape:
    if not isinstance(item, dict):
        raise FormatError(f"expected an object, got {type(item).__name__}")
    label, kind = item.get("label"), item.get("shape_type") or "polygon"
    if not isinstance(label, str) or not label:
        raise FormatError(f"label must be a non-empty string, got {label!r}")
    points = item.get("points")
    if not isinstance(points, list) or not all(_is_point(p) for p in points):
        raise FormatError(
            f"points must be [x, y] pairs of finite numbers, got {points!r:.60}"
        )
    group = item.get("group_id")
    if group is not None and type(group) is not int:
        raise FormatError(f"group_id must be an int or null, got {group!r}")
    pairs = [(float(p[0]), float(p[1])) for p in points]
    return _Shape(index, label, str(kind), pairs, group, item.get("mask"))


def _is_point(point: object) -> bool:
    return (
        isinstance(point, list)
        and len(point) == 2
        and all(type(v) in (int, float) and math.isfinite(v) for v in point)
    )
