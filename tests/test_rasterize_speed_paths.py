"""The fast paths of `unitax.rasterize` give what the general path gives.

The canvas (`unitax._canvas`) turns a mask alone, or boxes alone, straight
into the target's dtype, and looks up uint8/uint16 ids in cache-sized steps.
These tests compare each fast path with the general ``uint32`` path (forced by
switching the fast path off) and with plain numpy indexing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import unitax as ux

# The same small world as tests/test_rasterize.py.
from tests.test_rasterize import MAPS, NODE, TAXONOMY, I
from unitax._canvas import Canvas, lookup
from unitax.annotations import Box, Mask, Tag
from unitax.rasterize import Extra, rasterize, remap

SHAPE = (12, 16)


def general(monkeypatch: pytest.MonkeyPatch, *args, **kwargs) -> ux.rasterize.Target:
    """``rasterize`` with the fast paths switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(Canvas, "_dense_target", lambda self, outside, removed: None)
        patch.setattr(Canvas, "_rects_target", lambda self, outside, removed: None)
        return rasterize(*args, **kwargs)


def assert_same(fast: ux.rasterize.Target, slow: ux.rasterize.Target) -> None:
    assert fast.array.dtype == slow.array.dtype
    np.testing.assert_array_equal(fast.array, slow.array)
    assert fast.ignore_index == slow.ignore_index
    assert fast.extra == slow.extra
    assert (fast.positive, fast.negative) == (slow.positive, slow.negative)
    assert fast.skipped == slow.skipped


# -- lookup and remap ------------------------------------------------------------


@pytest.mark.parametrize("ids_dtype", [np.uint8, np.uint16], ids=str)
@pytest.mark.parametrize("table_dtype", [np.uint8, np.uint16, np.uint32], ids=str)
@pytest.mark.parametrize(
    "shape", [(0, 5), (3, 4), (700, 1001)], ids=["empty", "tiny", "many-steps"]
)
def test_lookup_is_numpy_indexing(ids_dtype, table_dtype, shape):
    rng = np.random.default_rng(0)
    top = int(np.iinfo(ids_dtype).max)
    table = rng.integers(0, np.iinfo(table_dtype).max, top + 1, dtype=table_dtype)
    ids = rng.integers(0, top + 1, shape, dtype=ids_dtype)
    out = lookup(table, ids)
    assert out.dtype == table.dtype
    np.testing.assert_array_equal(out, table[ids])
    strided = ids[:, ::3]  # not contiguous
    np.testing.assert_array_equal(lookup(table, strided), table[strided])


def test_lookup_needs_a_table_over_the_dtype():
    with pytest.raises(ValueError, match="one entry per uint8 value"):
        lookup(np.zeros(255, dtype=np.uint8), np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(TypeError, match="uint8 or uint16, got int8"):
        lookup(np.zeros(256, dtype=np.uint8), np.zeros((2, 2), dtype=np.int8))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=str)
def test_remap_is_the_table_with_ignore_beyond_it(dtype):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, np.iinfo(dtype).max + 1, (9, 300), dtype=dtype)
    ids[0, :6] = [0, 1, 2, 3, 255, 4]
    table = MAPS["city"].lut()
    expected = np.where(ids < len(table), table[np.minimum(ids, len(table) - 1)], I)
    out = remap(ids, MAPS["city"])
    assert out.dtype == TAXONOMY.dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(remap(ids.T, MAPS["city"]), expected.T)


def test_a_uint16_taxonomy_remaps_uint8_ids():
    space = ux.LabelSpace.from_names("wide", [f"l{i}" for i in range(300)])
    _, maps = ux.unify([space])
    ids = np.array([[0, 255], [7, 1]], dtype=np.uint8)
    out = remap(ids, maps["wide"])
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, maps["wide"].lut()[ids])


# -- a mask alone -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32], ids=str)
def test_a_mask_alone_is_its_remap(dtype, monkeypatch):
    ids = np.array([[0, 1, 2, 3], [255, 9, 1, 0]], dtype=dtype)
    target = rasterize([Mask(ids)], MAPS["city"], shape=(2, 4))
    np.testing.assert_array_equal(target.array, remap(ids, MAPS["city"]))
    assert_same(target, general(monkeypatch, [Mask(ids)], MAPS["city"], shape=(2, 4)))


