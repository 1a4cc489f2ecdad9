"""LabelMe JSON (wkentaro/labelme): one JSON file per image.

Every ``*.json`` under the root (recursively, sorted) is one sample; its
``imagePath`` is relative to the JSON's folder (backslashes read as ``/``)
and must stay under the root; ``imageHeight`` and ``imageWidth`` give the
shape. ``imageData`` is never decoded. The sample key is the JSON path
relative to the root, without ``.json``.

Shapes, in file order (``key`` = index in ``shapes``):

=============  ============================================================
shape_type     annotation
=============  ============================================================
polygon        `Polygon`, ``convention="pil"`` (labelme's ``shape_to_mask``
               draws with ``PIL.ImageDraw``)
rectangle      `Box` of the two corners (labelme fills with PIL, edges
               included; `Box` uses the pixel-centre rule)
circle         `Polygon` of the disc: centre = first point, radius = distance
               to the second, approximated with ``QUAD_SEGS`` = 64 segments
               per quarter (256 vertices: radial error < 1e-4 of the radius,
               under 0.1 px below radius 1,000); labelme draws a PIL ellipse
mask           `Mask` (an in-memory ``(H, W)`` uint8 array in the image
               frame, ``segments={1: label}``): the base64 PNG bitmap is
               placed at ``int(x1), int(y1)`` of the first point and must
               span to the second point inclusive, as in labelme's
               ``shapes_to_label``
line,          no area: skipped (an error in strict mode)
linestrip,
point, points
=============  ============================================================

Shapes with the same ``label`` and ``group_id`` are one instance (labelme's
``shapes_to_label``): their polygons, rectangles and circles become one
`Polygon` whose ``MultiPolygon`` parts are united; one annotation is counted
for the group (key: index of its first shape).

Image ``flags`` become `Tag` s: ``true`` is positive, ``false`` a verified
negative (labelme writes every flag of its ``--flags`` list in every file,
so ``false`` is the annotator's "no"). An image flagged ``__ignore__`` is
left out with all its annotations (recorded in `Dataset.skipped`, in strict
mode too: it is the annotator's instruction, not a format error).

Labels: from a ``labels.txt`` (``labels=``; as ``labelme2voc``: if the first
line is ``__ignore__`` the ids start at -1, so ``__ignore__`` is -1 and
``_background_`` 0), from a given ``label_space``, or else the names found
(shapes and flags), sorted, with ids 0, 1, .... The label ``__ignore__``
marks regions to ignore: it is the space's void id (-1, or the single void
id of a given space), which rasterises to ignore.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from PIL import Image as PILImage

from unitax._files import read_text
from unitax.annotations import (
    Annotation,
    Box,
    Dataset,
    Mask,
    Polygon,
    Sample,
    Skip,
    Tag,
)
from unitax.errors import FormatError, UnitaxError
from unitax.formats._common import Errors, Ledger
from unitax.formats._labelme_parse import _File, _parse, _Shape
from unitax.labels import Label, LabelSpace

__all__ = ["QUAD_SEGS", "read_labelme"]

QUAD_SEGS = 64
"""Segments per quarter circle of a LabelMe circle's polygon."""

IGNORE = "__ignore__"
_NO_AREA = ("line", "linestrip", "point", "points")
_AREA = ("polygon", "rectangle", "circle")


