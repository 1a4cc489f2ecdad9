"""Exactness of the raster kernels against pycocotools and Pillow.

Every comparison is pixel-for-pixel (``np.array_equal``), never IoU.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask

from unitax._raster import (
    MAX_COORD,
    Runs,
    _pil_round,
    coco_polygon_runs,
    coco_polygons_runs,
    paint,
    pil_polygon_runs,
    pil_polygons_runs,
    rle_runs,
    runs_to_mask,
)

COCO = Path("data/format_samples/coco_instances")

# pycocotools 2.0.11's decode under numpy 2 (not ours)
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

# -- references ---------------------------------------------------------------


def coco_reference(coords, height: int, width: int) -> np.ndarray:
    rle = coco_mask.frPyObjects([[float(v) for v in coords]], height, width)
    return coco_mask.decode(rle)[:, :, 0].astype(bool)


def pil_reference(coords, height: int, width: int) -> np.ndarray:
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).polygon([float(v) for v in coords], fill=1)
    return np.asarray(image).astype(bool)


def assert_canonical(runs: Runs, height: int, width: int) -> None:
    rows, starts, stops = runs
    assert rows.dtype == starts.dtype == stops.dtype == np.int64
    assert np.all((rows >= 0) & (rows < height) & (starts >= 0) & (stops <= width))
    assert np.all(starts < stops)
    same_row = rows[1:] == rows[:-1]
    assert np.all(rows[1:] >= rows[:-1])
    assert np.all(~same_row | (starts[1:] > stops[:-1]))  # disjoint, not touching


# -- strategies ---------------------------------------------------------------


def coordinates(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats, integers, and tenths/halves that hit the references' rounding ties."""
    ints = st.integers(int(np.floor(low)), int(np.ceil(high)))
    return st.one_of(
        st.floats(low, high, allow_nan=False),
        ints.map(float),
        st.integers(int(10 * low), int(10 * high)).map(lambda v: v / 10),
        ints.map(lambda v: v + 0.5),
    )


