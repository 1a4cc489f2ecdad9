from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from PIL import Image

import unitax as ux
from unitax.annotations import RLE, Box, Polygon, Sample
from unitax.errors import FormatError
from unitax.formats.yolo import read_yolo, write_yolo

ASSETS = "data/format_samples/yolo/datumaro/tests/assets"


def _approx_box(box: Any, xyxy: tuple[float, ...]) -> bool:
    return isinstance(box, Box) and box.xyxy == pytest.approx(xyxy, abs=1e-9)


def test_darknet_strict_layout(shared: Path) -> None:
    dataset = read_yolo(shared / ASSETS / "yolo_dataset/strict")
    assert dataset.label_space.names == tuple(f"label_{i}" for i in range(10))
    (sample,) = dataset.samples
    assert (sample.key, sample.split, sample.shape) == (
        "obj_train_data/1.jpg",
        "train",
        (10, 15),
    )
    first, second = sample.annotations
    assert isinstance(first, Box) and isinstance(second, Box)
    assert (first.label, first.key, second.label, second.key) == (2, 1, 4, 2)
    cx, cy, w, h = 0.133333, 0.3, 0.266667, 0.2
    assert _approx_box(
        first,
        ((cx - w / 2) * 15, (cy - h / 2) * 10, (cx + w / 2) * 15, (cy + h / 2) * 10),
    )


def test_obj_names_with_image_folders(shared: Path) -> None:
    dataset = read_yolo(shared / ASSETS / "yolo_dataset/labels")
    assert [(s.key, s.split) for s in dataset.samples] == [
        ("images/train/1.jpg", "train"),
        ("images/val/1.jpg", "val"),
    ]
    assert dataset.read == 4


def test_roboflow_data_yaml(shared: Path) -> None:
    """``../train/images`` is found as ``train/images``; ``valid/`` does not exist."""
    root = shared / ASSETS / "roboflow_dataset/yolo"
    with pytest.raises(
        FormatError, match=r"data.yaml: split 'valid/images': must be a folder"
    ):
        read_yolo(root)
    dataset = read_yolo(root, errors="lenient")
    assert [s.key for s in dataset.samples] == [
        "train/images/train_001.jpg",
        "train/images/train_002.jpg",
    ]
    assert _approx_box(dataset.samples[1].annotations[0], (0.0, 0.0, 2.0, 4.0))
    (skip,) = dataset.skipped
    assert skip.count == 0


def _dataset(root: Path, label_lines: str, *, yaml: str | None = None) -> Path:
    (root / "images/train").mkdir(parents=True, exist_ok=True)
    (root / "labels/train").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (10, 5)).save(root / "images/train/a.jpg")
    (root / "labels/train/a.txt").write_text(label_lines, encoding="utf-8")
    text = "train: images/train\nnames:\n  0: cat\n  1: dog\n" if yaml is None else yaml
    (root / "data.yaml").write_text(text, encoding="utf-8")
    return root


def test_polygons(tmp_path: Path) -> None:
    root = _dataset(tmp_path, "1 0.1 0.2 0.5 0.2 0.5 1.0\n\n0 0.5 0.5 1 1\n")
    polygon, box = read_yolo(root).samples[0].annotations
    assert isinstance(polygon, Polygon) and polygon.convention == "pil"
    expected = [[1.0, 1.0], [5.0, 1.0], [5.0, 5.0], [1.0, 1.0]]
    assert np.allclose(shapely.get_coordinates(polygon.geometry), expected)
    assert (polygon.key, box.key) == (1, 3)
    assert _approx_box(box, (0.0, 0.0, 10.0, 5.0))


LINE_CASES = [
    (
        "class-out-of-range",
        "2 0.5 0.5 0.1 0.1",
        r"class must be an int in 0..1, got '2'",
    ),
    ("class-float", "1.0 0.5 0.5 0.1 0.1", r"class must be an int in 0..1, got '1.0'"),
    ("above-one", "0 0.5 0.5 1.2 0.1", r"coordinates must be fractions in 0..1"),
    ("nan", "0 nan 0.5 0.1 0.1", r"coordinates must be fractions in 0..1"),
    ("not-a-number", "0 a 0.5 0.1 0.1", r"coordinates must be numbers"),
    ("two-values", "0 0.5 0.5", r"expected 'class cx cy w h' or .* got 2 coordinates"),
    ("five-values", "0 0.1 0.1 0.5 0.5 0.1", r"got 5 coordinates"),
    ("odd-pairs", "0 0.1 0.1 0.5 0.5 0.1 0.9 0.3", r"got 7 coordinates"),
    ("repeated-points", "0 0.1 0.1 0.1 0.1 0.5 0.5", r"at least 3 distinct points"),
]


@pytest.mark.parametrize(
    ("line", "reason"), [c[1:] for c in LINE_CASES], ids=[c[0] for c in LINE_CASES]
)
def test_bad_line(tmp_path: Path, line: str, reason: str) -> None:
    root = _dataset(tmp_path, f"0 0.5 0.5 0.2 0.2\n{line}\n")
    with pytest.raises(FormatError, match=rf"labels/train/a.txt:2: .*{reason}"):
        read_yolo(root)
    dataset = read_yolo(root, errors="lenient")
    assert dataset.read == 2 and len(dataset.samples[0].annotations) == 1
    (skip,) = dataset.skipped
    assert skip.where == f"{root / 'labels/train/a.txt'}:2" and skip.count == 1
    assert re.search(reason, skip.reason)


