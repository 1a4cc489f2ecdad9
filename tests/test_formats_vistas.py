from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import unitax as ux
from unitax._png import read_label_png
from unitax.errors import FormatError
from unitax.formats.vistas import read_vistas

SAMPLES = "data/format_samples/mapillary_vistas"
MMSEG = f"{SAMPLES}/mmsegmentation/tests/data/pseudo_mapillary_dataset"
DATUMARO = f"{SAMPLES}/datumaro/tests/assets/mapillary_vistas_dataset"


def _png(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.asarray(array)
    if mode == "P":
        image = Image.frombytes(
            "P", array.shape[::-1], array.astype(np.uint8).tobytes()
        )
        image.putpalette([0, 0, 0] * 256)
    else:
        image = Image.fromarray(array)
    image.save(path)
    return path


def _image(root, split="training", key="k1", shape=(2, 3)):
    path = root / split / "images" / f"{key}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", shape[::-1]).save(path)
    return path


def _labels(root, split="training", key="k1", values=((13, 13, 55), (13, 55, 65))):
    return _png(root / split / "v1.2" / "labels" / f"{key}.png", values, mode="P")


# --- real samples ------------------------------------------------------------


def test_same_pixels_in_v12_and_v20(shared):
    """The MMSegmentation pair labels the same pixels in both versions: v1.2
    ids 17, 44, 45 and v2.0 ids 27, 84, 85 are building, street light, pole."""
    root = shared / MMSEG
    old = read_vistas(root, check_ids=True)
    new = read_vistas(root, version="v2.0", check_ids=True)
    assert (old.label_space.name, new.label_space.name) == (
        "vistas-v1.2",
        "vistas-v2.0",
    )
    (a,), (b,) = old.samples, new.samples
    assert (a.key, a.split, a.shape) == ("__CRyFzoDOXn6unQ6a3DnQ", "", (100, 100))
    ids_a = read_label_png(a.annotations[0].source)
    ids_b = read_label_png(b.annotations[0].source)
    for id_a, id_b, name in [
        (17, 27, "construction--structure--building"),
        (44, 84, "object--street-light"),
        (45, 85, "object--support--pole"),
    ]:
        assert old.label_space.by_id(id_a).name == name
        assert new.label_space.by_id(id_b).name == name
        assert ((ids_a == id_a) == (ids_b == id_b)).all()
        assert (ids_a == id_a).any()


