from __future__ import annotations

import random
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import unitax as ux
from unitax.conflicts import (
    COLUMNS,
    COVERAGE,
    KINDS,
    coverage,
    find_conflicts,
    summarize,
)
from unitax.errors import TaxonomyError
from unitax.rules import Ignore, IsA, Overlap, Same, normalize_name

A = ux.LabelSpace.from_names("a", ["road", "rider", "car", "blur", "terrain", "tree"])
B = ux.LabelSpace.from_names(
    "b", ["Roads", "bicyclist", "motorcyclist", "Cars", "fallback", "sky"]
)
RULES = (
    Same(labels=("a/road", "b/Roads")),
    IsA(child="b/bicyclist", parent="a/rider"),
    IsA(child="b/motorcyclist", parent="a/rider"),
    Ignore(label="a/blur"),
    Overlap(labels=("a/terrain", "b/fallback"), name="grass verge"),
)


@pytest.fixture(scope="module")
def unified() -> tuple[ux.Taxonomy, dict[str, ux.LabelMap]]:
    return ux.unify([A, B], RULES)


@pytest.fixture(scope="module")
def findings(unified) -> pd.DataFrame:
    return find_conflicts(*unified)


def _rows(frame: pd.DataFrame, kind: str) -> set[tuple[object, ...]]:
    rows = frame[frame.kind == kind]
    columns = ["space", "label", "other_space", "other_label", "node"]
    return set(rows[columns].itertuples(index=False, name=None))


