from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unitax.errors import FormatError
from unitax.formats.ade20k import read_ade20k


def _write(root, split="training", name="ADE_train_00000001", values=None, size=(3, 2)):
    image = root / "images" / split / f"{name}.jpg"
    image.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(image)
    if values is not None:
        png = root / "annotations" / split / f"{name}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(values)).save(png)


GOOD = np.array([[0, 1, 150], [3, 3, 0]], dtype=np.uint8)


@pytest.fixture
def root(tmp_path):
    _write(tmp_path, values=GOOD)
    _write(tmp_path, "validation", "ADE_val_00000001", values=GOOD)
    return tmp_path


def test_scene_parsing_layout(root):
    dataset = read_ade20k(root, check_ids=True)
    assert dataset.label_space.name == "ade20k-150"
    assert dataset.label_space.void == frozenset({0})
    assert [(s.key, s.split, s.shape) for s in dataset.samples] == [
        ("training/ADE_train_00000001", "training", (2, 3)),
        ("validation/ADE_val_00000001", "validation", (2, 3)),
    ]
    mask = dataset.samples[0].annotations[0]
    assert (mask.key, mask.divisor) == (
        "annotations/training/ADE_train_00000001.png",
        1,
    )
    assert [s.key for s in read_ade20k(root, split="validation")] == [
        "validation/ADE_val_00000001"
    ]


def test_layout_errors(tmp_path):
    with pytest.raises(
        FormatError, match=r"annotations: expected the annotations folder"
    ):
        read_ade20k(tmp_path)
    (tmp_path / "annotations" / "training").mkdir(parents=True)
    with pytest.raises(FormatError, match=r"images/training: expected a folder"):
        read_ade20k(tmp_path)


def _id_151(root):
    _write(root, name="ADE_train_2", values=np.full((2, 3), 151, np.uint8))
    return {"check_ids": True}


def _orphan(root):
    png = root / "annotations" / "training" / "ADE_train_2.png"
    Image.fromarray(GOOD).save(png)
    return {}


def _missing(root):
    _write(root, name="ADE_train_2")
    return {}


def _sixteen_bit(root):
    _write(root, name="ADE_train_2", values=GOOD.astype(np.uint16))
    return {}


def _wrong_size(root):
    _write(root, name="ADE_train_2", values=GOOD, size=(4, 2))
    return {}


BAD = [
    pytest.param(
        _id_151,
        r"ADE_train_2\.png: expected label ids of 'ade20k-150' "
        r"\(1\.\.150, void \[0\]\), got \[151\]",
        1,
        id="id-not-in-space",
    ),
    pytest.param(
        _orphan, r"ADE_train_2\.png: annotation without an image", 1, id="orphan"
    ),
    pytest.param(_missing, r"ADE_train_2\.jpg: no annotation PNG", 0, id="missing"),
    pytest.param(_sixteen_bit, r"got mode 'I;16'", 1, id="16-bit"),
    pytest.param(
        _wrong_size, r"\(height, width\) \(2, 4\), got \(2, 3\)", 1, id="size"
    ),
]


@pytest.mark.parametrize(("make", "match", "count"), BAD)
def test_bad_input(root, make, match, count):
    kwargs = make(root)
    with pytest.raises(FormatError, match=match):
        read_ade20k(root, **kwargs)
    dataset = read_ade20k(root, errors="lenient", **kwargs)
    assert [s.count for s in dataset.skipped] == [count]
    assert (len(dataset), dataset.read) == (2, 2 + count)