@pytest.mark.parametrize("version", ["v1.2", "v2.0"])
def test_datumaro_sources_agree(shared, version):
    root = shared / DATUMARO
    read = {
        source: read_vistas(root, version=version, source=source, check_ids=True)
        for source in ("labels", "instances", "panoptic")
    }
    space = read["labels"].label_space
    assert space.name == f"vistas-{version}-config"  # the 3-label test config
    assert space.names == (
        "animal--bird",
        "construction--barrier--separator",
        "object--vehicle--bicycle",
    )
    for source, dataset in read.items():
        assert [s.key for s in dataset.samples] == ["train/2", "val/0", "val/1"], source
        assert dataset.read == 3
    for labels, instances, panoptic in zip(
        *(read[s].samples for s in ("labels", "instances", "panoptic")), strict=True
    ):
        expected = read_label_png(labels.annotations[0].source)
        mask = instances.annotations[0]
        assert mask.divisor == 256
        assert (read_label_png(mask.source) // 256 == expected).all()
        mask = panoptic.annotations[0]
        assert mask.encoding == "rgb"
        segments = read_label_png(mask.source, encoding="rgb")
        decoded = np.vectorize(mask.segments.__getitem__)(segments)
        assert (decoded == expected).all()


def test_datumaro_polygons_are_not_the_vistas_format(shared):
    root = shared / DATUMARO
    with pytest.raises(
        FormatError, match=r"2\.json: expected positive integers.*heigth"
    ):
        read_vistas(root, version="v2.0", source="polygons")
    dataset = read_vistas(root, version="v2.0", source="polygons", errors="lenient")
    assert (len(dataset), dataset.read) == (0, 10)
    assert sorted(s.count for s in dataset.skipped) == [2, 3, 5]


# --- synthetic layout -------------------------------------------------------


def test_builtin_space_and_split_layout(tmp_path):
    _image(tmp_path)
    _labels(tmp_path)
    _image(tmp_path, "validation", "k2")
    _labels(tmp_path, "validation", "k2")
    (tmp_path / "testing" / "images").mkdir(parents=True)  # no annotations
    dataset = read_vistas(tmp_path, check_ids=True)
    assert dataset.label_space == ux.builtin_label_space("vistas-v1.2")
    assert [(s.key, s.split) for s in dataset.samples] == [
        ("training/k1", "training"),
        ("validation/k2", "validation"),
    ]
    assert [s.key for s in read_vistas(tmp_path, split="validation")] == [
        "validation/k2"
    ]


def _config(labels):
    return {"labels": labels, "version": "1.2", "mapping": "public"}


def test_config_equal_to_builtin_gives_builtin(tmp_path):
    builtin = ux.builtin_label_space("vistas-v1.2")
    labels = [
        {"name": label.name, "readable": label.synonyms[0], "color": list(label.color)}
        for label in builtin.labels
    ] + [{"name": "void--unlabeled", "readable": "Unlabeled", "color": [0, 0, 0]}]
    (tmp_path / "config_v1.2.json").write_text(json.dumps(_config(labels)))
    _image(tmp_path)
    _labels(tmp_path)
    assert read_vistas(tmp_path).label_space == builtin


def test_custom_config(tmp_path):
    labels = [{"name": "nature--sky", "readable": "Sky"}, {"name": "void--unlabeled"}]
    config = tmp_path / "elsewhere.json"
    config.write_text(json.dumps(_config(labels)))
    _image(tmp_path)
    _labels(tmp_path, values=((0, 0, 1), (0, 1, 1)))
    dataset = read_vistas(tmp_path, config=config, check_ids=True)
    space = dataset.label_space
    assert space.name == "vistas-v1.2-config"
    assert space.by_id(0).synonyms == ("Sky",)
    assert space.void == frozenset({1})


def test_bad_config(tmp_path):
    (tmp_path / "config_v1.2.json").write_text('{"labels": [\n {"name": 3}\n]}')
    with pytest.raises(
        FormatError, match=r"config_v1\.2\.json:2: labels\[0\]: expected"
    ):
        read_vistas(tmp_path)


def test_mmsegmentation_flat_layout(tmp_path):
    (tmp_path / "images").mkdir()
    Image.new("RGB", (3, 2)).save(tmp_path / "images" / "k.jpg")
    _png(tmp_path / "v2.0" / "k.png", [[1, 2, 3], [4, 5, 6]], mode="P")
    (sample,) = read_vistas(tmp_path, version="v2.0").samples
    assert (sample.key, sample.split) == ("k", "")


def test_instances_are_divided_by_256(tmp_path):
    _image(tmp_path)
    values = np.array([[13 * 256, 13 * 256 + 1, 55 * 256], [0, 0, 65 * 256]], np.uint16)
    _png(tmp_path / "training/v1.2/instances/k1.png", values)
    (mask,) = (
        read_vistas(tmp_path, source="instances", check_ids=True).samples[0].annotations
    )
    assert (mask.divisor, mask.key) == (256, "training/v1.2/instances/k1.png")


PANOPTIC_V20 = {
    "images": [{"file_name": "k1.jpg", "id": "k1", "height": 2, "width": 3}],
    "annotations": [
        {
            "image_id": "k1",
            "file_name": "k1.png",
            "segments_info": [
                {"id": 1, "category_id": 28, "iscrowd": 0, "area": 3, "bbox": []},
                {"id": 2, "category_id": 56, "iscrowd": 1, "area": 2, "bbox": []},
            ],
        }
    ],
    # the real files: readable name in "name", full label name in "supercategory"
    "categories": [
        {
            "id": 28,
            "name": "Building",
            "supercategory": "construction--structure--building",
            "isthing": 0,
        },
        {
            "id": 56,
            "name": "Car",
            "supercategory": "object--vehicle--car",
            "isthing": 1,
        },
    ],
}


def _panoptic(root, doc=PANOPTIC_V20, segments=((1, 1, 2), (0, 2, 1))):
    folder = root / "training" / "v2.0" / "panoptic"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "panoptic_2020.json").write_text(json.dumps(doc))
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 0] = segments
    return _png(folder / "k1.png", rgb)


def test_panoptic_segments_in_builtin_space(tmp_path):
    _image(tmp_path)
    _panoptic(tmp_path)
    dataset = read_vistas(tmp_path, version="v2.0", source="panoptic", check_ids=True)
    (mask,) = dataset.samples[0].annotations
    space = dataset.label_space
    assert {k: space.by_id(v).name for k, v in mask.segments.items()} == {
        1: "construction--structure--building",
        2: "object--vehicle--car",
    }