def read_labelme(
    root: str | os.PathLike[str],
    *,
    labels: str | os.PathLike[str] | None = None,
    label_space: LabelSpace | None = None,
    label_space_name: str = "labelme",
    errors: Errors = "strict",
) -> Dataset:
    """Read the LabelMe JSON files under ``root``.

    Parameters
    ----------
    root
        Folder searched recursively for ``*.json``.
    labels
        A ``labels.txt`` (one name per line) giving the label ids.
    label_space
        Use this space (labels by name); not together with ``labels``.
    label_space_name
        Name of the space read from ``labels`` or built from the names found.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        accounts for what it cannot use.

    Returns
    -------
    Dataset
        One sample per usable JSON file, in path order.

    Raises
    ------
    FormatError
        For an unreadable file, or (strict) any unusable shape or flag; the
        message names the file and the shape index.
    ValueError
        If both ``labels`` and ``label_space`` are given.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> shapes = [
    ...     {"label": "cat", "shape_type": "polygon", "group_id": None,
    ...      "points": [[0, 0], [4, 0], [4, 3]]},
    ...     {"label": "cat", "shape_type": "rectangle", "group_id": None,
    ...      "points": [[5, 1], [2, 0]]},
    ... ]
    >>> document = {"shapes": shapes, "flags": {}, "imagePath": "a.jpg",
    ...             "imageHeight": 4, "imageWidth": 6}
    >>> _ = (root / "a.json").write_text(json.dumps(document))
    >>> sample = read_labelme(root).samples[0]
    >>> sample.key, [type(a).__name__ for a in sample.annotations]
    ('a', ['Polygon', 'Box'])
    >>> sample.annotations[1].xyxy
    (2.0, 0.0, 5.0, 1.0)
    """
    if labels is not None and label_space is not None:
        raise ValueError("give labels or label_space, not both")
    root = Path(root)
    ledger = Ledger(errors)
    files = [
        parsed
        for path in sorted(root.rglob("*.json"))
        if (parsed := _parse(path, root, ledger)) is not None
    ]
    if label_space is not None:
        space = label_space
    elif labels is not None:
        space = _read_labels(Path(labels), label_space_name)
    else:
        space = _found_space(files, label_space_name)
    ids = {label.name: label.id for label in space.labels}
    if len(space.void) == 1:
        ids[IGNORE] = next(iter(space.void))
    samples = []
    for file in files:
        built = _Builder(file, ids, ledger).build()
        if built is not None:
            samples.append(
                Sample(file.key, file.image, file.shape, tuple(built), space.name)
            )
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _read_labels(path: Path, name: str) -> LabelSpace:
    lines = read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    names = [line.strip() for line in lines]
    start = -1 if names[:1] == [IGNORE] else 0
    labels = []
    for number, label in enumerate(names, start=1):
        if not label or (label == IGNORE and number > 1):
            raise FormatError(
                f"{path}:{number}: expected a label name ({IGNORE!r} only on line 1), "
                f"got {lines[number - 1]!r}"
            )
        if label != IGNORE:
            labels.append(Label(id=number - 1 + start, name=label))
    try:
        return LabelSpace(
            name=name, labels=tuple(labels), void=frozenset({-1} if start else ())
        )
    except UnitaxError as err:
        raise FormatError(f"{path}: {err}") from err


def _found_space(files: list[_File], name: str) -> LabelSpace:
    names = {s.label for f in files for s in f.shapes} | {
        flag for f in files for flag in f.flags
    }
    ignore = IGNORE in names
    found = sorted(names - {IGNORE})
    labels = tuple(Label(id=i, name=n) for i, n in enumerate(found))
    try:
        return LabelSpace(
            name=name, labels=labels, void=frozenset({-1} if ignore else ())
        )
    except UnitaxError as err:
        raise FormatError(f"label names found in the JSON files: {err}") from err


