from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import unitax as ux
from unitax import _png
from unitax._png import read_label_png
from unitax.annotations import Mask, Polygon
from unitax.errors import FormatError
from unitax.formats.cityscapes import read_cityscapes
from unitax.rasterize import rasterize, remap

MMSEG = (
    "data/format_samples/cityscapes/mmsegmentation/tests/data/pseudo_cityscapes_dataset"
)
DATUMARO = "data/format_samples/cityscapes/datumaro/tests/assets/cityscapes_dataset"
BASE = "val/ulm/ulm_000000_000001"


def _png_file(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array)).save(path)


def _image(root, key=BASE, shape=(2, 4)):
    path = root / "leftImg8bit" / f"{key}_leftImg8bit.png"
    _png_file(path, np.zeros((*shape, 3), dtype=np.uint8))
    return path


def _mask(root, key=BASE, values=((7, 7, 26, 26), (7, 24, 24, 0)), kind="labelIds"):
    path = root / "gtFine" / f"{key}_gtFine_{kind}.png"
    array = values if isinstance(values, np.ndarray) else np.asarray(values, np.uint8)
    _png_file(path, array)
    return path


def _polygons(root, doc, key=BASE, *, raw=None):
    path = root / "gtFine" / f"{key}_gtFine_polygons.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


# A hand-written *_gtFine_polygons.json (no real one is public): overlapping
# objects, a 'cargroup', a vertex outside the image, a deleted object and a
# license plate (id -1).
POLYGONS = {
    "imgHeight": 6,
    "imgWidth": 8,
    "objects": [
        {"label": "road", "polygon": [[0, 3], [7, 3], [7, 5], [0, 5]], "deleted": 0},
        {"label": "cargroup", "polygon": [[1, 1], [5, 1], [5, 4], [1, 4]]},
        {"label": "person", "polygon": [[4, 0], [9, 0], [9, 6], [4, 6]]},
        {"label": "sky", "polygon": [[0, 0], [2, 0], [2, 2]], "deleted": 1},
        {"label": "license plate", "polygon": [[2, 3], [3, 3], [3, 4], [2, 4]]},
    ],
}


@pytest.fixture
def polygon_root(tmp_path):
    _image(tmp_path, shape=(6, 8))
    _polygons(tmp_path, POLYGONS)
    return tmp_path


# --- real samples ------------------------------------------------------------


def test_real_label_ids(shared):
    root = shared / MMSEG
    dataset = read_cityscapes(root, check_ids=True)
    (sample,) = dataset.samples
    assert dataset.label_space.name == "cityscapes"
    assert (sample.key, sample.split, sample.shape) == (
        "val/frankfurt/frankfurt_000000_000294",
        "val",
        (128, 256),
    )
    (mask,) = sample.annotations
    assert mask.source.name == "frankfurt_000000_000294_gtFine_labelIds.png"
    assert (mask.encoding, mask.divisor, mask.segments) == ("ids", 1, None)
    assert dataset.read == 1
    assert dataset.skipped == ()


def test_real_train_ids_with_255(shared):
    dataset = read_cityscapes(shared / MMSEG, source="labelTrainIds", check_ids=True)
    assert dataset.label_space.name == "cityscapes-19"
    assert 255 in dataset.label_space.void
    values = read_label_png(dataset.samples[0].annotations[0].source)
    assert 255 in values


def test_real_instance_ids_are_segments(shared):
    dataset = read_cityscapes(shared / MMSEG, source="instanceIds", check_ids=True)
    (mask,) = dataset.samples[0].annotations
    assert mask.segments is not None
    assert {k: v for k, v in mask.segments.items() if k >= 1000} == {
        24000: 24,
        24001: 24,
        24002: 24,
        24003: 24,
        26000: 26,
        26001: 26,
        26002: 26,
    }
    assert mask.segments[7] == 7
    # the segments give the same label image as the labelIds PNG
    instances = read_label_png(mask.source)
    labels = read_label_png(
        read_cityscapes(shared / MMSEG).samples[0].annotations[0].source
    )
    mapped = np.vectorize(mask.segments.__getitem__)(instances)
    assert (mapped == labels).all()


def test_datumaro_8bit_instance_ids(shared):
    dataset = read_cityscapes(
        shared / DATUMARO / "dataset", source="instanceIds", check_ids=True
    )
    assert [(s.split, s.shape) for s in dataset.samples] == [
        ("test", (1, 5)),
        ("test", (1, 5)),
        ("train", (1, 5)),
        ("val", (1, 5)),
    ]
    assert dict(dataset.samples[0].annotations[0].segments) == {3: 3, 27: 27}


