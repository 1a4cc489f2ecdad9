"""Writing COCO instances JSON: `write_coco` and the records it writes.

Private; import `write_coco` from `unitax.formats.coco`, whose docstring
documents the format, as `read_coco` reads it back. Image and annotation ids
come from the sample and annotation keys where they can (`_ids`); each
annotation becomes one record (`_annotation`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import shapely
from pycocotools import mask as mask_utils

from unitax.annotations import RLE, Annotation, Box, Dataset, Polygon, Sample

__all__ = ["write_coco"]


def write_coco(
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    images: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a dataset as COCO instances JSON that `read_coco` reads back.

    Parameters
    ----------
    dataset
        Its samples may hold `Polygon` (without holes), `RLE` and `Box`
        annotations, with label ids of its label space.
    path
        The JSON file to write.
    images
        Folder that ``file_name`` is written relative to; every sample's
        image must be under it. Default: the JSON's folder.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For an annotation COCO cannot store (`Mask`, `Tag`, a polygon with
        holes), a label id that is not a label, or an image outside
        ``images``.

    Notes
    -----
    Image ids are the sample keys where all are decimal and unique, else
    1, 2, ...; annotation ids likewise from the annotation keys. ``area`` is
    the polygon area (shapely) or the RLE pixel count (pycocotools); ``bbox``
    the bounds.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> space = ux.LabelSpace.from_names("toy", ["cat"])
    >>> sample = ux.annotations.Sample(
    ...     "1", folder / "a.jpg", (4, 6),
    ...     [ux.annotations.Box((1, 1, 3, 3), 0, key=5)], "toy")
    >>> dataset = ux.annotations.Dataset(space, [sample])
    >>> path = write_coco(dataset, folder / "toy.json")
    >>> ux.formats.read_coco(path).samples == dataset.samples
    True
    """
    path = Path(path)
    root = (path.parent if images is None else Path(images)).absolute()
    label_ids = set(dataset.label_space.ids)
    image_ids = _ids([sample.key for sample in dataset.samples])
    keys = [a.key for s in dataset.samples for a in s.annotations]
    annotation_ids = iter(_ids(keys))
    records, entries = [], []
    for sample, image_id in zip(dataset.samples, image_ids, strict=True):
        try:
            name = sample.image.absolute().relative_to(root).as_posix()
        except ValueError:
            raise ValueError(
                f"sample {sample.key!r}: image {sample.image} must be under the "
                f"images folder {root}"
            ) from None
        height, width = sample.shape
        entries.append(
            {"id": image_id, "file_name": name, "height": height, "width": width}
        )
        for annotation in sample.annotations:
            record = _annotation(annotation, sample, label_ids)
            record.update(id=next(annotation_ids), image_id=image_id)
            records.append(record)
    categories = []
    for label in dataset.label_space.labels:
        category: dict[str, Any] = {"id": label.id, "name": label.name}
        category["supercategory"] = label.category or ""
        if label.color is not None:
            category["color"] = list(label.color)
        categories.append(category)
    document = {"images": entries, "annotations": records, "categories": categories}
    with path.open("w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, separators=(",", ":"))
        file.write("\n")
    return path


def _ids(keys: list[Any]) -> list[int]:
    """The keys as ints if all are ints (or decimal text) and unique, else 1..n."""
    values = [
        int(k) if isinstance(k, str) and k.isascii() and k.isdecimal() else k
        for k in keys
    ]
    if all(type(v) is int for v in values) and len(set(values)) == len(values):
        return values
    return list(range(1, len(keys) + 1))


def _annotation(
    annotation: Annotation, sample: Sample, label_ids: set[int]
) -> dict[str, Any]:
    where = f"sample {sample.key!r}, annotation {annotation.key!r}"
    if not isinstance(annotation, Polygon | RLE | Box):
        raise ValueError(
            f"{where}: COCO stores Polygon, RLE and Box annotations, "
            f"got {type(annotation).__name__}"
        )
    if annotation.label not in label_ids:
        raise ValueError(f"{where}: label must be a label id, got {annotation.label}")
    record: dict[str, Any] = {"category_id": int(annotation.label), "iscrowd": 0}
    if isinstance(annotation, Box):
        x0, y0, x1, y1 = annotation.xyxy
        record.update(segmentation=[], bbox=[x0, y0, x1 - x0, y1 - y0])
        record["area"] = annotation.area
        return record
    if isinstance(annotation, Polygon):
        parts = shapely.get_parts(annotation.geometry)
        if shapely.get_num_interior_rings(parts).any():
            raise ValueError(f"{where}: COCO polygons cannot have holes")
        rings = [
            shapely.get_coordinates(shapely.get_exterior_ring(p))[:-1].ravel().tolist()
            for p in parts
        ]
        x0, y0, x1, y1 = annotation.geometry.bounds
        record.update(segmentation=rings, area=annotation.geometry.area)
        record["bbox"] = [x0, y0, x1 - x0, y1 - y0]
        return record
    height, width = annotation.shape
    if isinstance(annotation.counts, bytes):
        counts: Any = annotation.counts.decode("ascii")
        rle = {"size": [height, width], "counts": annotation.counts}
    else:
        counts = list(annotation.counts)
        rle = mask_utils.frPyObjects(
            {"size": [height, width], "counts": counts}, height, width
        )
    record.update(
        segmentation={"size": [height, width], "counts": counts},
        iscrowd=int(annotation.crowd),
        area=float(mask_utils.area(rle)),
        bbox=mask_utils.toBbox(rle).tolist(),
    )
    return record
