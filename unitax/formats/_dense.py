"""Label images referenced by path: pairing, header checks, optional id checks.

The mask-folder readers (Cityscapes, Vistas, VOC, ADE20K, IDD, BDD100K)
share this. An image and its annotation file form a `Pair`. A label PNG is
checked from its header only (it exists, stays inside the root, has the
image's size, a mode the format allows and at most ``MAX_PIXELS`` pixels) and
is referenced as a `Mask`; it is decoded only with ``check_ids=True``, which
also checks its values against the label space.

Accounting: one annotation file is one annotation. An image without its
annotation file is recorded as a skip of 0 annotations (nothing was read);
an annotation file without its image counts as read and skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
from PIL import Image

from unitax import _png
from unitax._png import image_shape, read_label_png
from unitax.annotations import Dataset, Mask, Sample
from unitax.errors import FormatError
from unitax.formats._common import Errors, Ledger, inside
from unitax.labels import LabelSpace

__all__ = [
    "ID8",
    "ID16",
    "RGB",
    "Pair",
    "check_choice",
    "folder_splits",
    "id_problem",
    "message",
    "path_problem",
    "png_problem",
    "read_pairs",
    "relative",
    "show",
    "skip_orphans",
    "stem_pairs",
]

ID8 = ("L", "P")
"""PIL modes of 8-bit single-channel label PNGs (grey or palette)."""
ID16 = ("I;16", "I")
"""PIL modes of 16-bit grey PNGs (Pillow opens them as ``I;16``, older as ``I``)."""
RGB = ("RGB",)
"""PIL mode of panoptic PNGs (ids coded as ``R + 256 G + 256² B``)."""

_BITS = {"L": "8-bit", "P": "8-bit palette", "I;16": "16-bit", "I": "32-bit"}


@dataclass(frozen=True, slots=True)
class Pair:
    """An image and the annotation file expected for it (which may be absent)."""

    split: str
    key: str
    image: Path
    annotation: Path


def check_choice(name: str, value: object, choices: object) -> None:
    """Raise `ValueError` listing the choices if ``value`` is not one of them.

    ``choices`` is a ``Literal[...]`` type.
    """
    options = get_args(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def show(path: Path) -> str:
    """``path`` as text; names that are not valid UTF-8 show their bytes."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return repr(os.fsencode(path))
    return text


def message(err: FormatError, path: Path) -> tuple[str, str]:
    """Split a `FormatError` about ``path`` into ``(where, reason)``."""
    text = str(err)
    prefix = str(path)
    if text.startswith(prefix):
        rest = text[len(prefix) :]
        cut = rest.find(": ")
        if cut >= 0:
            return show(path) + rest[:cut], rest[cut + 2 :]
    return show(path), text


def folder_splits(
    folder: Path, split: str | None, *, what: str, layout: str
) -> list[str]:
    """The split folders under ``folder`` (all, sorted, or the one asked for).

    Raises
    ------
    FormatError
        If ``folder`` is missing, holds no split folder, or lacks ``split``.
    """
    if not folder.is_dir():
        raise FormatError(f"{folder}: expected the {what} folder of {layout}")
    found = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if split is None:
        if not found:
            raise FormatError(f"{folder}: expected split folders, found none")
        return found
    if split not in found:
        raise FormatError(
            f"{folder}: expected a folder for split {split!r}, got splits {found}"
        )
    return [split]


def png_problem(
    path: Path,
    *,
    shape: tuple[int, int],
    modes: Sequence[str],
    hints: Mapping[str, str] | None = None,
    max_pixels: int | None = None,
) -> str | None:
    """Why the label PNG at ``path`` is unusable, from its header; else None.

    ``max_pixels`` defaults to `unitax._png.MAX_PIXELS`.
    """
    if max_pixels is None:
        max_pixels = _png.MAX_PIXELS
    try:
        with Image.open(path) as image:
            width, height = image.size
            mode = image.mode
            kind = image.format
    except (OSError, Image.DecompressionBombError) as err:
        return f"cannot read PNG header: {err}"
    if kind != "PNG":
        return f"expected a PNG file, got {kind or 'an unknown format'}"
    if width * height > max_pixels:
        return (
            f"expected at most {max_pixels} pixels, got {width} x {height} = "
            f"{width * height} (refused before decoding)"
        )
    if mode not in modes:
        expected = " or ".join(f"{m!r} ({_BITS.get(m, m)})" for m in modes)
        hint = (hints or {}).get(mode, "")
        got = f"{mode!r} ({_BITS[mode]})" if mode in _BITS else repr(mode)
        return f"expected PNG mode {expected}, got mode {got}{hint}"
    if (height, width) != shape:
        return f"expected the image's (height, width) {shape}, got {(height, width)}"
    return None


