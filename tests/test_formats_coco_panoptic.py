from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import unitax as ux
from unitax.annotations import Mask
from unitax.errors import FormatError
from unitax.formats.coco_panoptic import read_coco_panoptic

PANOPTICAPI = "data/format_samples/coco_panoptic/panopticapi/sample_data"
DATUMARO = (
    "data/format_samples/coco_panoptic/datumaro/tests/assets/coco_dataset/coco_panoptic"
)


def test_panopticapi_examples(shared: Path) -> None:
    path = shared / PANOPTICAPI / "panoptic_examples.json"
    dataset = read_coco_panoptic(
        path, label_space=ux.builtin_label_space("coco-panoptic")
    )
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert dataset.read == 2 and dataset.skipped == ()
    assert [s.key for s in dataset.samples] == ["142238", "439180"]
    assert [s.shape for s in dataset.samples] == [(427, 640), (360, 640)]
    for sample, entry in zip(dataset.samples, raw["annotations"], strict=True):
        (mask,) = sample.annotations
        assert isinstance(mask, Mask)
        assert mask.encoding == "rgb" and mask.key == entry["file_name"]
        assert (
            mask.source
            == shared / PANOPTICAPI / "panoptic_examples" / entry["file_name"]
        )
        assert dict(mask.segments or {}) == {
            s["id"]: s["category_id"] for s in entry["segments_info"]
        }
    masks = [m for s in dataset.samples for m in s.annotations if isinstance(m, Mask)]
    assert sum(len(m.segments or {}) for m in masks) == 50


def test_segment_ids_are_in_the_png(shared: Path) -> None:
    """The RGB encoding R + 256 G + 256² B gives exactly the listed segments."""
    dataset = read_coco_panoptic(shared / PANOPTICAPI / "panoptic_examples.json")
    mask = dataset.samples[0].annotations[0]
    assert isinstance(mask, Mask) and isinstance(mask.source, Path)
    rgb = np.asarray(Image.open(mask.source), dtype=np.uint32)
    ids = set(np.unique(rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]).tolist())
    assert ids - {0} == set(mask.segments or {})


def test_datumaro_val(shared: Path) -> None:
    dataset = read_coco_panoptic(shared / DATUMARO / "annotations/panoptic_val.json")
    (sample,) = dataset.samples
    (mask,) = sample.annotations
    assert isinstance(mask, Mask)
    assert (sample.key, sample.shape) == ("40", (10, 5))
    assert dict(mask.segments or {}) == {7: 1, 20: 2}
    assert dataset.label_space.names == ("a", "b")


def test_datumaro_train_png_has_the_wrong_size(shared: Path) -> None:
    """The sample's a.png is 5 x 5 while its image is 10 x 5: a real bad input."""
    path = shared / DATUMARO / "annotations/panoptic_train.json"
    with pytest.raises(
        FormatError,
        match=r"panoptic_train.json: image 5: a.png: expected an RGB PNG of the "
        r"image's \(height, width\) \(5, 10\), got mode 'RGB' and \(5, 5\)",
    ):
        read_coco_panoptic(path)
    dataset = read_coco_panoptic(path, errors="lenient")
    assert [s.annotations for s in dataset.samples] == [()]
    (skip,) = dataset.skipped
    assert (skip.where, skip.count) == (f"{path}: image 5", 1)


def _write_png(path: Path, mode: str, size: tuple[int, int] = (3, 2)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        Image.fromarray(np.zeros(size[::-1], dtype=np.uint16)).save(path)
    else:
        Image.new(mode, size).save(path)


def _document() -> dict[str, Any]:
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "height": 2, "width": 3},
            {"id": 2, "file_name": "b.jpg", "height": 2, "width": 3},
        ],
        "categories": [{"id": 5, "name": "sky"}, {"id": 6, "name": "car"}],
        "annotations": [
            {
                "image_id": 1,
                "file_name": "a.png",
                "segments_info": [{"id": 7, "category_id": 5}],
            },
            {
                "image_id": 2,
                "file_name": "b.png",
                "segments_info": [{"id": 9, "category_id": 6}],
            },
        ],
    }


