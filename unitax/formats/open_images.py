"""Open Images (V4 to V7): box, image-level label and segmentation CSVs.

Layout (the official files, or datumaro's export of them)::

    root/annotations/                 # or root itself
        oidv6-train-annotations-bbox.csv
        train-annotations-human-imagelabels.csv   (-boxable too)
        train-annotations-object-segmentation.csv
        image_ids_and_rotation.csv    # optional: ImageID -> Subset
    root/images/{split}/{ImageID}.jpg # or root/images/{ImageID}.jpg
    root/masks/{split}/{MaskPath}     # or root/masks/{MaskPath}

The split of a CSV comes from its name (``oidv6-train-...`` and
``train-...`` are ``train``; ``validation`` and ``test`` likewise; others
``""``), or from the image description CSVs' ``Subset``.

Annotations (``key`` = ``"file.csv:line"``, or the mask file name):

* Box rows: ``XMin, XMax, YMin, YMax`` are fractions of the image width and
  height, so a `Box` in pixels needs the image size: from ``sizes``
  (``{ImageID: (height, width)}``) if it has the image, else from the image
  file's header. An image with neither is skipped with all its annotations.
  ``Confidence`` must be a number in 0..1; ``IsGroupOf`` and the other flags
  are not kept (`Box` has no field for them).
* Image-level label rows: ``Confidence`` 1 is a positive `Tag`, 0 a verified
  negative (``Tag(positive=False)``); other values (machine-generated
  labels) are errors.
* Segmentation rows: the PNG is a full-image binary mask (not box-relative:
  the datumaro sample's 8 x 2 mask is its 8 x 2 image; ``BoxXMin`` ... only
  say which box it was drawn in). It becomes ``Mask(png, segments={1:
  label})``: pixel 1 is the label, 0 not annotated. Its header must say
  1-bit (mode ``"1"``) and the image's size; official masks at another
  resolution would need resampling, which `Mask` cannot express, so they are
  errors.

Labels are matched by MID (`Label.code`): the built-in ``openimages`` space
(the 601 boxable classes, with the hierarchy as ``parents``) unless
``label_space`` is given; `read_open_images_label_space` builds one from a
class-descriptions CSV and a hierarchy JSON.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from unitax._files import read_text
from unitax._png import image_shape
from unitax.annotations import Annotation, Box, Dataset, Mask, Sample, Tag
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError, UnitaxError
from unitax.formats._common import Errors, Ledger
from unitax.formats._open_images_csv import (
    _BOX,
    _LABEL,
    _MASK,
    _Image,
    _read_descriptions,
    _Rows,
)
from unitax.formats._paths import SafePaths
from unitax.labels import Label, LabelSpace

__all__ = ["read_open_images", "read_open_images_label_space"]

_SUFFIXES = (".jpg", ".jpeg", ".png")


def read_open_images(
    root: str | os.PathLike[str],
    *,
    images: str | os.PathLike[str] | None = None,
    masks: str | os.PathLike[str] | None = None,
    sizes: Mapping[str, tuple[int, int]] | None = None,
    label_space: LabelSpace | None = None,
    errors: Errors = "strict",
) -> Dataset:
    r"""Read the Open Images CSVs under ``root``.

    Parameters
    ----------
    root
        Folder holding the CSVs (directly or in ``annotations/``).
    images
        Image folder; default ``root/images`` (which must then stay inside
        ``root``: a symbolic link out of it is refused).
    masks
        Mask folder; default ``root/masks`` (likewise).
    sizes
        ``{ImageID: (height, width)}``; images found here are not opened.
    label_space
        Labels matched by MID (`Label.code`); default the built-in
        ``openimages``.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        accounts for what it cannot use.

    Returns
    -------
    Dataset
        One sample per image with annotations, in order of first mention.

    Raises
    ------
    FormatError
        If no annotation CSV is found, a CSV lacks a column, or (strict) on
        any unusable row; the message names the file and line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "train-annotations-human-imagelabels.csv").write_text(
    ...     "ImageID,Source,LabelName,Confidence\n"
    ...     "a1,verification,/m/0cmf2,1\n"
    ...     "a1,verification,/m/01g317,0\n")
    >>> dataset = read_open_images(root, sizes={"a1": (480, 640)})
    >>> [(t.label, t.positive) for t in dataset.samples[0].annotations]
    [(467, True), (68, False)]
    """
    root = Path(root)
    folder = root / "annotations" if (root / "annotations").is_dir() else root
    space = builtin_label_space("openimages") if label_space is None else label_space
    by_mid = {label.code: label.id for label in space.labels if label.code}
    if not by_mid:
        raise ValueError(
            f"label_space must give labels their MID in Label.code, got none in "
            f"{space.name!r}"
        )
    ledger = Ledger(errors)
    found: dict[str, _Image] = {}
    names = sorted(p.name for p in folder.glob("*.csv"))
    for name in names:
        if name == "image_ids_and_rotation.csv" or name.endswith("-with-rotation.csv"):
            _read_descriptions(folder / name, found, ledger)
    reader = _Rows(by_mid, ledger, found)
    kinds = (
        ("annotations-bbox.csv", _BOX, reader.box),
        ("annotations-object-segmentation.csv", _MASK, reader.mask),
    )
    read_any = False
    for name in names:
        handler = next((k for k in kinds if name.endswith(k[0])), None)
        if "annotations-human-imagelabels" in name:
            handler = ("", _LABEL, reader.tag)
        if handler is not None:
            read_any = True
            reader.read(folder / name, handler[1], handler[2])
    if not read_any:
        raise FormatError(
            f"{folder}: expected Open Images annotation CSVs (*-annotations-bbox.csv, "
            "*-annotations-human-imagelabels*.csv, *-annotations-object-segmentation"
            ".csv), got none"
        )
    image_root = (
        SafePaths(root, prefix="images/") if images is None else SafePaths(Path(images))
    )
    mask_root = (
        SafePaths(root, prefix="masks/") if masks is None else SafePaths(Path(masks))
    )
    samples = []
    for image_id, image in found.items():
        if not image.annotations:
            continue
        try:
            path, shape = _locate(image_root, image_id, image.split, sizes)
        except FormatError as err:
            ledger.skip(
                f"{folder}: image {image_id}",
                f"{err} ({len(image.annotations)} annotation(s) of this image)",
                count=len(image.annotations),
            )
            continue
        built = _build(image, shape, mask_root, ledger)
        samples.append(
            Sample(image_id, path, shape, tuple(built), space.name, image.split)
        )
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _locate(
    image_root: SafePaths,
    image_id: str,
    split: str,
    sizes: Mapping[str, tuple[int, int]] | None,
) -> tuple[Path, tuple[int, int]]:
    """The image's path (existing if possible) and its ``(height, width)``."""
    folders = [f"{split}/", ""] if split else [""]
    names = [
        f"{folder}{image_id}{suffix}" for folder in folders for suffix in _SUFFIXES
    ]
    where = f"image {image_id}"
    paths = [image_root(name, where=where) for name in names]
    existing = next((p for p in paths if p.is_file()), None)
    path = paths[0] if existing is None else existing
    if sizes is not None and image_id in sizes:
        height, width = sizes[image_id]
        if not (
            type(height) is int and type(width) is int and height > 0 and width > 0
        ):
            raise ValueError(
                f"sizes[{image_id!r}] must be 2 positive ints, got {sizes[image_id]!r}"
            )
        return path, (height, width)
    if existing is None:
        raise FormatError(
            f"image size unknown: no file {names[0]!r} (or .jpeg/.png) under "
            f"{image_root.folder} and no entry in sizes"
        )
    return path, image_shape(existing)