@pytest.mark.parametrize(
    ("kind", "severity", "expected"),
    [
        ("name_collision", "warning", {("a", "car", "b", "Cars", "a/car")}),
        ("granularity", "info", {("a", "rider", "b", None, "a/rider")}),
        ("overlap", "info", {("a", "terrain", "b", "fallback", "grass verge")}),
        ("ignored", "info", {("a", "blur", None, None, None)}),
        (
            "unmapped",
            "warning",
            {
                ("a", "car", None, None, "a/car"),
                ("a", "tree", None, None, "a/tree"),
                ("b", "Cars", None, None, "b/Cars"),
                ("b", "sky", None, None, "b/sky"),
            },
        ),
        (
            "remainder",
            "info",
            {
                ("a", "rider", None, None, "a/rider (other)"),
                ("a", "terrain", None, None, "a/terrain (other)"),
                ("b", "fallback", None, None, "b/fallback (other)"),
            },
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_kind(findings, kind, severity, expected):
    assert _rows(findings, kind) == expected
    assert set(findings.severity[findings.kind == kind]) == {severity}


COLLISION_DETAIL = (
    "'a/car' and 'b/Cars' have the same normalised name 'car' but "
    "unrelated nodes 'a/car' and 'b/Cars'; no rule relates them"
)
GRANULARITY_DETAIL = (
    "'a/rider' is one label where b has 2 below it: 'bicyclist', 'motorcyclist'"
)
OVERLAP_DETAIL = (
    "'a/terrain' and 'b/fallback' overlap partially; their shared part "
    "is the leaf 'grass verge'"
)


@pytest.mark.parametrize(
    ("kind", "detail", "suggestion"),
    [
        ("name_collision", COLLISION_DETAIL, "Same(labels=('a/car', 'b/Cars'))"),
        ("granularity", GRANULARITY_DETAIL, None),
        ("overlap", OVERLAP_DETAIL, None),
        ("ignored", "'a/blur' is sent to ignore: its pixels supervise nothing", None),
    ],
    ids=["name_collision", "granularity", "overlap", "ignored"],
)
def test_detail_and_suggestion(findings, kind, detail, suggestion):
    row = findings[findings.kind == kind].iloc[0]
    assert row.detail == detail
    assert row.suggestion == suggestion


def test_remainder_detail(findings):
    row = findings[findings.node == "a/rider (other)"].iloc[0]
    assert "part of 'a/rider' that its children leave out" in row.detail
    assert "no label maps to it" in row.detail


def test_remainder_mapped_directly():
    taxonomy = ux.Taxonomy(
        [("x", "x (other)"), ("x", "y")], kinds={"x (other)": "remainder"}
    )
    space = ux.LabelSpace.from_names("s", ["whole", "rest", "part"])
    label_map = ux.LabelMap(space, taxonomy, {0: "x", 1: "x (other)", 2: "y"})
    row = find_conflicts(taxonomy, {"s": label_map}).set_index("kind").loc["remainder"]
    assert (row.space, row.label, row.node) == ("s", "whole", "x (other)")
    assert "'s/rest' map(s) to it directly" in row.detail


def test_table_shape_and_order(findings):
    assert tuple(findings.columns) == COLUMNS
    assert list(findings.kind.cat.categories) == list(KINDS)
    assert list(findings.severity.cat.categories) == ["warning", "info"]
    severities = list(findings.severity)
    assert severities == sorted(severities, key=["warning", "info"].index)
    assert list(findings.index) == list(range(len(findings)))
    text = ["space", "label", "other_space", "other_label", "node", "suggestion"]
    for column in text:  # unused cells are None, not NaN
        assert all(
            value is None or isinstance(value, str) for value in findings[column]
        )


def test_suggestion_resolves_the_collision(findings):
    suggestion = findings.suggestion[findings.kind == "name_collision"].iloc[0]
    rule = eval(suggestion, {"Same": Same})  # the suggestion is a valid rule
    taxonomy, maps = ux.unify([A, B], [*RULES, rule])
    again = find_conflicts(taxonomy, maps)
    assert "name_collision" not in set(again.kind)
    assert ("a", "car") not in set(zip(again.space, again.label, strict=True))


@pytest.mark.parametrize(
    ("labels_a", "labels_b", "rules"),
    [
        (["car", "cars"], ["sky"], []),
        (["car"], ["Cars"], [Same(labels=("a/car", "b/Cars"))]),
        (["vehicle"], ["vehicles"], [IsA(child="b/vehicles", parent="a/vehicle")]),
        (["grass"], ["Grass"], [Overlap(labels=("a/grass", "b/Grass"), name="lawn")]),
    ],
    ids=["same-space-never-paired", "same-rule", "is-a-related", "overlap-related"],
)
def test_no_name_collision(labels_a, labels_b, rules):
    a = ux.LabelSpace.from_names("a", labels_a)
    b = ux.LabelSpace.from_names("b", labels_b)
    found = find_conflicts(*ux.unify([a, b], rules))
    assert "name_collision" not in set(found.kind)


def test_one_collision_per_pair_of_nodes():
    spaces = [ux.LabelSpace.from_names(name, ["car"]) for name in ("a", "b", "c")]
    rules = [Same(labels=("a/car", "b/car"))]
    found = find_conflicts(*ux.unify(spaces, rules))
    collisions = found[found.kind == "name_collision"]
    assert list(collisions.suggestion) == ["Same(labels=('a/car', 'c/car'))"]


NESTED = ux.LabelSpace(
    name="b",
    labels=(
        ux.Label(id=0, name="rider"),
        ux.Label(id=1, name="bicyclist", parents=("rider",)),
        ux.Label(id=2, name="motorcyclist", parents=("rider",)),
    ),
)


@pytest.mark.parametrize(
    ("b", "rules"),
    [
        (
            ux.LabelSpace.from_names("b", ["bicyclist"]),
            [IsA(child="b/bicyclist", parent="a/rider")],
        ),
        (NESTED, [Same(labels=("a/rider", "b/rider"))]),
    ],
    ids=["one-label-below", "other-space-has-the-node-too"],
)
def test_no_granularity(b, rules):
    a = ux.LabelSpace.from_names("a", ["rider"])
    taxonomy, maps = ux.unify([a, b], rules)
    assert not taxonomy.is_leaf(maps["a"].nodes[0])  # an inner node, yet no finding
    assert "granularity" not in set(find_conflicts(taxonomy, maps).kind)


def test_same_without_name_is_not_unmapped():
    a = ux.LabelSpace.from_names("a", ["car"])
    b = ux.LabelSpace.from_names("b", ["auto"])
    taxonomy, maps = ux.unify([a, b], [Same(labels=("a/car", "b/auto"))])
    assert maps["b"].nodes[0] == "a/car"
    assert find_conflicts(taxonomy, maps).empty


def test_empty_table_keeps_columns_and_dtypes():
    a = ux.LabelSpace.from_names("a", ["car"])
    b = ux.LabelSpace.from_names("b", ["auto"])
    found = find_conflicts(*ux.unify([a, b], [Same(labels=("a/car", "b/auto"))]))
    assert found.empty
    assert tuple(found.columns) == COLUMNS
    assert isinstance(found.kind.dtype, pd.CategoricalDtype)
    assert list(found.kind.value_counts()) == [0] * len(KINDS)


def test_deterministic_under_reordering():
    expected = find_conflicts(*ux.unify([A, B], RULES))
    rules = list(RULES)
    random.Random(0).shuffle(rules)
    taxonomy, maps = ux.unify([B, A], rules)
    reordered = dict(reversed(list(maps.items())))
    pd.testing.assert_frame_equal(find_conflicts(taxonomy, reordered), expected)


def test_label_map_of_another_taxonomy(unified):
    _taxonomy, maps = unified
    other, _ = ux.unify([A], [])
    with pytest.raises(TaxonomyError, match="points to"):
        find_conflicts(other, maps)
    with pytest.raises(TaxonomyError, match="points to"):
        coverage(other, maps)


# -- coverage -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("leaf", "space", "expected"),
    [
        ("b/bicyclist", "b", "exact"),
        ("b/bicyclist", "a", "ancestor"),
        ("a/rider (other)", "a", "ancestor"),
        ("a/rider (other)", "b", "absent"),
        ("grass verge", "a", "ancestor"),
        ("grass verge", "b", "ancestor"),
        ("a/road", "a", "exact"),
        ("a/road", "b", "exact"),
        ("a/tree", "b", "absent"),
    ],
    ids=[
        "finer-label",
        "coarser-label",
        "remainder-via-parent",
        "remainder-absent",
        "intersection-first",
        "intersection-second",
        "same-first",
        "same-second",
        "other-space-only",
    ],
)
def test_coverage_cells(unified, leaf, space, expected):
    assert coverage(*unified).loc[leaf, space] == expected


def test_coverage_layout(unified):
    taxonomy, maps = unified
    table = coverage(taxonomy, maps)
    assert tuple(table.index) == taxonomy.leaves
    assert list(table.columns) == ["a", "b"]
    assert table.index.name == "leaf"
    assert table.columns.name == "space"
    for space in table.columns:
        assert list(table[space].cat.categories) == list(COVERAGE)
    # the ignored label supervises no leaf
    assert "a/blur" not in table.index


def test_summarize(unified):
    table = summarize(*unified)
    assert list(table.index) == ["a", "b"]
    assert table.loc["a"].to_dict() == {
        "labels": 6,
        "mapped": 5,
        "ignored": 1,
        "unmapped": 2,
        "leaves_exact": 3,
        "leaves_ancestor": 5,
    }
    assert table.loc["b", "unmapped"] == 2


# -- properties and scale -------------------------------------------------------

_names = st.lists(
    st.text(alphabet="abcS -", min_size=1, max_size=4).map(str.strip).filter(bool),
    max_size=8,
    unique=True,
)


@given(_names, _names)
def test_without_rules_every_label_is_unmapped_and_collisions_match_names(
    first, second
):
    a = ux.LabelSpace.from_names("a", first)
    b = ux.LabelSpace.from_names("b", second)
    found = find_conflicts(*ux.unify([a, b]))
    assert _rows(found, "unmapped") == {
        (space.name, name, None, None, f"{space.name}/{name}")
        for space in (a, b)
        for name in space.names
    }
    expected = {
        (x, y) for x in first for y in second if normalize_name(x) == normalize_name(y)
    }
    collisions = found[found.kind == "name_collision"]
    assert set(zip(collisions.label, collisions.other_label, strict=True)) == expected


def test_large_taxonomy_is_fast():
    rng = np.random.default_rng(0)
    size = 20_000
    edges = [
        (f"n{int(rng.integers(0, max(1, i // 3)))}", f"n{i}") for i in range(1, size)
    ]
    taxonomy = ux.Taxonomy(edges)
    vocabulary = [f"word {i}" for i in range(600)]
    maps = {}
    for index in range(15):
        names = list(dict.fromkeys(rng.choice(vocabulary, 140)))[:133]
        space = ux.LabelSpace.from_names(f"s{index}", names)
        nodes = {label.id: f"n{int(rng.integers(0, size))}" for label in space.labels}
        maps[space.name] = ux.LabelMap(space, taxonomy, nodes)
    start = time.perf_counter()
    found = find_conflicts(taxonomy, maps)
    table = coverage(taxonomy, maps)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"find_conflicts + coverage took {elapsed:.2f} s"
    assert table.shape == (len(taxonomy.leaves), 15)
    assert (found.kind == "name_collision").sum() > 100


def test_collision_node_is_the_node_of_the_row_label():
    # 'b/car' sorts before 'c/Car', but c's node comes first in the taxonomy
    b = ux.LabelSpace.from_names("b", ["car"])
    c = ux.LabelSpace.from_names("c", ["Car"])
    rules = [ux.rules.Concept(name="a car"), Same(labels=("a car", "c/Car"))]
    taxonomy, maps = ux.unify([b, c], rules)
    assert taxonomy.index("a car") < taxonomy.index("b/car")
    row = find_conflicts(taxonomy, maps).iloc[0]
    assert (row.kind, row.space, row.label, row.node) == (
        "name_collision",
        "b",
        "car",
        "b/car",
    )
    assert "unrelated nodes 'b/car' and 'a car'" in row.detail


def test_equivalent_nodes_are_reported():
    a = ux.LabelSpace.from_names("a", ["x"])
    b = ux.LabelSpace.from_names("b", ["y"])
    rules = [
        ux.rules.Concept(name="u1"),
        ux.rules.Concept(name="u2"),
        ux.rules.Split(whole="a/x", parts=("u1", "u2")),
        ux.rules.Split(whole="b/y", parts=("u1", "u2")),
    ]
    taxonomy, maps = ux.unify([a, b], rules)
    findings = ux.find_conflicts(taxonomy, maps)
    row = findings[findings.kind == "equivalent"].iloc[0]
    assert (row.space, row.label, row.other_space, row.other_label) == (
        "a",
        "x",
        "b",
        "y",
    )
    assert row.suggestion == "Same(labels=('a/x', 'b/y'))"
    taxonomy, maps = ux.unify([a, b], [*rules, ux.rules.Same(labels=("a/x", "b/y"))])
    assert "equivalent" not in set(ux.find_conflicts(taxonomy, maps).kind)
