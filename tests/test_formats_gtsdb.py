from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import unitax as ux
from unitax.annotations import Box, Dataset, Sample, Tag
from unitax.errors import FormatError
from unitax.formats.gtsdb import read_gtsdb, write_gtsdb
from unitax.rasterize import rasterize

SHAPE = (6, 8)  # (height, width) of the fixture images


def _ppm(path, shape=SHAPE):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((*shape, 3), dtype=np.uint8)).save(path, format="PPM")
    return path


def _gtsdb(root, lines, images=("00000.ppm", "00001.ppm", "00002.ppm")):
    for name in images:
        _ppm(root / name)
    (root / "gt.txt").write_text("".join(f"{line}\n" for line in lines))
    return root


def test_reads_the_layout(tmp_path):
    root = _gtsdb(
        tmp_path,
        ["00000.ppm;2;1;4;3;14", "00002.ppm;0;0;7;5;1", "00000.ppm;5;0;5;0;42"],
    )
    (tmp_path / "14").mkdir()  # GTSDB's crops per class: not read
    _ppm(tmp_path / "14" / "00000_00000.ppm")
    dataset = read_gtsdb(tmp_path)
    assert dataset.label_space == ux.builtin_label_space("gtsdb")
    assert dataset.read == 3
    assert dataset.skipped == ()
    assert [(s.key, s.split, s.shape) for s in dataset.samples] == [
        ("00000", "", SHAPE),
        ("00001", "", SHAPE),
        ("00002", "", SHAPE),
    ]
    first, empty, full = dataset.samples
    assert first.image == root / "00000.ppm"
    assert first.annotations == (
        Box((2, 1, 5, 4), label=14, key="gt.txt:1"),
        Box((5, 0, 6, 1), label=42, key="gt.txt:3"),
    )
    assert empty.annotations == ()  # exhaustive labels: known to have no sign
    assert full.annotations == (Box((0, 0, 8, 6), label=1, key="gt.txt:2"),)


def test_inclusive_corners_cover_exactly_their_pixels(tmp_path):
    _gtsdb(tmp_path, ["00000.ppm;2;1;3;1;14"], images=["00000.ppm"])
    (sample,) = read_gtsdb(tmp_path).samples
    taxonomy, maps = ux.unify([ux.builtin_label_space("gtsdb")])
    target = rasterize(sample.annotations, maps["gtsdb"], shape=sample.shape)
    covered = target.array != target.ignore_index
    expected = np.zeros(SHAPE, dtype=bool)
    expected[1, 2:4] = True  # row y1..y2 = 1, columns x1..x2 = 2..3
    np.testing.assert_array_equal(covered, expected)
    assert set(target.array[covered]) == {taxonomy.index("gtsdb/stop")}


def test_crlf_and_blank_lines(tmp_path):
    _gtsdb(tmp_path, [], images=["00000.ppm"])
    (tmp_path / "gt.txt").write_bytes(b"\r\n00000.ppm;1;1;2;2;3\r\n   \r\n")
    dataset = read_gtsdb(tmp_path)
    assert dataset.read == 1
    assert dataset.samples[0].annotations == (Box((1, 1, 3, 3), 3, key="gt.txt:2"),)


BAD_LINES = [
    ("00000.ppm;1;1;2;2", "expected 6 fields"),
    ("00000.ppm;1;1;2;2;3;4", "expected 6 fields"),
    ("00000.ppm;1;a;2;2;3", "expected integers"),
    ("00000.ppm;1;1.5;2;2;3", "expected integers"),
    ("00000.ppm;1;1;2;2;43", "classID must be one of 0..42, got 43"),
    ("00000.ppm;1;1;2;2;-1", "classID must be one of 0..42, got -1"),
    ("00000.ppm;3;1;2;2;3", "x1 <= x2 and y1 <= y2"),
    ("00000.ppm;1;3;2;2;3", "x1 <= x2 and y1 <= y2"),
    ("00000.ppm;1;1;8;2;3", "must lie inside the image"),
    ("00000.ppm;1;1;2;6;3", "must lie inside the image"),
    ("00000.ppm;-1;1;2;2;3", "must lie inside the image"),
    ("00009.ppm;1;1;2;2;3", "is not a .ppm image"),
    ("00000.png;1;1;2;2;3", "is not a .ppm image"),
    ("../00000.ppm;1;1;2;2;3", "leads outside"),
    ("/etc/00000.ppm;1;1;2;2;3", "must be relative"),
]


