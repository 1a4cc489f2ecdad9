from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from PIL import Image
from pycocotools import mask as mask_utils

import unitax as ux
from unitax.annotations import RLE, Box, Polygon, Sample
from unitax.errors import FormatError
from unitax.formats.coco import read_coco, write_coco

SAMPLES = "data/format_samples/coco_instances"
DATUMARO = f"{SAMPLES}/datumaro/tests/assets/coco_dataset/coco_instances"
LABELME = f"{SAMPLES}/labelme/examples/instance_segmentation/data_dataset_coco"
PANOPTICAPI = f"{SAMPLES}/panopticapi/sample_data"

Document = dict[str, Any]


@pytest.fixture(autouse=True, params=["pieces", "one-piece-each", "whole"])
def parse(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test reads three ways: ``annotations`` in 32 KiB pieces (files this
    small: one piece), one annotation per piece, and the whole document with
    the standard library (the fallback)."""
    if request.param == "one-piece-each":
        monkeypatch.setattr("unitax.formats.coco._PIECE", 1)
    elif request.param == "whole":
        monkeypatch.setattr("unitax._json_chunks.Chunked.split", lambda *a, **k: None)
    return str(request.param)


def _rings(polygon: Polygon) -> list[list[float]]:
    """Each part's exterior as a flat COCO ring, without shapely's closing point."""
    return [
        shapely.get_coordinates(part.exterior)[:-1].ravel().tolist()
        for part in shapely.get_parts(polygon.geometry)
    ]


def _raw(path: Path) -> Document:
    document: Document = json.loads(path.read_text(encoding="utf-8"))
    return document


# -- real files ---------------------------------------------------------------


def test_datumaro_val_polygon_and_uncompressed_crowd_rle(shared: Path) -> None:
    dataset = read_coco(shared / DATUMARO / "annotations/instances_val.json")
    assert dataset.label_space.name == "instances_val"
    assert dataset.label_space.ids == (1, 2, 4)
    assert dataset.label_space.names == ("a", "b", "c")
    assert dataset.read == 2 and dataset.skipped == ()
    (sample,) = dataset.samples
    assert (sample.key, sample.shape) == ("40", (10, 5))
    polygon, rle = sample.annotations
    assert isinstance(polygon, Polygon) and isinstance(rle, RLE)
    assert (polygon.label, polygon.key, polygon.convention) == (1, 1, "coco")
    assert _rings(polygon) == [[0.0, 0.0, 1.0, 0.0, 1.0, 2.0, 0.0, 2.0]]
    assert rle == RLE((0, 20, 30), (10, 5), 2, crowd=True, key=2)
    compressed = mask_utils.frPyObjects({"counts": [0, 20, 30], "size": [10, 5]}, 10, 5)
    assert mask_utils.area(compressed) == 20


def test_datumaro_train_box_only(shared: Path) -> None:
    dataset = read_coco(shared / DATUMARO / "annotations/instances_train.json")
    (sample,) = dataset.samples
    assert sample.annotations == (Box((2.0, 2.0, 5.0, 3.0), 2, key=1),)


def test_datumaro_images_checked_against_headers(shared: Path) -> None:
    path = shared / DATUMARO / "annotations/instances_val.json"
    dataset = read_coco(
        path, images=shared / DATUMARO / "images/val", check_images=True
    )
    assert dataset.samples[0].image == shared / DATUMARO / "images/val/b.jpg"
    with pytest.raises(FormatError, match=r"instances_val.json: image 40: .*b.jpg"):
        read_coco(path, check_images=True)  # default root: the JSON's folder


def test_labelme_polygons_keep_raw_coordinates(shared: Path) -> None:
    path = shared / LABELME / "annotations.json"
    dataset = read_coco(path, check_images=True)
    raw = _raw(path)
    polygons = [a for s in dataset.samples for a in s.annotations]
    assert len(polygons) == 12 and dataset.read == 12
    assert [s.image.name for s in dataset.samples] == [
        "2011_000003.jpg",
        "2011_000025.jpg",
        "2011_000006.jpg",
    ]
    by_key = {a.key: a for a in polygons}
    for annotation in raw["annotations"]:
        polygon = by_key[annotation["id"]]
        assert isinstance(polygon, Polygon)
        assert _rings(polygon) == annotation["segmentation"]
        assert polygon.label == annotation["category_id"]
    assert dataset.label_space.by_id(0).name == "_background_"


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_panopticapi_compressed_rle_round_trips_through_pycocotools(
    shared: Path,
) -> None:
    path = shared / PANOPTICAPI / "panoptic_coco_detection_format.json"
    dataset = read_coco(path)
    raw = {a["id"]: a for a in _raw(path)["annotations"]}
    rles = [a for s in dataset.samples for a in s.annotations]
    assert len(rles) == 50
    for rle in rles:
        assert isinstance(rle, RLE) and isinstance(rle.counts, bytes)
        source = raw[rle.key]
        assert rle.counts == source["segmentation"]["counts"].encode()
        assert rle.crowd == bool(source["iscrowd"])
        coco = {"size": list(rle.shape), "counts": rle.counts}
        assert mask_utils.area(coco) == source["area"]
        again = mask_utils.encode(np.asfortranarray(mask_utils.decode(coco)))
        assert again["counts"] == rle.counts


def test_given_label_space_must_agree(shared: Path) -> None:
    path = shared / PANOPTICAPI / "panoptic_coco_detection_format.json"
    panoptic = ux.builtin_label_space("coco-panoptic")
    assert read_coco(path, label_space=panoptic).label_space is panoptic
    with pytest.raises(FormatError, match=r"category 92 'banner'.*'coco-detection'"):
        read_coco(path, label_space=ux.builtin_label_space("coco-detection"))


def test_label_space_name() -> None:
    from unitax.formats._coco_json import default_space_name

    assert (
        default_space_name(Path("instances_val2017.json"), "coco")
        == "instances_val2017"
    )
    assert default_space_name(Path("My File.json"), "coco") == "coco"


# -- vectorised polygons = shapely one by one ----------------------------------


def _document(annotations: list[Document]) -> Document:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "height": 4, "width": 6}],
        "categories": [{"id": 3, "name": "cat"}, {"id": 5, "name": "dog"}],
        "annotations": annotations,
    }


def _write(tmp_path: Path, document: Document | str, name: str = "ann.json") -> Path:
    path = tmp_path / name
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def test_polygons_match_shapely_built_one_by_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    annotations = []
    expected = {}
    for key in range(1, 60):
        rings = []
        for _ in range(int(rng.integers(1, 4))):
            points = rng.uniform(0, 6, size=(int(rng.integers(3, 9)), 2)).round(3)
            if rng.random() < 0.3:  # explicitly closed ring
                points = np.vstack([points, points[:1]])
            rings.append(points.ravel().tolist())
        annotations.append(
            {"id": key, "image_id": 1, "category_id": 3, "segmentation": rings}
        )
        parts = [shapely.Polygon(np.reshape(r, (-1, 2))) for r in rings]
        expected[key] = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    dataset = read_coco(_write(tmp_path, _document(annotations)))
    found = {a.key: a for a in dataset.samples[0].annotations}
    assert len(found) == len(expected)
    for key, geometry in expected.items():
        polygon = found[key]
        assert isinstance(polygon, Polygon)
        assert polygon.geometry.geom_type == geometry.geom_type
        assert shapely.equals_exact(polygon.geometry, geometry, tolerance=0)
        # Built without __post_init__: still the same value as a checked one.
        same = Polygon(polygon.geometry, 3, "coco", key)
        assert polygon == same and hash(polygon) == hash(same)


def test_crowd_polygon_becomes_pycocotools_rle(tmp_path: Path) -> None:
    rings = [[0, 0, 4, 0, 4, 3], [5, 0, 6, 0, 6, 4]]
    document = _document(
        [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 3,
                "iscrowd": 1,
                "segmentation": rings,
            }
        ]
    )
    (rle,) = read_coco(_write(tmp_path, document)).samples[0].annotations
    expected = mask_utils.merge(mask_utils.frPyObjects(rings, 4, 6))
    assert rle == RLE(expected["counts"], (4, 6), 3, crowd=True, key=1)


def test_images_without_annotations_are_samples(tmp_path: Path) -> None:
    document = _document([])
    del document["annotations"]
    dataset = read_coco(_write(tmp_path, document))
    assert [s.annotations for s in dataset.samples] == [()]
    assert dataset.read == 0


# -- write_coco ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "json_name"),
    [
        (LABELME, "annotations.json"),
        (DATUMARO + "/annotations", "instances_val.json"),
        (PANOPTICAPI, "panoptic_coco_detection_format.json"),
    ],
    ids=["labelme-polygons", "datumaro-crowd-rle", "panopticapi-rle"],
)
def test_write_read_round_trip(
    shared: Path, tmp_path: Path, folder: str, json_name: str
) -> None:
    dataset = read_coco(shared / folder / json_name, images=tmp_path)
    path = write_coco(dataset, tmp_path / "out.json")
    again = read_coco(path, label_space_name=dataset.label_space.name)
    assert again.label_space == dataset.label_space
    assert again.samples == dataset.samples


def test_write_round_trip_boxes_and_multipolygons(tmp_path: Path) -> None:
    space = ux.LabelSpace(
        name="toy",
        labels=(ux.Label(id=3, name="cat", category="animal", color=(1, 2, 3)),),
    )
    two = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(0.5, 0.5, 2, 2)])
    sample = Sample(
        "17",
        tmp_path / "img" / "a.jpg",
        (4, 6),
        (Box((1, 1, 3, 2), 3, key=4), Polygon(two, 3, key=9)),
        "toy",
    )
    dataset = ux.annotations.Dataset(space, (sample,))
    path = write_coco(dataset, tmp_path / "a.json")
    assert read_coco(path, label_space_name="toy").samples == (sample,)
    record = _raw(path)["annotations"][1]
    assert record["segmentation"] == [
        [1, 0, 1, 1, 0, 1, 0, 0],  # shapely.box starts at (x_max, y_min)
        [2, 0.5, 2, 2, 0.5, 2, 0.5, 0.5],
    ]


@pytest.mark.parametrize(
    ("annotation", "match"),
    [
        (
            ux.annotations.Tag(3),
            r"COCO stores Polygon, RLE and Box annotations, got Tag",
        ),
        (
            Polygon(
                shapely.Polygon([(0, 0), (4, 0), (4, 4)], [[(1, 1), (3, 1), (3, 2)]]), 3
            ),
            r"cannot have holes",
        ),
        (Box((0, 0, 1, 1), 8), r"label must be a label id, got 8"),
    ],
    ids=["tag", "hole", "unknown-label"],
)
def test_write_coco_refuses(tmp_path: Path, annotation: Any, match: str) -> None:
    space = ux.LabelSpace.from_names("toy", ["a", "b", "c", "cat"])
    sample = Sample("1", tmp_path / "a.jpg", (4, 4), (annotation,), "toy")
    with pytest.raises(ValueError, match=match):
        write_coco(ux.annotations.Dataset(space, (sample,)), tmp_path / "x.json")


def test_write_coco_refuses_images_outside_the_folder(tmp_path: Path) -> None:
    space = ux.LabelSpace.from_names("toy", ["cat"])
    sample = Sample("1", tmp_path.parent / "a.jpg", (4, 4), (), "toy")
    with pytest.raises(ValueError, match=r"must be under the images folder"):
        write_coco(ux.annotations.Dataset(space, (sample,)), tmp_path / "x.json")


# -- bad input: the whole file -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"images": [', r"ann.json:1: invalid JSON"),
        ("[]", r"ann.json: expected a JSON object"),
        ('{"categories": []}', r"ann.json: expected a key 'images'"),
        ('{"images": {}, "categories": []}', r"'images' must be a list, got dict"),
        (
            '{"images": [], "categories": [{"id": "1", "name": "a"}]}',
            r"categories\[0\]: id must be an int",
        ),
        (
            (
                '{"images": [], "categories": '
                '[{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}'
            ),
            r"ann.json: categories: .*ids must be unique",
        ),
        (
            '{"images": [], "categories": [{"id": 1, "name": " a"}]}',
            r"categories\[0\]: .*white space",
        ),
        (
            (
                '{"images": [{"id": 1, "file_name": "a", "height": 1, "width": 1}, '
                '{"id": 1, "file_name": "b", "height": 1, "width": 1}], '
                '"categories": []}'
            ),
            r"image ids must be unique, got 1 twice",
        ),
        ('{"images": ["a"], "categories": []}', r"images\[0\]: expected an object"),
        (
            '{"images": [], "categories": [{"id": 18446744073709551616, "name": "a"}]}',
            r"categories\[0\]: id must be an int \(64 bits\)",
        ),
    ],
    ids=[
        "truncated",
        "not-an-object",
        "missing-images",
        "images-not-a-list",
        "category-id-type",
        "duplicate-category",
        "category-name-space",
        "duplicate-image-id",
        "image-not-an-object",
        "category-id-beyond-64-bits",
    ],
)
@pytest.mark.parametrize("errors", ["strict", "lenient"])
def test_structural_errors_in_every_mode(
    tmp_path: Path, text: str, match: str, errors: Any
) -> None:
    with pytest.raises(FormatError, match=match):
        read_coco(_write(tmp_path, text), errors=errors)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    path.write_bytes(b'{"images": [], "categories": [{"id": 1, "name": "caf\xe9"}]}')
    with pytest.raises(FormatError, match=r"ann\.json:1: expected UTF-8 text"):
        read_coco(path)


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "ann.json"
    text = '{"images": [], "categories": [{"id": 1, "name": "caf\u00e9"}]}'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_coco(path).label_space.names == ("café",)


# -- bad input: one annotation -----------------------------------------------------


def _good() -> Document:
    return {
        "id": 1,
        "image_id": 1,
        "category_id": 3,
        "segmentation": [[0, 0, 4, 0, 4, 3]],
    }


def _bad(change: Callable[[Document], Any]) -> Document:
    annotation = {
        "id": 7,
        "image_id": 1,
        "category_id": 5,
        "segmentation": [[1, 1, 5, 1, 5, 3]],
    }
    change(annotation)
    return annotation


def _set(**values: Any) -> Callable[[Document], None]:
    return lambda annotation: annotation.update(values)


ANNOTATION_CASES = [
    ("not-an-object", "x", r"annotations\[1\]", r"expected an object, got str"),
    (
        "missing-id",
        _bad(lambda a: a.pop("id")),
        r"annotations\[1\]",
        r"id must be an int \(64 bits\), got None",
    ),
    (
        "id-type",
        _bad(_set(id="7")),
        r"annotations\[1\]",
        r"id must be an int \(64 bits\), got '7'",
    ),
    (
        "id-beyond-64-bits",
        _bad(_set(id=1 << 64)),
        r"annotations\[1\]",
        r"id must be an int \(64 bits\), got (18446744073709551616|1\.844674407370955)",
    ),
    (
        "duplicate-id",
        _bad(_set(id=1)),
        r"annotation 1",
        r"annotation ids must be unique",
    ),
    (
        "missing-image",
        _bad(_set(image_id=9)),
        r"annotation 7",
        r"image_id must be an id of the images table, got 9",
    ),
    (
        "unknown-category",
        _bad(_set(category_id=4)),
        r"annotation 7",
        r"category_id must be the id of a category, got 4",
    ),
    (
        "bool-category",
        _bad(_set(category_id=True)),
        r"annotation 7",
        r"category_id .* got True",
    ),
    (
        "iscrowd",
        _bad(_set(iscrowd=2)),
        r"annotation 7",
        r"iscrowd must be 0 or 1, got 2",
    ),
    (
        "4-coordinates",
        _bad(_set(segmentation=[[0, 0, 4, 4]])),
        r"annotation 7",
        r"at least 6 .* got 4 \(pycocotools would read it as a box\)",
    ),
    (
        "2-points-closed",
        _bad(_set(segmentation=[[0, 0, 4, 4, 0, 0]])),
        r"annotation 7",
        r"at least 3 distinct points",
    ),
    (
        "odd-coordinates",
        _bad(_set(segmentation=[[0, 0, 4, 0, 4, 3, 1]])),
        r"annotation 7",
        r"even number of coordinates, .* got 7",
    ),
    (
        "ring-not-a-list",
        _bad(_set(segmentation=[[0, 0, 4, 0, 4, 3], 5])),
        r"annotation 7",
        r"rings must be lists of numbers",
    ),
    (
        "nan",
        _bad(_set(segmentation=[[0, 0, float("nan"), 0, 4, 3]])),
        r"annotation 7",
        r"must be finite numbers",
    ),
    (
        "infinity",
        _bad(_set(segmentation=[[0, 0, float("inf"), 0, 4, 3]])),
        r"annotation 7",
        r"must be finite numbers",
    ),
    (
        "string-coordinate",
        _bad(_set(segmentation=[[0, 0, "4", 0, 4, 3]])),
        r"annotation 7",
        r"must be finite numbers",
    ),
    (
        "segmentation-type",
        _bad(_set(segmentation="x")),
        r"annotation 7",
        r"segmentation must be a list of polygons, an RLE object or empty, got str",
    ),
    (
        "rle-size",
        _bad(_set(segmentation={"counts": [24], "size": [4, 5]})),
        r"annotation 7",
        r"RLE size must be the image's \[height, width\] \[4, 6\], got \[4, 5\]",
    ),
    (
        "rle-sum",
        _bad(_set(segmentation={"counts": [20, 3], "size": [4, 6]})),
        r"annotation 7",
        r"add up to height \* width = 24, got 23",
    ),
    (
        "rle-negative",
        _bad(_set(segmentation={"counts": [30, -6], "size": [4, 6]})),
        r"annotation 7",
        r"non-negative ints",
    ),
    (
        "rle-string",
        _bad(_set(segmentation={"counts": "a b", "size": [4, 6]})),
        r"annotation 7",
        r"must be a COCO RLE string",
    ),
    (
        "box-negative-width",
        _bad(_set(segmentation=[], bbox=[1, 1, -2, 1])),
        r"annotation 7",
        r"bbox \[x, y, width, height\]",
    ),
    (
        "box-missing",
        _bad(_set(segmentation=[])),
        r"annotation 7",
        r"needs bbox .* got None",
    ),
    (
        "box-nan",
        _bad(_set(segmentation=[], bbox=[1, float("nan"), 1, 1])),
        r"annotation 7",
        r"finite numbers",
    ),
]


@pytest.mark.parametrize(
    ("annotation", "where", "reason"),
    [case[1:] for case in ANNOTATION_CASES],
    ids=[case[0] for case in ANNOTATION_CASES],
)
def test_bad_annotation(
    tmp_path: Path, annotation: Any, where: str, reason: str
) -> None:
    path = _write(tmp_path, _document([_good(), annotation]))
    with pytest.raises(FormatError, match=rf"ann.json: {where}: .*{reason}"):
        read_coco(path)
    dataset = read_coco(path, errors="lenient")
    assert dataset.read == 2
    assert [a.key for a in dataset.samples[0].annotations] == [1]
    (skip,) = dataset.skipped
    assert skip.count == 1
    assert skip.where.endswith(where.replace("\\", "")) and str(path) in skip.where
    assert __import__("re").search(reason, skip.reason)


# -- bad input: one image ----------------------------------------------------------


def _image_case(tmp_path: Path, name: str) -> tuple[Document, str]:
    document = _document([_good(), dict(_good(), id=2)])
    image = document["images"][0]
    outside = tmp_path.parent / f"outside-{tmp_path.name}.jpg"
    if name == "zero-height":
        image["height"] = 0
        return (
            document,
            r"height and width must be positive ints below 2\*\*31, got 0 and 6",
        )
    if name == "huge-height":
        image["height"] = 1 << 64  # orjson reads it as a float, json as an int
        return document, r"positive ints below 2\*\*31, got 1\.?8446744073709"
    if name == "missing-width":
        del image["width"]
        return document, r"got 4 and None"
    if name == "dotdot":
        image["file_name"] = "../a.jpg"
        return document, r"file name '../a.jpg' leads outside the dataset root"
    if name == "absolute":
        image["file_name"] = str(outside)
        return document, r"must be relative to the root"
    if name == "symlink":
        Image.new("RGB", (6, 4)).save(outside)
        (tmp_path / "link.jpg").symlink_to(outside)
        image["file_name"] = "link.jpg"
        return document, r"file name 'link.jpg' leads outside the dataset root"
    if name == "symlink-folder":
        outside.with_suffix("").mkdir(exist_ok=True)
        (tmp_path / "sub").symlink_to(outside.with_suffix(""))
        image["file_name"] = "sub/a.jpg"
        return document, r"file name 'sub/a.jpg' leads outside the dataset root"
    if name == "non-utf8-name":
        image["file_name"] = "\udcff.jpg"
        return document, r"must be valid UTF-8 text"
    if name == "size-disagrees":
        Image.new("RGB", (5, 4)).save(tmp_path / "a.jpg")
        return (
            document,
            (
                r"must match the image file 'a.jpg', got \(4, 6\) in the JSON and "
                r"\(4, 5\) in the file"
            ),
        )
    assert name == "missing-file"
    return document, r"cannot read image header"


IMAGE_CASES = [
    "zero-height",
    "huge-height",
    "missing-width",
    "dotdot",
    "absolute",
    "symlink",
    "symlink-folder",
    "non-utf8-name",
    "size-disagrees",
    "missing-file",
]


@pytest.mark.parametrize("name", IMAGE_CASES)
def test_bad_image_skips_its_annotations(tmp_path: Path, name: str) -> None:
    document, reason = _image_case(tmp_path, name)
    document["images"].append({"id": 2, "file_name": "b.jpg", "height": 4, "width": 6})
    document["annotations"].append(dict(_good(), id=3, image_id=2))
    if name in ("size-disagrees", "missing-file"):
        Image.new("RGB", (6, 4)).save(tmp_path / "b.jpg")
    path = _write(tmp_path, document)
    check = name in ("size-disagrees", "missing-file")
    with pytest.raises(FormatError, match=rf"ann.json: image 1: .*{reason}"):
        read_coco(path, check_images=check)
    dataset = read_coco(path, check_images=check, errors="lenient")
    assert [s.key for s in dataset.samples] == ["2"]
    assert dataset.read == 3
    (skip,) = dataset.skipped
    assert skip.where == f"{path}: image 1" and skip.count == 2
    assert __import__("re").search(reason, skip.reason)
    assert skip.reason.endswith("its 2 annotation(s) are skipped")


def test_inputs_are_not_modified(shared: Path, tmp_path: Path) -> None:
    path = shared / DATUMARO / "annotations/instances_val.json"
    before = path.read_bytes(), path.stat().st_mtime_ns
    read_coco(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert copy.deepcopy(_raw(path)) == _raw(path)


def test_a_file_without_images_reads_as_an_empty_dataset(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"images": [], "categories": [{"id": 1, "name": "a"}]}')
    dataset = read_coco(path)
    assert (len(dataset), dataset.read, dataset.skipped) == (0, 0, ())


# -- the annotations array read in pieces ---------------------------------------


def test_a_json_error_in_a_later_piece_comes_before_an_earlier_bad_annotation(
    tmp_path: Path, parse: str
) -> None:
    bad = dict(_good(), id=2, category_id=99)  # an error of its own
    text = json.dumps(_document([_good(), bad, dict(_good(), id=3)]))
    text = text.replace('"id": 3,', '"id": 3,,')  # invalid JSON, further on
    with pytest.raises(FormatError, match=r"ann\.json:1: invalid JSON"):
        read_coco(_write(tmp_path, text))


def test_objects_nested_in_annotations_are_read(tmp_path: Path, parse: str) -> None:
    # '}]' inside an annotation is not the end of the array: the pieces are
    # refused and the whole document is parsed.
    annotations = [dict(_good(), attributes=[{"a": 1}]), dict(_good(), id=2)]
    dataset = read_coco(_write(tmp_path, _document(annotations)))
    assert [a.key for a in dataset.samples[0].annotations] == [1, 2]


def test_annotations_named_inside_another_value_are_not_taken(
    tmp_path: Path, parse: str
) -> None:
    document = {"info": {"annotations": [_good()]}, **_document([dict(_good(), id=9)])}
    dataset = read_coco(_write(tmp_path, document))
    assert [a.key for a in dataset.samples[0].annotations] == [9]


def test_a_link_out_of_the_root_is_refused_where_its_folder_cannot_be_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document, reason = _image_case(tmp_path, "symlink")

    def unlistable(folder: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr("unitax.formats._paths.os.scandir", unlistable)
    with pytest.raises(FormatError, match=reason):
        read_coco(_write(tmp_path, document))
