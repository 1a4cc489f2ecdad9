"""ADE20K SceneParsing (ADEChallengeData2016): 150 classes, uint8 PNGs.

Layout (as distributed)::

    root/images/{split}/ADE_{split}_{n}.jpg        # split: training, validation
    root/annotations/{split}/ADE_{split}_{n}.png   # 8-bit: 0 other, 1..150

Each PNG is referenced as ``Mask(path)`` in the built-in ``ade20k-150`` space,
whose label ids are the PNG values as stored: 0 ("other objects") is void and
the 150 classes keep ids 1..150. Nothing is shifted (no ``reduce_zero_label``).
Splits are the folders under ``root/annotations``; keys ``{split}/{stem}``.

The full ADE20K (2021 release, per-image JSON with 3,000+ names, parts and
instance masks) is a different format and is not read here.
"""

from __future__ import annotations

import os
from pathlib import Path

from unitax.annotations import Dataset
from unitax.builtin import builtin_label_space
from unitax.formats._common import Errors
from unitax.formats._dense import read_mask_folders

__all__ = ["read_ade20k"]

_LAYOUT = "ADEChallengeData2016 (annotations/{split}/*.png)"


def read_ade20k(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read the ADE20K SceneParsing benchmark (ADEChallengeData2016).

    Parameters
    ----------
    root
        The folder holding ``images`` and ``annotations``.
    split
        ``"training"`` or ``"validation"``; default: every split folder under
        ``root/annotations``.
    check_ids
        Also decode every PNG and check that its values are in ``ade20k-150``
        (0..150; one full decode per file).
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In the built-in ``ade20k-150`` space, one `Mask` per image.

    Raises
    ------
    FormatError
        Missing folders; in strict mode a missing PNG, a PNG that is not
        8-bit single-channel or not the image's size, a PNG without image, a
        file leading outside ``root``, ids above 150 (with ``check_ids``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("images/validation", "annotations/validation"):
    ...     (root / folder).mkdir(parents=True)
    >>> Image.new("RGB", (3, 2)).save(root / "images/validation/ADE_val_1.jpg")
    >>> Image.new("L", (3, 2), 150).save(root / "annotations/validation/ADE_val_1.png")
    >>> dataset = read_ade20k(root, check_ids=True)
    >>> dataset.label_space.name, dataset.samples[0].key, dataset.samples[0].shape
    ('ade20k-150', 'validation/ADE_val_1', (2, 3))
    """
    return read_mask_folders(
        Path(root),
        images=Path("images"),
        masks=Path("annotations"),
        split=split,
        space=builtin_label_space("ade20k-150"),
        errors=errors,
        check_ids=check_ids,
        layout=_LAYOUT,
        noun="annotation",
    )
