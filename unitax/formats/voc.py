"""Pascal VOC: palette PNG segmentation and XML boxes.

Layout (``VOCdevkit/VOC2012`` as distributed)::

    root/JPEGImages/{id}.jpg
    root/SegmentationClass/{id}.png        # palette PNG: index = label id
    root/Annotations/{id}.xml              # boxes
    root/ImageSets/Segmentation/{set}.txt  # one image id per line
    root/ImageSets/Main/{set}.txt

Segmentation: each PNG is referenced as ``Mask(path)`` in the built-in
``pascal-voc`` space (0 background ... 20 tvmonitor, 255 void for object
borders and difficult regions). The *palette indices* are the ids, so the
PNG must be a palette (``P``) or grey (``L``) image; a PNG converted to RGB
has lost them and is refused.

Detection: one `Box` per ``<object>`` in file order, ``key`` = object
index, label by ``<name>`` in ``pascal-voc``. VOC coordinates are 1-based
inclusive pixel indices; unitax's pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``, so ``xmin, ymin, xmax, ymax`` become
``(xmin - 1, ymin - 1, xmax, ymax)``: ``xmin = 1`` is ``x_min = 0.0`` and
``xmax = 500`` is ``x_max = 500.0``. (Tools that write 0-based coordinates
in VOC files, such as labelme's ``labelme2voc``, come out one pixel larger
at the top left.) ``difficult`` and ``truncated`` objects are kept: the
label is right, only the evaluation protocol leaves them out, and `Box` has
no field to carry the flags. ``<part>`` boxes (person layout) are not read.
The image size is taken from the JPEG header and must equal ``<size>``.

Splits: with ``image_set`` given, exactly the ids in
``ImageSets/{Segmentation|Main}/{image_set}.txt`` (split = the set name);
without it, every annotation file, with the split ``train``, ``val`` or
``test`` whose list names it (``""`` if none does).
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

from unitax._files import read_text
from unitax._png import image_shape
from unitax.annotations import Box, Dataset, Sample
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError, did_you_mean
from unitax.formats._common import Errors, Ledger, inside
from unitax.formats._dense import (
    ID8,
    Pair,
    check_choice,
    message,
    path_problem,
    read_pairs,
    show,
)
from unitax.labels import LabelSpace

__all__ = ["read_voc"]

Task = Literal["segmentation", "detection"]

_FOLDERS = {"segmentation": ("SegmentationClass", ".png", "Segmentation")}
_FOLDERS["detection"] = ("Annotations", ".xml", "Main")
_RGB_HINT = (
    ": the palette was lost (the PNG was converted to RGB, so pixel values are "
    "colours, not label ids); use the original SegmentationClass PNGs"
)


def read_voc(
    root: str | os.PathLike[str],
    *,
    task: Task = "segmentation",
    image_set: str | None = None,
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read a Pascal VOC dataset.

    Parameters
    ----------
    root
        The folder holding ``JPEGImages`` (``VOCdevkit/VOC2012``).
    task
        ``"segmentation"`` (``SegmentationClass`` PNGs) or ``"detection"``
        (``Annotations`` XML boxes).
    image_set
        A set name such as ``"train"``, ``"val"``, ``"trainval"``; default:
        every annotation file (see the module docstring).
    check_ids
        Segmentation: also decode every PNG and check its ids against
        ``pascal-voc`` (one full decode per file).
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In the built-in ``pascal-voc`` space.

    Raises
    ------
    FormatError
        Missing folders or set file; in strict mode any problem: a missing
        annotation or image, a PNG that is RGB (palette lost), 16-bit or of
        the wrong size, invalid XML, an unknown class name, a bad box, an
        image id leading outside ``root`` (with file and line or object).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "JPEGImages").mkdir(); (root / "Annotations").mkdir()
    >>> Image.new("RGB", (500, 375)).save(root / "JPEGImages" / "a.jpg")
    >>> _ = (root / "Annotations" / "a.xml").write_text(
    ...     "<annotation><object><name>dog</name><bndbox><xmin>1</xmin>"
    ...     "<ymin>11</ymin><xmax>500</xmax><ymax>200</ymax></bndbox>"
    ...     "</object></annotation>")
    >>> read_voc(root, task="detection").samples[0].annotations
    (Box(xyxy=(0.0, 10.0, 500.0, 200.0), label=12, key=0),)
    """
    check_choice("task", task, Task)
    root = Path(root)
    if not (root / "JPEGImages").is_dir():
        raise FormatError(f"{root}: expected a VOC folder holding JPEGImages/")
    folder, suffix, sets = _FOLDERS[task]
    if not (root / folder).is_dir():
        raise FormatError(f"{root / folder}: expected the {task} annotations")
    ledger = Ledger(errors)
    space = builtin_label_space("pascal-voc")
    pairs = [
        Pair(
            split,
            name,
            root / "JPEGImages" / f"{name}.jpg",
            root / folder / f"{name}{suffix}",
        )
        for name, split in _image_ids(root, sets, image_set, folder, suffix, ledger)
    ]
    if task == "segmentation":
        samples = read_pairs(
            pairs,
            root=root,
            space=space,
            ledger=ledger,
            what="SegmentationClass PNG",
            modes=ID8,
            check_ids=check_ids,
            hints={"RGB": _RGB_HINT, "RGBA": _RGB_HINT},
        )
    else:
        samples = [s for pair in pairs if (s := _boxes(pair, root, space, ledger))]
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _image_ids(
    root: Path,
    sets: str,
    image_set: str | None,
    folder: str,
    suffix: str,
    ledger: Ledger,
) -> list[tuple[str, str]]:
    """``(image id, split)`` in order: from a set file, or every annotation file."""
    lists = root / "ImageSets" / sets
    if image_set is not None:
        path = lists / f"{image_set}.txt"
        if not path.is_file():
            found = (
                sorted(p.stem for p in lists.glob("*.txt")) if lists.is_dir() else []
            )
            raise FormatError(
                f"{path}: expected the image set {image_set!r}, got sets {found}"
            )
        return [(name, image_set) for name in _read_set(root, path, ledger)]
    splits: dict[str, str] = {}
    for split in ("train", "val", "test"):
        if (lists / f"{split}.txt").is_file():
            for name in _read_set(root, lists / f"{split}.txt", ledger):
                splits.setdefault(name, split)
    names = sorted(p.name[: -len(suffix)] for p in (root / folder).glob(f"*{suffix}"))
    return [(name, splits.get(name, "")) for name in names]