def _break(document: dict[str, Any], tmp_path: Path, case: str) -> str:
    """Spoil the entry of image 2; return the expected reason."""
    entry = document["annotations"][1]
    segment = entry["segments_info"][0]
    if case == "segment-id-zero":
        segment["id"] = 0
        return r"segments_info\[0\]: id must be an int in 1..16777215, got 0"
    if case == "duplicate-segment":
        entry["segments_info"].append({"id": 9, "category_id": 5})
        return r"segments_info\[1\]: segment id 9 repeats"
    if case == "unknown-category":
        segment["category_id"] = 99
        return r"category_id must be the id of a category, got 99"
    if case == "missing-png":
        (tmp_path / "pan" / "b.png").unlink()
        return r"cannot read image header"
    if case == "palette-png":
        _write_png(tmp_path / "pan" / "b.png", "P")
        return r"expected an RGB PNG .* got mode 'P'"
    if case == "16-bit-png":
        _write_png(tmp_path / "pan" / "b.png", "I;16")
        return r"got mode 'I;16'"
    if case == "wrong-size":
        _write_png(tmp_path / "pan" / "b.png", "RGB", (2, 3))
        return r"\(2, 3\), got mode 'RGB' and \(3, 2\)"
    if case == "escape":
        entry["file_name"] = "../b.png"
        return r"file name '../b.png' leads outside"
    if case == "unknown-image":
        entry["image_id"] = 3
        return r"image_id must be an id of the images table, got 3"
    if case == "second-entry":
        entry["image_id"] = 1
        return r"image has more than one panoptic annotation"
    assert case == "segments-not-a-list"
    entry["segments_info"] = {"id": 9}
    return r"segments_info must be a list"


CASES = [
    "segment-id-zero",
    "duplicate-segment",
    "unknown-category",
    "missing-png",
    "palette-png",
    "16-bit-png",
    "wrong-size",
    "escape",
    "unknown-image",
    "second-entry",
    "segments-not-a-list",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_entry(tmp_path: Path, case: str) -> None:
    document = _document()
    for name in ("a.png", "b.png"):
        _write_png(tmp_path / "pan" / name, "RGB")
    reason = _break(document, tmp_path, case)
    path = tmp_path / "pan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    image = 1 if case == "second-entry" else 3 if case == "unknown-image" else 2
    with pytest.raises(FormatError, match=rf"pan.json: image {image}: .*{reason}"):
        read_coco_panoptic(path)
    dataset = read_coco_panoptic(path, errors="lenient")
    assert dataset.read == 2
    assert [len(s.annotations) for s in dataset.samples] == [1, 0]
    (skip,) = dataset.skipped
    assert skip.count == 1 and re.search(reason, skip.reason)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b'{"images": [', r"pan.json:1: invalid JSON"),
        (b'{"images": [], "categories": []}', r"expected a key 'annotations'"),
        (
            b'{"images": [], "categories": [{"id": 1, "name": "\xff"}]}',
            r"expected UTF-8",
        ),
    ],
    ids=["truncated", "missing-annotations", "non-utf8"],
)
def test_bad_file(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "pan.json"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=match):
        read_coco_panoptic(path, errors="lenient")


def test_masks_folder_and_label_space_name(tmp_path: Path) -> None:
    _write_png(tmp_path / "elsewhere" / "a.png", "RGB")
    document = _document()
    document["annotations"].pop()
    path = tmp_path / "Pan Val.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    dataset = read_coco_panoptic(path, masks=tmp_path / "elsewhere")
    assert dataset.label_space.name == "coco-panoptic"
    mask = dataset.samples[0].annotations[0]
    assert isinstance(mask, Mask) and mask.source == tmp_path / "elsewhere" / "a.png"
