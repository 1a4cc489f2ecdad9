from __future__ import annotations

import base64
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from PIL import Image

import unitax as ux
from unitax.annotations import Box, Mask, Polygon, Tag
from unitax.errors import FormatError
from unitax.formats._common import Errors
from unitax.formats.labelme import QUAD_SEGS, read_labelme

EXAMPLES = "data/format_samples/labelme/labelme/examples"


def _coords(polygon: Polygon) -> list[list[list[float]]]:
    return [
        shapely.get_coordinates(part.exterior)[:-1].tolist()
        for part in shapely.get_parts(polygon.geometry)
    ]


def test_instance_segmentation_with_labels_file(shared: Path) -> None:
    folder = shared / EXAMPLES / "instance_segmentation"
    dataset = read_labelme(folder / "data_annotated", labels=folder / "labels.txt")
    space = dataset.label_space
    assert space.void == frozenset({-1})  # __ignore__, as labelme2voc
    assert (space.by_name("_background_").id, space.by_name("person").id) == (0, 15)
    assert space.by_name("tv/monitor").id == 20
    assert dataset.read == 14 and dataset.skipped == ()  # 18 shapes, 14 instances
    first = dataset.samples[0]
    assert (first.key, first.shape) == ("2011_000003", (338, 500))
    assert first.image == folder / "data_annotated" / "2011_000003.jpg"
    raw = json.loads((folder / "data_annotated/2011_000003.json").read_text())
    person, grouped, bottle, ignore = first.annotations
    assert isinstance(grouped, Polygon) and grouped.key == 1
    assert grouped.geometry.geom_type == "MultiPolygon" and grouped.convention == "pil"
    assert _coords(grouped) == [raw["shapes"][1]["points"], raw["shapes"][2]["points"]]
    assert isinstance(person, Polygon) and _coords(person) == [
        raw["shapes"][0]["points"]
    ]
    assert isinstance(bottle, Polygon) and isinstance(ignore, Polygon)
    assert (bottle.label, ignore.label) == (5, -1)
    sofa = dataset.samples[1].annotations[-1]
    assert isinstance(sofa, Polygon) and len(shapely.get_parts(sofa.geometry)) == 4


def test_bbox_detection(shared: Path) -> None:
    folder = shared / EXAMPLES / "bbox_detection"
    dataset = read_labelme(folder / "data_annotated", labels=folder / "labels.txt")
    boxes = [a for s in dataset.samples for a in s.annotations]
    assert len(boxes) == 9 and all(isinstance(b, Box) for b in boxes)
    raw = json.loads((folder / "data_annotated/2011_000003.json").read_text())
    (x0, y0), (x1, y1) = raw["shapes"][0]["points"]
    assert boxes[0] == Box(
        (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), 15, key=0
    )


def test_classification_flags(shared: Path) -> None:
    dataset = read_labelme(shared / EXAMPLES / "classification/data_annotated")
    assert dataset.label_space.names == ("cat", "dog")
    assert [s.annotations for s in dataset.samples] == [
        (Tag(0, key="flags.cat"), Tag(1, positive=False, key="flags.dog")),
        (Tag(0, positive=False, key="flags.cat"), Tag(1, key="flags.dog")),
    ]
    assert dataset.read == 4  # the unset __ignore__ flags are no annotations


