from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import unitax as ux
from tests.strategies import World, worlds
from unitax.errors import LabelSpaceError, TaxonomyError
from unitax.rules import Concept, Ignore, IsA, Overlap, Same, Split

CITY = ux.LabelSpace.from_names("city", ["road", "rider", "car", "ego"], void=[255])
VISTAS = ux.LabelSpace.from_names(
    "vistas", ["road", "crosswalk", "bicyclist", "motorcyclist", "car", "pickup"]
)
VIPER = ux.LabelSpace.from_names("viper", ["truck", "car"])


def leaves(taxonomy, name):
    return set(taxonomy.leaves_of(name))


def test_labels_without_rules_are_their_own_nodes():
    taxonomy, maps = ux.unify([CITY, VIPER])
    assert set(taxonomy.names) == {f"city/{n}" for n in CITY.names} | {
        "viper/truck",
        "viper/car",
    }
    assert taxonomy.leaves == taxonomy.names  # nothing merged by name
    assert maps["viper"].nodes == {0: "viper/truck", 1: "viper/car"}


def test_same_split_isa_overlap_ignore():
    rules = [
        Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
        IsA(child="vistas/bicyclist", parent="city/rider"),
        IsA(child="vistas/motorcyclist", parent="city/rider"),
        Same(labels=("city/car", "vistas/car"), name="car"),
        Overlap(labels=("vistas/pickup", "viper/truck"), name="pickup truck"),
        Ignore(label="city/ego"),
    ]
    taxonomy, maps = ux.unify([CITY, VISTAS, VIPER], rules)
    # a split whole has no remainder; an is-a parent has one
    assert taxonomy.children("city/road") == ("vistas/crosswalk", "vistas/road")
    assert leaves(taxonomy, "city/rider") == {
        "city/rider (other)",
        "vistas/bicyclist",
        "vistas/motorcyclist",
    }
    assert taxonomy.kind("city/rider (other)") == "remainder"
    # an overlap is an intersection leaf under both, each with a remainder
    assert taxonomy.parents("pickup truck") == ("viper/truck", "vistas/pickup")
    assert taxonomy.kind("pickup truck") == "intersection"
    assert leaves(taxonomy, "viper/truck") == {"pickup truck", "viper/truck (other)"}
    # same labels are one node with the given name; ignored labels are no node
    assert maps["city"].nodes == {0: "city/road", 1: "city/rider", 2: "car", 3: None}
    assert maps["vistas"].node(4) == "car"
    assert "city/ego" not in taxonomy
    lut = maps["city"].lut()
    expected = [taxonomy.index(name) for name in ("city/road", "city/rider", "car")]
    assert lut.tolist()[:4] == [*expected, taxonomy.ignore_index]
    assert lut[255] == taxonomy.ignore_index  # void


def test_concepts_attach_labels_to_inner_nodes():
    rules = [
        Concept(name="driveable"),
        Split(whole="driveable", parts=("vistas/road", "vistas/crosswalk")),
        Same(labels=("city/road", "driveable")),
    ]
    taxonomy, maps = ux.unify([CITY, VISTAS], rules)
    assert maps["city"].node(0) == "driveable"
    assert taxonomy.kind("driveable") == "concept"
    assert taxonomy.leaves_of("driveable") == ("vistas/crosswalk", "vistas/road")


def test_in_space_hierarchy_allows_nesting_and_multiple_parents():
    space = ux.LabelSpace(
        name="oi",
        labels=(
            ux.Label(id=0, name="Food"),
            ux.Label(id=1, name="Plant"),
            ux.Label(id=2, name="Fruit", parents=("Food", "Plant")),
            ux.Label(id=3, name="Apple", parents=("Fruit",)),
            ux.Label(id=4, name="Vehicle"),
        ),
        exhaustive=False,
    )
    taxonomy, maps = ux.unify([space])
    assert maps["oi"].node(3) == "oi/Apple"
    assert taxonomy.parents("oi/Fruit") == ("oi/Food", "oi/Plant")
    assert leaves(taxonomy, "oi/Food") == {
        "oi/Food (other)",
        "oi/Fruit (other)",
        "oi/Apple",
    }
    assert leaves(taxonomy, "oi/Food") & leaves(taxonomy, "oi/Plant") == {
        "oi/Fruit (other)",
        "oi/Apple",
    }


