from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from unitax.annotations import Mask
from unitax.errors import FormatError
from unitax.formats.idd import read_idd

FRAME = "train/201/frame0029"


def _image(root, key=FRAME, suffix=".jpg", shape=(3, 4)):
    path = root / "leftImg8bit" / f"{key}_leftImg8bit{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", shape[::-1]).save(path)


def _png(root, level, values, key=FRAME):
    path = root / "gtFine" / f"{key}_gtFine_label{level}s.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(values, dtype=np.uint8)).save(path)
    return path


def _polygons(root, objects, key=FRAME, shape=(3, 4)):
    path = root / "gtFine" / f"{key}_gtFine_polygons.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"imgHeight": shape[0], "imgWidth": shape[1], "objects": objects}
    path.write_text(json.dumps(doc, indent=1))


TRIANGLE = [[0, 0], [4, 0], [4, 3]]


@pytest.mark.parametrize(
    ("level", "space", "file_name", "values"),
    [
        ("id", "idd", "frame0029_gtFine_labelids.png", [[0, 11, 35, 39]] * 3),
        (
            "level3Id",
            "idd-level3",
            "frame0029_gtFine_labellevel3Ids.png",
            [[0, 8, 25, 255]] * 3,
        ),
        (
            "level2Id",
            "idd-level2",
            "frame0029_gtFine_labellevel2Ids.png",
            [[0, 7, 15, 255]] * 3,
        ),
        (
            "level1Id",
            "idd-level1",
            "frame0029_gtFine_labellevel1Ids.png",
            [[0, 3, 6, 255]] * 3,
        ),
    ],
    ids=["id", "level3", "level2", "level1"],
)
def test_label_pngs_of_create_labels(tmp_path, level, space, file_name, values):
    _image(tmp_path)
    path = _png(tmp_path, level, values)
    assert path.name == file_name
    dataset = read_idd(tmp_path, level=level, check_ids=True)
    assert dataset.label_space.name == space
    (sample,) = dataset.samples
    assert (sample.key, sample.split, sample.shape) == (FRAME, "train", (3, 4))
    assert sample.annotations == (Mask(path, key=f"gtFine/{FRAME}_{file_name[10:]}"),)


def test_png_images_too(tmp_path):
    _image(tmp_path, suffix=".png")
    _png(tmp_path, "level3Id", [[0] * 4] * 3)
    assert len(read_idd(tmp_path, level="level3Id")) == 1
    _image(tmp_path, suffix=".jpg")
    with pytest.raises(FormatError, match=r"two images for 'train/201/frame0029'"):
        read_idd(tmp_path, level="level3Id")


def test_polygons(tmp_path):
    _image(tmp_path)
    _polygons(
        tmp_path,
        [
            {"label": "road", "polygon": TRIANGLE},
            {"label": "autorickshawgroup", "polygon": TRIANGLE, "deleted": 0},
            {"label": "unlabeled", "polygon": TRIANGLE},
            {"label": "car", "polygon": TRIANGLE, "deleted": 1},
            {"label": "ego vehicle", "polygon": [[0, 2], [9, 2], [9, 9]]},
        ],
    )
    dataset = read_idd(tmp_path, source="polygons")
    polygons = dataset.samples[0].annotations
    assert [p.label for p in polygons] == [0, 11, 35, 36]  # 35 = void 'unlabeled'
    assert [p.key for p in polygons] == [0, 1, 2, 4]
    assert dataset.read == 4 and dataset.label_space.name == "idd"


def test_polygons_need_level_id(tmp_path):
    with pytest.raises(ValueError, match=r"level must be 'id', got 'level3Id'"):
        read_idd(tmp_path, source="polygons", level="level3Id")
    with pytest.raises(ValueError, match=r"level must be one of"):
        read_idd(tmp_path, level="level4Id")


def _unknown_name(root):
    _image(root)
    _polygons(
        root,
        [{"label": "auto", "polygon": TRIANGLE}, {"label": "car", "polygon": TRIANGLE}],
    )
    return (
        {"source": "polygons"},
        r"polygons\.json:\d+: object 0: label 'auto' is not a label of 'idd'",
        1,
        2,
    )


def _level3_out_of_space(root):
    _image(root)
    _png(root, "level3Id", [[0, 26, 0, 0]] * 3)
    return (
        {"level": "level3Id", "check_ids": True},
        r"expected label ids of 'idd-level3' \(0\.\.25, void \[255\]\), got \[26\]",
        1,
        1,
    )


def _missing_png(root):
    _image(root)
    (root / "gtFine" / "train").mkdir(parents=True)
    return (
        {"level": "level3Id"},
        (
            r"frame0029_leftImg8bit\.jpg: no labellevel3Ids "
            r"PNG: expected .*labellevel3Ids\.png"
        ),
        0,
        0,
    )


def _orphan_polygons(root):
    _image(root)
    _polygons(root, [{"label": "car", "polygon": TRIANGLE}])
    _polygons(root, [{"label": "car", "polygon": TRIANGLE}], key="train/201/frame0030")
    return (
        {"source": "polygons"},
        r"frame0030_gtFine_polygons\.json: gtFine_polygons\.json without an image",
        0,
        1,
    )


@pytest.mark.parametrize(
    "make",
    [_unknown_name, _level3_out_of_space, _missing_png, _orphan_polygons],
    ids=["unknown-name", "id-not-in-space", "missing-png", "orphan-json"],
)
def test_bad_input(tmp_path, make):
    kwargs, match, count, read = make(tmp_path)
    with pytest.raises(FormatError, match=match):
        read_idd(tmp_path, **kwargs)
    dataset = read_idd(tmp_path, errors="lenient", **kwargs)
    assert [s.count for s in dataset.skipped] == [count]
    assert dataset.read == read