def test_primitives(shared: Path) -> None:
    folder = shared / EXAMPLES / "primitives"
    with pytest.raises(
        FormatError,
        match=r"primitives.json: shapes\[4\]: shape_type 'line' has no area",
    ):
        read_labelme(folder)
    dataset = read_labelme(folder, errors="lenient")
    assert dataset.read == 8
    assert [
        (s.where.rsplit(": ", 1)[1], s.reason, s.count) for s in dataset.skipped
    ] == [
        ("shapes[4]", "shape_type 'line' has no area", 1),
        ("shapes[5]", "shape_type 'point' has no area", 1),
        ("shapes[6]", "shape_type 'linestrip' has no area", 1),
    ]
    raw = json.loads((folder / "primitives.json").read_text())["shapes"]
    rectangle, circle, _, polygon, mask = dataset.samples[0].annotations
    assert rectangle == Box(
        (32.0, 35.0, 132.0, 135.0), dataset.label_space.by_name("rectangle").id, key=0
    )
    assert isinstance(circle, Polygon) and circle.convention == "pil"
    (cx, cy), (px, py) = raw[1]["points"]
    vertices = shapely.get_coordinates(circle.geometry)[:-1]
    assert len(vertices) == 4 * QUAD_SEGS
    assert np.allclose(
        np.hypot(vertices[:, 0] - cx, vertices[:, 1] - cy), math.hypot(px - cx, py - cy)
    )
    assert isinstance(polygon, Polygon) and _coords(polygon) == [raw[3]["points"]]
    assert isinstance(mask, Mask) and isinstance(mask.source, np.ndarray)
    assert mask.shape == (450, 560) and list(mask.segments or {}) == [1]
    bitmap = np.asarray(Image.open(io.BytesIO(base64.b64decode(raw[7]["mask"])))) != 0
    assert (mask.source[305:405, 417:517] == bitmap).all()
    assert mask.source.sum() == bitmap.sum()


def test_labels_and_label_space_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"labels or label_space, not both"):
        read_labelme(
            tmp_path,
            labels=tmp_path / "l.txt",
            label_space=ux.LabelSpace.from_names("x", ["a"]),
        )


def test_given_label_space_maps_ignore_to_its_void(tmp_path: Path) -> None:
    _write(tmp_path, [_polygon("__ignore__"), _polygon("cat")])
    space = ux.LabelSpace.from_names("toy", ["cat"], void=[255])
    annotations = read_labelme(tmp_path, label_space=space).samples[0].annotations
    labels = [a.label for a in annotations if isinstance(a, Polygon)]
    assert labels == [255, 0]


# -- literal files ----------------------------------------------------------------


def _polygon(label: str, points: Any = None, **extra: Any) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "label": label,
        "shape_type": "polygon",
        "group_id": None,
        "flags": {},
    }
    shape["points"] = [[0, 0], [4, 0], [4, 3]] if points is None else points
    shape.update(extra)
    return shape


def _write(folder: Path, shapes: list[Any], name: str = "a.json", **extra: Any) -> Path:
    document: dict[str, Any] = {
        "version": "5.7.0",
        "flags": {},
        "shapes": shapes,
        "imagePath": "a.jpg",
        "imageData": None,
        "imageHeight": 4,
        "imageWidth": 6,
    }
    document.update(extra)
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _png(array: np.ndarray[Any, Any]) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