def _read_set(root: Path, path: Path, ledger: Ledger) -> list[str]:
    """Image ids of a set file; ids leading outside ``root`` are skipped."""
    names: list[str] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        name = line.split()[0] if line.split() else ""
        if not name:
            continue
        where = f"{show(path)}:{number}"
        if "/" in name or "\\" in name or name in (".", ".."):
            ledger.skip(where, f"image id {name!r} must be a plain file name", count=0)
            continue
        try:
            inside(root, f"JPEGImages/{name}.jpg", where=where)
        except FormatError as err:
            ledger.skip(where, str(err).removeprefix(f"{where}: "), count=0)
            continue
        if name in names:
            ledger.skip(where, f"duplicate image id {name!r}", count=0)
            continue
        names.append(name)
    return names


def _boxes(pair: Pair, root: Path, space: LabelSpace, ledger: Ledger) -> Sample | None:
    where = show(pair.annotation)
    if not pair.annotation.is_file():
        ledger.skip(show(pair.image), f"no XML annotation: expected {where}", count=0)
        return None
    problem = path_problem(root, pair)
    if problem is not None:
        ledger.skip(where, problem, count=0)
        return None
    try:
        annotation = ET.parse(pair.annotation).getroot()
    except ET.ParseError as err:
        ledger.skip(f"{where}:{err.position[0]}", f"invalid XML: {err}", count=0)
        return None
    objects = annotation.findall("object")
    ledger.found(len(objects))
    try:
        shape = image_shape(pair.image)
    except FormatError as err:
        problem = f"image {message(err, pair.image)[1]}"
    else:
        problem = _size_problem(annotation, shape)
    if annotation.tag != "annotation":
        problem = f"expected root element <annotation>, got <{annotation.tag}>"
    if problem is not None:
        ledger.skip(where, problem, count=len(objects))
        return None
    boxes = []
    for index, element in enumerate(objects):
        box = _box(element, index, space, shape)
        if isinstance(box, str):
            ledger.skip(f"{where}: object {index}", box)
        else:
            boxes.append(box)
    return Sample(
        key=pair.key,
        image=pair.image,
        shape=shape,
        annotations=tuple(boxes),
        source=space.name,
        split=pair.split,
    )


def _number(element: ET.Element | None, tag: str) -> float | None:
    text = element.findtext(tag) if element is not None else None
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _size_problem(annotation: ET.Element, shape: tuple[int, int]) -> str | None:
    size = annotation.find("size")
    if (
        size is None
        or size.find("width") is None
        or not (size.findtext("width") or "").strip()
    ):
        return None  # no size stored (labelme writes empty tags): the header decides
    height, width = _number(size, "height"), _number(size, "width")
    if height is None or width is None:
        got = (size.findtext("width"), size.findtext("height"))
        return f"expected numeric <size> width and height, got {got}"
    if (height, width) != shape:
        stored = (int(height), int(width))
        return f"expected the image's (height, width) {shape}, got {stored} from <size>"
    return None


def _box(
    element: ET.Element, index: int, space: LabelSpace, shape: tuple[int, int]
) -> Box | str:
    name = (element.findtext("name") or "").strip()
    labels = {label.name: label.id for label in space.labels}
    if name not in labels:
        return f"class {name!r} is not a label of {space.name!r}" + did_you_mean(
            name, labels
        )
    bndbox = element.find("bndbox")
    values = [_number(bndbox, tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
    if bndbox is None or any(v is None for v in values):
        return "expected <bndbox> with numeric xmin, ymin, xmax, ymax"
    xmin, ymin, xmax, ymax = (float(v) for v in values if v is not None)
    if xmin > xmax or ymin > ymax:
        return f"expected xmin <= xmax and ymin <= ymax, got {(xmin, ymin, xmax, ymax)}"
    height, width = shape
    if xmin - 1 >= width or ymin - 1 >= height or xmax <= 0 or ymax <= 0:
        return (
            f"box {(xmin, ymin, xmax, ymax)} lies outside the image "
            f"(width {width}, height {height})"
        )
    return Box((xmin - 1, ymin - 1, xmax, ymax), label=labels[name], key=index)
