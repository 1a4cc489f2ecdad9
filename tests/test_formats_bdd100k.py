from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from unitax._png import read_label_png
from unitax.errors import FormatError
from unitax.formats.bdd100k import read_bdd100k

SAMPLE = "data/format_samples/bdd100k/mmsegmentation/tests/data/pseudo_bdd100k_dataset"
MASKS = "labels/sem_seg/masks"


def test_real_sample(shared):
    dataset = read_bdd100k(shared / SAMPLE, check_ids=True)
    assert dataset.label_space.name == "bdd100k"
    assert [(s.key, s.shape) for s in dataset.samples] == [
        ("train/0004a4c0-d4dff0ad", (8, 8)),
        ("train/00054602-3bf57337", (8, 8)),
        ("train/00067cfb-e535423e", (8, 8)),
        ("val/7d06fefd-f7be05a6", (8, 8)),
        ("val/7d128593-0ccfea4c", (8, 8)),
        ("val/7d15b18b-1e0d6e3f", (8, 8)),
    ]
    assert dataset.read == 6
    masks = [s.annotations[0].source for s in dataset.samples]
    assert all(MASKS in m.as_posix() for m in masks)  # colour maps are not read
    values = set().union(*(np.unique(read_label_png(m)).tolist() for m in masks))
    assert values == {2, 8}
    names = {dataset.label_space.by_id(v).name for v in values}
    assert names == {"building", "vegetation"}


def _write(root, name="b1", values=((0, 18), (255, 13)), split="val"):
    image = root / "images" / "10k" / split / f"{name}.jpg"
    image.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2, 2)).save(image)
    if values is not None:
        mask = root / MASKS / split / f"{name}.png"
        mask.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(values, dtype=np.uint8)).save(mask)


@pytest.fixture
def root(tmp_path):
    _write(tmp_path)
    (tmp_path / "images" / "10k" / "test").mkdir()  # images only: not a split
    return tmp_path


def test_layout(root):
    dataset = read_bdd100k(root, check_ids=True)
    assert [(s.key, s.split) for s in dataset.samples] == [("val/b1", "val")]
    with pytest.raises(FormatError, match=r"split 'test', got splits \['val'\]"):
        read_bdd100k(root, split="test")


def _non_utf8_name(root):
    _write(root, "b2")
    bad = os.fsdecode(b"b\xff")
    _write(root, bad)


def _rgb_mask(root):
    _write(root, "b2", values=None)
    Image.new("RGB", (2, 2)).save(root / MASKS / "val" / "b2.png")


def _id_19(root):
    _write(root, "b2", values=((19, 0), (0, 0)))


BAD = [
    pytest.param(
        _non_utf8_name,
        r"file name .*b\\xff.* must be valid UTF-8",
        {},
        1,
        id="non-utf8-name",
    ),
    pytest.param(
        _rgb_mask, r"b2\.png: expected PNG mode 'L'.*got mode 'RGB'", {}, 1, id="rgb"
    ),
    pytest.param(
        _id_19,
        r"expected label ids of 'bdd100k' \(0\.\.18, void \[255\]\), got \[19\]",
        {"check_ids": True},
        1,
        id="id-not-in-space",
    ),
]


@pytest.mark.parametrize(("make", "match", "kwargs", "count"), BAD)
def test_bad_input(root, make, match, kwargs, count):
    make(root)
    with pytest.raises(FormatError, match=match):
        read_bdd100k(root, **kwargs)
    dataset = read_bdd100k(root, errors="lenient", **kwargs)
    assert [s.count for s in dataset.skipped] == [count]
    assert dataset.read == len(dataset) + count
