"""Per-image polygon JSON files: Cityscapes, IDD and Mapillary Vistas v2.0.

All three write one JSON object per image::

    {"imgHeight": H, "imgWidth": W,            # Vistas: "height", "width"
     "objects": [{"label": "car", "polygon": [[x, y], ...], "deleted": 0}, ...]}

Each object becomes one `Polygon` in **file order** (the tools draw later
objects on top), with ``key`` = its index in ``objects`` and the ``"pil"``
convention (``json2labelImg`` fills them with ``PIL.ImageDraw.polygon``).
Vertices are kept exactly as written, including vertices outside the image
(PIL clips them when it draws). Objects flagged ``deleted`` are not
annotations and are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import shapely

from unitax._files import load_document
from unitax._png import image_shape
from unitax.annotations import Polygon, Sample
from unitax.errors import FormatError, did_you_mean
from unitax.formats._common import Ledger
from unitax.formats._dense import Pair, message, path_problem, show
from unitax.labels import LabelSpace

__all__ = ["name_resolver", "read_polygon_json", "read_polygon_samples"]

Resolve = Callable[[str], "int | str"]
"""Label name -> label id, or the reason it is not one."""


def name_resolver(
    space: LabelSpace,
    *,
    void_names: Mapping[str, int],
    strip_group: bool,
) -> Resolve:
    """Resolve label names of ``space``.

    ``void_names`` name void ids (``"unlabeled"``), which a `LabelSpace` does
    not name. With ``strip_group``, an unknown name ending in ``group``
    (``cargroup``) is read as the label without the suffix, as
    cityscapesScripts' ``json2labelImg`` does.
    """
    ids = {label.name: label.id for label in space.labels} | dict(void_names)

    def resolve(name: str) -> int | str:
        if name in ids:
            return ids[name]
        if strip_group and name.endswith("group") and name[: -len("group")] in ids:
            return ids[name[: -len("group")]]
        return f"label {name!r} is not a label of {space.name!r}" + did_you_mean(
            name, ids
        )

    return resolve


def read_polygon_json(
    path: Path,
    *,
    shape: tuple[int, int] | str,
    resolve: Resolve,
    ledger: Ledger,
    size_keys: tuple[str, str] = ("imgHeight", "imgWidth"),
) -> list[Polygon] | None:
    """Read the polygons of one image; ``None`` if the file is unusable.

    ``shape`` is the image's ``(height, width)``, which the file's size must
    match, or why the image cannot be used (then every object is skipped).
    Problems go to ``ledger`` with the file, line and object index.
    """
    try:
        data, locate = load_document(path)
    except FormatError as err:
        where, reason = message(err, path)
        ledger.skip(where, reason, count=0)
        return None
    objects = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(objects, list):
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        ledger.skip(
            show(path),
            f"expected a JSON object with an 'objects' list, got {got}",
            count=0,
        )
        return None
    live = [(i, obj) for i, obj in enumerate(objects) if not _deleted(obj)]
    ledger.found(len(live))
    problem = shape if isinstance(shape, str) else _size_problem(data, shape, size_keys)
    if problem is not None:
        ledger.skip(show(path), problem, count=len(live))
        return None
    polygons = []
    for index, obj in live:
        polygon = _polygon(obj, index, resolve)
        if isinstance(polygon, str):
            line = locate(("objects", index))
            where = f"{show(path)}:{line}" if line is not None else show(path)
            ledger.skip(f"{where}: object {index}", polygon)
            continue
        polygons.append(polygon)
    return polygons


def _deleted(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj.get("deleted", 0))


def _size_problem(
    data: dict[str, Any], shape: tuple[int, int], keys: tuple[str, str]
) -> str | None:
    size = tuple(data.get(key) for key in keys)
    if not all(_positive_int(v) for v in size):
        hint = ""
        if "heigth" in data:
            hint = " (a datumaro export spells 'heigth'; it is not the Vistas format)"
        got = {key: data.get(key) for key in keys}
        return f"expected positive integers {list(keys)}, got {got}{hint}"
    if size != shape:
        return (
            f"expected the image's (height, width) {shape}, "
            f"got {size} from {list(keys)}"
        )
    return None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _polygon(obj: Any, index: int, resolve: Resolve) -> Polygon | str:
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    name = obj.get("label")
    if not isinstance(name, str):
        return f"expected 'label' to be a string, got {name!r}"
    label = resolve(name)
    if isinstance(label, str):
        return label
    vertices = obj.get("polygon")
    if not isinstance(vertices, list):
        return (
            f"expected 'polygon' to be a list of [x, y], got {type(vertices).__name__}"
        )
    points = []
    for number, vertex in enumerate(vertices):
        if not (
            isinstance(vertex, list)
            and len(vertex) == 2
            and all(_finite(c) for c in vertex)
        ):
            got = (
                f"a list of {len(vertex)} numbers (a flat coordinate list is "
                "a datumaro export, not this format)"
                if isinstance(vertex, list) and len(vertex) > 2
                else repr(vertex)
            )
            return (
                f"expected vertex {number} to be [x, y] (2 finite numbers), got {got}"
            )
        points.append((float(vertex[0]), float(vertex[1])))
    if len(points) < 3:
        return f"expected a polygon of at least 3 vertices, got {len(points)}"
    return Polygon(shapely.Polygon(points), label=label, convention="pil", key=index)


def _finite(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def read_polygon_samples(
    pairs: Iterable[Pair],
    *,
    root: Path,
    space: LabelSpace,
    ledger: Ledger,
    resolve: Resolve,
    size_keys: tuple[str, str] = ("imgHeight", "imgWidth"),
) -> list[Sample]:
    """One `Sample` per image whose polygon JSON file is usable.

    A file missing, or leading outside ``root``, is a skip of 0 annotations
    (nothing was read); an unreadable image skips every object of its file.
    """
    samples = []
    for pair in pairs:
        if not pair.annotation.is_file():
            ledger.skip(
                show(pair.image),
                f"no polygons: expected {show(pair.annotation)}",
                count=0,
            )
            continue
        problem = path_problem(root, pair)
        if problem is not None:
            ledger.skip(show(pair.annotation), problem, count=0)
            continue
        shape: tuple[int, int] | str
        try:
            shape = image_shape(pair.image)
        except FormatError as err:
            shape = f"image {message(err, pair.image)[1]}"
        polygons = read_polygon_json(
            pair.annotation,
            shape=shape,
            resolve=resolve,
            ledger=ledger,
            size_keys=size_keys,
        )
        if polygons is None or isinstance(shape, str):
            continue
        samples.append(
            Sample(
                key=pair.key,
                image=pair.image,
                shape=shape,
                annotations=tuple(polygons),
                source=space.name,
                split=pair.split,
            )
        )
    return samples