SHAPE_CASES = [
    (
        "two-points",
        _polygon("cat", [[0, 0], [1, 1]]),
        r"at least 3 distinct points, got 2",
    ),
    (
        "nan",
        _polygon("cat", [[0, 0], [float("nan"), 0], [4, 3]]),
        r"points must be \[x, y\] pairs of finite numbers",
    ),
    (
        "string-point",
        _polygon("cat", [[0, 0], ["4", 0], [4, 3]]),
        r"points must be \[x, y\] pairs",
    ),
    (
        "rectangle-3-points",
        _polygon("cat", [[0, 0], [1, 1], [2, 2]], shape_type="rectangle"),
        r"a rectangle must have 2 points, got 3",
    ),
    (
        "circle-zero",
        _polygon("cat", [[1, 1], [1, 1]], shape_type="circle"),
        r"positive radius",
    ),
    (
        "unknown-type",
        _polygon("cat", shape_type="ellipse"),
        r"shape_type must be one of .* got 'ellipse'",
    ),
    ("unknown-label", _polygon("cow"), r"label 'cow' is not in the label space"),
    ("empty-label", _polygon(""), r"label must be a non-empty string"),
    (
        "group-id-type",
        _polygon("cat", group_id="x"),
        r"group_id must be an int or null",
    ),
    ("not-an-object", "x", r"expected an object, got str"),
    (
        "mask-size",
        _polygon(
            "cat", [[1, 1], [2, 2]], shape_type="mask", mask=_png(np.ones((3, 3)))
        ),
        (
            r"mask PNG must be a single-channel \(2, 2\) bitmap .* "
            r"got mode 'L' and \(3, 3\)"
        ),
    ),
    (
        "mask-outside",
        _polygon(
            "cat", [[4, 2], [6, 3]], shape_type="mask", mask=_png(np.ones((2, 3)))
        ),
        r"must lie inside the \(4, 6\) image",
    ),
    (
        "mask-not-base64",
        _polygon("cat", [[1, 1], [2, 2]], shape_type="mask", mask="@@"),
        r"mask must be a base64 PNG",
    ),
    (
        "mask-rgb",
        _polygon(
            "cat", [[1, 1], [2, 2]], shape_type="mask", mask=_png(np.ones((2, 2, 3)))
        ),
        r"got mode 'RGB'",
    ),
]


@pytest.mark.parametrize(
    ("shape", "reason"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES]
)
def test_bad_shape(tmp_path: Path, shape: Any, reason: str) -> None:
    path = _write(tmp_path, [_polygon("cat"), shape])
    labels = tmp_path / "labels.txt"
    labels.write_text("__ignore__\n_background_\ncat\n", encoding="utf-8")
    with pytest.raises(FormatError, match=rf"a.json: shapes\[1\]: .*{reason}"):
        read_labelme(tmp_path, labels=labels)
    dataset = read_labelme(tmp_path, labels=labels, errors="lenient")
    assert dataset.read == 2 and [a.key for a in dataset.samples[0].annotations] == [0]
    (skip,) = dataset.skipped
    assert (skip.where, skip.count) == (f"{path}: shapes[1]", 1)
    assert re.search(reason, skip.reason)


def test_group_mixing_a_mask_is_one_skipped_instance(tmp_path: Path) -> None:
    mask = _polygon(
        "cat",
        [[1, 1], [2, 2]],
        shape_type="mask",
        mask=_png(np.ones((2, 2))),
        group_id=3,
    )
    _write(tmp_path, [_polygon("cat", group_id=3), mask, _polygon("cat", group_id=4)])
    with pytest.raises(
        FormatError, match=r"shapes\[0, 1\] \(group_id 3\): a mask cannot be grouped"
    ):
        read_labelme(tmp_path)
    dataset = read_labelme(tmp_path, errors="lenient")
    assert dataset.read == 2 and len(dataset.samples[0].annotations) == 1


def test_mask_shape(tmp_path: Path) -> None:
    bitmap = np.array([[1, 0, 1], [0, 1, 0]])
    _write(
        tmp_path,
        [
            _polygon(
                "cat", [[2.7, 1.2], [4.1, 2.9]], shape_type="mask", mask=_png(bitmap)
            )
        ],
    )
    (mask,) = read_labelme(tmp_path).samples[0].annotations
    assert isinstance(mask, Mask) and isinstance(mask.source, np.ndarray)
    expected = np.zeros((4, 6), dtype=np.uint8)
    expected[1:3, 2:5] = bitmap
    assert (mask.source == expected).all() and dict(mask.segments or {}) == {1: 0}


FILE_CASES = [
    ("invalid-json", "{", r"invalid JSON"),
    (
        "not-labelme",
        '{"images": []}',
        r"expected a LabelMe object with a 'shapes' list",
    ),
    (
        "dotdot",
        {"imagePath": "../a.jpg"},
        r"file name '../a.jpg' leads outside the dataset root",
    ),
    ("absolute", {"imagePath": "/etc/a.jpg"}, r"must be relative to the root"),
    (
        "no-size",
        {"imageHeight": None, "imageWidth": None},
        r"imageHeight and imageWidth must be positive ints",
    ),
    ("zero-size", {"imageHeight": 0}, r"got 0 and 6"),
    ("no-image-path", {"imagePath": None}, r"imagePath must be a non-empty string"),
]


