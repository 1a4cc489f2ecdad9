"""IDD (India Driving Dataset) segmentation: polygons and level label PNGs.

Layout (Cityscapes-style; images are ``.png`` or ``.jpg``)::

    root/leftImg8bit/{split}/{seq}/{frame}_leftImg8bit.png
    root/gtFine/{split}/{seq}/{frame}_gtFine_polygons.json
    root/gtFine/{split}/{seq}/{frame}_gtFine_label{level}s.png

The PNGs are made by IDD's ``createLabels.py`` (``--id-type``), which names
them ``_gtFine_label{id_type}s.png``: ``labelids`` for ``id``,
``labellevel3Ids`` for ``level3Id`` (its default), and so on.

=============  ==============  ============================================
``level``      label space     PNG values
=============  ==============  ============================================
``"id"``       ``idd``         0..39 (35 ``unlabeled`` is void)
``"level3Id"`` ``idd-level3``  0..25, 255 void
``"level2Id"`` ``idd-level2``  0..15, 255 void
``"level1Id"`` ``idd-level1``  0..6, 255 void
=============  ==============  ============================================

Polygons (``source="polygons"``) follow IDD's ``json2labelImg`` (a fork of
Cityscapes'): file order with later objects on top, ``"pil"`` convention,
``key`` = object index, ``deleted`` objects left out, ``cargroup``-style names
read without ``group``, ``unlabeled`` as the void id 35. They carry label
names, so they are read in the ``idd`` space (``level="id"``); the built-in
reductions to the coarser levels belong to `unitax.unify`.
Keys are ``{split}/{seq}/{frame}``; splits are the folders under ``gtFine``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from unitax.annotations import Dataset, Sample
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError
from unitax.formats._common import Errors, Ledger
from unitax.formats._dense import (
    ID8,
    Pair,
    check_choice,
    folder_splits,
    read_pairs,
    skip_orphans,
)
from unitax.formats._polygon_json import name_resolver, read_polygon_samples

__all__ = ["read_idd"]

Source = Literal["labels", "polygons"]
Level = Literal["id", "level3Id", "level2Id", "level1Id"]

_SPACES = {
    "id": "idd",
    "level3Id": "idd-level3",
    "level2Id": "idd-level2",
    "level1Id": "idd-level1",
}
_IMAGES = ("_leftImg8bit.png", "_leftImg8bit.jpg")
_LAYOUT = "IDD (gtFine/{split}/{seq}/*)"


def read_idd(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    source: Source = "labels",
    level: Level = "id",
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read the IDD segmentation dataset.

    Parameters
    ----------
    root
        The folder holding ``leftImg8bit`` and ``gtFine``.
    split
        ``"train"``, ``"val"``, ...; default: every split folder under
        ``root/gtFine``.
    source
        ``"labels"``: the PNGs made by ``createLabels.py``; ``"polygons"``:
        the ``*_gtFine_polygons.json`` files.
    level
        Which PNGs (``createLabels.py --id-type``) and label space; polygons
        need ``"id"``.
    check_ids
        Also decode every PNG and check its values against the label space
        (one full decode per file).
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In ``idd``, ``idd-level3``, ``idd-level2`` or ``idd-level1``.

    Raises
    ------
    ValueError
        For ``source="polygons"`` with a ``level`` other than ``"id"``.
    FormatError
        Missing folders; in strict mode a missing annotation file, a PNG that
        is not 8-bit single-channel or not the image's size, a file leading
        outside ``root``, invalid or non-UTF-8 JSON, an unknown label name, a
        bad polygon (with file, line and object index).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("leftImg8bit/val/7", "gtFine/val/7"):
    ...     (root / folder).mkdir(parents=True)
    >>> Image.new("RGB", (4, 3)).save(root / "leftImg8bit/val/7/000001_leftImg8bit.jpg")
    >>> _ = (root / "gtFine/val/7/000001_gtFine_polygons.json").write_text(json.dumps(
    ...     {"imgHeight": 3, "imgWidth": 4, "objects": [
    ...         {"label": "autorickshaw", "polygon": [[0, 0], [3, 0], [3, 2]]}]}))
    >>> polygon = read_idd(root, source="polygons").samples[0].annotations[0]
    >>> polygon.label, polygon.convention, polygon.key
    (11, 'pil', 0)
    """
    check_choice("source", source, Source)
    check_choice("level", level, Level)
    if source == "polygons" and level != "id":
        raise ValueError(
            f"polygons carry label names of the 'idd' space: level must be 'id', "
            f"got {level!r}"
        )
    root = Path(root)
    ledger = Ledger(errors)
    space = builtin_label_space(_SPACES[level])
    suffix = (
        "_gtFine_polygons.json"
        if source == "polygons"
        else f"_gtFine_label{level}s.png"
    )
    samples: list[Sample] = []
    for name in folder_splits(root / "gtFine", split, what="gtFine", layout=_LAYOUT):
        pairs = _pairs(root, name, suffix)
        if source == "polygons":
            resolve = name_resolver(
                space, void_names={"unlabeled": 35}, strip_group=True
            )
            samples += read_polygon_samples(
                pairs, root=root, space=space, ledger=ledger, resolve=resolve
            )
        else:
            samples += read_pairs(
                pairs,
                root=root,
                space=space,
                ledger=ledger,
                what=f"label{level}s PNG",
                modes=ID8,
                check_ids=check_ids,
            )
        found = (root / "gtFine" / name).glob(f"*/*{suffix}")
        skip_orphans(
            found,
            {p.annotation for p in pairs},
            ledger=ledger,
            what=suffix[1:],
            count=0 if source == "polygons" else 1,
        )
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _pairs(root: Path, split: str, suffix: str) -> list[Pair]:
    images = root / "leftImg8bit" / split
    if not images.is_dir():
        raise FormatError(f"{images}: expected the images of split {split!r}")
    pairs: dict[str, Pair] = {}
    for image in sorted(p for end in _IMAGES for p in images.glob(f"*/*{end}")):
        frame = image.name[: -len(_IMAGES[0])]
        key = f"{split}/{image.parent.name}/{frame}"
        if key in pairs:
            raise FormatError(f"{image}: two images for {key!r} (.png and .jpg)")
        annotation = root / "gtFine" / split / image.parent.name / f"{frame}{suffix}"
        pairs[key] = Pair(split, key, image, annotation)
    return [pairs[key] for key in sorted(pairs)]
