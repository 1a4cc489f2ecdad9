"""Writing YOLO datasets: `write_yolo` and the label lines it writes.

Private; import `write_yolo` from `unitax.formats.yolo`, whose docstring
documents the format, as `read_yolo` reads it back. Each annotation becomes
one or more label lines (`_lines_of`): a `Box` one ``class cx cy w h`` line,
a `Polygon` one ``class x1 y1 ... xn yn`` line per part.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import shapely
import yaml

from unitax.annotations import Annotation, Box, Dataset, Polygon, Sample

__all__ = ["write_yolo"]


def write_yolo(
    dataset: Dataset, root: str | os.PathLike[str], *, copy_images: bool = True
) -> Path:
    r"""Write an Ultralytics YOLO dataset that `read_yolo` reads back.

    Parameters
    ----------
    dataset
        Its label ids must be 0..n-1 (YOLO class indices); samples may hold
        `Box` and `Polygon` annotations (without holes) inside the image.
    root
        Output folder: ``data.yaml``, ``labels/<split>/<image stem>.txt`` and,
        with ``copy_images``, ``images/<split>/<image name>``. The split is
        the sample's, or ``train`` if it has none.
    copy_images
        Copy the image files (else place them there yourself).

    Returns
    -------
    pathlib.Path
        The ``data.yaml`` written.

    Raises
    ------
    ValueError
        For label ids that are not 0..n-1, an annotation YOLO cannot store
        (`RLE`, `Mask`, `Tag`, holes, values outside 0..1), or two
        images of one split with the same name.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (10, 5)).save(folder / "a.jpg")
    >>> space = ux.LabelSpace.from_names("toy", ["cat"])
    >>> box = ux.annotations.Box((4, 1.5, 6, 3.5), 0, key=1)
    >>> sample = ux.annotations.Sample("a", folder / "a.jpg", (5, 10), [box], "toy")
    >>> data = write_yolo(ux.annotations.Dataset(space, [sample]), folder / "out")
    >>> (data.parent / "labels/train/a.txt").read_text()
    '0 0.5 0.5 0.2 0.4\n'
    """
    root = Path(root)
    ids = sorted(dataset.label_space.ids)
    if ids != list(range(len(ids))):
        raise ValueError(
            f"label ids must be 0..{len(ids) - 1} (YOLO class indices), got {ids[:10]}"
        )
    written: set[tuple[str, str]] = set()
    splits: list[str] = []
    for sample in dataset.samples:
        split = sample.split or "train"
        if (split, sample.image.name) in written:
            raise ValueError(
                f"split {split!r} has two images named {sample.image.name!r}"
            )
        written.add((split, sample.image.name))
        if split not in splits:
            splits.append(split)
        lines = [line for a in sample.annotations for line in _lines_of(a, sample, ids)]
        labels = root / "labels" / split / Path(sample.image.name).with_suffix(".txt")
        labels.parent.mkdir(parents=True, exist_ok=True)
        labels.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        if copy_images:
            target = root / "images" / split / sample.image.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample.image, target)
    names = {label.id: label.name for label in dataset.label_space.labels}
    document: dict[str, Any] = {split: f"images/{split}" for split in splits}
    document.update(nc=len(names), names=dict(sorted(names.items())))
    data = root / "data.yaml"
    root.mkdir(parents=True, exist_ok=True)
    data.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return data


def _lines_of(annotation: Annotation, sample: Sample, ids: list[int]) -> list[str]:
    where = f"sample {sample.key!r}, annotation {annotation.key!r}"
    if not isinstance(annotation, Box | Polygon):
        raise ValueError(
            f"{where}: YOLO stores Box and Polygon annotations, "
            f"got {type(annotation).__name__}"
        )
    if annotation.label not in ids:
        raise ValueError(f"{where}: label must be a label id, got {annotation.label}")
    height, width = sample.shape
    if isinstance(annotation, Box):
        x0, y0, x1, y1 = annotation.xyxy
        values = [
            (x0 + x1) / 2 / width,
            (y0 + y1) / 2 / height,
            (x1 - x0) / width,
            (y1 - y0) / height,
        ]
        rows = [values]
    else:
        parts = shapely.get_parts(annotation.geometry)
        if shapely.get_num_interior_rings(parts).any():
            raise ValueError(f"{where}: YOLO polygons cannot have holes")
        rows = []
        for part in parts:
            coords = shapely.get_coordinates(part.exterior)[:-1]
            rows.append(
                [v for x, y in coords.tolist() for v in (x / width, y / height)]
            )
    if not all(0 <= v <= 1 for row in rows for v in row):
        raise ValueError(
            f"{where}: written values must be fractions in 0..1 of the {sample.shape} "
            "image (Ultralytics refuses others)"
        )
    return [" ".join([str(int(annotation.label)), *map(repr, row)]) for row in rows]
