from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

import unitax as ux
from unitax.annotations import RLE, Box, Dataset, Mask, Polygon, Sample, Skip, Tag
from unitax.formats.coco_panoptic import read_coco_panoptic
from unitax.formats.labelme import read_labelme
from unitax.formats.summary import KINDS, summarize_dataset

LABELME = "data/format_samples/labelme/labelme/examples"
PANOPTIC = (
    "data/format_samples/coco_panoptic/panopticapi/sample_data/panoptic_examples.json"
)


def _row(table: pd.DataFrame, name: str) -> dict[Hashable, Any]:
    (record,) = table[table["name"] == name].to_dict("records")
    return record


def test_every_kind_void_and_dense_masks() -> None:
    space = ux.LabelSpace.from_names("toy", ["cat", "dog", "cow"], void=[255])
    annotations = (
        Box((0, 0, 1, 1), 0),
        Polygon(shapely.box(0, 0, 1, 1), 0),
        RLE(b"04", (2, 2), 1),
        Tag(1),
        Tag(0, positive=False),
        Polygon(shapely.box(0, 0, 1, 1), 255),
        Mask(np.zeros((2, 2), dtype=np.uint8), segments={1: 1, 2: 1, 3: 0}),
        Mask(np.zeros((2, 2), dtype=np.uint8)),
    )
    samples = (
        Sample("a", Path("a.jpg"), (2, 2), annotations, "toy"),
        Sample("b", Path("b.jpg"), (2, 2), (Box((0, 0, 1, 1), 1),), "toy"),
        Sample("c", Path("c.jpg"), (2, 2), (), "toy"),
    )
    dataset = Dataset(space, samples, skipped=(Skip("x", "bad", 2),), read=11)
    table = summarize_dataset(dataset)
    assert list(table.columns) == ["label", "name", *KINDS, "total", "samples"]
    assert list(table["name"]) == [
        "cat",
        "dog",
        "cow",
        "(void 255)",
        "(dense masks)",
        "(total)",
    ]
    assert _row(table, "cat") == {
        "label": 0, "name": "cat", "box": 1, "polygon": 1, "rle": 0, "mask": 1,
        "tag": 0, "negative_tag": 1, "total": 4, "samples": 1,
    }  # fmt: skip
    dog = _row(table, "dog")
    assert (dog["box"], dog["rle"], dog["mask"], dog["tag"], dog["samples"]) == (
        1,
        1,
        2,
        1,
        2,
    )
    assert _row(table, "cow")["total"] == 0
    assert _row(table, "(void 255)")["polygon"] == 1
    assert _row(table, "(dense masks)")["mask"] == 1
    total = _row(table, "(total)")
    assert (total["mask"], total["total"], total["samples"]) == (2, 9, 2)
    assert table["label"].dtype == "Int64" and pd.isna(total["label"])
    assert table.attrs == {"read": 11, "skipped": 2}


def test_labelme_instance_segmentation(shared: Path) -> None:
    folder = shared / LABELME / "instance_segmentation"
    dataset = read_labelme(folder / "data_annotated", labels=folder / "labels.txt")
    table = summarize_dataset(dataset)
    assert _row(table, "person")["polygon"] == 6
    assert _row(table, "(void -1)")["polygon"] == 2
    assert _row(table, "(total)")["total"] == dataset.read == 14


def test_panoptic_counts_segments(shared: Path) -> None:
    table = summarize_dataset(read_coco_panoptic(shared / PANOPTIC))
    assert _row(table, "(total)")["mask"] == 2
    assert int(table["mask"].iloc[:-1].sum()) == 50
    assert _row(table, "person")["mask"] > 0


def test_unknown_annotation_type() -> None:
    from unitax.formats.summary import _kind

    with pytest.raises(TypeError, match=r"annotation must be one of"):
        _kind("x")  # type: ignore[arg-type]
