from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

import unitax as ux
from unitax.annotations import Box, Mask, Tag
from unitax.errors import FormatError
from unitax.formats._common import Errors
from unitax.formats.open_images import read_open_images, read_open_images_label_space

MMDET = "data/format_samples/open_images/mmdetection/tests/data/OpenImages"
V6 = "data/format_samples/open_images/datumaro/tests/assets/open_images_dataset/v6"
V5 = "data/format_samples/open_images/datumaro/tests/assets/open_images_dataset/v5"
IMAGE = "0001eeaf4aed83f9"


def test_mmdetection_real_rows(shared: Path) -> None:
    dataset = read_open_images(shared / MMDET, sizes={IMAGE: (683, 1024)})
    airplane = ux.builtin_label_space("openimages").by_name("Airplane").id
    (sample,) = dataset.samples
    assert (sample.key, sample.split, sample.shape) == (IMAGE, "train", (683, 1024))
    tag, box = sample.annotations
    assert tag == Tag(airplane, key="annotations-human-imagelabels-boxable.csv:2")
    assert isinstance(box, Box) and box.label == airplane
    assert box.key == "oidv6-train-annotations-bbox.csv:2"
    expected = (
        0.022673031 * 1024,
        0.07103825 * 683,
        0.9642005 * 1024,
        0.80054647 * 683,
    )
    assert box.xyxy == pytest.approx(expected, rel=1e-12)
    assert dataset.read == 2 and dataset.skipped == ()


def test_mmdetection_without_size(shared: Path) -> None:
    with pytest.raises(FormatError, match=rf"image {IMAGE}: image size unknown"):
        read_open_images(shared / MMDET)
    dataset = read_open_images(shared / MMDET, errors="lenient")
    assert dataset.samples == ()
    (skip,) = dataset.skipped
    assert skip.count == 2 and "no entry in sizes" in skip.reason


def _v6_space(shared: Path) -> ux.LabelSpace:
    folder = shared / V6 / "annotations"
    return read_open_images_label_space(
        folder / "oidv6-class-descriptions.csv",
        hierarchy=folder / "bbox_labels_600_hierarchy.json",
        name="toy",
    )


def test_label_space_from_descriptions_and_hierarchy(shared: Path) -> None:
    space = _v6_space(shared)
    assert space.names == tuple(f"Generic label #{i}" for i in range(4))
    assert [label.code for label in space.labels] == ["/m/0", "/m/1", "/m/2", "/m/3"]
    assert space.by_name("Generic label #1").parents == ("Generic label #0",)
    assert space.by_name("Generic label #0").parents == ()  # root /m/x is no label
    assert not space.exhaustive


def test_v5_descriptions_without_header(shared: Path) -> None:
    path = shared / V5 / "annotations/class-descriptions.csv"
    space = read_open_images_label_space(path, name="v5")
    assert space.names == ("Generic label #0", "Generic label #1")
    with pytest.raises(FormatError, match=r"expected Open Images annotation CSVs"):
        read_open_images(shared / V5, label_space=space)


def test_datumaro_v6_malformed_row(shared: Path) -> None:
    space = _v6_space(shared)
    with pytest.raises(
        FormatError,
        match=r"image_ids_and_rotation.csv:5: malformed row: 11 fields, expected 12",
    ):
        read_open_images(shared / V6, label_space=space)
    dataset = read_open_images(shared / V6, label_space=space, errors="lenient")
    (skip,) = dataset.skipped
    assert skip.count == 0 and skip.where.endswith("image_ids_and_rotation.csv:5")
    assert dataset.read == 7
    assert [(s.key, s.split, s.shape) for s in dataset.samples] == [
        ("a", "train", (8, 6)),
        ("b", "train", (2, 8)),
        ("c", "test", (10, 5)),
    ]
    a, b, c = dataset.samples
    assert a.annotations == (
        Tag(0, key="oidv6-train-annotations-human-imagelabels.csv:2"),
    )
    box, negative, mask = b.annotations
    assert box == Box(
        (0.2 * 8, 0.3 * 2, 8.0, 0.5 * 2), 0, key="oidv6-train-annotations-bbox.csv:2"
    )
    assert negative == Tag(
        0, positive=False, key="oidv6-train-annotations-human-imagelabels.csv:3"
    )
    assert isinstance(mask, Mask) and dict(mask.segments or {}) == {1: 0}
    assert mask.source == shared / V6 / "masks/train/b_m0_01234567.png"
    assert [type(x).__name__ for x in c.annotations] == ["Box", "Tag", "Tag"]