def _build(
    image: _Image, shape: tuple[int, int], mask_root: SafePaths, ledger: Ledger
) -> list[Annotation]:
    height, width = shape
    built: list[Annotation] = []
    for where, pending in image.annotations:
        if isinstance(pending, Tag):
            built.append(pending)
        elif pending[0] == "box":
            x0, y0, x1, y1 = pending[1]
            built.append(
                Box(
                    (x0 * width, y0 * height, x1 * width, y1 * height),
                    pending[2],
                    key=pending[3],
                )
            )
        else:
            try:
                built.append(
                    _mask(pending[1], pending[2], image.split, shape, mask_root, where)
                )
            except FormatError as err:
                ledger.skip(where, str(err).removeprefix(f"{where}: "))
    return built


def _mask(
    name: str,
    label: int,
    split: str,
    shape: tuple[int, int],
    mask_root: SafePaths,
    where: str,
) -> Mask:
    candidates = [f"{split}/{name}", name] if split else [name]
    paths = [mask_root(c, where=where) for c in candidates]
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        raise FormatError(f"mask {name!r} not found under {mask_root.folder}")
    try:
        with PILImage.open(path) as png:
            found, mode = (png.size[1], png.size[0]), png.mode
    except (OSError, PILImage.DecompressionBombError) as err:
        raise FormatError(f"{path}: cannot read image header: {err}") from err
    if mode != "1" or found != shape:
        raise FormatError(
            f"{name}: expected a 1-bit mask of the image's (height, width) {shape}, "
            f"got mode {mode!r} and {found} (masks at another resolution are not "
            "supported)"
        )
    return Mask(path, segments={1: label}, key=name)