@pytest.mark.parametrize(
    ("change", "reason"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_bad_file_is_skipped_whole(tmp_path: Path, change: Any, reason: str) -> None:
    _write(tmp_path, [_polygon("cat")], name="a.json")
    if isinstance(change, str):
        (tmp_path / "b.json").write_text(change, encoding="utf-8")
    else:
        _write(tmp_path, [_polygon("cat")], name="b.json", **change)
    with pytest.raises(FormatError, match=rf"b.json: .*{reason}"):
        read_labelme(tmp_path)
    dataset = read_labelme(tmp_path, errors="lenient")
    assert [s.key for s in dataset.samples] == ["a"]
    (skip,) = dataset.skipped
    assert skip.count == 0 and skip.where.startswith(str(tmp_path / "b.json"))
    assert dataset.read == 1


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b'{"shapes": [], "imagePath": "\xff.jpg"}')
    with pytest.raises(FormatError, match=r"a.json: expected UTF-8 text"):
        read_labelme(tmp_path)


def test_symlinked_image_leading_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.jpg"
    Image.new("RGB", (6, 4)).save(outside)
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.jpg").symlink_to(outside)
    _write(root, [_polygon("cat")])
    with pytest.raises(
        FormatError, match=r"imagePath: file name 'a.jpg' leads outside"
    ):
        read_labelme(root)


def test_windows_image_path_and_nested_folders(tmp_path: Path) -> None:
    (tmp_path / "json").mkdir()
    _write(tmp_path / "json", [_polygon("cat")], imagePath="..\\images\\a.jpg")
    (sample,) = read_labelme(tmp_path).samples
    assert sample.key == "json/a" and sample.image == tmp_path / "json/../images/a.jpg"


def test_size_from_image_header_when_missing(tmp_path: Path) -> None:
    Image.new("RGB", (7, 5)).save(tmp_path / "a.jpg")
    document = {"shapes": [_polygon("cat")], "imagePath": "a.jpg"}
    (tmp_path / "a.json").write_text(json.dumps(document), encoding="utf-8")
    assert read_labelme(tmp_path).samples[0].shape == (5, 7)


def test_ignore_flag_leaves_the_image_out_in_every_mode(tmp_path: Path) -> None:
    _write(tmp_path, [_polygon("cat")], flags={"__ignore__": True, "cat": True})
    modes: tuple[Errors, ...] = ("strict", "lenient")
    for errors in modes:
        dataset = read_labelme(tmp_path, errors=errors)
        assert dataset.samples == () and dataset.read == 2
        (skip,) = dataset.skipped
        assert skip.count == 2 and "flagged '__ignore__'" in skip.reason


def test_flag_not_in_labels_file(tmp_path: Path) -> None:
    _write(tmp_path, [_polygon("cat")], flags={"dog": True})
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\n", encoding="utf-8")
    with pytest.raises(
        FormatError, match=r"a.json: flags.dog: flag 'dog' is not in the label space"
    ):
        read_labelme(tmp_path, labels=labels)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "cat\n__ignore__\n",
            r"labels.txt:2: expected a label name \('__ignore__' only on line 1\)",
        ),
        ("cat\n\ndog\n", r"labels.txt:2: expected a label name"),
        ("cat\ncat\n", r"labels.txt: .*names must be unique"),
    ],
    ids=["ignore-not-first", "blank-line", "duplicate"],
)
def test_bad_labels_file(tmp_path: Path, text: str, match: str) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=match):
        read_labelme(tmp_path, labels=labels)