@given(
    ids=st.lists(st.sampled_from([0, 1, 2, 3, 4, 255]), min_size=12, max_size=12),
    tags=st.lists(st.tuples(st.sampled_from([0, 1, 3]), st.booleans()), max_size=2),
)
def test_a_mask_with_tags_matches_the_general_path(ids, tags):
    mask = Mask(np.array(ids, dtype=np.uint8).reshape(3, 4))
    annotations = [mask, *(Tag(label, positive=p) for label, p in tags)]
    fast = rasterize(annotations, MAPS["city"], shape=(3, 4))
    with pytest.MonkeyPatch.context() as patch:
        slow = general(patch, annotations, MAPS["city"], shape=(3, 4))
    assert_same(fast, slow)


# -- boxes alone ------------------------------------------------------------------


@st.composite
def boxes(draw, *, shape=SHAPE, labels=(0, 1, 2, 255)):
    height, width = shape
    x0 = draw(st.floats(-4, width + 2, allow_nan=False))
    y0 = draw(st.floats(-4, height + 2, allow_nan=False))
    w = draw(st.floats(0.2, width, allow_nan=False))
    h = draw(st.floats(0.2, height, allow_nan=False))
    return Box((x0, y0, x0 + w, y0 + h), draw(st.sampled_from(labels)))


@given(
    annotations=st.lists(boxes(), max_size=9),
    tags=st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.booleans()), max_size=2),
    data=st.data(),
)
def test_boxes_alone_match_the_general_path(annotations, tags, data):
    options = {
        "overlap": data.draw(st.sampled_from(["specific", "union", "ignore", "last"])),
        "boxes": data.draw(st.sampled_from(["fill", "core", "distribution"])),
        "box_core": data.draw(st.sampled_from([0.3, 0.5, 1.0])),
        "outside": data.draw(st.sampled_from(["ignore", "complement"])),
        "order": data.draw(st.sampled_from(["file", "area"])),
    }
    annotations = [*annotations, *(Tag(label, positive=p) for label, p in tags)]
    args = (annotations, MAPS["signs"])
    kwargs = {"shape": SHAPE, "errors": "lenient", **options}
    with pytest.MonkeyPatch.context() as patch:
        assert_same(rasterize(*args, **kwargs), general(patch, *args, **kwargs))


def test_many_overlapping_boxes_fall_back_to_the_canvas(monkeypatch):
    rng = np.random.default_rng(2)
    many = [
        Box((x, y, x + 6, y + 5), int(label))
        for x, y, label in zip(
            rng.uniform(-2, 12, 300),
            rng.uniform(-2, 9, 300),
            rng.integers(0, 3, 300),
            strict=True,
        )
    ]  # thousands of overlapping pairs: more than the fast path takes on
    for boxes_option in ("fill", "core"):
        kwargs = {"shape": SHAPE, "boxes": boxes_option, "overlap": "union"}
        fast = rasterize(many, MAPS["signs"], **kwargs)
        assert_same(fast, general(monkeypatch, many, MAPS["signs"], **kwargs))


def test_three_core_boxes_over_one_pixel_combine_in_order():
    # Cores [1, 3) x [1, 3), [2, 4) x [1, 3), [2, 3) x [0, 3) (rows x cols):
    # pixel (2, 2) is under all three.
    boxes = [
        Box((0.0, 0.0, 4.0, 4.0), 1),  # stop
        Box((0.0, 1.0, 4.0, 5.0), 2),  # yield
        Box((-1.0, 1.5, 5.0, 3.5), 0),  # sign
    ]
    target = rasterize(
        boxes, MAPS["signs"], shape=(5, 5), boxes="core", box_core=0.5, overlap="union"
    )
    stop, yield_, sign = NODE["signs/stop"], NODE["signs/yield"], NODE["sign"]
    both = len(TAXONOMY)  # stop or yield
    assert target.extra == (Extra(nodes=("signs/stop", "signs/yield")),)
    assert target.array.tolist() == [
        [I, I, I, I, I],
        [I, stop, stop, I, I],
        [sign, both, both, I, I],
        [I, yield_, yield_, I, I],
        [I, I, I, I, I],
    ]


def test_later_boxes_cover_an_ignored_label_box_under_last():
    # "last" lets the later box win over ignore too, as Pillow's drawing does
    # for polygons (Cityscapes' json2labelImg draws "unlabeled" and then covers it)
    boxes = [Box((0, 0, 3, 1), 255), Box((1, 0, 4, 1), 1), Box((2, 0, 4, 1), 2)]
    target = rasterize(boxes, MAPS["signs"], shape=(1, 4), overlap="last")
    stop, yield_ = NODE["signs/stop"], NODE["signs/yield"]
    assert target.array.tolist() == [[I, stop, yield_, yield_]]
    # and an ignored box on top still wins
    target = rasterize(boxes[1:] + boxes[:1], MAPS["signs"], shape=(1, 4),
                       overlap="last")  # fmt: skip
    assert target.array.tolist() == [[I, I, I, yield_]]


