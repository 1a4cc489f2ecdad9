from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unitax._png import read_label_png
from unitax.annotations import Box
from unitax.errors import FormatError
from unitax.formats.voc import read_voc

SAMPLES = "data/format_samples/voc"
LABELME = f"{SAMPLES}/labelme/examples"
DATUMARO = f"{SAMPLES}/datumaro/tests/assets/voc_dataset/voc_dataset1"


def _jpeg(root, name="a", shape=(4, 6)):
    path = root / "JPEGImages" / f"{name}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", shape[::-1]).save(path)
    return path


def _palette_png(root, name="a", values=((0, 0, 12, 12, 255, 0),) * 4):
    path = root / "SegmentationClass" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.asarray(values, dtype=np.uint8)
    image = Image.frombytes("P", array.shape[::-1], array.tobytes())
    image.putpalette([0, 0, 0, 128, 0, 0] + [0, 0, 0] * 254)
    image.save(path)
    return path


def _xml(root, name="a", objects="", size="<width>6</width><height>4</height>"):
    path = root / "Annotations" / f"{name}.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><size>{size}</size>{objects}</annotation>")
    return path


def _object(name="dog", box=(1, 1, 6, 4), extra=""):
    tags = "".join(
        f"<{t}>{v}</{t}>"
        for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True)
    )
    return f"<object><name>{name}</name>{extra}<bndbox>{tags}</bndbox></object>"


def _sets(root, task_folder, **sets):
    folder = root / "ImageSets" / task_folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in sets.items():
        (folder / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))


# --- real samples ------------------------------------------------------------


def test_real_palette_segmentation(shared):
    root = shared / LABELME / "instance_segmentation/data_dataset_voc"
    dataset = read_voc(root, check_ids=True)
    assert dataset.label_space.name == "pascal-voc"
    assert [(s.key, s.split, s.shape) for s in dataset.samples] == [
        ("2011_000003", "", (338, 500)),
        ("2011_000006", "", (375, 500)),
        ("2011_000025", "", (375, 500)),
    ]
    values = read_label_png(dataset.samples[0].annotations[0].source)
    assert set(np.unique(values)) == {0, 5, 15, 255}  # bottle, person, void border


def test_real_boxes(shared):
    root = shared / LABELME / "bbox_detection/data_dataset_voc"
    dataset = read_voc(root, task="detection")
    boxes = [b for s in dataset.samples for b in s.annotations]
    names = [dataset.label_space.by_id(b.label).name for b in boxes]
    assert names.count("person") == 6 and names.count("bus") == 2 and len(boxes) == 9
    assert dataset.read == 9
    first = dataset.samples[0].annotations[1]
    assert first.xyxy == (364.0, 82.0, 500.0, 333.0)  # xmin 365 ... xmax 500


def test_real_rgb_converted_pngs_are_refused(shared):
    root = shared / DATUMARO
    with pytest.raises(
        FormatError, match=r"2007_000001\.png: .*got mode 'RGB': the palette was lost"
    ):
        read_voc(root)
    dataset = read_voc(root, errors="lenient")
    assert (len(dataset), dataset.read, dataset.skipped[0].count) == (0, 1, 1)


def test_real_datumaro_boxes_and_sets(shared):
    dataset = read_voc(shared / DATUMARO, task="detection")
    (sample,) = dataset.samples
    assert (sample.key, sample.split, sample.shape) == (
        "2007_000001",
        "train",
        (10, 20),
    )
    assert sample.annotations == (
        Box((0.0, 1.0, 3.0, 4.0), label=8, key=0),  # cat, truncated: kept
        Box((3.0, 4.0, 6.0, 7.0), label=15, key=1),  # person; <part> not read
    )


# --- synthetic ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("box", "xyxy"),
    [
        ((1, 1, 6, 4), (0.0, 0.0, 6.0, 4.0)),
        ((2, 3, 2, 3), (1.0, 2.0, 2.0, 3.0)),
        ((1.5, 1, 3.25, 2), (0.5, 0.0, 3.25, 2.0)),
    ],
    ids=["whole-image", "one-pixel", "fractional"],
)
def test_one_based_inclusive_boxes(tmp_path, box, xyxy):
    _jpeg(tmp_path)
    _xml(tmp_path, objects=_object(box=box))
    (sample,) = read_voc(tmp_path, task="detection").samples
    assert sample.annotations[0].xyxy == xyxy


def test_difficult_and_truncated_are_kept(tmp_path):
    _jpeg(tmp_path)
    extra = "<difficult>1</difficult><truncated>1</truncated>"
    _xml(tmp_path, objects=_object(extra=extra) + _object("cat"))
    (sample,) = read_voc(tmp_path, task="detection").samples
    assert [b.key for b in sample.annotations] == [0, 1]


def test_image_sets(tmp_path):
    for name in ("a", "b", "c"):
        _jpeg(tmp_path, name)
        _palette_png(tmp_path, name)
    _sets(tmp_path, "Segmentation", train=["a"], val=["b"], trainval=["a", "b"])
    dataset = read_voc(tmp_path)
    assert [(s.key, s.split) for s in dataset.samples] == [
        ("a", "train"),
        ("b", "val"),
        ("c", ""),
    ]
    assert [s.key for s in read_voc(tmp_path, image_set="trainval")] == ["a", "b"]
    with pytest.raises(FormatError, match=r"image set 'test', got sets \['train'"):
        read_voc(tmp_path, image_set="test")


def test_options_and_layout(tmp_path):
    with pytest.raises(
        ValueError, match=r"task must be one of \('segmentation', 'detection'\)"
    ):
        read_voc(tmp_path, task="boxes")
    with pytest.raises(FormatError, match=r"expected a VOC folder holding JPEGImages"):
        read_voc(tmp_path)


