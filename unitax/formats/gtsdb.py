"""GTSDB, the German Traffic Sign Detection Benchmark (FullIJCNN2013).

Layout (as distributed)::

    root/00000.ppm ... root/00899.ppm      # the images (PPM, 1360 x 800)
    root/gt.txt                            # filename;x1;y1;x2;y2;classID
    root/00/ ... root/42/                  # crops per class (not read)

A root without ``gt.txt`` whose sub-folders hold ``gt.txt`` and images (for
example ``train/`` and ``val/``, as `write_gtsdb` writes a dataset with
splits) is read as one split per such folder.

Annotations
-----------
One `Box` per line of ``gt.txt``, in the built-in ``gtsdb`` label space
(``classID`` 0..42), ``key`` = ``"gt.txt:<line>"`` (``"<split>/gt.txt:<line>"``
with splits). GTSDB's corners are *inclusive* pixel indices: the sign covers
columns ``x1 .. x2`` and rows ``y1 .. y2``. unitax's pixel ``(row, col)``
covers ``[col, col + 1) x [row, row + 1)``, so the box becomes
``(x1, y1, x2 + 1, y2 + 1)``: ``x1 = x2 = 5`` is the one-pixel-wide box
``(5.0, ..., 6.0, ...)``.

GTSDB annotates every sign of its 43 classes (the label space is
exhaustive), so an image without a line in ``gt.txt`` is a sample with no
annotations: it is known to show none of those signs. Image sizes come from
the PPM headers.

Accounting: every non-blank line of ``gt.txt`` is one annotation read. A
line that is malformed, has a ``classID`` outside 0..42, a box with
``x2 < x1`` or ``y2 < y1``, a box reaching outside its image, or names a
file that is not an image of the folder (or leads outside the root) is an
error under ``errors="strict"`` and a skip, quoted with ``file:line``,
under ``"lenient"``. An image whose header cannot be read is an error, or
skipped together with its lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from unitax._files import read_text
from unitax._png import image_shape
from unitax.annotations import Box, Dataset, Sample
from unitax.builtin import builtin_label_space
from unitax.errors import FormatError
from unitax.formats._common import Errors, Ledger, inside
from unitax.formats._dense import show
from unitax.labels import LabelSpace

__all__ = ["read_gtsdb", "write_gtsdb"]

_GT = "gt.txt"
_SUFFIX = ".ppm"
_FIELDS = "filename;x1;y1;x2;y2;classID"


def read_gtsdb(
    root: str | os.PathLike[str],
    *,
    split: str | None = None,
    errors: Errors = "strict",
) -> Dataset:
    r"""Read a GTSDB dataset: PPM images and the boxes of ``gt.txt``.

    Parameters
    ----------
    root
        The folder holding ``gt.txt`` and the ``*.ppm`` images, or split
        folders that each hold them.
    split
        One split folder to read (only for a root with split folders);
        default: all of them.
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips and
        records it in `Dataset.skipped`.

    Returns
    -------
    Dataset
        In the built-in ``gtsdb`` space: one sample per image (key: the file
        stem, ``{split}/{stem}`` with splits), with one `Box` per line.

    Raises
    ------
    FormatError
        A missing ``gt.txt`` or split folder, an undecodable ``gt.txt``; in
        strict mode any bad line (with file and line) or unreadable image.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (8, 6)).save(root / "00000.ppm")
    >>> Image.new("RGB", (8, 6)).save(root / "00001.ppm")
    >>> _ = (root / "gt.txt").write_text("00000.ppm;2;1;4;3;14\n")
    >>> dataset = read_gtsdb(root)
    >>> [(s.key, s.shape, len(s.annotations)) for s in dataset.samples]
    [('00000', (6, 8), 1), ('00001', (6, 8), 0)]
    >>> dataset.samples[0].annotations[0]
    Box(xyxy=(2.0, 1.0, 5.0, 4.0), label=14, key='gt.txt:1')
    """
    root = Path(root)
    space = builtin_label_space("gtsdb")
    ledger = Ledger(errors)
    samples: list[Sample] = []
    for name, folder in _splits(root, split):
        samples += _read_split(root, folder, name, space=space, ledger=ledger)
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _splits(root: Path, split: str | None) -> list[tuple[str, Path]]:
    if not root.is_dir():
        raise FormatError(f"{root}: expected the GTSDB folder")
    if (root / _GT).is_file():
        if split is not None:
            raise FormatError(
                f"{root}: holds {_GT} itself (one unnamed split), got split {split!r}"
            )
        return [("", root)]
    found = sorted(p.name for p in root.iterdir() if (p / _GT).is_file())
    if not found:
        raise FormatError(
            f"{root}: expected {_GT} and the *.ppm images (GTSDB layout), or split "
            f"folders holding them"
        )
    if split is None:
        return [(name, root / name) for name in found]
    if split not in found:
        raise FormatError(
            f"{root}: expected a split folder {split!r} holding {_GT}, got splits "
            f"{found}"
        )
    return [(split, root / split)]


def _read_split(
    root: Path, folder: Path, split: str, *, space: LabelSpace, ledger: Ledger
) -> list[Sample]:
    gt = folder / _GT
    shapes: dict[Path, tuple[int, int] | str] = {}
    for image in sorted(folder.glob(f"*{_SUFFIX}")):
        shapes[image] = _image_shape(root, image)
    boxes: dict[Path, list[Box]] = {image: [] for image in shapes}
    prefix = f"{split}/" if split else ""
    for number, line in _lines(gt):
        where = f"{show(gt)}:{number}"
        ledger.found()
        parsed = _parse(line, folder, shapes, space, where=where)
        if isinstance(parsed, str):
            ledger.skip(where, parsed)
            continue
        image, xyxy, label = parsed
        boxes[image].append(Box(xyxy, label=label, key=f"{prefix}{_GT}:{number}"))
    samples = []
    for image, shape in shapes.items():
        if isinstance(shape, str):
            ledger.skip(show(image), shape, count=0)
            continue
        samples.append(
            Sample(
                key=f"{prefix}{image.stem}",
                image=image,
                shape=shape,
                annotations=tuple(boxes[image]),
                source=space.name,
                split=split,
            )
        )
    return samples


def _image_shape(root: Path, image: Path) -> tuple[int, int] | str:
    """The image's ``(height, width)`` from its header, or why it is unusable."""
    try:
        inside(root, image.relative_to(root).as_posix(), where="")
        return image_shape(image)
    except FormatError as err:
        return str(err).removeprefix(": ").removeprefix(f"{image}: ")


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    """``(line number, text)`` of the non-blank lines of ``path``."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def _parse(
    line: str,
    folder: Path,
    shapes: dict[Path, tuple[int, int] | str],
    space: LabelSpace,
    *,
    where: str,
) -> tuple[Path, tuple[int, int, int, int], int] | str:
    """One line -> (image, xyxy, label), or why the line is unusable."""
    fields = [field.strip() for field in line.split(";")]
    if len(fields) != 6:
        return f"expected 6 fields {_FIELDS!r}, got {len(fields)}: {line!r}"
    name, *numbers = fields
    if not all(_is_int(n) for n in numbers):
        return (
            f"expected integers x1;y1;x2;y2;classID after the file name, got {line!r}"
        )
    x1, y1, x2, y2, label = (int(n) for n in numbers)
    if not 0 <= label < len(space.labels):  # gtsdb ids are 0..42
        return f"classID must be one of 0..{len(space.labels) - 1}, got {label}"
    try:
        image = inside(folder, name, where=where)
    except FormatError as err:
        return str(err).removeprefix(f"{where}: ")
    if image not in shapes:
        return f"file {name!r} is not a {_SUFFIX} image of {show(folder)}"
    shape = shapes[image]
    if isinstance(shape, str):
        return f"image {name!r} is unusable: {shape}"
    if x2 < x1 or y2 < y1:
        return f"box must have x1 <= x2 and y1 <= y2 (inclusive), got {line!r}"
    height, width = shape
    if x1 < 0 or y1 < 0 or x2 >= width or y2 >= height:
        return (
            f"box ({x1}, {y1}, {x2}, {y2}) must lie inside the image {name!r} of "
            f"width {width} and height {height} (0 <= x <= {width - 1}, "
            f"0 <= y <= {height - 1})"
        )
    return image, (x1, y1, x2 + 1, y2 + 1), label


def _is_int(text: str) -> bool:
    digits = text[1:] if text[:1] in "+-" else text
    return digits.isascii() and digits.isdecimal()


def write_gtsdb(dataset: Dataset, root: str | os.PathLike[str]) -> Path:
    r"""Write a dataset of boxes in the GTSDB layout that `read_gtsdb` reads back.

    Parameters
    ----------
    dataset
        Samples with `Box` annotations of integer corners inside the image,
        labels in ``gtsdb`` (0..42). Sample keys are ``{stem}`` or
        ``{split}/{stem}`` (as `read_gtsdb` makes them); with splits, each
        split becomes a folder.
    root
        The folder to write into (created if needed).

    Returns
    -------
    pathlib.Path
        ``root``.

    Raises
    ------
    ValueError
        For an annotation GTSDB cannot store (not a `Box`, corners not
        integers, outside the image), a label outside 0..42, a key that is
        not ``stem`` or ``split/stem``, a key whose split differs from the
        sample's, or samples with and without splits together.

    Notes
    -----
    A sample's image is converted to PPM (PIL) at ``{root}/[{split}/]{stem}.ppm``
    unless it already is that file. The box ``(x0, y0, x1, y1)`` is written
    as the inclusive corners ``x0;y0;x1 - 1;y1 - 1``. Every folder gets a
    ``gt.txt``, empty if none of its images has a sign.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (8, 6)).save(folder / "a.png")
    >>> sample = ux.annotations.Sample(
    ...     "00000", folder / "a.png", (6, 8),
    ...     [ux.annotations.Box((2, 1, 5, 4), 14)], "gtsdb")
    >>> dataset = ux.annotations.Dataset(ux.builtin_label_space("gtsdb"), [sample])
    >>> root = write_gtsdb(dataset, folder / "gtsdb")
    >>> (root / "gt.txt").read_text()
    '00000.ppm;2;1;4;3;14\n'
    >>> read_gtsdb(root).samples[0].annotations[0].xyxy
    (2.0, 1.0, 5.0, 4.0)
    """
    root = Path(root)
    labels = set(builtin_label_space("gtsdb").ids)
    folders: dict[str, list[str]] = {}
    for sample in dataset.samples:
        split, stem = _split_key(sample)
        lines = folders.setdefault(split, [])
        for annotation in sample.annotations:
            lines.append(f"{stem}{_SUFFIX};{_line(annotation, sample, labels)}")
    if len(folders) > 1 and "" in folders:
        raise ValueError(
            "samples must all have keys 'split/stem' or all 'stem', got both"
        )
    for sample in dataset.samples:
        split, stem = _split_key(sample)
        folder = root / split if split else root
        folder.mkdir(parents=True, exist_ok=True)
        _write_image(sample, folder / f"{stem}{_SUFFIX}")
    for split, lines in folders.items():
        folder = root / split if split else root
        text = "".join(f"{line}\n" for line in lines)
        (folder / _GT).write_text(text, encoding="utf-8", newline="\n")
    return root


def _split_key(sample: Sample) -> tuple[str, str]:
    split, _, stem = sample.key.rpartition("/")
    if "/" in split or not stem or stem in (".", "..") or "\\" in sample.key:
        raise ValueError(
            f"sample key must be 'stem' or 'split/stem', got {sample.key!r}"
        )
    if split != sample.split:
        raise ValueError(
            f"sample {sample.key!r}: the key's split {split!r} must equal the "
            f"sample's split {sample.split!r}"
        )
    return split, stem


def _line(annotation: object, sample: Sample, labels: set[int]) -> str:
    where = f"sample {sample.key!r}"
    if not isinstance(annotation, Box):
        raise ValueError(
            f"{where}: GTSDB stores only Box annotations, got "
            f"{type(annotation).__name__}"
        )
    where += f", box {annotation.key!r}"
    if annotation.label not in labels:
        raise ValueError(
            f"{where}: label must be a gtsdb classID 0..42, got {annotation.label}"
        )
    x0, y0, x1, y1 = annotation.xyxy
    if not all(float(v).is_integer() for v in annotation.xyxy):
        raise ValueError(f"{where}: corners must be integers, got {annotation.xyxy}")
    height, width = sample.shape
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValueError(
            f"{where}: box must be non-empty and inside the image of shape "
            f"{sample.shape}, got {annotation.xyxy}"
        )
    corners = (int(x0), int(y0), int(x1) - 1, int(y1) - 1)
    return ";".join(str(v) for v in (*corners, annotation.label))


def _write_image(sample: Sample, path: Path) -> None:
    if sample.image.exists() and path.exists() and sample.image.samefile(path):
        return
    with Image.open(sample.image) as image:
        rgb = image.convert("RGB")
    if (rgb.height, rgb.width) != sample.shape:
        raise ValueError(
            f"sample {sample.key!r}: image {sample.image} must have (height, "
            f"width) {sample.shape}, got {(rgb.height, rgb.width)}"
        )
    rgb.save(path, format="PPM")