# -- extras that turn out absent --------------------------------------------------


def test_absent_extras_are_dropped_and_the_dtype_shrinks():
    # 70 inner nodes n00..n69, each over the shared leaf x and two leaves of
    # its own. A verified-absent x turns every n into a set of two leaves,
    # but only n00 is in the mask: one extra, and 211 + 1 values fit uint8.
    edges = []
    for i in range(70):
        edges += [
            (f"n{i:02d}", "x"),
            (f"n{i:02d}", f"y{i:02d}"),
            (f"n{i:02d}", f"z{i:02d}"),
        ]
    taxonomy = ux.Taxonomy(edges)
    names = [f"n{i:02d}" for i in range(70)] + ["x"]
    space = ux.LabelSpace.from_names("deep", names)
    label_map = ux.LabelMap(space, taxonomy, dict(enumerate(names)))
    mask = Mask(np.zeros((2, 3), dtype=np.uint8))
    target = rasterize([mask, Tag(70, positive=False)], label_map, shape=(2, 3))
    assert len(taxonomy) == 211
    assert target.array.dtype == np.uint8
    assert (target.array == len(taxonomy)).all()
    assert target.extra == (Extra(nodes=("y00", "z00")),)


def test_an_ignored_box_with_a_core_and_the_complement_outside():
    # Its core is ignore; nothing is known on its band; outside it, the
    # complement. (This used to raise an IndexError inside the canvas.)
    box = Box((0, 0, 4, 1), 255)
    target = rasterize(
        [box], MAPS["signs"], shape=(1, 5), boxes="core", outside="complement"
    )
    assert target.array.tolist() == [[I, I, I, I, len(TAXONOMY)]]
    assert target.extra == (Extra(nodes=("city/car", "city/road")),)


@given(data=st.data())
def test_pillow_fill_of_pil_polygons_equals_the_kernels(data):
    """overlap="last" on PIL polygons is drawn by Pillow in one go; a polygon
    with a hole forces the kernels, which must agree on the other pixels."""
    import shapely

    from unitax.annotations import Polygon

    polygons = []
    for _ in range(data.draw(st.integers(1, 6))):
        points = data.draw(st.integers(3, 7))
        coords = data.draw(
            st.lists(st.floats(-3, 20, allow_nan=False), min_size=2 * points,
                     max_size=2 * points)
        )  # fmt: skip
        ring = np.array(coords).reshape(-1, 2)
        label = data.draw(st.sampled_from([0, 1, 2, 3, 255]))
        polygons.append(Polygon(shapely.Polygon(ring), label, convention="pil"))
    fast = rasterize(polygons, MAPS["city"], shape=SHAPE, overlap="last")
    # the same scene, painted polygon by polygon through the kernels
    expected = np.full(SHAPE, I, dtype=np.uint8)
    from unitax._raster import pil_polygon_runs, runs_to_mask

    table = remap(np.arange(256, dtype=np.uint8), MAPS["city"])
    for polygon in polygons:
        ring = np.asarray(polygon.geometry.exterior.coords)[:-1]
        mask = runs_to_mask(pil_polygon_runs(ring, *SHAPE), *SHAPE)
        expected[mask] = table[polygon.label]
    assert np.array_equal(fast.array, expected)


@given(data=st.data())
def test_pillow_codes_kept_to_the_end_equal_the_general_path(data):
    """Pillow's codes stay on the canvas until `finish` (or a later layer):
    with the complement outside, verified negatives and boxes on top they give
    what the uint32 canvas gives."""
    import shapely

    from unitax.annotations import Polygon

    annotations: list[ux.annotations.Annotation] = []
    for _ in range(data.draw(st.integers(0, 4))):
        x, y = data.draw(st.floats(-2, 14)), data.draw(st.floats(-2, 10))
        size = data.draw(st.floats(1, 9))
        ring = [(x, y), (x + size, y), (x + size / 2, y + size)]
        label = data.draw(st.sampled_from([0, 1, 2, 3, 255]))
        annotations.append(Polygon(shapely.Polygon(ring), label, convention="pil"))
    if data.draw(st.booleans()):
        annotations.append(Tag(data.draw(st.sampled_from([0, 3])), positive=False))
    if data.draw(st.booleans()):
        annotations.append(Box((2, 2, 9, 7), 1))
    options = {
        "shape": SHAPE,
        "overlap": "last",
        "outside": data.draw(st.sampled_from(["ignore", "complement"])),
    }
    fast = rasterize(annotations, MAPS["city"], **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Canvas, "_fill_with_pillow", lambda self, regions, last: False)
        slow = general(patch, annotations, MAPS["city"], **options)
    assert_same(fast, slow)