def test_labels_by_mid_of_the_builtin_space(shared: Path) -> None:
    dataset = read_open_images(shared / V6, errors="lenient")
    assert dataset.samples == () and dataset.read == 7
    reasons = [s.reason for s in dataset.skipped if s.count]
    assert len(reasons) == 7
    assert all(
        re.match(r"LabelName '/m/\d' is not the MID of a label", r) for r in reasons
    )


def test_label_space_needs_codes(shared: Path) -> None:
    with pytest.raises(ValueError, match=r"Label.code"):
        read_open_images(shared / V6, label_space=ux.LabelSpace.from_names("x", ["a"]))


# -- bad input -----------------------------------------------------------------------

BOXES = (
    "ImageID,Source,LabelName,Confidence,XMin,XMax,YMin,YMax,"
    "IsOccluded,IsTruncated,IsGroupOf,IsDepiction,IsInside\n"
)
LABELS = "ImageID,Source,LabelName,Confidence\n"
MASKS = (
    "MaskPath,ImageID,LabelName,BoxID,BoxXMin,BoxXMax,BoxYMin,BoxYMax,"
    "PredictedIoU,Clicks\n"
)
GOOD_BOX = "i1,xclick,/m/0cmf2,1,0.1,0.5,0.2,0.6,0,0,0,0,0\n"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "images/train").mkdir(parents=True)
    (tmp_path / "masks/train").mkdir(parents=True)
    Image.new("RGB", (8, 4)).save(tmp_path / "images/train/i1.jpg")
    Image.new("1", (8, 4)).save(tmp_path / "masks/train/i1_m.png")
    return tmp_path


CSV_CASES = [
    (
        "unknown-mid",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "i1,xclick,/m/zzz,1,0.1,0.5,0.2,0.6,0,0,0,0,0\n",
        r"LabelName '/m/zzz' is not the MID of a label",
    ),
    (
        "confidence-half",
        "train-annotations-human-imagelabels.csv",
        LABELS + "i1,verification,/m/0cmf2,1\ni1,machine,/m/0cmf2,0.5\n",
        r"Confidence must be 1 \(present\) or 0 \(verified absent\), got '0.5'",
    ),
    (
        "xmin-after-xmax",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "i1,xclick,/m/0cmf2,1,0.6,0.5,0.2,0.6,0,0,0,0,0\n",
        r"0 <= XMin <= XMax <= 1",
    ),
    (
        "nan",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "i1,xclick,/m/0cmf2,1,nan,0.5,0.2,0.6,0,0,0,0,0\n",
        r"XMin must be finite, got 'nan'",
    ),
    (
        "not-a-number",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "i1,xclick,/m/0cmf2,1,a,0.5,0.2,0.6,0,0,0,0,0\n",
        r"XMin must be a number, got 'a'",
    ),
    (
        "short-row",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "i1,xclick,/m/0cmf2,1,0.1\n",
        r"malformed row: 5 fields, expected 13",
    ),
    (
        "image-id-escape",
        "train-annotations-bbox.csv",
        BOXES + GOOD_BOX + "../i1,xclick,/m/0cmf2,1,0.1,0.5,0.2,0.6,0,0,0,0,0\n",
        r"ImageID must be a plain name, got '../i1'",
    ),
    (
        "mask-path",
        "train-annotations-object-segmentation.csv",
        MASKS
        + "i1_m.png,i1,/m/0cmf2,x,0,1,0,1,,\n../i1_m.png,i1,/m/0cmf2,x,0,1,0,1,,\n",
        r"MaskPath must be a PNG file name, got '../i1_m.png'",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [c[1:] for c in CSV_CASES],
    ids=[c[0] for c in CSV_CASES],
)
def test_bad_row(tmp_path: Path, name: str, text: str, reason: str) -> None:
    root = _folder(tmp_path)
    (root / name).write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=rf"{name}:3: .*{reason}"):
        read_open_images(root)
    dataset = read_open_images(root, errors="lenient")
    assert dataset.read == 2
    assert [len(s.annotations) for s in dataset.samples] == [1]
    (skip,) = dataset.skipped
    assert skip.where == f"{root / name}:3" and skip.count == 1
    assert re.search(reason, skip.reason)


