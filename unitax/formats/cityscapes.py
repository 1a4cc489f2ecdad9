"""Cityscapes: gtFine/gtCoarse label PNGs and polygon JSON files.

Layout (as distributed)::

    root/leftImg8bit/{split}/{city}/{base}_leftImg8bit.png
    root/gtFine/{split}/{city}/{base}_gtFine_labelIds.png       # or gtCoarse
    root/gtFine/{split}/{city}/{base}_gtFine_instanceIds.png
    root/gtFine/{split}/{city}/{base}_gtFine_labelTrainIds.png
    root/gtFine/{split}/{city}/{base}_gtFine_polygons.json

(``labelTrainIds`` PNGs are made by cityscapesScripts'
``createTrainIdLabelImgs``.)

========================  ==================  ==============================
``source``                label space         annotation
========================  ==================  ==============================
``"labelIds"``            ``cityscapes``      `Mask` of the 8-bit PNG
``"labelTrainIds"``       ``cityscapes-19``   `Mask` of the 8-bit PNG (255 void)
``"instanceIds"``         ``cityscapes``      `Mask` with ``segments``
``"polygons"``            ``cityscapes``      one `Polygon` per object
========================  ==================  ==============================

* ``instanceIds`` PNGs (16-bit; 8-bit in some converted sets) store the label
  id for stuff and ``label id * 1000 + k`` for instances. A `Mask` divisor
  cannot express "divide only values >= 1000", so the reader decodes each
  PNG once to list its values and references it with
  ``segments = {value: label id}`` (one decode per file, as with
  ``check_ids=True``).
* Polygons follow cityscapesScripts' ``json2labelImg``: file order (later
  objects on top), ``"pil"`` convention, ``key`` = object index, ``deleted``
  objects left out, ``cargroup``-style names read as the label without
  ``group``, ``unlabeled`` as the void id 0. Unlike ``json2labelImg``, which
  never draws labels with a negative id, ``license plate`` polygons (id -1)
  are kept: map that label to ignore or to ``car``'s node to reproduce the
  official PNGs.
* Sample keys are ``{split}/{city}/{base}``; splits are the folders under
  ``root/gtFine`` (or ``gtCoarse``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from unitax._png import read_label_png
from unitax.annotations import Dataset, Mask, Sample
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError
from unitax.formats._common import Errors, Ledger
from unitax.formats._dense import (
    ID8,
    ID16,
    Pair,
    check_choice,
    folder_splits,
    message,
    read_pairs,
    relative,
    skip_orphans,
)
from unitax.formats._polygon_json import name_resolver, read_polygon_samples
from unitax.labels import LabelSpace

__all__ = ["read_cityscapes"]

Source = Literal["labelIds", "instanceIds", "labelTrainIds", "polygons"]
Annotations = Literal["gtFine", "gtCoarse"]

_SPACES = {
    "labelIds": "cityscapes",
    "instanceIds": "cityscapes",
    "labelTrainIds": "cityscapes-19",
    "polygons": "cityscapes",
}
_IMAGE = "_leftImg8bit.png"
_LAYOUT = "Cityscapes (leftImg8bit/{split}/{city}/*_leftImg8bit.png)"


def read_cityscapes(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    annotations: Annotations = "gtFine",
    source: Source = "labelIds",
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read a Cityscapes dataset.

    Parameters
    ----------
    root
        The folder holding ``leftImg8bit`` and ``gtFine`` / ``gtCoarse``.
    split
        One split (``"train"``, ``"val"``, ``"test"``, ``"train_extra"``);
        default: every split folder under ``root/{annotations}``.
    annotations
        ``"gtFine"`` or ``"gtCoarse"``.
    source
        Which annotation files to read (see the module docstring).
    check_ids
        Also decode every PNG and check that its ids are in the label space
        (one full decode per file: about as slow as reading the dataset once).
        Without it, masks are only checked from their PNG headers.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In the built-in ``cityscapes`` space (``cityscapes-19`` for
        ``labelTrainIds``), one sample per image with its mask or polygons.

    Raises
    ------
    FormatError
        Missing folders; in strict mode any problem with a file: a missing
        annotation file, a PNG of the wrong size or mode (8-bit ids expected,
        16-bit for ``instanceIds``), a file or link leading outside ``root``,
        invalid or non-UTF-8 JSON, an unknown label name, a bad polygon
        (the message names the file, line and object index).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder, name, mode in [("leftImg8bit", "leftImg8bit", "RGB"),
    ...                            ("gtFine", "gtFine_labelIds", "L")]:
    ...     (root / folder / "val" / "ulm").mkdir(parents=True)
    ...     Image.new(mode, (4, 2)).save(root / folder / "val" / "ulm" / f"ulm_1_{name}.png")
    >>> dataset = read_cityscapes(root)
    >>> sample = dataset.samples[0]
    >>> sample.key, sample.shape, sample.annotations[0].key
    ('val/ulm/ulm_1', (2, 4), 'gtFine/val/ulm/ulm_1_gtFine_labelIds.png')
    """  # noqa: E501
    check_choice("annotations", annotations, Annotations)
    check_choice("source", source, Source)
    root = Path(root)
    ledger = Ledger(errors)
    space = builtin_label_space(_SPACES[source])
    suffix = f"_{annotations}_{source}." + ("json" if source == "polygons" else "png")
    samples: list[Sample] = []
    for name in folder_splits(
        root / annotations, split, what=annotations, layout=_LAYOUT
    ):
        pairs = _pairs(root, annotations, name, suffix)
        if source == "polygons":
            samples += _read_polygons(pairs, root=root, space=space, ledger=ledger)
        else:
            samples += read_pairs(
                pairs,
                root=root,
                space=space,
                ledger=ledger,
                what=f"{source} PNG",
                modes=ID8 + ID16 if source == "instanceIds" else ID8,
                check_ids=check_ids,
                make_mask=_instances(root) if source == "instanceIds" else None,
            )
        found = (root / annotations / name).glob(f"*/*{suffix}")
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


def _pairs(root: Path, annotations: str, split: str, suffix: str) -> list[Pair]:
    images = root / "leftImg8bit" / split
    if not images.is_dir():
        raise FormatError(f"{images}: expected the images of split {split!r}")
    pairs = []
    for image in sorted(images.glob(f"*/*{_IMAGE}")):
        city = image.parent.name
        base = image.name[: -len(_IMAGE)]
        annotation = root / annotations / split / city / f"{base}{suffix}"
        pairs.append(Pair(split, f"{split}/{city}/{base}", image, annotation))
    return pairs


def _instances(root: Path) -> Callable[[Pair, tuple[int, int]], Mask | str]:
    """Reference an instanceIds PNG with ``segments`` {value: label id}."""

    def make(pair: Pair, shape: tuple[int, int]) -> Mask | str:
        try:
            values = np.unique(read_label_png(pair.annotation, shape=shape))
        except FormatError as err:
            return message(err, pair.annotation)[1]
        segments = {int(v): int(v) // 1000 if v >= 1000 else int(v) for v in values}
        return Mask(
            pair.annotation, segments=segments, key=relative(root, pair.annotation)
        )

    return make


def _read_polygons(
    pairs: list[Pair], *, root: Path, space: LabelSpace, ledger: Ledger
) -> list[Sample]:
    resolve = name_resolver(space, void_names={"unlabeled": 0}, strip_group=True)
    return read_polygon_samples(
        pairs, root=root, space=space, ledger=ledger, resolve=resolve
    )
