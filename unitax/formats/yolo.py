"""YOLO text labels: Ultralytics ``data.yaml`` datasets and Darknet ``obj.data``.

Layouts (the root is the dataset folder; YAML/obj.data paths are relative
to it)::

    data.yaml                  # names (list or {id: name}), nc, train, val, test
    images/train/a.jpg         # a split is a folder, a list of folders,
    labels/train/a.txt         # or a .txt list of image paths

    obj.data                   # Darknet: classes, train, valid, names
    obj.names                  # one name per line; id = line index
    obj_train_data/a.jpg + a.txt

Without ``data.yaml`` or ``obj.data``, an ``obj.names`` beside an
``images/`` folder is read with each subfolder of ``images/`` as a split.

Paths follow Ultralytics: an image's labels are at the image path with its
last ``images`` folder replaced by ``labels`` and the suffix by ``.txt``
(the same folder if there is no ``images`` folder). A split path that does
not exist but starts with ``../`` is retried without it (Roboflow exports,
as Ultralytics does); Darknet paths starting with ``data/`` are retried
without it. The YAML's own ``path`` key is ignored: the root is given.

Each line of a label file is one annotation (``key`` = line number):

* ``class cx cy w h`` -> `Box` in pixels;
* ``class x1 y1 x2 y2 ... xn yn`` (n >= 3) -> `Polygon` with
  ``convention="pil"`` (Ultralytics fills polygons with ``cv2.fillPoly``,
  which, like PIL, includes boundary pixels).

Coordinates are fractions of the image size, so every image's header is
read (never its pixels); they must be finite and in 0..1. A missing or
empty label file is an image without annotations (a background image).

`write_yolo` (in `unitax.formats._yolo_write`, re-exported here) writes an
Ultralytics dataset that `read_yolo` reads back.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import shapely
import yaml

from unitax._files import read_text
from unitax._png import image_shape
from unitax.annotations import Annotation, Box, Dataset, Polygon, Sample
from unitax.errors import FormatError, UnitaxError
from unitax.formats._common import Errors, Ledger, inside
from unitax.formats._yolo_write import write_yolo
from unitax.labels import Label, LabelSpace

__all__ = ["read_yolo", "write_yolo"]

IMAGE_SUFFIXES = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp"}
)
"""Image file suffixes of Ultralytics (``IMG_FORMATS``) that PIL reads."""

_SPLITS = ("train", "val", "test")
_CLASS = re.compile(r"^\d+$")


def read_yolo(
    root: str | os.PathLike[str],
    *,
    data: str | os.PathLike[str] | None = None,
    label_space_name: str = "yolo",
    errors: Errors = "strict",
) -> Dataset:
    r"""Read a YOLO dataset (Ultralytics or Darknet layout).

    Parameters
    ----------
    root
        The dataset folder; every path in the description is relative to it.
    data
        The ``data.yaml`` (default ``root/data.yaml``, else ``root/obj.data``,
        else ``root/obj.names`` with ``root/images/<split>/``).
    label_space_name
        Name of the label space built from the class names.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        accounts for what it cannot use.

    Returns
    -------
    Dataset
        One sample per image (key: its path under the root), by split.

    Raises
    ------
    FormatError
        If the description is missing or broken, or (strict) for any
        unusable image or line; the message names the file and line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("images/train", "labels/train"):
    ...     (root / folder).mkdir(parents=True)
    >>> Image.new("RGB", (10, 5)).save(root / "images/train/a.jpg")
    >>> _ = (root / "labels/train/a.txt").write_text("1 0.5 0.5 0.2 0.4\n")
    >>> text = "train: images/train\nnames: [cat, dog]\n"
    >>> _ = (root / "data.yaml").write_text(text)
    >>> sample = read_yolo(root).samples[0]
    >>> sample.key, sample.split, sample.annotations[0].xyxy
    ('images/train/a.jpg', 'train', (4.0, 1.5, 6.0, 3.5))
    """
    root = Path(root)
    ledger = Ledger(errors)
    names, splits = _describe(root, None if data is None else Path(data), ledger)
    try:
        labels = tuple(Label(id=i, name=n) for i, n in names)
        space = LabelSpace(name=label_space_name, labels=labels)
    except UnitaxError as err:
        raise FormatError(f"{root}: class names: {err}") from err
    samples: list[Sample] = []
    seen: set[str] = set()
    for split, images in splits:
        for image in images:
            sample = _sample(root, image, split, space, ledger, seen)
            if sample is not None:
                samples.append(sample)
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


_Description = tuple[list[tuple[int, str]], list[tuple[str, list[Path]]]]


def _describe(root: Path, data: Path | None, ledger: Ledger) -> _Description:
    """Class names and, per split, the image paths."""
    if data is None and (root / "data.yaml").is_file():
        data = root / "data.yaml"
    if data is not None:
        return _ultralytics(root, data, ledger)
    if (root / "obj.data").is_file():
        return _darknet(root, root / "obj.data", ledger)
    if (root / "obj.names").is_file() and (root / "images").is_dir():
        names = _names_file(root / "obj.names")
        folders = sorted(p.name for p in (root / "images").iterdir() if p.is_dir())
        source = root / "obj.names"
        return names, [
            (s, _images(root, f"images/{s}", source, ledger)) for s in folders
        ]
    raise FormatError(
        f"{root}: expected a YOLO dataset description (data.yaml, obj.data, or "
        "obj.names with an images/ folder), got none"
    )


def _ultralytics(root: Path, data: Path, ledger: Ledger) -> _Description:
    text = read_text(data)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise FormatError(f"{data}: invalid YAML: {err}") from err
    if not isinstance(document, dict):
        raise FormatError(f"{data}: expected a mapping, got {type(document).__name__}")
    raw = document.get("names")
    if isinstance(raw, list):
        names = list(enumerate(raw))
    elif isinstance(raw, dict):
        names = list(raw.items())
    else:
        raise FormatError(f"{data}: names must be a list or a mapping, got {raw!r:.60}")
    if not all(type(i) is int and isinstance(n, str) for i, n in names):
        raise FormatError(f"{data}: names must map int ids to strings, got {raw!r:.60}")
    names.sort()
    if [i for i, _ in names] != list(range(len(names))):
        raise FormatError(
            f"{data}: class ids must be 0..{len(names) - 1}, got {raw!r:.60}"
        )
    count = document.get("nc", len(names))
    if count != len(names):
        raise FormatError(
            f"{data}: nc must equal the number of names {len(names)}, got {count!r}"
        )
    splits = []
    for split in _SPLITS:
        value = document.get(split)
        if value is None:
            continue
        entries = value if isinstance(value, list) else [value]
        if not all(isinstance(e, str) and e for e in entries):
            raise FormatError(
                f"{data}: {split} must be a path or a list of paths, got {value!r}"
            )
        found: list[Path] = []
        for entry in entries:
            fixed = (
                entry[3:]
                if entry.startswith("../") and not (root / entry).exists()
                else entry
            )
            found += _images(root, fixed, data, ledger)
        splits.append((split, found))
    return names, splits


def _darknet(root: Path, data: Path, ledger: Ledger) -> _Description:
    entries: dict[str, str] = {}
    for number, line in enumerate(read_text(data).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise FormatError(f"{data}:{number}: expected 'key = value', got {line!r}")
        entries[key.strip()] = value.strip()
    if "names" not in entries:
        raise FormatError(f"{data}: expected a 'names' entry, got {sorted(entries)}")
    names = _names_file(root / _darknet_path(root, entries["names"]))
    classes = entries.get("classes")
    if classes is not None and classes != str(len(names)):
        raise FormatError(
            f"{data}: classes must equal the number of names {len(names)}, "
            f"got {classes!r}"
        )
    splits: list[tuple[str, list[Path]]] = [
        (split, _images(root, _darknet_path(root, entries[split]), data, ledger))
        for split in ("train", "valid", "test")
        if split in entries
    ]
    return names, splits


def _darknet_path(root: Path, name: str) -> str:
    if name.startswith("data/") and not (root / name).exists():
        return name[5:]
    return name


def _names_file(path: Path) -> list[tuple[int, str]]:
    lines = read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return list(enumerate(line.strip() for line in lines))


def _images(root: Path, name: str, source: Path, ledger: Ledger) -> list[Path]:
    """The images of one split entry: a folder, or a .txt list of paths.

    A split that is missing (or leads outside the root) is an error in strict
    mode and skipped in lenient mode; its label files are never read.
    """
    where = f"{source}: split {name!r}"
    try:
        path = inside(root, name, where=where)
    except FormatError as err:
        ledger.skip(where, str(err).removeprefix(f"{where}: "), count=0)
        return []
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
    if path.suffix == ".txt" and path.is_file():
        found = []
        for number, line in enumerate(read_text(path).splitlines(), start=1):
            entry = line.strip()
            if entry:
                entry = _darknet_path(root, entry.removeprefix("./"))
                found.append(inside(root, entry, where=f"{path}:{number}"))
        return found
    ledger.skip(
        where, "must be a folder or a .txt list of images, got neither", count=0
    )
    return []


def _label_path(root: Path, image: Path) -> Path:
    relative = "/" + image.relative_to(root).as_posix()
    head, sep, tail = relative.rpartition("/images/")
    swapped = f"{head}/labels/{tail}" if sep else relative
    return root / Path(swapped.lstrip("/")).with_suffix(".txt")


def _sample(
    root: Path,
    image: Path,
    split: str,
    space: LabelSpace,
    ledger: Ledger,
    seen: set[str],
) -> Sample | None:
    key = image.relative_to(root).as_posix()
    label_path = _label_path(root, image)
    try:
        lines = list(_label_lines(label_path)) if label_path.is_file() else []
    except FormatError as err:  # unreadable: its lines cannot be counted
        ledger.skip(str(image), f"{err}; image left out", count=0)
        return None
    ledger.found(len(lines))
    try:
        inside(root, key, where=f"image {key}")
        if key in seen:
            raise FormatError(f"image {key}: listed twice")
        shape = image_shape(image)
    except FormatError as err:
        ledger.skip(str(image), f"{err} ({len(lines)} annotation(s))", count=len(lines))
        return None
    seen.add(key)
    built: list[Annotation] = []
    for number, tokens in lines:
        try:
            built.append(_annotation(tokens, number, shape, len(space.labels)))
        except FormatError as err:
            ledger.skip(f"{label_path}:{number}", str(err))
    return Sample(key, image, shape, tuple(built), space.name, split)


def _label_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        tokens = line.split()
        if tokens:
            yield number, tokens


def _annotation(
    tokens: list[str], number: int, shape: tuple[int, int], n_labels: int
) -> Annotation:
    if not _CLASS.match(tokens[0]) or int(tokens[0]) >= n_labels:
        raise FormatError(
            f"class must be an int in 0..{n_labels - 1}, got {tokens[0]!r}"
        )
    label = int(tokens[0])
    try:
        values = [float(v) for v in tokens[1:]]
    except ValueError:
        raise FormatError(f"coordinates must be numbers, got {tokens[1:]}") from None
    if not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
        raise FormatError(f"coordinates must be fractions in 0..1, got {tokens[1:]}")
    height, width = shape
    if len(values) == 4:
        cx, cy, w, h = values
        xyxy = (
            (cx - w / 2) * width,
            (cy - h / 2) * height,
            (cx + w / 2) * width,
            (cy + h / 2) * height,
        )
        return Box(xyxy, label, number)
    if len(values) < 6 or len(values) % 2:
        raise FormatError(
            "expected 'class cx cy w h' or 'class x1 y1 ... xn yn' with n >= 3 points, "
            f"got {len(values)} coordinates"
        )
    points = [
        (x * width, y * height) for x, y in zip(values[::2], values[1::2], strict=True)
    ]
    if len(set(points)) < 3:
        raise FormatError("a polygon must have at least 3 distinct points")
    return Polygon(shapely.Polygon(points), label, "pil", number)