def read_open_images_label_space(
    descriptions: str | os.PathLike[str],
    *,
    hierarchy: str | os.PathLike[str] | None = None,
    name: str = "openimages",
) -> LabelSpace:
    r"""Build an Open Images label space from a class-descriptions CSV.

    Parameters
    ----------
    descriptions
        ``MID,DisplayName`` rows, with or without a ``LabelName,DisplayName``
        header; label ids are the row positions (0, 1, ...), ``code`` the MID.
    hierarchy
        ``bbox_labels_600_hierarchy.json``: ``Subcategory`` edges between
        described MIDs become ``parents`` (``Part`` edges and nodes without a
        description, such as the root, are left out).
    name
        The label space's name.

    Raises
    ------
    FormatError
        If a file cannot be read, or the labels do not form a label space.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "classes.csv"
    >>> _ = path.write_text("/m/0cmf2,Airplane\n/m/0k5j,Aircraft\n")
    >>> space = read_open_images_label_space(path, name="toy")
    >>> space.by_name("Airplane").code
    '/m/0cmf2'
    """
    path = Path(descriptions)
    rows: list[tuple[int, str, str]] = []
    try:
        with path.open(encoding="utf-8", newline="") as file:
            for row in csv.reader(file):
                if not row or (not rows and row == ["LabelName", "DisplayName"]):
                    continue
                if len(row) != 2:
                    raise FormatError(
                        f"{path}: expected MID,DisplayName rows, got {row}"
                    )
                rows.append((len(rows), row[0], row[1]))
    except UnicodeDecodeError as err:
        raise FormatError(f"{path}: expected UTF-8 text, got {err.reason}") from err
    except OSError as err:
        raise FormatError(f"{path}: cannot read file: {err.strerror}") from err
    names = {mid: display for _, mid, display in rows}
    parents: dict[str, list[str]] = {}
    if hierarchy is not None:
        tree = _load_json(Path(hierarchy))
        for parent, child in _edges(tree, Path(hierarchy)):
            if (
                parent in names
                and child in names
                and names[parent] not in parents.get(child, [])
            ):
                parents.setdefault(child, []).append(names[parent])
    try:
        labels = tuple(
            Label(id=i, name=display, code=mid, parents=tuple(parents.get(mid, ())))
            for i, mid, display in rows
        )
        return LabelSpace(name=name, labels=labels, exhaustive=False)
    except UnitaxError as err:
        raise FormatError(f"{path}: {err}") from err


def _load_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FormatError(f"{path}:{err.lineno}: invalid JSON: {err.msg}") from err


def _edges(node: Any, path: Path) -> Iterator[tuple[str, str]]:
    """``(parent MID, child MID)`` along ``Subcategory`` lists."""
    stack = [node]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("LabelName"), str):
            raise FormatError(
                f"{path}: expected nodes with a LabelName, got {node!r:.60}"
            )
        children = node.get("Subcategory", [])
        if not isinstance(children, list):
            raise FormatError(
                f"{path}: Subcategory must be a list, got {children!r:.60}"
            )
        for child in children:
            if isinstance(child, dict) and isinstance(child.get("LabelName"), str):
                yield node["LabelName"], child["LabelName"]
            stack.append(child)