@pytest.mark.parametrize(
    ("yaml", "match"),
    [
        ("train: images/train\nnames: {0: cat, 2: dog}\n", r"class ids must be 0..1"),
        (
            "train: images/train\nnames: [cat]\nnc: 2\n",
            r"nc must equal the number of names 1, got 2",
        ),
        ("train: images/train\nnames: cat\n", r"names must be a list or a mapping"),
        ("train: [images/train\n", r"invalid YAML"),
        ("- a\n", r"expected a mapping, got list"),
        ("train: 3\nnames: [cat]\n", r"train must be a path or a list of paths"),
    ],
    ids=[
        "gap-in-ids",
        "nc-mismatch",
        "names-type",
        "invalid-yaml",
        "not-a-mapping",
        "split-type",
    ],
)
def test_bad_data_yaml(tmp_path: Path, yaml: str, match: str) -> None:
    _dataset(tmp_path, "", yaml=yaml)
    with pytest.raises(FormatError, match=match):
        read_yolo(tmp_path, errors="lenient")


def test_no_description(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"expected a YOLO dataset description"):
        read_yolo(tmp_path)


def test_split_leading_outside_the_root(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "root", "", yaml="train: ../../x\nnames: [cat]\n")
    with pytest.raises(
        FormatError, match=r"split '../x'.*leads outside the dataset root"
    ):
        read_yolo(root)


def test_image_list_file(tmp_path: Path) -> None:
    root = _dataset(
        tmp_path, "0 0.5 0.5 0.2 0.2\n", yaml="train: train.txt\nnames: [cat]\n"
    )
    (root / "train.txt").write_text(
        "./images/train/a.jpg\n../etc/passwd\n", encoding="utf-8"
    )
    with pytest.raises(
        FormatError, match=r"train.txt:2: file name '../etc/passwd' leads outside"
    ):
        read_yolo(root)
    (root / "train.txt").write_text("./images/train/a.jpg\n", encoding="utf-8")
    assert len(read_yolo(root).samples[0].annotations) == 1


def test_unreadable_image_skips_its_lines(tmp_path: Path) -> None:
    root = _dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.1 0.1\n")
    (root / "images/train/a.jpg").write_bytes(b"not an image")
    with pytest.raises(FormatError, match=r"a.jpg: cannot read image header"):
        read_yolo(root)
    dataset = read_yolo(root, errors="lenient")
    assert dataset.samples == () and dataset.read == 2 and dataset.skipped[0].count == 2


def test_symlinked_image_leading_outside(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "root", "0 0.5 0.5 0.2 0.2\n")
    Image.new("RGB", (10, 5)).save(tmp_path / "outside.jpg")
    (root / "images/train/b.jpg").symlink_to(tmp_path / "outside.jpg")
    dataset = read_yolo(root, errors="lenient")
    assert [s.key for s in dataset.samples] == ["images/train/a.jpg"]
    assert "leads outside" in dataset.skipped[0].reason


def test_non_utf8_label_file(tmp_path: Path) -> None:
    root = _dataset(tmp_path, "")
    (root / "labels/train/a.txt").write_bytes(b"0 0.5 0.5 0.2 0.2 \xff\n")
    with pytest.raises(FormatError, match=r"a\.txt:1: expected UTF-8 text"):
        read_yolo(root)


# -- write_yolo -----------------------------------------------------------------------


def test_write_read_round_trip(shared: Path, tmp_path: Path) -> None:
    source = read_yolo(shared / ASSETS / "yolo_dataset/labels")
    triangle = Polygon(shapely.Polygon([(1, 1), (9, 2), (5, 8)]), 3, "pil", key=3)
    first = source.samples[0]
    samples = (
        Sample(
            first.key,
            first.image,
            first.shape,
            (*first.annotations, triangle),
            first.source,
            first.split,
        ),
        source.samples[1],
    )
    dataset = ux.annotations.Dataset(source.label_space, samples)
    data = write_yolo(dataset, tmp_path / "out")
    again = read_yolo(data.parent, label_space_name="yolo")
    assert again.label_space == dataset.label_space
    for before, after in zip(dataset.samples, again.samples, strict=True):
        assert (after.split, after.shape) == (before.split, before.shape)
        for a, b in zip(before.annotations, after.annotations, strict=True):
            assert isinstance(a, Box | Polygon) and isinstance(b, Box | Polygon)
            assert (type(a), a.label, a.key) == (type(b), b.label, b.key)
            if isinstance(a, Box):
                assert _approx_box(b, a.xyxy)
            else:
                assert shapely.equals_exact(a.geometry, b.geometry, tolerance=1e-9)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("labels", "annotation", "match"),
    [
        (
            ["a", "b"],
            RLE(b"0", (5, 10), 0),
            r"YOLO stores Box and Polygon annotations, got RLE",
        ),
        (
            ["a"],
            Box((-5, 0, 2, 2), 0),
            r"must be fractions in 0..1 of the \(5, 10\) image",
        ),
        (["a"], Box((0, 0, 2, 2), 1), r"label must be a label id, got 1"),
    ],
    ids=["rle", "outside", "unknown-label"],
)
def test_write_yolo_refuses(
    tmp_path: Path, labels: list[str], annotation: Any, match: str
) -> None:
    space = ux.LabelSpace.from_names("toy", labels)
    sample = Sample("a", tmp_path / "a.jpg", (5, 10), (annotation,), "toy")
    with pytest.raises(ValueError, match=match):
        write_yolo(
            ux.annotations.Dataset(space, (sample,)),
            tmp_path / "out",
            copy_images=False,
        )


def test_write_yolo_needs_class_indices(tmp_path: Path) -> None:
    space = ux.LabelSpace(name="toy", labels=(ux.Label(id=1, name="a"),))
    with pytest.raises(
        ValueError, match=r"label ids must be 0..0 \(YOLO class indices\), got \[1\]"
    ):
        write_yolo(ux.annotations.Dataset(space, ()), tmp_path)
