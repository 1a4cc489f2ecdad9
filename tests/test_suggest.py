from __future__ import annotations

import random
import time

import numpy as np
import pandas as pd
import pytest

import unitax as ux
from unitax import builtin
from unitax.rules import IsA, Same
from unitax.suggest import COLUMNS, accept, suggest_rules


def space(name: str, *labels: str | ux.Label) -> ux.LabelSpace:
    built = [
        label if isinstance(label, ux.Label) else ux.Label(id=i, name=label)
        for i, label in enumerate(labels)
    ]
    return ux.LabelSpace(name=name, labels=tuple(built))


def find(table: pd.DataFrame, label: str, other: str) -> pd.Series:
    rows = table[
        ((table.label == label) & (table.other == other))
        | ((table.label == other) & (table.other == label))
    ]
    assert len(rows) == 1, f"no single suggestion for {label} / {other}:\n{table}"
    return rows.iloc[0]


# One example per signal: (spaces, label, other, kind, words in the evidence)
SIGNALS = {
    "name": (
        [space("a", "car"), space("b", "Car")],
        "a/car", "b/Car", "same", "same normalised name",
    ),
    "plural": (
        [space("a", "bus"), space("b", "buses")],
        "a/bus", "b/buses", "same", "plural/singular",
    ),
    "joined name": (
        [space("a", "traffic light"), space("b", "trafficlight")],
        "a/traffic light", "b/trafficlight", "same", "without spaces",
    ),
    "hierarchical name": (
        [space("a", "bicyclist"), space("b", "human--rider--bicyclist")],
        "a/bicyclist", "b/human--rider--bicyclist", "same", "hierarchical name",
    ),
    "hierarchical parent": (
        [space("a", "rider"), space("b", "human--rider--bicyclist")],
        "b/human--rider--bicyclist", "a/rider", "is_a", "hierarchical name",
    ),
    "synonym": (
        [space("a", ux.Label(id=0, name="sofa", synonyms=("couch", "lounge"))),
         space("b", "couch")],
        "a/sofa", "b/couch", "same", "synonym 'couch'",
    ),
    "category": (
        [space("a", ux.Label(id=0, name="zebra", category="animal")),
         space("b", "animal")],
        "a/zebra", "b/animal", "is_a", "category 'animal'",
    ),
    "in-space hierarchy": (
        [space("oi", ux.Label(id=0, name="Car"),
               ux.Label(id=1, name="Van", parents=("Car",))),
         space("b", "car")],
        "oi/Van", "b/car", "is_a", "oi hierarchy",
    ),
    "inherited hierarchy": (
        [space("oi", ux.Label(id=0, name="Land vehicle"),
               ux.Label(id=1, name="Van", parents=("Land vehicle",))),
         space("b", "van"), space("c", "land vehicle")],
        "b/van", "c/land vehicle", "is_a", "via oi hierarchy",
    ),
    "qualifier": (
        [space("a", "traffic sign (front)"), space("b", "traffic sign")],
        "a/traffic sign (front)", "b/traffic sign", "is_a", "qualified name",
    ),
    "other part": (
        [space("coco", "wall-other-merged"), space("ade", "wall")],
        "coco/wall-other-merged", "ade/wall", "is_a", "other part",
    ),
    "merged": (
        [space("coco", "tree-merged"), space("ade", "tree")],
        "ade/tree", "coco/tree-merged", "is_a", "merges several classes",
    ),
    "head noun": (
        [space("a", "coffee table"), space("b", "table")],
        "a/coffee table", "b/table", "is_a", "head noun 'table'",
    ),
    "granularity": (
        [space("ade", ux.Label(id=0, name="earth", synonyms=("ground",)),
               ux.Label(id=1, name="land", synonyms=("ground", "soil"))),
         space("ctx", "ground")],
        "ade/earth", "ctx/ground", "is_a", "granularity",
    ),
    "fuzzy": (
        [space("a", "grey wall"), space("b", "gray wall")],
        "a/grey wall", "b/gray wall", "same", "similar names",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("spaces", "label", "other", "kind", "evidence"),
    list(SIGNALS.values()),
    ids=list(SIGNALS),
)
def test_each_signal_suggests_its_rule(spaces, label, other, kind, evidence):
    table = suggest_rules(spaces, min_confidence=0.3)
    row = find(table, label, other)
    assert row.kind == kind
    if kind == "is_a":
        assert (row.label, row.other) == (label, other)
    assert evidence in row.evidence
    assert 0.3 <= row.confidence <= 1.0
    assert row.text == ux.rules.describe(row.rule)
    assert row.rule.kind == kind


def test_category_agreement_raises_confidence():
    plain = suggest_rules([space("a", "seal"), space("b", "seals")])
    labelled = suggest_rules(
        [space("a", ux.Label(id=0, name="seal", category="animal")),
         space("b", ux.Label(id=0, name="seals", category="animal"))]
    )  # fmt: skip
    assert labelled.confidence[0] > plain.confidence[0]
    assert "same category 'animal'" in labelled.evidence[0]


def test_embedding_signal_with_a_fake_model():
    vectors = {"motorbike": [1.0, 0.0], "motorcycle": [0.99, 0.1], "sky": [0.0, 1.0]}
    calls = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([vectors[text] for text in texts])

    spaces = [space("a", "motorbike", "sky"), space("b", "motorcycle")]
    assert suggest_rules(spaces).empty
    table = suggest_rules(spaces, embed=embed, min_confidence=0.3)
    row = find(table, "a/motorbike", "b/motorcycle")
    assert row.kind == "same" and "embedding cosine 0.99" in row.evidence
    assert calls == [["motorbike", "sky", "motorcycle"]]
    with pytest.raises(ValueError, match=r"shape \(3, d\)"):
        suggest_rules(spaces, embed=lambda texts: np.zeros((2, 4)))


def test_labels_of_one_space_are_never_paired():
    table = suggest_rules([space("a", "car", "cars", "car park")], min_confidence=0.0)
    assert table.empty
    assert list(table.columns) == list(COLUMNS)


def test_accepted_rules_suppress_what_they_imply():
    spaces = [space("a", "car", "road", "blur"), space("b", "Cars", "roads", "blur")]
    before = suggest_rules(spaces)
    assert len(before) == 3
    rules = [
        Same(labels=("a/car", "b/Cars")),
        IsA(child="b/roads", parent="a/road"),
        ux.rules.Ignore(label="a/blur"),
    ]
    assert suggest_rules(spaces, rules=rules).empty


def test_min_confidence_filters_and_is_checked():
    spaces = [space("a", "coffee table", "car"), space("b", "table", "cars")]
    everything = suggest_rules(spaces, min_confidence=0.0)
    strong = suggest_rules(spaces, min_confidence=0.8)
    assert set(strong.label) < set(everything.label)
    assert (strong.confidence >= 0.8).all()
    with pytest.raises(ValueError, match=r"min_confidence must be in \[0, 1\]"):
        suggest_rules(spaces, min_confidence=1.5)


def test_sorted_by_confidence_then_references():
    spaces, _ = builtin.collection("street")
    table = suggest_rules(spaces)
    keys = list(zip(-table.confidence, table.label, table.other, strict=True))
    assert keys == sorted(keys)


def test_deterministic_whatever_the_order_of_spaces():
    spaces, _ = builtin.collection("street")
    shuffled = list(spaces)
    random.Random(7).shuffle(shuffled)
    first, second = suggest_rules(spaces), suggest_rules(shuffled)
    pd.testing.assert_frame_equal(first, second)


def test_accept_round_trip(tmp_path):
    spaces = [space("a", "car", "coffee table"), space("b", "cars", "table")]
    table = suggest_rules(spaces)
    path = accept(table, tmp_path / "accepted.yaml", description="reviewed")
    rules = ux.read_rules(path)
    assert [rule.model_copy(update={"reason": ""}) for rule in rules] == [
        rule.model_copy(update={"reason": ""}) for rule in table.rule
    ]
    assert all(
        rule.reason.startswith("accepted suggestion (confidence") for rule in rules
    )
    _, maps = ux.unify(spaces, rules)
    assert maps["a"].node(0) == maps["b"].node(0)
    assert suggest_rules(spaces, rules=rules).empty


def test_accept_needs_the_suggestion_columns(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        accept(pd.DataFrame({"rule": []}), tmp_path / "x.yaml")


# -- against the curated rules of all twelve datasets ------------------------------


@pytest.fixture(scope="module")
def curated():
    spaces, rules = builtin.collection("all")
    taxonomy, maps = ux.unify(spaces, rules)
    bits = {
        f"{name}/{label.name}": taxonomy.leaf_bits(node)
        for name, label_map in maps.items()
        for label in label_map.space.labels
        if (node := label_map.nodes[label.id]) is not None
    }
    start = time.perf_counter()
    table = suggest_rules(spaces)
    seconds = time.perf_counter() - start
    return bits, table, seconds


def test_all_twelve_in_under_ten_seconds(curated):
    _, table, seconds = curated
    assert seconds < 10
    assert len(table) > 1000


def test_precision_and_recall_against_the_curated_rules(curated):
    """Floors, not targets: about 10 points below what the benchmark measures.

    ``benchmarks/bench_suggest.py`` measures, at the default threshold, same
    precision 0.81 and recall 0.89, is_a precision 0.61. The curated rules were
    written from dataset definitions, not from these signals; a name-based
    `same` goes wrong mostly where a dataset refines a class under the same
    name (Vistas v1.2 -> v2.0, WildDash2 car inside Cityscapes car), which is
    exactly what the curated rules add. A broken signal (an empty name index)
    drops same recall to near zero, far below the floor.
    """
    bits, table, _ = curated
    scored = table[table.label.isin(bits) & table.other.isin(bits)]
    same = scored[scored.kind == "same"]
    same_ok = [bits[a] == bits[b] for a, b in zip(same.label, same.other, strict=True)]
    assert np.mean(same_ok) >= 0.7
    is_a = scored[scored.kind == "is_a"]
    is_a_ok = [
        bits[a] & bits[b] == bits[a]
        for a, b in zip(is_a.label, is_a.other, strict=True)
    ]
    assert np.mean(is_a_ok) >= 0.5
    # Recall of same: pairs of labels of different spaces on one node.
    by_bits: dict[int, list[str]] = {}
    for ref, value in bits.items():
        by_bits.setdefault(value, []).append(ref)
    truth = {
        frozenset((a, b))
        for refs in by_bits.values()
        for i, a in enumerate(refs)
        for b in refs[i + 1 :]
        if a.split("/")[0] != b.split("/")[0]
    }
    found = {frozenset(pair) for pair in zip(same.label, same.other, strict=True)}
    assert len(found & truth) / len(truth) >= 0.8