def test_redundant_edges_are_dropped():
    a = ux.LabelSpace.from_names("a", ["vehicle", "car", "sedan"])
    b = ux.LabelSpace.from_names("b", ["x"])
    rules = [
        IsA(child="a/car", parent="a/vehicle"),
        IsA(child="b/x", parent="a/car"),
        IsA(child="b/x", parent="a/vehicle"),
    ]
    with pytest.raises(
        TaxonomyError, match=r"'a/vehicle' and 'a/car' both cover.*disjoint"
    ):
        ux.unify([a, b], rules)
    c = ux.LabelSpace.from_names("c", ["vehicle"])
    rules = [
        IsA(child="a/car", parent="c/vehicle"),
        IsA(child="b/x", parent="a/car"),
        IsA(child="b/x", parent="c/vehicle"),
    ]
    taxonomy, _ = ux.unify([a, b, c], rules)
    assert taxonomy.parents("b/x") == ("a/car",)


def test_two_splits_of_one_node_are_crossed():
    idd = ux.LabelSpace.from_names("idd", ["road", "parking", "marking"])
    rules = [
        Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
        Split(whole="city/road", parts=("idd/road", "idd/marking")),
    ]
    taxonomy, maps = ux.unify([CITY, VISTAS, idd], rules)
    assert maps["idd"].node(0) == "idd/road"
    meets = {
        "idd/road & vistas/road",
        "idd/marking & vistas/road",
        "idd/road & vistas/crosswalk",
        "idd/marking & vistas/crosswalk",
    }
    assert set(taxonomy.leaves_of("city/road")) == meets
    assert taxonomy.leaves_of("idd/marking") == (
        "idd/marking & vistas/crosswalk",
        "idd/marking & vistas/road",
    )
    assert all(taxonomy.kind(meet) == "intersection" for meet in meets)
    assert "city/road (other)" not in taxonomy  # both splits are exact
    # a shared part stays whole; a single remaining part is split into the others
    rules = [
        Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
        Split(whole="city/road", parts=("vistas/road", "idd/road", "idd/marking")),
    ]
    taxonomy, _ = ux.unify([CITY, VISTAS, idd], rules)
    assert taxonomy.children("vistas/crosswalk") == ("idd/marking", "idd/road")
    assert set(taxonomy.leaves_of("city/road")) == {
        "vistas/road",
        "idd/road",
        "idd/marking",
    }


def test_split_child_below_a_part_is_accepted():
    rules = [
        Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
        IsA(child="viper/car", parent="vistas/road"),
        IsA(child="viper/car", parent="city/road"),
    ]
    taxonomy, _ = ux.unify([CITY, VISTAS, VIPER], rules)
    assert taxonomy.parents("viper/car") == ("vistas/road",)


ERRORS = [
    ([IsA(child="city/rider", parent="vistas/persn")], r"has no label 'persn'"),
    ([IsA(child="city/rider", parent="vistas/bicyclst")], r"did you mean 'bicyclist'"),
    (
        [IsA(child="cty/rider", parent="vistas/road")],
        r"unknown label space 'cty'.*'city'",
    ),
    (
        [IsA(child="city/rider", parent="human")],
        r"unknown concept 'human'.*Concept rule",
    ),
    (
        [
            IsA(child="city/road", parent="vistas/road"),
            IsA(child="vistas/road", parent="city/road"),
        ],
        r"cycle: .*IsA",
    ),
    ([Same(labels=("city/road", "city/car"))], r"'city/car' and 'city/road' one node"),
    (
        [
            Same(labels=("city/road", "vistas/road"), name="car"),
            Same(labels=("city/car", "vistas/car"), name="car"),
        ],
        r"duplicate node 'car'",
    ),
    ([Concept(name="x"), Concept(name="x")], r"duplicate node 'x'"),
    (
        [
            Same(labels=("city/road", "vistas/road"), name="a"),
            Same(labels=("vistas/road",), name="b"),
        ],
        r"names \['a', 'b'\]",
    ),
    (
        [
            Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
            Split(whole="city/road", parts=("vistas/road", "vistas/car")),
        ],
        r"'vistas/car' and 'vistas/crosswalk', which must therefore be equal",
    ),
    (
        [
            Split(whole="city/road", parts=("vistas/road", "vistas/crosswalk")),
            IsA(child="viper/car", parent="city/road"),
        ],
        r"exactly the union.*say which part 'viper/car'",
    ),
    (
        [Ignore(label="city/road"), IsA(child="vistas/road", parent="city/road")],
        r"sends to ignore",
    ),
    ([Concept(name="x"), Ignore(label="x")], r"only labels can be ignored"),
    (
        [
            IsA(child="vistas/bicyclist", parent="city/rider"),
            IsA(child="vistas/bicyclist", parent="city/car"),
        ],
        r"'city/rider' and 'city/car' both cover.*bicyclist",
    ),
    (
        [Overlap(labels=("city/car", "city/car"), name="x")],
        r"both labels are the same node",
    ),
    (
        [
            Same(labels=("city/car", "vistas/car")),
            IsA(child="city/car", parent="vistas/car"),
        ],
        r"part of itself",
    ),
    (
        [Concept(name="x"), Concept(name="y"), Same(labels=("x", "y"))],
        r"one node; use a single name",
    ),
]