def id_problem(mask: Mask, space: LabelSpace, *, shape: tuple[int, int]) -> str | None:
    """Decode ``mask`` and say which of its ids are not in ``space``; else None.

    Costs one full decode of the PNG.
    """
    path = mask.source
    if not isinstance(path, Path):
        raise TypeError(f"expected a mask stored in a file, got {type(path).__name__}")
    try:
        values = read_label_png(path, encoding=mask.encoding, shape=shape)
    except FormatError as err:
        return message(err, path)[1]
    found = np.unique(values)
    if mask.segments is not None:
        unlisted = sorted(int(v) for v in found if v and int(v) not in mask.segments)
        if unlisted:
            return f"expected segment ids listed in segments_info, got {unlisted[:10]}"
        ids = {mask.segments[int(v)] for v in found if v}
    else:
        ids = {int(v) // mask.divisor for v in found}
    unknown = sorted(ids - set(space.ids) - space.void)
    if unknown:
        return (
            f"expected label ids of {space.name!r} ({_span(space)}), "
            f"got {unknown[:10]}" + (" ..." if len(unknown) > 10 else "")
        )
    return None


def _span(space: LabelSpace) -> str:
    ids = space.ids
    void = f", void {sorted(space.void)}" if space.void else ""
    return f"{min(ids)}..{max(ids)}{void}" if ids else f"no labels{void}"


MakeMask = Callable[[Pair, tuple[int, int]], "Mask | str"]


def read_pairs(
    pairs: Iterable[Pair],
    *,
    root: Path,
    space: LabelSpace,
    ledger: Ledger,
    what: str,
    modes: Sequence[str],
    check_ids: bool,
    make_mask: MakeMask | None = None,
    hints: Mapping[str, str] | None = None,
) -> list[Sample]:
    """One `Sample` with one `Mask` per pair whose label PNG passes the checks.

    ``make_mask(pair, shape)`` builds the mask (default: ``Mask(path)``) or
    returns why it cannot.
    """
    samples = []
    for pair in pairs:
        if not pair.annotation.is_file():
            ledger.skip(
                show(pair.image),
                f"no {what}: expected {show(pair.annotation)}",
                count=0,
            )
            continue
        ledger.found()
        checked = _checked_mask(
            pair,
            root=root,
            space=space,
            modes=modes,
            check_ids=check_ids,
            make_mask=make_mask,
            hints=hints,
        )
        if isinstance(checked, str):
            ledger.skip(show(pair.annotation), checked)
            continue
        mask, shape = checked
        samples.append(
            Sample(
                key=pair.key,
                image=pair.image,
                shape=shape,
                annotations=(mask,),
                source=space.name,
                split=pair.split,
            )
        )
    return samples


def _checked_mask(
    pair: Pair,
    *,
    root: Path,
    space: LabelSpace,
    modes: Sequence[str],
    check_ids: bool,
    make_mask: MakeMask | None,
    hints: Mapping[str, str] | None,
) -> tuple[Mask, tuple[int, int]] | str:
    problem = path_problem(root, pair)
    if problem is not None:
        return problem
    try:
        shape = image_shape(pair.image)
    except FormatError as err:
        return f"image {message(err, pair.image)[1]}"
    problem = png_problem(pair.annotation, shape=shape, modes=modes, hints=hints)
    if problem is not None:
        return problem
    if make_mask is None:
        mask: Mask | str = Mask(pair.annotation, key=relative(root, pair.annotation))
    else:
        mask = make_mask(pair, shape)
    if isinstance(mask, str):
        return mask
    if check_ids:
        problem = id_problem(mask, space, shape=shape)
        if problem is not None:
            return problem
    return mask, shape


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root``, with ``/`` (the key of a mask)."""
    return path.relative_to(root).as_posix()


def path_problem(root: Path, pair: Pair) -> str | None:
    """Why ``pair``'s files are unusable (non-UTF-8 name, leads outside root)."""
    for path in (pair.image, pair.annotation):
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            return f"file name {show(path)} must be valid UTF-8"
        try:
            inside(root, path.relative_to(root).as_posix(), where="")
        except FormatError as err:
            return str(err).removeprefix(": ")
    return None


def skip_orphans(
    candidates: Iterable[Path],
    used: set[Path],
    *,
    ledger: Ledger,
    what: str,
    count: int = 1,
) -> None:
    """Record annotation files that no image claimed.

    ``count`` is what one such file counts as read: 1 for a mask; 0 for a
    polygon file, which is not opened.
    """
    for path in sorted(set(candidates) - used):
        ledger.found(count)
        ledger.skip(show(path), f"{what} without an image", count=count)


def stem_pairs(
    images: Path, annotations: Path, *, split: str, image_suffix: str
) -> tuple[list[Pair], list[Path]]:
    """Pair ``images/{stem}{image_suffix}`` with ``annotations/{stem}.png``.

    Returns the pairs and the annotation PNGs found (for `skip_orphans`).
    Sample keys are ``{split}/{stem}``.

    Raises
    ------
    FormatError
        If either folder is missing.
    """
    for folder in (images, annotations):
        if not folder.is_dir():
            raise FormatError(f"{folder}: expected a folder for split {split!r}")
    pairs = [
        Pair(split, f"{split}/{image.stem}", image, annotations / f"{image.stem}.png")
        for image in sorted(images.glob(f"*{image_suffix}"))
    ]
    return pairs, list(annotations.glob("*.png"))


def read_mask_folders(
    root: Path,
    *,
    images: Path,
    masks: Path,
    split: str | None,
    space: LabelSpace,
    errors: Errors,
    check_ids: bool,
    layout: str,
    noun: str = "mask",
) -> Dataset:
    """Read a layout of ``images/{split}/*.jpg`` beside ``masks/{split}/*.png``.

    ``images`` and ``masks`` are relative to ``root``; each split is a folder
    under ``masks``. One 8-bit single-channel `Mask` per image, in ``space``;
    masks without an image are skipped (counted). ``noun`` is what messages
    call a mask (ADE20K says "annotation").
    """
    ledger = Ledger(errors)
    samples: list[Sample] = []
    splits = folder_splits(root / masks, split, what=f"{noun}s", layout=layout)
    for name in splits:
        pairs, found = stem_pairs(
            root / images / name, root / masks / name, split=name, image_suffix=".jpg"
        )
        samples += read_pairs(
            pairs,
            root=root,
            space=space,
            ledger=ledger,
            what=f"{noun} PNG",
            modes=ID8,
            check_ids=check_ids,
        )
        skip_orphans(found, {p.annotation for p in pairs}, ledger=ledger, what=noun)
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )
