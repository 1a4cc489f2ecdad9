from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import unitax as ux
from unitax.annotations import Box, Mask, Tag
from unitax.errors import FormatError
from unitax.rasterize import Extra, rasterize, remap, stack

SIGN = ux.Label(id=0, name="sign")
STOP = ux.Label(id=1, name="stop", parents=("sign",))
YIELD = ux.Label(id=2, name="yield", parents=("sign",))
SIGNS = ux.LabelSpace(name="signs", labels=(SIGN, STOP, YIELD), void=[255])
CITY = ux.LabelSpace.from_names("city", ["road", "sign", "blur", "car"], void=[255])
RULES = [
    ux.rules.Same(labels=("city/sign", "signs/sign"), name="sign"),
    ux.rules.Ignore(label="city/blur"),
]
TAXONOMY, MAPS = ux.unify([CITY, SIGNS], RULES)
NODE = {name: TAXONOMY.index(name) for name in TAXONOMY.names}
I = 255  # ignore_index of these small targets  # noqa: E741


def test_taxonomy_of_the_fixtures():
    assert TAXONOMY.names == (
        "city/car", "city/road", "sign", "sign (other)", "signs/stop", "signs/yield"
    )  # fmt: skip


def test_mask_remap_void_and_ignored_labels():
    mask = np.array([[0, 1, 2], [3, 255, 9]], dtype=np.uint8)
    target = rasterize([Mask(mask)], MAPS["city"], shape=(2, 3))
    road, sign, car = NODE["city/road"], NODE["sign"], NODE["city/car"]
    assert target.array.tolist() == [[road, sign, I], [car, I, I]]
    assert target.array.dtype == np.uint8
    assert remap(mask, MAPS["city"]).tolist() == target.array.tolist()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32], ids=str)
def test_remap_dtypes(dtype):
    mask = np.array([[0, 3], [np.iinfo(dtype).max, 1]], dtype=dtype)
    out = remap(mask, MAPS["city"])
    assert out.tolist() == [[NODE["city/road"], NODE["city/car"]], [I, NODE["sign"]]]
    assert out.dtype == TAXONOMY.dtype


def test_rgb_and_segments_masks():
    rgb = np.zeros((1, 3, 3), dtype=np.uint8)
    rgb[0, 1] = (1, 1, 0)  # segment 257
    rgb[0, 2] = (3, 0, 0)  # segment 3, not listed: void
    target = rasterize(
        [Mask(rgb, encoding="rgb", segments={257: 3})], MAPS["city"], shape=(1, 3)
    )
    assert target.array.tolist() == [[I, NODE["city/car"], I]]


def test_divisor_masks():
    mask = np.array([[3 * 256 + 1, 1 * 256 + 4]], dtype=np.uint16)
    target = rasterize([Mask(mask, divisor=256)], MAPS["city"], shape=(1, 2))
    assert target.array.tolist() == [[NODE["city/car"], NODE["sign"]]]


def test_nested_boxes_the_specific_node_wins():
    boxes = [Box((0, 0, 4, 3), 0), Box((1, 1, 3, 3), 1)]
    target = rasterize(boxes, MAPS["signs"], shape=(4, 5))
    s, p = NODE["sign"], NODE["signs/stop"]
    assert target.array.tolist() == [
        [s, s, s, s, I],
        [s, p, p, s, I],
        [s, p, p, s, I],
        [I, I, I, I, I],
    ]


@pytest.mark.parametrize(
    ("overlap", "expected"),
    [
        ("specific", I),
        ("ignore", I),
        ("last", "signs/yield"),
        ("union", "extra"),
    ],
    ids=["specific", "ignore", "last", "union"],
)
def test_unrelated_overlap_policies(overlap, expected):
    boxes = [Box((0, 0, 2, 1), 1), Box((1, 0, 3, 1), 2)]
    target = rasterize(boxes, MAPS["signs"], shape=(1, 3), overlap=overlap)
    middle = int(target.array[0, 1])
    assert target.array[0, 0] == NODE["signs/stop"]
    assert target.array[0, 2] == NODE["signs/yield"]
    if expected == "extra":
        assert middle == len(TAXONOMY)
        assert target.extra == (Extra(nodes=("signs/stop", "signs/yield")),)
    else:
        assert middle == (NODE[expected] if isinstance(expected, str) else expected)


def test_distribution_boxes_store_a_mixture():
    boxes = [Box((0, 0, 2, 1), 1), Box((1, 0, 3, 1), 2)]
    target = rasterize(boxes, MAPS["signs"], shape=(1, 3), boxes="distribution")
    assert target.array[0, 1] == len(TAXONOMY)
    assert target.extra == (
        Extra(nodes=("signs/stop", "signs/yield"), weights=(0.5, 0.5)),
    )


def test_core_box_band_follows_pixel_centres():
    # core 0.5 of (0, 0, 8, 4): centre (4, 2), half sizes 2 and 1 -> [2, 6) x [1, 3)
    target = rasterize(
        [Box((0, 0, 8, 4), 1)], MAPS["signs"], shape=(4, 8), boxes="core", box_core=0.5
    )
    inside = target.array == NODE["signs/stop"]
    expected = np.zeros((4, 8), dtype=bool)
    expected[1:3, 2:6] = True
    assert (inside == expected).all()
    assert (target.array[~expected] == I).all()


def test_outside_complement_needs_an_exhaustive_space():
    space = SIGNS.model_copy(update={"exhaustive": False})
    _, maps = ux.unify([CITY, space], RULES)
    with pytest.raises(ValueError, match="exhaustive"):
        rasterize([], maps["signs"], shape=(1, 1), outside="complement")


def test_outside_complement_is_none_of_the_space_labels():
    target = rasterize(
        [Box((0, 0, 1, 1), 1)], MAPS["signs"], shape=(1, 2), outside="complement"
    )
    assert target.array.tolist() == [[NODE["signs/stop"], len(TAXONOMY)]]
    assert target.extra == (Extra(nodes=("city/car", "city/road")),)


def test_core_band_with_complement_is_a_union():
    target = rasterize(
        [Box((0, 0, 4, 1), 1)],
        MAPS["signs"],
        shape=(1, 4),
        boxes="core",
        box_core=0.5,
        outside="complement",
    )
    band = target.extra[int(target.array[0, 0]) - len(TAXONOMY)]
    assert set(band.nodes) == {"city/car", "city/road", "signs/stop"}
    assert target.array[0, 1] == NODE["signs/stop"]


def test_tags():
    tags = [Tag(1), Tag(2, positive=False), Tag(1)]
    target = rasterize([Box((0, 0, 2, 1), 0), *tags], MAPS["signs"], shape=(1, 3))
    assert target.positive == ("signs/stop",)
    assert target.negative == ("signs/yield",)
    # "sign" without "yield" = stop or other sign: an extra set
    assert target.extra == (Extra(nodes=("sign (other)", "signs/stop")),)
    assert target.array.tolist() == [[len(TAXONOMY), len(TAXONOMY), I]]


def test_stacking_refines_and_contradiction_is_ignore():
    mask = np.array([[0, 1, 1, 3]], dtype=np.uint8)  # road, sign, sign, car
    dense = rasterize([Mask(mask)], MAPS["city"], shape=(1, 4))
    boxes = rasterize([Box((0, 0, 3, 1), 1)], MAPS["signs"], shape=(1, 4))
    stacked = stack(dense, boxes, TAXONOMY)
    assert stacked.array.tolist() == [
        [I, NODE["signs/stop"], NODE["signs/stop"], NODE["city/car"]]
    ]


def test_layers_within_one_space_stack():
    mask = np.array([[1, 1, 0]], dtype=np.uint8)  # stop, stop, sign
    target = rasterize([Mask(mask), Box((1, 0, 3, 1), 2)], MAPS["signs"], shape=(1, 3))
    # the yield box contradicts the stop pixel and refines the sign pixel
    assert target.array.tolist() == [[NODE["signs/stop"], I, NODE["signs/yield"]]]


@pytest.mark.parametrize(
    ("annotation", "match"),
    [
        (Box((0, 0, 1, 1), 7), "label 7 is not a label id of 'signs'"),
        (Tag(255), "label 255 is a void id"),
        (Box((2, 0, 1, 1), 0), "positive width and height"),
        (Box((5, 5, 6, 6), 0), "covers no pixel centre"),
        (Mask(np.zeros((2, 2), dtype=np.uint8), key="a.png"), r"mask 'a.png'.*shape"),
    ],
    ids=[
        "unknown-label",
        "void-label",
        "negative-width",
        "outside-image",
        "mask-shape",
    ],
)
def test_bad_annotations(annotation, match):
    with pytest.raises(FormatError, match=match):
        rasterize([annotation], MAPS["signs"], shape=(3, 3))
    target = rasterize([annotation], MAPS["signs"], shape=(3, 3), errors="lenient")
    assert len(target.skipped) == 1
    assert (target.array == I).all()