@st.composite
def scenes(draw: st.DrawFn, *, max_size: int = 48) -> tuple[list[float], int, int]:
    """A polygon and an image shape: tiny, large, crossing or outside the image."""
    height = draw(st.integers(1, max_size))
    width = draw(st.integers(1, max_size))
    kind = draw(st.sampled_from(["image", "tiny", "outside", "integer", "far"]))
    count = draw(st.integers(3, 14))
    if kind == "tiny":  # within a 1-10 px box
        size = draw(st.integers(1, 10))
        x0 = draw(coordinates(-2, width))
        y0 = draw(coordinates(-2, height))
        point = st.tuples(coordinates(x0, x0 + size), coordinates(y0, y0 + size))
    elif kind == "integer":
        point = st.tuples(
            st.integers(-3, width + 3).map(float),
            st.integers(-3, height + 3).map(float),
        )
    else:
        margin = {"image": 0, "outside": 12, "far": 5000}[kind]
        point = st.tuples(
            coordinates(-margin, width + margin), coordinates(-margin, height + margin)
        )
    points = draw(st.lists(point, min_size=count, max_size=count))
    return [v for p in points for v in p], height, width


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    height, width = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["noise", "box", "full", "empty", "stripes"]))
    if kind == "noise":
        return rng.random((height, width)) < draw(st.floats(0, 1))
    mask = np.zeros((height, width), bool)
    if kind == "box":
        r0, c0 = rng.integers(0, height), rng.integers(0, width)
        mask[r0 : rng.integers(r0, height + 1), c0 : rng.integers(c0, width + 1)] = True
    elif kind == "full":
        mask[:] = True
    elif kind == "stripes":
        mask[:, rng.integers(0, width, width // 2 + 1)] = True
    return mask


def uncompressed(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed counts: column-major runs, starting with 0s."""
    flat = mask.T.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    return [0, *counts] if flat.size and flat[0] else counts


# -- polygons: exact against the references -----------------------------------


@given(scenes())
def test_coco_polygon_is_bit_exact(scene):
    coords, height, width = scene
    runs = coco_polygon_runs(coords, height, width)
    assert_canonical(runs, height, width)
    expected = coco_reference(coords, height, width)
    assert np.array_equal(runs_to_mask(runs, height, width), expected)


@given(scenes())
def test_pil_polygon_is_bit_exact(scene):
    coords, height, width = scene
    runs = pil_polygon_runs(coords, height, width)
    assert_canonical(runs, height, width)
    expected = pil_reference(coords, height, width)
    assert np.array_equal(runs_to_mask(runs, height, width), expected)


@given(st.lists(scenes(max_size=200), min_size=1, max_size=12), st.integers(1, 200))
def test_batched_polygons_equal_single_ones(drawn, height):
    polygons = [coords for coords, _, _ in drawn]
    width = drawn[0][2]
    for batched, single in [
        (coco_polygons_runs, coco_reference),
        (pil_polygons_runs, pil_reference),
    ]:
        for coords, runs in zip(
            polygons, batched(polygons, height, width), strict=True
        ):
            expected = single(coords, height, width)
            assert np.array_equal(runs_to_mask(runs, height, width), expected)


@pytest.mark.parametrize(
    "coords",
    [
        [0, 0, 10, 0, 10, 10, 0, 10],
        [0, 0, 10, 10, 10, 0, 0, 10],  # bow tie
        [0, 0, 4, 4, 8, 8],  # collinear: zero area
        [1, 1, 1, 1, 1, 1],  # one point thrice
        [2.5, 0.5, 7.5, 9.5, -3.2, 4.1, 12.7, 4.1, 2.5, 0.5],  # star, closed
        [-1e5, -1e5, 1e5, -1e5, 0, 2e5],  # far outside
    ],
    ids=["square", "bowtie", "collinear", "point", "star", "far"],
)
@pytest.mark.parametrize("shape", [(12, 12), (1, 1), (3, 40)], ids=str)
def test_polygon_examples_are_bit_exact(coords, shape):
    height, width = shape
    coco = coco_polygon_runs(coords, height, width)
    pil = pil_polygon_runs(coords, height, width)
    assert np.array_equal(
        runs_to_mask(coco, height, width), coco_reference(coords, height, width)
    )
    assert np.array_equal(
        runs_to_mask(pil, height, width), pil_reference(coords, height, width)
    )


def test_zero_area_polygons_follow_the_references():
    # collinear: usually empty, but pycocotools snaps vertices to 1/5 px and
    # may leave a sliver, and Pillow draws the degenerate outline
    assert coco_polygon_runs([0, 0, 4, 4, 8, 8], 10, 10).rows.size == 0
    sliver = [3.0, 7.4, 4.3, 5.7, 5.6, 4.0]  # (4.3, 5.7) is the midpoint
    coco = runs_to_mask(coco_polygon_runs(sliver, 12, 12), 12, 12)
    assert coco.sum() == 1
    assert np.array_equal(coco, coco_reference(sliver, 12, 12))
    pil = runs_to_mask(pil_polygon_runs(sliver, 12, 12), 12, 12)
    assert pil.sum() > 1
    assert np.array_equal(pil, pil_reference(sliver, 12, 12))


@pytest.mark.parametrize(
    ("x", "up", "expected"),
    [
        (0.49999997, True, 1),  # f + 0.5F rounds to 1.0 in float32
        (-0.49999997, True, 0),  # fabs(f) + 0.5F is a double sum
        (2.5, True, 3),
        (2.5, False, 2),
        (-2.5, False, -2),
        (0.50000006, False, 1),  # f - 0.5F is exact, ceil of 6e-8
    ],
    ids=["up-f32-sum", "up-negative", "up-half", "down-half", "down-neg", "down"],
)
def test_pillow_rounding_is_float32(x, up, expected):
    assert _pil_round(np.array([x], np.float32), up=up)[0] == expected


def test_four_numbers_are_a_polygon_not_a_box():
    # pycocotools reads a first 4-number polygon as a box [x, y, w, h]: a
    # TypeError with lists in 2.0.11, a box with arrays; here it is 2 points
    with pytest.raises(TypeError):
        coco_mask.frPyObjects([[1, 1, 3, 2]], 4, 5)
    box = coco_mask.decode(coco_mask.frPyObjects(np.array([[1.0, 1, 3, 2]]), 4, 5))
    corners = coco_polygon_runs([1, 1, 1, 3, 4, 3, 4, 1], 4, 5)  # rleFrBbox's walk
    assert np.array_equal(runs_to_mask(corners, 4, 5), box[:, :, 0].astype(bool))
    with pytest.raises(ValueError, match="at least 3 points"):
        coco_polygon_runs([1, 1, 3, 2], 4, 5)


@pytest.mark.parametrize("kernel", [coco_polygons_runs, pil_polygons_runs])
def test_absurd_coordinates_cost_nothing(kernel):
    polygons = [[-1e11, -1e11, 1e11, -5e10, 3.5, 1e11], [1e9, 0, 0, 1e9, -1e9, -1e9]]
    for runs in kernel(polygons, 30, 20):
        assert_canonical(runs, 30, 20)


@pytest.mark.parametrize("kernel", [coco_polygons_runs, pil_polygons_runs])
def test_empty_images_and_batches(kernel):
    assert kernel([], 5, 5) == ()
    (runs,) = kernel([[0, 0, 5, 0, 0, 5]], 0, 7)
    assert runs.rows.size == 0


@pytest.mark.parametrize(
    ("coords", "match"),
    [
        ([0, 0, 1, 0, 1], "even number of coordinates"),
        ([0, 0, 1, 1], "at least 3 points"),
        ([0, 0, 1, 0, float("nan"), 1], "finite coordinates"),
        ([0, 0, 1, 0, float("inf"), 1], "finite coordinates"),
        ([0, 0, 1, 0, 2 * MAX_COORD, 1], "within"),
    ],
    ids=["odd", "two-points", "nan", "inf", "beyond-max"],
)
@pytest.mark.parametrize("kernel", [coco_polygon_runs, pil_polygon_runs])
def test_bad_polygons_raise(kernel, coords, match):
    with pytest.raises(ValueError, match=match):
        kernel(coords, 10, 10)


def test_bad_polygon_names_its_position():
    with pytest.raises(ValueError, match="polygon 1: expected finite"):
        coco_polygons_runs([[0, 0, 1, 0, 1, 1], [0, 0, 1, 0, float("nan"), 1]], 5, 5)


# -- RLE ----------------------------------------------------------------------


@given(masks())
def test_rle_is_bit_exact(mask):
    height, width = mask.shape
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    counts = uncompressed(mask)
    reference = coco_mask.decode(
        coco_mask.frPyObjects(
            {"counts": counts, "size": [height, width]}, height, width
        )
    )
    assert np.array_equal(reference.astype(bool), mask)
    for given_counts in (rle["counts"], rle["counts"].decode(), counts):
        runs = rle_runs(given_counts, height, width)
        assert_canonical(runs, height, width)
        assert np.array_equal(runs_to_mask(runs, height, width), mask)


def test_rle_with_empty_runs_in_the_middle():
    counts = [3, 2, 0, 4, 0, 0, 3]  # adjacent 1-runs; an empty 0-run and 1-run
    reference = {"counts": counts, "size": [3, 4]}
    expected = coco_mask.decode(coco_mask.frPyObjects(reference, 3, 4)).astype(bool)
    assert np.array_equal(runs_to_mask(rle_runs(counts, 3, 4), 3, 4), expected)


@pytest.mark.parametrize(
    ("counts", "match"),
    [
        ([1, 2, 3], "summing to height\\*width = 12, got 6"),
        ([13, -1], "counts >= 0"),
        ([[1, 11]], "flat list of integer"),
        ([1.0, 11.0], "flat list of integer"),
        ("1~", "characters '0'..'o'"),
        ("1P", "end a count"),
    ],
    ids=["sum", "negative", "nested", "float", "character", "continuation"],
)
def test_bad_rle_raises(counts, match):
    with pytest.raises(ValueError, match=match):
        rle_runs(counts, 3, 4)


# -- painting -----------------------------------------------------------------


@given(masks(), st.integers(0, 255), st.sampled_from(["C", "F"]))
def test_paint_equals_boolean_assignment(mask, value, order):
    height, width = mask.shape
    runs = rle_runs(uncompressed(mask), height, width)
    target = np.asarray(np.arange(mask.size).reshape(mask.shape) % 7, order=order)
    expected = target.copy()
    expected[mask] = value
    paint(target, runs, value)
    assert np.array_equal(target, expected)


def test_paint_rejects_runs_outside_the_target():
    runs = Runs(np.array([2]), np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="inside the target"):
        paint(np.zeros((2, 3), np.uint8), runs, 1)
    with pytest.raises(ValueError, match="2-D target"):
        paint(np.zeros(6, np.uint8), runs, 1)


# -- real samples (../shared) -------------------------------------------------


def test_labelme_coco_polygons_are_bit_exact(shared):
    path = COCO / "labelme/examples/instance_segmentation/data_dataset_coco"
    data = json.loads((shared / path / "annotations.json").read_text())
    shapes = {
        image["id"]: (image["height"], image["width"]) for image in data["images"]
    }
    checked = 0
    for annotation in data["annotations"]:
        height, width = shapes[annotation["image_id"]]
        polygons = annotation["segmentation"]
        for coords, runs in zip(
            polygons, coco_polygons_runs(polygons, height, width), strict=True
        ):
            expected = coco_reference(coords, height, width)
            assert np.array_equal(runs_to_mask(runs, height, width), expected)
            checked += 1
    assert checked >= 12


@pytest.mark.parametrize(
    "path",
    [
        "panopticapi/sample_data/panoptic_coco_detection_format.json",
        "datumaro/tests/assets/coco_dataset/coco_instances/annotations/instances_val.json",
    ],
    ids=["panopticapi-compressed", "datumaro-uncompressed"],
)
def test_real_rles_are_bit_exact(shared, path):
    data = json.loads((shared / COCO / path).read_text())
    rles = [a["segmentation"] for a in data["annotations"]]
    rles = [rle for rle in rles if isinstance(rle, dict)]
    assert rles
    for rle in rles:
        size = rle["size"]
        height, width = json.loads(size) if isinstance(size, str) else size
        counts = rle["counts"]
        if isinstance(counts, list):
            reference = coco_mask.frPyObjects(
                rle | {"size": [height, width]}, height, width
            )
        else:
            reference = {"counts": counts, "size": [height, width]}
        expected = coco_mask.decode(reference).astype(bool)
        assert np.array_equal(
            runs_to_mask(rle_runs(counts, height, width), height, width), expected
        )


@given(data=st.data())
def test_pil_fill_composes_the_exact_kernel_in_order(data):
    from unitax._pil import pil_fill

    height, width = 30, 40
    count = data.draw(st.integers(1, 6))
    polygons = []
    for _ in range(count):
        points = data.draw(st.integers(3, 8))
        coords = data.draw(
            st.lists(st.floats(-10, 50, allow_nan=False), min_size=2 * points,
                     max_size=2 * points)
        )  # fmt: skip
        polygons.append([np.array(coords, dtype=np.float64).reshape(-1, 2)])
    rings = [r for polygon in polygons for r in polygon]
    values = [v for v, polygon in enumerate(polygons, start=1) for _ in polygon]
    ends = np.cumsum([len(ring) for ring in rings])
    starts = ends - [len(ring) for ring in rings]
    filled = pil_fill(np.concatenate(rings), starts, ends, values, height, width)
    expected = np.zeros((height, width), dtype=np.int32)
    for value, (ring,) in enumerate(polygons, start=1):
        runs = pil_polygon_runs(ring, height, width)
        expected[runs_to_mask(runs, height, width)] = value
    assert np.array_equal(filled, expected)
