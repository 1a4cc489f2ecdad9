"""BDD100K semantic segmentation: 19 classes, uint8 PNGs of train ids.

Layout (as distributed)::

    root/images/10k/{split}/{name}.jpg               # split: train, val, test
    root/labels/sem_seg/masks/{split}/{name}.png     # 8-bit: 0..18, 255 void
    root/labels/sem_seg/colormaps/{split}/{name}.png # colours: not read

Each mask PNG is referenced as ``Mask(path)`` in the built-in ``bdd100k``
space (the 19 Cityscapes-style train ids; 255 is void). The colour maps are
renderings, not labels, and are ignored. Splits are the folders under
``labels/sem_seg/masks`` (the test split has none); keys ``{split}/{name}``.
"""

from __future__ import annotations

import os
from pathlib import Path

from unitax.annotations import Dataset
from unitax.builtin import builtin_label_space
from unitax.formats._common import Errors
from unitax.formats._dense import read_mask_folders

__all__ = ["read_bdd100k"]

_MASKS = Path("labels", "sem_seg", "masks")
_LAYOUT = "BDD100K (labels/sem_seg/masks/{split}/*.png)"


def read_bdd100k(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    check_ids: bool = False,
    errors: Errors = "strict",
) -> Dataset:
    """Read BDD100K semantic segmentation masks.

    Parameters
    ----------
    root
        The folder holding ``images/10k`` and ``labels/sem_seg``.
    split
        ``"train"`` or ``"val"``; default: every split folder under
        ``labels/sem_seg/masks``.
    check_ids
        Also decode every PNG and check that its values are in ``bdd100k``
        (0..18 and 255; one full decode per file).
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In the built-in ``bdd100k`` space, one `Mask` per image.

    Raises
    ------
    FormatError
        Missing folders; in strict mode a missing mask, a mask that is not
        8-bit single-channel or not the image's size, a mask without image,
        a file leading outside ``root``, ids outside the space (with
        ``check_ids``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for folder in ("images/10k/val", "labels/sem_seg/masks/val"):
    ...     (root / folder).mkdir(parents=True)
    >>> Image.new("RGB", (4, 2)).save(root / "images/10k/val/b1.jpg")
    >>> Image.new("L", (4, 2), 255).save(root / "labels/sem_seg/masks/val/b1.png")
    >>> read_bdd100k(root).samples[0].annotations[0].key
    'labels/sem_seg/masks/val/b1.png'
    """
    return read_mask_folders(
        Path(root),
        images=Path("images", "10k"),
        masks=_MASKS,
        split=split,
        space=builtin_label_space("bdd100k"),
        errors=errors,
        check_ids=check_ids,
        layout=_LAYOUT,
    )
