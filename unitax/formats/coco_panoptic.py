"""COCO panoptic: a JSON of ``segments_info`` plus one RGB PNG per image.

Layout (as panopticapi writes it)::

    panoptic_val2017.json
    panoptic_val2017/000000000139.png     # segment id = R + 256 G + 256² B

Each entry of ``annotations`` becomes one `Mask` of its image:
``Mask(png, encoding="rgb", segments={segment id: category_id},
key=file_name)``. Pixels whose segment id is 0 or not listed are not
annotated. Crowd segments (``iscrowd=1``) keep their category: per pixel,
the category is right; only instance evaluation ignores them.

The PNG is not decoded: its header must say RGB and the image's size (one
header read per image). Images without a panoptic entry become samples
without annotations. The label space comes from ``categories`` as in
`unitax.formats.coco.read_coco` (``isthing`` is not kept; ``color`` and
``supercategory`` are).

Errors
------
Structural problems (invalid JSON, missing ``images``/``categories``/
``annotations``, a broken category, duplicate image ids) are errors in
every mode. Per panoptic entry (strict: error; lenient: the entry's mask is
skipped and counted): a wrong type or missing key, an image id not in
``images`` or given twice, a segment id that is not a positive int or is
repeated, a ``category_id`` that is not a category, a PNG that is missing,
outside the mask folder, not RGB or of another size than the image.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from unitax.annotations import Dataset, Mask, Sample
from unitax.errors import FormatError
from unitax.formats._coco_json import (
    Image,
    default_space_name,
    load_json_object,
    read_categories,
    read_images,
    table,
)
from unitax.formats._common import Errors, Ledger, inside
from unitax.labels import LabelSpace

__all__ = ["read_coco_panoptic"]


def read_coco_panoptic(
    path: str | os.PathLike[str],
    *,
    masks: str | os.PathLike[str] | None = None,
    images: str | os.PathLike[str] | None = None,
    label_space: LabelSpace | None = None,
    label_space_name: str | None = None,
    errors: Errors = "strict",
) -> Dataset:
    """Read a COCO panoptic JSON file and reference its PNGs.

    Parameters
    ----------
    path
        The panoptic JSON file.
    masks
        Folder of the panoptic PNGs; default: the JSON path without its
        suffix (``panoptic_val2017.json`` -> ``panoptic_val2017/``).
    images
        Folder that the images' ``file_name`` is relative to; default: the
        JSON's folder. Images are not opened.
    label_space
        Use this space (for instance the built-in ``coco-panoptic``); every
        category must be in it with the same id and name.
    label_space_name
        Name of the space built from ``categories`` (default: the file stem
        if it is a valid name, else ``"coco-panoptic"``).
    errors
        ``"strict"`` raises at the first problem; ``"lenient"`` skips the
        entries it cannot use and accounts for them.

    Returns
    -------
    Dataset
        One sample per usable image (order of ``images``), each with at
        most one `Mask`.

    Raises
    ------
    FormatError
        On a structural problem, or (strict) any unusable entry; the
        message names the file and the image id.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from PIL import Image
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "pan").mkdir()
    >>> Image.new("RGB", (3, 2), (7, 0, 0)).save(folder / "pan" / "a.png")
    >>> document = {
    ...     "images": [{"id": 1, "file_name": "a.jpg", "height": 2, "width": 3}],
    ...     "categories": [{"id": 5, "name": "sky", "isthing": 0}],
    ...     "annotations": [{"image_id": 1, "file_name": "a.png",
    ...                      "segments_info": [{"id": 7, "category_id": 5}]}],
    ... }
    >>> _ = (folder / "pan.json").write_text(json.dumps(document))
    >>> mask = read_coco_panoptic(folder / "pan.json").samples[0].annotations[0]
    >>> mask.encoding, dict(mask.segments), mask.source.name
    ('rgb', {7: 5}, 'a.png')
    """
    path = Path(path)
    ledger = Ledger(errors)
    document = load_json_object(path)
    space = read_categories(
        table(document, "categories", path),
        path,
        name=label_space_name or default_space_name(path, "coco-panoptic"),
        label_space=label_space,
    )
    root = path.parent if images is None else Path(images)
    image_table = read_images(
        table(document, "images", path), path, root, ledger, check_images=False
    )
    entries = table(document, "annotations", path)
    ledger.found(len(entries))
    mask_root = path.with_suffix("") if masks is None else Path(masks)
    label_ids = {label.id for label in space.labels}
    found: dict[int, Mask] = {}
    orphans: Counter[int] = Counter()
    for position, entry in enumerate(entries):
        image_id = entry.get("image_id") if isinstance(entry, dict) else None
        where = f"{path}: image {image_id}"
        if type(image_id) is not int:
            where = f"{path}: annotations[{position}]"
        image = image_table.get(image_id) if type(image_id) is int else None
        if isinstance(image, str):
            orphans[image_id] += 1  # type: ignore[index]
            continue
        try:
            if image is None:
                raise FormatError(_no_image(entry, image_id))
            if image_id in found:
                raise FormatError("image has more than one panoptic annotation")
            found[image_id] = _mask(entry, image, mask_root, label_ids, where)  # type: ignore[index]
        except FormatError as err:
            ledger.skip(where, str(err).removeprefix(f"{where}: "))
    for image_id, image in image_table.items():
        if isinstance(image, str):
            count = orphans[image_id]
            ledger.skip(
                f"{path}: image {image_id}",
                f"{image}; its {count} annotation(s) are skipped",
                count=count,
            )
    samples = [
        Sample(
            image.key,
            image.path,
            image.shape,
            (found[image_id],) if image_id in found else (),
            space.name,
        )
        for image_id, image in image_table.items()
        if isinstance(image, Image)
    ]
    return Dataset(
        space, tuple(samples), skipped=tuple(ledger.skipped), read=ledger.read
    )


def _no_image(entry: Any, image_id: object) -> str:
    if not isinstance(entry, dict):
        return f"expected an object, got {type(entry).__name__}"
    return f"image_id must be an id of the images table, got {image_id!r}"


def _mask(
    entry: dict[str, Any],
    image: Image,
    mask_root: Path,
    label_ids: set[int],
    where: str,
) -> Mask:
    name = entry.get("file_name")
    if not isinstance(name, str) or not name:
        raise FormatError(f"file_name must be a non-empty string, got {name!r}")
    segments_info = entry.get("segments_info")
    if not isinstance(segments_info, list):
        raise FormatError(f"segments_info must be a list, got {segments_info!r:.40}")
    segments: dict[int, int] = {}
    for i, segment in enumerate(segments_info):
        segment_id = segment.get("id") if isinstance(segment, dict) else None
        label = segment.get("category_id") if isinstance(segment, dict) else None
        if type(segment_id) is not int or segment_id < 1 or segment_id >= 256**3:
            raise FormatError(
                f"segments_info[{i}]: id must be an int in 1..{256**3 - 1}, "
                f"got {segment_id!r}"
            )
        if segment_id in segments:
            raise FormatError(f"segments_info[{i}]: segment id {segment_id} repeats")
        if type(label) is not int or label not in label_ids:
            raise FormatError(
                f"segments_info[{i}]: category_id must be the id of a category, "
                f"got {label!r}"
            )
        segments[segment_id] = label
    png = inside(mask_root, name, where=where)
    shape, mode = _header(png)
    if mode != "RGB" or shape != image.shape:
        raise FormatError(
            f"{name}: expected an RGB PNG of the image's (height, width) "
            f"{image.shape}, got mode {mode!r} and {shape}"
        )
    return Mask(png, encoding="rgb", segments=segments, key=name)


def _header(path: Path) -> tuple[tuple[int, int], str]:
    """``(height, width)`` and mode of an image, from its header only."""
    try:
        with PILImage.open(path) as image:
            width, height = image.size
            return (height, width), str(image.mode)
    except (OSError, PILImage.DecompressionBombError) as err:
        raise FormatError(f"{path}: cannot read image header: {err}") from err