def test_polygons_v20(tmp_path):
    _image(tmp_path)
    folder = tmp_path / "training" / "v2.0" / "polygons"
    folder.mkdir(parents=True)
    doc = {
        "width": 3,
        "height": 2,
        "objects": [
            {"id": 7, "label": "nature--sky", "polygon": [[0, 0], [3, 0], [3, 1]]},
            {"label": "object--vehicle--car", "polygon": [[0, 0], [2, 2], [0, 2]]},
        ],
    }
    (folder / "k1.json").write_text(json.dumps(doc))
    dataset = read_vistas(tmp_path, version="v2.0", source="polygons")
    names = [
        dataset.label_space.by_id(p.label).name for p in dataset.samples[0].annotations
    ]
    assert names == ["nature--sky", "object--vehicle--car"]
    assert [p.key for p in dataset.samples[0].annotations] == [0, 1]
    with pytest.raises(ValueError, match=r"needs version 'v2\.0'"):
        read_vistas(tmp_path, source="polygons")


def test_options_and_layout_errors(tmp_path):
    with pytest.raises(
        ValueError, match=r"version must be one of \('v1\.2', 'v2\.0'\)"
    ):
        read_vistas(tmp_path, version="2.0")
    with pytest.raises(FormatError, match=r"expected split folders holding images/"):
        read_vistas(tmp_path)
    with pytest.raises(FormatError, match=r"expected a v1\.2 folder for split 'x'"):
        read_vistas(tmp_path, split="x")


# --- bad input: strict error and lenient skip, with exact accounting --------


def _bad_mode(root):
    _image(root)
    _png(root / "training/v1.2/instances/k1.png", np.zeros((2, 3), np.uint8))
    return {"source": "instances"}


def _panoptic_grey(root):
    _image(root)
    _panoptic(root)
    _png(root / "training/v2.0/panoptic/k1.png", np.zeros((2, 3), np.uint8))
    return {"source": "panoptic", "version": "v2.0"}


def _unknown_category(root):
    _image(root)
    doc = json.loads(json.dumps(PANOPTIC_V20))
    doc["annotations"][0]["segments_info"][1]["category_id"] = 99
    _panoptic(root, doc)
    return {"source": "panoptic", "version": "v2.0"}


def _file_name_outside(root):
    _image(root)
    doc = json.loads(json.dumps(PANOPTIC_V20))
    doc["annotations"][0]["file_name"] = "../../../k1.png"
    _panoptic(root, doc)
    return {"source": "panoptic", "version": "v2.0"}


def _unlisted_segment(root):
    _image(root)
    _panoptic(root, segments=((1, 1, 2), (0, 3, 1)))
    return {"source": "panoptic", "version": "v2.0", "check_ids": True}


def _label_out_of_space(root):
    _image(root)
    _labels(root, values=((13, 13, 99), (13, 55, 65)))
    return {"check_ids": True}


def _missing_labels(root):
    _image(root)
    (root / "training/v1.2/labels").mkdir(parents=True)
    return {}


BAD = [
    pytest.param(
        _bad_mode, r"expected PNG mode 'I;16' \(16-bit\)", 1, id="8-bit-instances"
    ),
    pytest.param(_panoptic_grey, r"expected PNG mode 'RGB'", 1, id="panoptic-not-rgb"),
    pytest.param(
        _unknown_category,
        r"segments_info\[1\] \(segment 2\): category_id 99 is not a category",
        1,
        id="unknown-category",
    ),
    pytest.param(
        _file_name_outside,
        r"panoptic_2020\.json:1: annotation 0: file name '\.\./\.\./\.\./k1\.png' "
        r"leads outside",
        1,
        id="name-outside-root",
    ),
    pytest.param(
        _unlisted_segment,
        r"expected segment ids listed in segments_info, got \[3\]",
        1,
        id="unlisted-segment",
    ),
    pytest.param(
        _label_out_of_space,
        r"expected label ids of 'vistas-v1\.2' \(0\.\.64, void \[65\]\), got \[99\]",
        1,
        id="id-not-in-space",
    ),
    pytest.param(
        _missing_labels,
        r"k1\.jpg: no labels PNG: expected .*k1\.png",
        0,
        id="missing-mask",
    ),
]


@pytest.mark.parametrize(("make", "match", "count"), BAD)
def test_bad_input(tmp_path, make, match, count):
    kwargs = make(tmp_path)
    with pytest.raises(FormatError, match=match):
        read_vistas(tmp_path, **kwargs)
    dataset = read_vistas(tmp_path, errors="lenient", **kwargs)
    skipped = [s.count for s in dataset.skipped]
    assert len(dataset) == 0
    if make is _file_name_outside:  # the entry is skipped, then the PNG has none
        assert skipped == [1, 1] and dataset.read == 2
    else:
        assert skipped == [count] and dataset.read == count