@pytest.mark.parametrize(
    ("mask", "reason"),
    [
        (
            "L",
            (
                r"expected a 1-bit mask of the image's \(height, width\) \(4, 8\), "
                r"got mode 'L'"
            ),
        ),
        ("small", r"got mode '1' and \(2, 4\) \(masks at another resolution"),
        ("missing", r"mask 'i1_m.png' not found under"),
    ],
    ids=["grey-mask", "other-resolution", "missing"],
)
def test_bad_mask(tmp_path: Path, mask: str, reason: str) -> None:
    root = _folder(tmp_path)
    png = root / "masks/train/i1_m.png"
    if mask == "L":
        Image.new("L", (8, 4)).save(png)
    elif mask == "small":
        Image.new("1", (4, 2)).save(png)
    else:
        png.unlink()
    name = "train-annotations-object-segmentation.csv"
    (root / name).write_text(
        MASKS + "i1_m.png,i1,/m/0cmf2,x,0,1,0,1,,\n", encoding="utf-8"
    )
    (root / "train-annotations-bbox.csv").write_text(BOXES + GOOD_BOX, encoding="utf-8")
    with pytest.raises(FormatError, match=rf"{name}:2: .*{reason}"):
        read_open_images(root)
    dataset = read_open_images(root, errors="lenient")
    assert dataset.read == 2 and len(dataset.samples[0].annotations) == 1
    assert re.search(reason, dataset.skipped[0].reason)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            b"ImageID,LabelName\ni1,/m/0cmf2\n",
            r"bbox.csv:1: expected the columns \['Confidence', 'XMin'",
        ),
        (
            BOXES.encode() + b"i\xff,xclick,/m/0cmf2,1,0.1,0.5,0.2,0.6,0,0,0,0,0\n",
            r"expected UTF-8",
        ),
    ],
    ids=["missing-columns", "non-utf8"],
)
@pytest.mark.parametrize("errors", ["strict", "lenient"])
def test_bad_file(tmp_path: Path, content: bytes, match: str, errors: Errors) -> None:
    root = _folder(tmp_path)
    (root / "train-annotations-bbox.csv").write_bytes(content)
    with pytest.raises(FormatError, match=match):
        read_open_images(root, errors=errors)


def test_images_folder_symlink_leading_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "train").mkdir(parents=True)
    Image.new("RGB", (8, 4)).save(outside / "train/i1.jpg")
    root = tmp_path / "root"
    root.mkdir()
    (root / "images").symlink_to(outside)
    (root / "train-annotations-bbox.csv").write_text(BOXES + GOOD_BOX, encoding="utf-8")
    with pytest.raises(
        FormatError, match=r"image i1: file name 'images/train/i1.jpg' leads outside"
    ):
        read_open_images(root)


def test_sizes_take_precedence_over_headers(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    (root / "train-annotations-bbox.csv").write_text(BOXES + GOOD_BOX, encoding="utf-8")
    sample = read_open_images(root, sizes={"i1": (40, 80)}).samples[0]
    assert sample.shape == (40, 80)
    assert sample.image == root / "images/train/i1.jpg"
    with pytest.raises(ValueError, match=r"sizes\['i1'\] must be 2 positive ints"):
        read_open_images(root, sizes={"i1": (0, 80)})