class _Builder:
    """One file's shapes and flags -> annotations."""

    def __init__(self, file: _File, ids: dict[str, int], ledger: Ledger) -> None:
        self.file, self.ids, self.ledger = file, ids, ledger

    def skip(self, where: str, reason: str) -> None:
        self.ledger.skip(f"{self.file.path}: {where}", reason)

    def build(self) -> list[Annotation] | None:
        file = self.file
        instances = list(_instances(file.shapes))
        flags = [(n, v) for n, v in file.flags.items() if n != IGNORE]
        self.ledger.found(len(instances) + len(flags))
        if file.flags.get(IGNORE):
            count = len(instances) + len(flags)
            self.ledger.skipped.append(
                Skip(str(file.path), f"image flagged {IGNORE!r}: left out", count)
            )
            return None
        built: list[Annotation] = []
        for parts in instances:
            where = _where(parts)
            label = self.ids.get(parts[0].label)
            if label is None:
                self.skip(where, f"label {parts[0].label!r} is not in the label space")
                continue
            try:
                built.append(self._instance(parts, label))
            except FormatError as err:
                self.skip(where, str(err))
        for name, value in flags:
            label = self.ids.get(name)
            if label is None:
                self.skip(f"flags.{name}", f"flag {name!r} is not in the label space")
                continue
            built.append(Tag(label, positive=value, key=f"flags.{name}"))
        return built

    def _instance(self, parts: list[_Shape], label: int) -> Annotation:
        first = parts[0]
        if len(parts) == 1 and first.kind == "rectangle":
            (x0, y0), (x1, y1) = _exactly(first, 2)
            return Box(
                (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), label, first.index
            )
        if len(parts) == 1 and first.kind == "mask":
            return Mask(self._mask(first), segments={1: label}, key=first.index)
        geometries = [_geometry(part) for part in parts]
        geometry = (
            geometries[0] if len(geometries) == 1 else shapely.MultiPolygon(geometries)
        )
        return Polygon(geometry, label, "pil", first.index)

    def _mask(self, shape: _Shape) -> np.ndarray[Any, np.dtype[np.uint8]]:
        (x1, y1), (x2, y2) = ((int(x), int(y)) for x, y in _exactly(shape, 2))
        height, width = self.file.shape
        size = (y2 - y1 + 1, x2 - x1 + 1)
        if not (0 <= x1 <= x2 < width and 0 <= y1 <= y2 < height):
            raise FormatError(
                f"mask corners {(x1, y1)}, {(x2, y2)} must lie inside the "
                f"{self.file.shape} image"
            )
        if not isinstance(shape.mask, str):
            raise FormatError(
                f"mask must be a base64 PNG string, got {shape.mask!r:.40}"
            )
        try:
            with PILImage.open(
                io.BytesIO(base64.b64decode(shape.mask, validate=True))
            ) as png:
                found = (png.size[1], png.size[0])
                if found != size or png.mode not in ("1", "L", "P"):
                    raise FormatError(
                        f"mask PNG must be a single-channel {size} bitmap spanning the "
                        f"points, got mode {png.mode!r} and {found}"
                    )
                bitmap = np.asarray(png) != 0
        except (OSError, binascii.Error, ValueError) as err:
            if isinstance(err, FormatError):
                raise
            raise FormatError(f"mask must be a base64 PNG: {err}") from err
        frame = np.zeros((height, width), dtype=np.uint8)
        frame[y1 : y2 + 1, x1 : x2 + 1] = bitmap
        return frame


def _instances(shapes: tuple[_Shape, ...]) -> Iterator[list[_Shape]]:
    """Shapes grouped as labelme does: same label and group_id -> one instance."""
    groups: dict[tuple[str, object], list[_Shape]] = {}
    order: list[list[_Shape]] = []
    for shape in shapes:
        if shape.group is None:
            order.append([shape])
            continue
        key = (shape.label, shape.group)
        if key not in groups:
            groups[key] = []
            order.append(groups[key])
        groups[key].append(shape)
    yield from order


def _where(parts: list[_Shape]) -> str:
    if len(parts) == 1:
        return f"shapes[{parts[0].index}]"
    indices = ", ".join(str(p.index) for p in parts)
    return f"shapes[{indices}] (group_id {parts[0].group})"


def _exactly(shape: _Shape, count: int) -> list[tuple[float, float]]:
    if len(shape.points) != count:
        raise FormatError(
            f"a {shape.kind} must have {count} points, got {len(shape.points)}"
        )
    return shape.points


def _geometry(shape: _Shape) -> shapely.Polygon:
    """The region of a polygon, rectangle or circle."""
    if shape.kind in _NO_AREA:
        raise FormatError(f"shape_type {shape.kind!r} has no area")
    if shape.kind not in _AREA:
        choices = (*_AREA, "mask", *_NO_AREA)
        if shape.kind == "mask":
            raise FormatError("a mask cannot be grouped with other shapes")
        raise FormatError(f"shape_type must be one of {choices}, got {shape.kind!r}")
    if shape.kind == "rectangle":
        (x0, y0), (x1, y1) = _exactly(shape, 2)
        return shapely.box(x0, y0, x1, y1)
    if shape.kind == "circle":
        (cx, cy), (px, py) = _exactly(shape, 2)
        radius = math.hypot(px - cx, py - cy)
        if radius == 0:
            raise FormatError("a circle must have a positive radius, got 0")
        return shapely.Point(cx, cy).buffer(radius, quad_segs=QUAD_SEGS)
    if len(set(shape.points)) < 3:
        raise FormatError(
            f"a polygon must have at least 3 distinct points, got {len(shape.points)}"
        )
    return shapely.Polygon(shape.points)
