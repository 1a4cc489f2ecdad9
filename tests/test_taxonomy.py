from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given

import unitax as ux
from tests.strategies import dags
from unitax.errors import FormatError, TaxonomyError
from unitax.taxonomy import bits_to_matrix

EDGES = [
    ("vehicle", "car"),
    ("vehicle", "truck"),
    ("truck", "pickup"),
    ("car", "pickup"),
]


@pytest.fixture
def taxonomy() -> ux.Taxonomy:
    return ux.Taxonomy(EDGES, nodes=["sky"], kinds={"sky": "concept"})


def test_structure(taxonomy):
    assert taxonomy.names == ("sky", "vehicle", "car", "truck", "pickup")
    assert taxonomy.leaves == ("sky", "pickup")
    assert taxonomy.parents("pickup") == ("car", "truck")
    assert taxonomy.children("vehicle") == ("car", "truck")
    assert taxonomy.ancestors("pickup") == ("vehicle", "car", "truck")
    assert taxonomy.descendants("vehicle") == ("car", "truck", "pickup")
    assert taxonomy.leaves_of("vehicle") == ("pickup",)
    assert taxonomy.roots() == ("sky", "vehicle")
    assert taxonomy.depth("pickup") == 2
    assert taxonomy.kind("sky") == "concept"
    assert taxonomy.kind("car") == "label"
    assert taxonomy.is_leaf("sky") and not taxonomy.is_leaf("car")
    assert len(taxonomy) == 5 and "car" in taxonomy and next(iter(taxonomy)) == "sky"
    assert repr(taxonomy) == "Taxonomy(5 nodes, 2 leaves, 4 edges)"


def test_graph_is_a_copy(taxonomy):
    graph = taxonomy.to_graph()
    graph.add_edge("sky", "cloud")
    assert "cloud" not in taxonomy
    assert graph.nodes["sky"]["kind"] == "concept"
    assert not hasattr(taxonomy, "__dict__")


@pytest.mark.parametrize(
    ("count", "dtype", "ignore"),
    [(3, np.uint8, 255), (254, np.uint8, 255), (255, np.uint16, 65535)],
    ids=["small", "largest-uint8", "first-uint16"],
)
def test_dtype_and_ignore(count, dtype, ignore):
    taxonomy = ux.Taxonomy([], nodes=[f"n{i}" for i in range(count)])
    assert taxonomy.dtype == dtype
    assert taxonomy.ignore_index == ignore


def test_json_round_trip(taxonomy):
    text = taxonomy.to_json()
    assert ux.Taxonomy.from_json(text) == taxonomy
    assert ux.Taxonomy.from_json(text).kind("sky") == "concept"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: ux.Taxonomy([("a", "b"), ("b", "a")]),
            TaxonomyError,
            "cycle a -> b -> a",
        ),
        (
            lambda: ux.Taxonomy([("a", "b")], kinds={"c": "concept"}),
            TaxonomyError,
            "'c'",
        ),
        (
            lambda: ux.Taxonomy([("a", "b")], kinds={"a": "thing"}),
            TaxonomyError,
            "one of",
        ),
        (lambda: ux.Taxonomy.from_json("{"), FormatError, "not a taxonomy"),
        (
            lambda: ux.Taxonomy.from_json(
                '{"nodes": [{"name": "a", "parents": ["z"]}]}'
            ),
            FormatError,
            "unknown parent 'z'",
        ),
    ],
    ids=["cycle", "kind-of-unknown-node", "unknown-kind", "bad-json", "unknown-parent"],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_unknown_node_suggests(taxonomy):
    with pytest.raises(TaxonomyError, match="did you mean 'vehicle'"):
        taxonomy.index("vehicel")


def test_bits_to_matrix_width_and_empty():
    assert bits_to_matrix([], 3).shape == (0, 3)
    assert bits_to_matrix([1 << 9], 10)[0].tolist() == [False] * 9 + [True]


@given(edges=dags())
def test_leaf_matrix_rows_are_leaf_descendants(edges):
    taxonomy = ux.Taxonomy(edges)
    graph = nx.DiGraph(edges)
    matrix = taxonomy.leaf_matrix()
    assert matrix.shape == (len(taxonomy), len(taxonomy.leaves))
    for row, name in zip(matrix, taxonomy.names, strict=True):
        below = nx.descendants(graph, name) | {name}
        expected = [leaf in below for leaf in taxonomy.leaves]
        assert row.tolist() == expected
    # every leaf is covered by itself alone
    leaf_rows = matrix[[taxonomy.index(leaf) for leaf in taxonomy.leaves]]
    assert (leaf_rows == np.eye(len(taxonomy.leaves), dtype=bool)).all()


@given(edges=dags())
def test_names_are_a_topological_order(edges):
    taxonomy = ux.Taxonomy(edges)
    for parent, child in edges:
        assert taxonomy.index(parent) < taxonomy.index(child)
    assert ux.Taxonomy(reversed(edges)) == taxonomy