@pytest.mark.parametrize(
    ("rules", "match"),
    ERRORS,
    ids=[
        "unknown-label",
        "did-you-mean",
        "unknown-space",
        "unknown-concept",
        "cycle",
        "same-within-space",
        "duplicate-name",
        "duplicate-concept",
        "conflicting-names",
        "split-twice",
        "split-plus-isa",
        "ignored-and-related",
        "ignore-concept",
        "within-space-overlap",
        "overlap-self",
        "self-parent",
        "two-concepts-same",
    ],
)
def test_errors_name_the_rules(rules, match):
    with pytest.raises(TaxonomyError, match=match):
        ux.unify([CITY, VISTAS, VIPER], rules)


def test_error_quotes_file_and_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - kind: is_a\n    child: city/rider\n    parent: persn\n"
    )
    with pytest.raises(
        TaxonomyError, match=r"at rules\.yaml:2: unknown concept 'persn'"
    ):
        ux.unify([CITY], ux.read_rules(path))


def test_duplicate_space_names():
    with pytest.raises(LabelSpaceError, match="'city' twice"):
        ux.unify([CITY, CITY])


def test_iv2018_builtin_has_108_leaves():
    from unitax.builtin import collection

    spaces, rules = collection("iv2018")
    taxonomy, maps = ux.unify(spaces, rules)
    assert len(taxonomy.leaves) == 108
    assert maps["cityscapes"].node(25) == "rider"  # Cityscapes rider: inner node
    assert len(taxonomy.children("vistas-v1.2/object--traffic-sign--front")) == 44
    gtsdb = maps["gtsdb"]
    assert all(taxonomy.is_leaf(node) for node in gtsdb.nodes.values())


# -- properties ---------------------------------------------------------------


def _same_result(first, second):
    (tax1, maps1), (tax2, maps2) = first, second
    assert tax1 == tax2
    assert {k: dict(v.nodes) for k, v in maps1.items()} == {
        k: dict(v.nodes) for k, v in maps2.items()
    }


@given(world=worlds(), seed=st.integers(0, 2**16))
def test_unify_is_deterministic_under_order(world: World, seed: int):
    rng = random.Random(seed)
    spaces, rules = list(world.spaces), list(world.rules)
    rng.shuffle(spaces)
    rng.shuffle(rules)
    _same_result(ux.unify(world.spaces, world.rules), ux.unify(spaces, rules))


@given(world=worlds())
def test_leaf_sets_follow_the_truth(world: World):
    taxonomy, maps = ux.unify(world.spaces, world.rules)
    ignored = {rule.label for rule in world.rules if isinstance(rule, Ignore)}
    bits = {}
    for space in world.spaces:
        label_map = maps[space.name]
        assert set(label_map.nodes) == set(space.ids)  # every label: a node or ignore
        lut = label_map.lut()
        assert len(lut) == 256 and lut[255] == taxonomy.ignore_index
        for label in space.labels:
            ref = f"{space.name}/{label.name}"
            node = label_map.nodes[label.id]
            assert (node is None) == (ref in ignored)
            if node is not None:
                bits[ref] = taxonomy.leaf_bits(node)
                assert lut[label.id] == taxonomy.index(node)
    for a in bits:
        for b in bits:
            if a == b:
                continue
            truth_a, truth_b = world.truth[a], world.truth[b]
            if truth_a == truth_b and a.split("/")[0] != b.split("/")[0]:
                assert bits[a] == bits[b]
            elif truth_a < truth_b and a.split("/")[0] != b.split("/")[0]:
                assert bits[a] & bits[b] == bits[a] != bits[b]
            elif not truth_a & truth_b or a.split("/")[0] == b.split("/")[0]:
                assert not bits[a] & bits[b]  # disjoint, within a space in particular


@given(world=worlds(), data=st.data())
def test_a_same_rule_never_adds_nodes(world: World, data):
    before, _ = ux.unify(world.spaces, world.rules)
    refs = sorted(world.truth)
    a, b = data.draw(st.sampled_from(refs)), data.draw(st.sampled_from(refs))
    try:
        after, _ = ux.unify(world.spaces, [*world.rules, Same(labels=(a, b))])
    except TaxonomyError:
        return  # a contradiction is reported, never a bigger taxonomy
    assert len(after) <= len(before)