def test_datumaro_set_without_label_ids(shared):
    root = shared / DATUMARO / "dataset"
    with pytest.raises(FormatError, match=r"_leftImg8bit\.png: no labelIds PNG"):
        read_cityscapes(root)
    dataset = read_cityscapes(root, errors="lenient")
    assert (len(dataset), dataset.read) == (0, 0)
    assert [s.count for s in dataset.skipped] == [0, 0, 0, 0]


def test_datumaro_train_ids_outside_the_space(shared):
    root = shared / DATUMARO / "train_dataset"
    assert len(read_cityscapes(root, source="labelTrainIds")) == 4  # headers only
    with pytest.raises(
        FormatError, match=r"labelTrainIds\.png: expected label ids .*got \[19\]"
    ):
        read_cityscapes(root, source="labelTrainIds", check_ids=True)
    dataset = read_cityscapes(
        root, source="labelTrainIds", check_ids=True, errors="lenient"
    )
    assert (len(dataset), dataset.read, len(dataset.skipped)) == (0, 4, 4)


# --- synthetic layout -------------------------------------------------------


def test_label_ids_layout(tmp_path):
    _image(tmp_path)
    _mask(tmp_path)
    _image(tmp_path, "train/aachen/aachen_000001_000019")
    _mask(tmp_path, "train/aachen/aachen_000001_000019")
    dataset = read_cityscapes(tmp_path, check_ids=True)
    assert [s.key for s in dataset.samples] == [
        "train/aachen/aachen_000001_000019",
        "val/ulm/ulm_000000_000001",
    ]
    assert read_cityscapes(tmp_path, split="val").samples[0].split == "val"
    mask = dataset.samples[1].annotations[0]
    assert mask.key == "gtFine/val/ulm/ulm_000000_000001_gtFine_labelIds.png"


def test_gt_coarse(tmp_path):
    _image(tmp_path, "train_extra/ulm/ulm_000000_000001")
    path = tmp_path / "gtCoarse/train_extra/ulm/ulm_000000_000001_gtCoarse_labelIds.png"
    _png_file(path, np.full((2, 4), 7, dtype=np.uint8))
    dataset = read_cityscapes(tmp_path, annotations="gtCoarse")
    assert dataset.samples[0].annotations[0].source == path


def test_polygons_in_file_order(polygon_root):
    dataset = read_cityscapes(polygon_root, source="polygons")
    (sample,) = dataset.samples
    assert sample.shape == (6, 8)
    space = dataset.label_space
    names = [space.by_id(p.label).name for p in sample.annotations]
    assert names == ["road", "car", "person", "license plate"]  # cargroup -> car
    assert [p.key for p in sample.annotations] == [0, 1, 2, 4]  # object index
    assert {p.convention for p in sample.annotations} == {"pil"}
    assert dataset.read == 4  # the deleted object is not an annotation
    person = sample.annotations[2]
    assert max(x for x, _ in person.geometry.exterior.coords) == 9.0  # kept as is


def test_polygons_rasterise_like_json2labelimg(polygon_root):
    """json2labelImg draws the objects in file order with PIL (later on top)
    and never draws negative ids; unitax keeps the license plate polygon,
    so it is left out of this comparison."""
    dataset = read_cityscapes(polygon_root, source="polygons")
    space = dataset.label_space
    polygons = [p for p in dataset.samples[0].annotations if p.label >= 0]
    expected = Image.new("L", (8, 6), 0)
    draw = ImageDraw.Draw(expected)
    for obj in POLYGONS["objects"]:
        name = obj["label"].removesuffix("group")
        if obj.get("deleted") or space.by_name(name).id < 0:
            continue
        draw.polygon([tuple(v) for v in obj["polygon"]], fill=space.by_name(name).id)
    _, maps = ux.unify([space])
    target = rasterize(polygons, maps["cityscapes"], shape=(6, 8), overlap="last")
    assert (target.array == remap(np.asarray(expected), maps["cityscapes"])).all()