@pytest.mark.parametrize(
    ("line", "reason"), BAD_LINES, ids=[line for line, _ in BAD_LINES]
)
def test_bad_line_strict(tmp_path, line, reason):
    root = tmp_path / "gtsdb"
    _gtsdb(root, ["00000.ppm;0;0;1;1;0", line])
    with pytest.raises(
        FormatError, match=r"gt\.txt:2: .*" + reason.replace(".", r"\.")
    ):
        read_gtsdb(root)


@pytest.mark.parametrize(
    ("line", "reason"), BAD_LINES, ids=[line for line, _ in BAD_LINES]
)
def test_bad_line_lenient(tmp_path, line, reason):
    root = tmp_path / "gtsdb"
    _ppm(tmp_path / "00000.ppm")  # the target of '../00000.ppm'
    _gtsdb(root, ["00000.ppm;0;0;1;1;0", line, "00001.ppm;0;0;1;1;5"])
    dataset = read_gtsdb(root, errors="lenient")
    assert dataset.read == 3
    assert len(dataset.skipped) == 1
    (skip,) = dataset.skipped
    assert skip.where.endswith("gt.txt:2")
    assert reason in skip.reason
    assert skip.count == 1
    assert [len(s.annotations) for s in dataset.samples] == [1, 1, 0]


def test_unreadable_image(tmp_path):
    _gtsdb(tmp_path, ["00000.ppm;0;0;1;1;0", "00001.ppm;0;0;1;1;1"])
    (tmp_path / "00001.ppm").write_bytes(b"not an image")
    with pytest.raises(FormatError, match="cannot read image header"):
        read_gtsdb(tmp_path)
    dataset = read_gtsdb(tmp_path, errors="lenient")
    assert [s.key for s in dataset.samples] == ["00000", "00002"]
    assert dataset.read == 2
    reasons = sorted((s.count, s.reason.split(":")[0]) for s in dataset.skipped)
    assert reasons == [
        (0, "cannot read image header"),
        (1, "image '00001.ppm' is unusable"),
    ]


def test_image_linked_from_outside_the_root(tmp_path):
    outside = _ppm(tmp_path / "elsewhere.ppm")
    root = _gtsdb(tmp_path / "gtsdb", ["00003.ppm;0;0;1;1;0"], images=["00000.ppm"])
    (root / "00003.ppm").symlink_to(outside)
    with pytest.raises(FormatError, match="leads outside"):
        read_gtsdb(root)
    dataset = read_gtsdb(root, errors="lenient")
    assert [s.key for s in dataset.samples] == ["00000"]
    assert dataset.read == 1
    assert sum(s.count for s in dataset.skipped) == 1


def test_not_utf8(tmp_path):
    _gtsdb(tmp_path, [], images=["00000.ppm"])
    (tmp_path / "gt.txt").write_bytes(b"0000\xff.ppm;0;0;1;1;0\n")
    for errors in ("strict", "lenient"):
        with pytest.raises(FormatError, match="expected UTF-8"):
            read_gtsdb(tmp_path, errors=errors)


def test_splits(tmp_path):
    _gtsdb(tmp_path / "train", ["00000.ppm;0;0;1;1;0"], images=["00000.ppm"])
    _gtsdb(tmp_path / "val", [], images=["00001.ppm"])
    (tmp_path / "notes").mkdir()
    dataset = read_gtsdb(tmp_path)
    assert [(s.key, s.split) for s in dataset.samples] == [
        ("train/00000", "train"),
        ("val/00001", "val"),
    ]
    assert dataset.samples[0].annotations[0].key == "train/gt.txt:1"
    assert [s.key for s in read_gtsdb(tmp_path, split="val").samples] == ["val/00001"]
    with pytest.raises(FormatError, match=r"split folder 'test'.*\['train', 'val'\]"):
        read_gtsdb(tmp_path, split="test")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "expected the GTSDB folder"),
        ("no gt", r"expected gt\.txt and the \*\.ppm images"),
        ("split of flat", "holds gt.txt itself"),
    ],
    ids=["missing", "no gt", "split of flat"],
)
def test_layout_errors(tmp_path, setup, message):
    root = tmp_path / "gtsdb"
    split = None
    if setup == "no gt":
        _ppm(root / "00000.ppm")  # TestIJCNN2013 without its gt.txt
    elif setup == "split of flat":
        _gtsdb(root, [])
        split = "train"
    with pytest.raises(FormatError, match=message):
        read_gtsdb(root, split=split)