@pytest.mark.parametrize(
    ("option", "value"),
    [("overlap", "first"), ("boxes", "soft"), ("outside", "none"), ("order", "z"),
     ("errors", "loud"), ("box_core", 0.0)],
    ids=lambda v: str(v),
)  # fmt: skip
def test_invalid_options(option, value):
    with pytest.raises(ValueError, match=option):
        rasterize([], MAPS["signs"], shape=(1, 1), **{option: value})


# -- properties ---------------------------------------------------------------


def _centre_count(x0, x1, size):
    return sum(1 for c in range(size) if x0 <= c + 0.5 < x1)


@st.composite
def boxes(draw, *, shape=(12, 16), labels=(0, 1, 2)):
    height, width = shape
    x0 = draw(st.floats(-4, width + 2, allow_nan=False))
    y0 = draw(st.floats(-4, height + 2, allow_nan=False))
    w = draw(st.floats(0.2, width, allow_nan=False))
    h = draw(st.floats(0.2, height, allow_nan=False))
    return Box((x0, y0, x0 + w, y0 + h), draw(st.sampled_from(labels)))


@given(box=boxes())
def test_box_pixel_count_follows_the_pixel_centre_rule(box):
    target = rasterize([box], MAPS["signs"], shape=(12, 16), errors="lenient")
    x0, y0, x1, y1 = box.xyxy
    count = _centre_count(x0, x1, 16) * _centre_count(y0, y1, 12)
    assert int((target.array != I).sum()) == count


@given(
    annotations=st.lists(boxes(), max_size=6),
    overlap=st.sampled_from(["specific", "union", "ignore"]),
    seed=st.integers(0, 1000),
)
def test_order_free_policies_ignore_annotation_order(annotations, overlap, seed):
    shuffled = list(annotations)
    random.Random(seed).shuffle(shuffled)
    first = rasterize(annotations, MAPS["signs"], shape=(12, 16), overlap=overlap,
                      errors="lenient")  # fmt: skip
    second = rasterize(shuffled, MAPS["signs"], shape=(12, 16), overlap=overlap,
                       errors="lenient")  # fmt: skip
    assert np.array_equal(first.array, second.array)
    assert first.extra == second.extra


@given(annotations=st.lists(boxes(), max_size=6), data=st.data())
def test_values_are_nodes_extras_or_ignore(annotations, data):
    kwargs = {
        "overlap": data.draw(st.sampled_from(["specific", "union", "ignore", "last"])),
        "boxes": data.draw(st.sampled_from(["fill", "core", "distribution"])),
        "outside": data.draw(st.sampled_from(["ignore", "complement"])),
    }
    target = rasterize(
        annotations, MAPS["signs"], shape=(12, 16), errors="lenient", **kwargs
    )
    values = set(np.unique(target.array).tolist())
    allowed = set(range(len(TAXONOMY) + len(target.extra))) | {target.ignore_index}
    assert values <= allowed
    used_extras = {v - len(TAXONOMY) for v in values if len(TAXONOMY) <= v < I}
    assert used_extras == set(range(len(target.extra)))  # no unused extra


@given(data=st.data())
def test_every_pixel_set_contains_the_truth(data):
    """Boxes drawn tightly around objects of a known fine map never lie."""
    height, width = 10, 12
    fine = np.full((height, width), -1)
    annotations = []
    for _ in range(data.draw(st.integers(0, 4))):
        label = data.draw(st.sampled_from([1, 2]))
        x0, y0 = (
            data.draw(st.integers(0, width - 1)),
            data.draw(st.integers(0, height - 1)),
        )
        x1 = data.draw(st.integers(x0 + 1, width))
        y1 = data.draw(st.integers(y0 + 1, height))
        if (fine[y0:y1, x0:x1] != -1).any():
            continue  # objects do not overlap in this world
        fine[y0:y1, x0:x1] = label
        annotations.append(Box((x0, y0, x1, y1), label))
    target = rasterize(
        annotations, MAPS["signs"], shape=(height, width), outside="complement",
        overlap=data.draw(st.sampled_from(["specific", "union"])),
    )  # fmt: skip
    names = TAXONOMY.names
    for row in range(height):
        for col in range(width):
            value = int(target.array[row, col])
            if value == target.ignore_index:
                continue
            if value < len(TAXONOMY):
                allowed = set(TAXONOMY.leaves_of(names[value]))
            else:
                extra = target.extra[value - len(TAXONOMY)]
                allowed = {leaf for n in extra.nodes for leaf in TAXONOMY.leaves_of(n)}
            truth = fine[row, col]
            if truth == -1:  # background: none of the signs labels
                assert not allowed & set(TAXONOMY.leaves_of("sign"))
            else:
                leaf = "signs/stop" if truth == 1 else "signs/yield"
                assert leaf in allowed