def test_unlabeled_polygon_is_the_void_id(tmp_path):
    _image(tmp_path, shape=(6, 8))
    _polygons(
        tmp_path,
        {
            "imgHeight": 6,
            "imgWidth": 8,
            "objects": [{"label": "unlabeled", "polygon": [[0, 0], [3, 0], [3, 3]]}],
        },
    )
    (polygon,) = read_cityscapes(tmp_path, source="polygons").samples[0].annotations
    assert polygon.label == 0


def test_options_are_checked(tmp_path):
    with pytest.raises(
        ValueError, match=r"source must be one of .*'polygons'.*got 'poly'"
    ):
        read_cityscapes(tmp_path, source="poly")
    with pytest.raises(ValueError, match=r"annotations must be one of"):
        read_cityscapes(tmp_path, annotations="gtfine")
    with pytest.raises(FormatError, match=r"gtFine: expected the gtFine folder"):
        read_cityscapes(tmp_path)
    (tmp_path / "gtFine" / "val").mkdir(parents=True)
    with pytest.raises(FormatError, match=r"split 'train', got splits \['val'\]"):
        read_cityscapes(tmp_path, split="train")


# --- bad input: strict error and lenient skip, with exact accounting --------


def _missing_mask(root):
    _image(root)


def _orphan_mask(root):
    _mask(root)


def _size_mismatch(root):
    _image(root)
    _mask(root, values=np.full((3, 4), 7, dtype=np.uint8))


def _rgb_mask(root):
    _image(root)
    path = root / "gtFine" / f"{BASE}_gtFine_labelIds.png"
    _png_file(path, np.zeros((2, 4, 3), dtype=np.uint8))


def _sixteen_bit(root):
    _image(root)
    _mask(root, values=np.full((2, 4), 7, dtype=np.uint16))


def _unknown_id(root):
    _image(root)
    _mask(root, values=((7, 7, 26, 40), (7, 24, 24, 0)))


def _link_outside(root):
    _image(root)
    outside = root.parent / f"{root.name}-outside.png"
    _png_file(outside, np.full((2, 4), 7, dtype=np.uint8))
    link = root / "gtFine" / f"{BASE}_gtFine_labelIds.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)


def _too_many_pixels(root):
    _image(root, shape=(3, 4))
    _mask(root, values=np.full((3, 4), 7, dtype=np.uint8))


BAD_MASKS = [
    (
        _missing_mask,
        {},
        r"leftImg8bit\.png: no labelIds PNG: expected .*labelIds\.png",
        0,
    ),
    (_orphan_mask, {}, r"labelIds\.png: gtFine_labelIds\.png without an image", 1),
    (
        _size_mismatch,
        {},
        r"expected the image's \(height, width\) \(2, 4\), got \(3, 4\)",
        1,
    ),
    (_rgb_mask, {}, r"expected PNG mode 'L' \(8-bit\) or 'P'.*got mode 'RGB'", 1),
    (_sixteen_bit, {}, r"got mode 'I;16' \(16-bit\)", 1),
    (
        _unknown_id,
        {"check_ids": True},
        r"expected label ids of 'cityscapes'.*got \[40\]",
        1,
    ),
    (_link_outside, {}, r"leads outside the dataset root", 1),
    (
        _too_many_pixels,
        {"max_pixels": 8},
        r"expected at most 8 pixels, got 4 x 3 = 12",
        1,
    ),
]


@pytest.mark.parametrize(
    ("make", "kwargs", "match", "count"),
    BAD_MASKS,
    ids=[
        "missing-mask",
        "mask-without-image",
        "size-mismatch",
        "rgb-mode",
        "16-bit",
        "id-not-in-space",
        "link-outside-root",
        "pixel-limit",
    ],
)
def test_bad_masks(tmp_path, monkeypatch, make, kwargs, match, count):
    (tmp_path / "leftImg8bit" / "val").mkdir(parents=True)
    (tmp_path / "gtFine" / "val").mkdir(parents=True)
    _image(tmp_path, "val/ulm/ulm_000000_000002")  # one good sample beside
    _mask(tmp_path, "val/ulm/ulm_000000_000002")
    make(tmp_path)
    kwargs = dict(kwargs)
    if "max_pixels" in kwargs:
        monkeypatch.setattr(_png, "MAX_PIXELS", kwargs.pop("max_pixels"))
    with pytest.raises(FormatError, match=match):
        read_cityscapes(tmp_path, **kwargs)
    dataset = read_cityscapes(tmp_path, errors="lenient", **kwargs)
    (skip,) = dataset.skipped
    assert skip.count == count
    assert len(dataset) == 1
    assert dataset.read == 1 + count
    assert isinstance(dataset.samples[0].annotations[0], Mask)