def test_write_round_trip(tmp_path):
    source = _gtsdb(
        tmp_path / "a" / "train", ["00000.ppm;2;1;4;3;14", "00000.ppm;0;0;0;0;7"]
    )
    _gtsdb(tmp_path / "a" / "val", ["00005.ppm;1;1;7;5;40"], images=["00005.ppm"])
    first = read_gtsdb(source.parent)
    root = write_gtsdb(first, tmp_path / "b")
    assert (root / "train" / "gt.txt").read_text() == (
        "00000.ppm;2;1;4;3;14\n00000.ppm;0;0;0;0;7\n"
    )
    again = read_gtsdb(root)
    assert [(s.key, s.split, s.shape, s.annotations) for s in again.samples] == [
        (s.key, s.split, s.shape, s.annotations) for s in first.samples
    ]
    assert (root / "train" / "00002.ppm").is_file()
    assert (root / "train" / "gt.txt").read_bytes() == (source / "gt.txt").read_bytes()


def test_write_converts_images_and_keeps_those_in_place(tmp_path):
    space = ux.builtin_label_space("gtsdb")
    png = tmp_path / "photo.png"
    Image.new("RGB", (8, 6), (10, 20, 30)).save(png)
    root = tmp_path / "gtsdb"
    in_place = _ppm(root / "00001.ppm")
    before = in_place.stat().st_mtime_ns
    samples = [
        Sample("00000", png, SHAPE, [Box((0, 0, 2, 2), 3)], "gtsdb"),
        Sample("00001", in_place, SHAPE, [], "gtsdb"),
    ]
    write_gtsdb(Dataset(space, samples), root)
    with Image.open(root / "00000.ppm") as image:
        assert image.format == "PPM"
        assert image.getpixel((0, 0)) == (10, 20, 30)
    assert in_place.stat().st_mtime_ns == before
    assert (root / "gt.txt").read_text() == "00000.ppm;0;0;1;1;3\n"


def _one(annotations, key="00000", split="", shape=SHAPE):
    return [Sample(key, "x.ppm", shape, annotations, "gtsdb", split)]


WRITE_ERRORS = [
    ("tag", _one([Tag(3)]), "only Box annotations"),
    ("fraction", _one([Box((0.5, 0, 2, 2), 3)]), "corners must be integers"),
    ("label", _one([Box((0, 0, 2, 2), 43)]), "classID 0..42"),
    ("outside", _one([Box((0, 0, 9, 2), 3)]), "inside the image"),
    ("empty", _one([Box((2, 0, 2, 2), 3)]), "non-empty"),
    ("deep key", _one([], key="a/b/c", split="a/b"), "'stem' or 'split/stem'"),
    ("split", _one([], key="train/00000", split="val"), "must equal the sample's"),
    (
        "mixed",
        _one([]) + _one([], key="train/00001", split="train"),
        "keys 'split/stem' or all 'stem'",
    ),
]


@pytest.mark.parametrize(
    ("samples", "message"),
    [(samples, message) for _, samples, message in WRITE_ERRORS],
    ids=[name for name, _, _ in WRITE_ERRORS],
)
def test_write_errors(tmp_path, samples, message):
    dataset = Dataset(ux.builtin_label_space("gtsdb"), samples)
    with pytest.raises(ValueError, match=message):
        write_gtsdb(dataset, tmp_path / "out")
    assert not (tmp_path / "out" / "gt.txt").exists()


@st.composite
def _boxes(draw):
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    boxes = []
    for number in range(draw(st.integers(0, 4))):
        x0, x1 = sorted(draw(st.integers(0, width - 1)) for _ in range(2))
        y0, y1 = sorted(draw(st.integers(0, height - 1)) for _ in range(2))
        label = draw(st.integers(0, 42))
        boxes.append(Box((x0, y0, x1 + 1, y1 + 1), label, key=f"gt.txt:{number + 1}"))
    return (height, width), boxes


@settings(max_examples=25, deadline=None)
@given(_boxes())
def test_write_read_property(tmp_path_factory, drawn):
    shape, boxes = drawn
    root = tmp_path_factory.mktemp("gtsdb")
    image = _ppm(root / "00000.ppm", shape)
    space = ux.builtin_label_space("gtsdb")
    write_gtsdb(Dataset(space, [Sample("00000", image, shape, boxes, "gtsdb")]), root)
    (sample,) = read_gtsdb(root).samples
    assert sample.shape == shape
    assert sample.annotations == tuple(boxes)