# --- bad input: strict error and lenient skip, with exact accounting --------


def _rgb(root):
    _jpeg(root)
    path = root / "SegmentationClass" / "a.png"
    path.parent.mkdir(parents=True)
    Image.new("RGB", (6, 4)).save(path)
    return {}


def _sixteen_bit(root):
    _jpeg(root)
    path = root / "SegmentationClass" / "a.png"
    path.parent.mkdir(parents=True)
    Image.fromarray(np.zeros((4, 6), np.uint16)).save(path)
    return {}


def _wrong_size(root):
    _jpeg(root, shape=(5, 6))
    _palette_png(root)
    return {}


def _bad_id(root):
    _jpeg(root)
    _palette_png(root, values=((0, 21, 0, 0, 0, 0),) * 4)
    return {"check_ids": True}


def _missing_png(root):
    _jpeg(root)
    (root / "SegmentationClass").mkdir()
    _sets(root, "Segmentation", train=["a"])
    return {"image_set": "train"}


def _id_outside(root):
    _jpeg(root)
    _palette_png(root)
    _sets(root, "Segmentation", train=["a", "../../../etc/passwd"])
    return {"image_set": "train"}


def _duplicate_id(root):
    _jpeg(root)
    _palette_png(root)
    _sets(root, "Segmentation", train=["a", "a"])
    return {"image_set": "train"}


def _xml_outside(root):
    _jpeg(root)
    outside = _xml(root.parent / f"{root.name}-outside", objects=_object())
    (root / "Annotations").mkdir()
    (root / "Annotations" / "a.xml").symlink_to(outside)
    return {"task": "detection"}


def _invalid_xml(root):
    _jpeg(root)
    path = root / "Annotations" / "a.xml"
    path.parent.mkdir()
    path.write_text("<annotation>\n<object>\n</annotation>")
    return {"task": "detection"}


def _unknown_class(root):
    _jpeg(root)
    _xml(root, objects=_object("tv/monitor") + _object("dog"))
    return {"task": "detection"}


def _inverted_box(root):
    _jpeg(root)
    _xml(root, objects=_object(box=(5, 1, 2, 4)) + _object())
    return {"task": "detection"}


def _box_outside(root):
    _jpeg(root)
    _xml(root, objects=_object(box=(8, 1, 9, 4)) + _object())
    return {"task": "detection"}


def _size_disagrees(root):
    _jpeg(root)
    _xml(root, objects=_object() + _object(), size="<width>6</width><height>5</height>")
    return {"task": "detection"}


def _missing_image(root):
    (root / "JPEGImages").mkdir()
    _xml(root, objects=_object() + _object())
    return {"task": "detection"}


BAD = [
    pytest.param(
        _rgb, r"a\.png: .*got mode 'RGB': the palette was lost", 1, 1, id="rgb"
    ),
    pytest.param(_sixteen_bit, r"got mode 'I;16' \(16-bit\)", 1, 1, id="16-bit"),
    pytest.param(
        _wrong_size,
        r"expected the image's \(height, width\) \(5, 6\), got \(4, 6\)",
        1,
        1,
        id="size",
    ),
    pytest.param(
        _bad_id,
        r"expected label ids of 'pascal-voc' \(0\.\.20, void \[255\]\), got \[21\]",
        1,
        1,
        id="id-not-in-space",
    ),
    pytest.param(
        _missing_png, r"a\.jpg: no SegmentationClass PNG", 0, 0, id="missing-png"
    ),
    pytest.param(
        _id_outside,
        r"train\.txt:2: image id '\.\./\.\./\.\./etc/passwd' "
        r"must be a plain file name",
        0,
        1,
        id="name-outside-root",
    ),
    pytest.param(
        _duplicate_id, r"train\.txt:2: duplicate image id 'a'", 0, 1, id="duplicate-id"
    ),
    pytest.param(
        _xml_outside, r"a\.xml: .*leads outside the dataset root", 0, 0, id="xml-link"
    ),
    pytest.param(
        _invalid_xml, r"a\.xml:3: invalid XML: mismatched tag", 0, 0, id="invalid-xml"
    ),
    pytest.param(
        _unknown_class,
        r"a\.xml: object 0: class 'tv/monitor' is not a "
        r"label of 'pascal-voc'; did you mean 'tvmonitor'\?",
        1,
        2,
        id="unknown-class",
    ),
    pytest.param(
        _inverted_box,
        r"object 0: expected xmin <= xmax and ymin <= ymax, "
        r"got \(5\.0, 1\.0, 2\.0, 4\.0\)",
        1,
        2,
        id="inverted-box",
    ),
    pytest.param(
        _box_outside,
        r"object 0: box \(8\.0, 1\.0, 9\.0, 4\.0\) lies "
        r"outside the image \(width 6",
        1,
        2,
        id="box-outside",
    ),
    pytest.param(
        _size_disagrees,
        r"a\.xml: expected the image's \(height, width\) "
        r"\(4, 6\), got \(5, 6\) from <size>",
        2,
        2,
        id="size-disagrees",
    ),
    pytest.param(
        _missing_image,
        r"a\.xml: image cannot read image header",
        2,
        2,
        id="missing-image",
    ),
]


@pytest.mark.parametrize(("make", "match", "count", "read"), BAD)
def test_bad_input(tmp_path, make, match, count, read):
    kwargs = make(tmp_path)
    with pytest.raises(FormatError, match=match):
        read_voc(tmp_path, **kwargs)
    dataset = read_voc(tmp_path, errors="lenient", **kwargs)
    assert [s.count for s in dataset.skipped] == [count]
    assert dataset.read == read
    assert sum(len(s.annotations) for s in dataset.samples) == read - count