def _doc(**changes):
    doc = json.loads(json.dumps(POLYGONS))
    doc.update(changes)
    return doc


def _objects(*objects):
    return _doc(objects=list(objects))


SQUARE = [[0, 0], [2, 0], [2, 2], [0, 2]]
GOOD = {"label": "road", "polygon": SQUARE}


def _bad(doc=None, raw=None, *, match, skipped, read, id):
    return pytest.param({"doc": doc, "raw": raw}, match, skipped, read, id=id)


BAD_POLYGONS = [
    _bad(
        raw=b'{"imgHeight": 6, "imgWidth": 8,\n "objects": [\n',
        match=r"polygons\.json:3: invalid JSON",
        skipped=0,
        read=0,
        id="truncated-json",
    ),
    _bad(
        raw='{"objects": [], "x": "é"}'.encode("latin-1"),
        match=r"polygons\.json:1: expected UTF-8 text",
        skipped=0,
        read=0,
        id="not-utf8",
    ),
    _bad(
        [1, 2],
        match=r"expected a JSON object with an 'objects' list, got list",
        skipped=0,
        read=0,
        id="not-an-object",
    ),
    _bad(
        _doc(imgHeight=5),
        match=r"expected the image's \(height, width\) \(6, 8\), got \(5, 8\)",
        skipped=4,
        read=4,
        id="size-mismatch",
    ),
    _bad(
        _doc(imgWidth="8"),
        match=r"expected positive integers \['imgHeight', 'imgWidth'\]",
        skipped=4,
        read=4,
        id="size-not-int",
    ),
    _bad(
        _objects({"label": "persn", "polygon": SQUARE}, GOOD),
        match=r"polygons\.json:\d+: object 0: label 'persn' is not a label of "
        r"'cityscapes'; did you mean 'person'\?",
        skipped=1,
        read=2,
        id="unknown-label",
    ),
    _bad(
        _objects(GOOD, {"label": "road", "polygon": [[0, 0], [1, 1]]}),
        match=r"object 1: expected a polygon of at least 3 vertices, got 2",
        skipped=1,
        read=2,
        id="two-vertices",
    ),
    _bad(
        _objects({"label": "road", "polygon": [[0, 0, 1, 1, 2, 0]]}, GOOD),
        match=r"object 0: expected vertex 0 to be \[x, y\].*flat coordinate list",
        skipped=1,
        read=2,
        id="flat-list",
    ),
    _bad(
        _objects({"label": "road", "polygon": [[0, 0], [1, "a"], [2, 2]]}, GOOD),
        match=r"object 0: expected vertex 1 to be \[x, y\]",
        skipped=1,
        read=2,
        id="non-numeric-vertex",
    ),
    _bad(
        _objects({"label": 7, "polygon": SQUARE}, GOOD),
        match=r"object 0: expected 'label' to be a string, got 7",
        skipped=1,
        read=2,
        id="label-not-string",
    ),
]


@pytest.mark.parametrize(("content", "match", "skipped", "read"), BAD_POLYGONS)
def test_bad_polygons(tmp_path, content, match, skipped, read):
    _image(tmp_path, shape=(6, 8))
    _polygons(tmp_path, content.get("doc"), raw=content.get("raw"))
    with pytest.raises(FormatError, match=match):
        read_cityscapes(tmp_path, source="polygons")
    dataset = read_cityscapes(tmp_path, source="polygons", errors="lenient")
    (skip,) = dataset.skipped
    assert skip.count == skipped
    assert dataset.read == read
    assert sum(len(s.annotations) for s in dataset.samples) == read - skipped
    usable = [a for s in dataset.samples for a in s.annotations]
    assert all(isinstance(a, Polygon) for a in usable)


def test_polygon_file_outside_root(tmp_path):
    _image(tmp_path, shape=(6, 8))
    outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
    outside.write_text(json.dumps(POLYGONS))
    link = tmp_path / "gtFine" / f"{BASE}_gtFine_polygons.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    with pytest.raises(FormatError, match=r"leads outside the dataset root"):
        read_cityscapes(tmp_path, source="polygons")
    dataset = read_cityscapes(tmp_path, source="polygons", errors="lenient")
    assert (dataset.read, [s.count for s in dataset.skipped]) == (0, [0])
