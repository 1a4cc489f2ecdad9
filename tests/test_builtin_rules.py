"""The built-in rules files: they unify, cover every label, and keep IV2018."""

from __future__ import annotations

import importlib.util
import time
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import unitax as ux
from unitax import builtin
from unitax.rules import Ignore

ROOT = Path(__file__).resolve().parents[1]
IV2018_SPACES = ("cityscapes", "vistas-v1.2", "gtsdb")
COMPOSED = ("street", "all")


@cache
def unified(name: str) -> tuple[ux.Taxonomy, dict[str, ux.LabelMap], tuple]:
    spaces, rules = builtin.collection(name)
    taxonomy, maps = ux.unify(spaces, rules)
    return taxonomy, maps, rules


def node(maps: dict[str, ux.LabelMap], ref: str) -> str | None:
    space, label = ref.split("/", 1)
    label_map = maps[space]
    return label_map.nodes[label_map.space.by_name(label).id]


def leaves(taxonomy: ux.Taxonomy, maps: dict[str, ux.LabelMap], ref: str) -> int:
    found = node(maps, ref)
    assert found is not None, f"{ref} is ignored"
    return taxonomy.leaf_bits(found)


# -- every collection --------------------------------------------------------------


def test_collections_have_rules_files_of_their_name():
    assert set(builtin.COLLECTIONS) == {"iv2018", *COMPOSED}
    assert set(builtin.COLLECTIONS) <= set(builtin.rules_names())
    assert set(builtin.COLLECTIONS["street"]) < set(builtin.COLLECTIONS["all"])
    assert set(builtin.COLLECTIONS["iv2018"]) < set(builtin.COLLECTIONS["street"])


@pytest.mark.parametrize("name", sorted(builtin.COLLECTIONS))
def test_collection_unifies_and_every_rule_has_a_reason(name):
    _, maps, rules = unified(name)
    assert set(maps) == set(builtin.COLLECTIONS[name])
    assert all(rule.reason.strip() for rule in rules)
    assert all("\n" not in rule.reason for rule in rules), "one-line reasons"


@pytest.mark.parametrize("name", sorted(builtin.COLLECTIONS))
def test_every_label_maps_to_a_node_or_is_ignored_on_purpose(name):
    taxonomy, maps, rules = unified(name)
    ignored = {rule.label for rule in rules if isinstance(rule, Ignore)}
    for space_name, label_map in maps.items():
        space = label_map.space
        assert set(label_map.nodes) == set(space.ids)
        for label in space.labels:
            target = label_map.nodes[label.id]
            ref = f"{space_name}/{label.name}"
            assert (target is None) == (ref in ignored), ref
            assert target is None or target in taxonomy


@pytest.mark.parametrize("name", sorted(builtin.COLLECTIONS))
def test_labels_of_one_space_are_disjoint_unless_the_space_nests_them(name):
    """An independent check of what unify enforces, pair by pair, with bit sets.

    Two labels of one space may share leaves only where the space's own
    hierarchy puts labels below both (Open Images' Bottle is Kitchenware and
    a Container): the shared leaves lie inside their common descendants.
    """
    taxonomy, maps, _ = unified(name)
    for label_map in maps.values():
        space = label_map.space
        children: dict[str, set[str]] = {label.name: set() for label in space.labels}
        for label in space.labels:
            for parent in label.parents:
                children[parent].add(label.name)
        bits = {
            label.name: taxonomy.leaf_bits(target)
            for label in space.labels
            if (target := label_map.nodes[label.id]) is not None
        }

        @cache
        def below(label: str, children=children) -> frozenset[str]:
            found = {label}
            for child in children[label]:
                found |= below(child)
            return frozenset(found)

        names = sorted(bits)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                shared = bits[first] & bits[second]
                if not shared:
                    continue
                common = below(first) & below(second)
                covered = 0
                for label in common:
                    covered |= bits.get(label, 0)
                assert shared & ~covered == 0, (space.name, first, second)


def test_all_unifies_in_under_a_second():
    spaces, rules = builtin.collection("all")
    start = time.perf_counter()
    ux.unify(spaces, rules)
    assert time.perf_counter() - start < 1.0


# -- IV2018 is a consistent sub-case -------------------------------------------------


def signatures(name: str) -> set[frozenset[str]]:
    """The Venn cells of the IV2018 labels: for each leaf, the labels covering it.

    Two taxonomies agree on the IV2018 labels exactly when these sets are equal:
    then every label covers the same cells, and any two labels are equal,
    nested, overlapping or disjoint in both alike. Leaves that no IV2018
    label covers (other datasets' classes) give the empty set and are dropped.
    """
    taxonomy, maps, _ = unified(name)
    cells: dict[int, set[str]] = {}
    for space in IV2018_SPACES:
        label_map = maps[space]
        for label in label_map.space.labels:
            target = label_map.nodes[label.id]
            if target is None:
                continue
            bits = taxonomy.leaf_bits(target)
            while bits:
                low = bits & -bits
                cells.setdefault(low.bit_length(), set()).add(f"{space}/{label.name}")
                bits ^= low
    return {frozenset(cell) for cell in cells.values()}


@pytest.mark.parametrize("name", COMPOSED)
def test_iv2018_labels_cover_the_same_cells(name):
    expected = signatures("iv2018")
    assert len(expected) == 108  # the paper's 108 leaf classes
    assert signatures(name) == expected


@pytest.mark.parametrize("name", COMPOSED)
def test_iv2018_labels_are_ignored_alike(name):
    _, iv_maps, _ = unified("iv2018")
    _, maps, _ = unified(name)
    for space in IV2018_SPACES:
        iv_ignored = {i for i, n in iv_maps[space].nodes.items() if n is None}
        assert {i for i, n in maps[space].nodes.items() if n is None} == iv_ignored


@pytest.mark.parametrize("name", COMPOSED)
def test_composed_rules_extend_iv2018(name):
    _, _, rules = unified(name)
    iv2018 = builtin.builtin_rules("iv2018")
    assert rules[: len(iv2018)] == iv2018
    if name == "all":
        street = unified("street")[2]
        assert rules[: len(street)] == street


# -- the generated files ---------------------------------------------------------


def test_composed_files_are_generated_from_the_fragments():
    spec = importlib.util.spec_from_file_location(
        "build_rules", ROOT / "tools" / "build_rules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in COMPOSED:
        path = ROOT / "unitax" / "data" / "rules" / f"{name}.yaml"
        assert path.read_text(encoding="utf-8") == module.render(name), (
            f"{path.name} is stale: run python tools/build_rules.py"
        )


# -- known traps -------------------------------------------------------------------

SUBSET = [
    # Cityscapes rider vs Vistas' three riders
    ("vistas-v1.2/human--rider--bicyclist", "cityscapes/rider"),
    ("vistas-v1.2/human--rider--motorcyclist", "idd/rider"),
    ("wilddash-2/otherrider", "bdd100k/rider"),
    ("cityscapes/rider", "coco-panoptic/person"),
    ("cityscapes/person", "ade20k-150/person"),
    # Cityscapes road vs Vistas' road-like classes
    ("vistas-v1.2/construction--flat--crosswalk-plain", "cityscapes/road"),
    ("vistas-v1.2/marking--general", "cityscapes/road"),
    ("vistas-v2.0/marking--discrete--arrow--left", "cityscapes/road"),
    ("vistas-v2.0/construction--flat--driveway", "cityscapes/road"),
    ("wilddash-2/manholesidewalk", "kitti/road"),
    # pickups and vans
    ("wilddash-2/pickup", "cityscapes/truck"),
    ("wilddash-2/pickup", "ade20k-150/truck"),
    ("wilddash-2/pickup", "openimages/Truck"),
    ("wilddash-2/pickup", "coco-panoptic/truck"),
    ("wilddash-2/van", "cityscapes/car"),
    ("ade20k-150/van", "openimages/Car"),
    ("ade20k-150/car", "coco-panoptic/car"),
    # COCO's merged stuff classes
    ("coco-panoptic/wall-other-merged", "ade20k-150/wall"),
    ("ade20k-150/hill", "coco-panoptic/mountain-merged"),
    ("ade20k-150/skyscraper", "coco-panoptic/building-other-merged"),
    ("cityscapes/sidewalk", "coco-panoptic/pavement-merged"),
    ("ade20k-150/tree", "coco-panoptic/tree-merged"),
    # Vistas v1.2 -> v2.0
    (
        "vistas-v2.0/object--traffic-light--cyclists",
        "vistas-v1.2/object--traffic-light",
    ),
    ("vistas-v2.0/object--sign--store", "vistas-v1.2/object--billboard"),
    ("gtsdb/stop", "vistas-v2.0/object--traffic-sign--front"),
    # Open Images hierarchy
    ("openimages/Man", "coco-panoptic/person"),
    ("openimages/Stop sign", "cityscapes/traffic sign"),
    ("openimages/Palm tree", "cityscapes/vegetation"),
]
EQUAL = [
    # ADE20K synonyms
    ("ade20k-150/ashcan", "vistas-v2.0/object--trash-can"),
    ("ade20k-150/minibike", "pascal-voc/motorbike"),
    ("ade20k-150/sofa", "pascal-context-59/sofa"),
    # the same class under other names
    ("wilddash-2/trafficlight", "openimages/Traffic light"),
    ("kitti/train", "vistas-v2.0/object--vehicle--on-rails"),
    ("coco-panoptic/stop sign", "gtsdb/stop"),
    ("coco-panoptic/sky-other-merged", "ade20k-150/sky"),
    ("pascal-voc/tvmonitor", "coco-panoptic/tv"),
]
DISJOINT = [
    ("wilddash-2/pickup", "ade20k-150/van"),
    ("ade20k-150/van", "ade20k-150/car"),
    ("cityscapes/person", "cityscapes/rider"),
    ("gtsdb/snow", "vistas-v1.2/nature--snow"),
    ("coco-panoptic/teddy bear", "coco-panoptic/bear"),
    ("openimages/Taxi", "openimages/Car"),
]
OVERLAP = [
    ("openimages/Man", "cityscapes/person"),
    ("openimages/Woman", "cityscapes/rider"),
    ("cityscapes/wall", "coco-panoptic/wall-brick"),
]


@pytest.mark.parametrize(
    ("child", "parent"), SUBSET, ids=[f"{c}<{p}" for c, p in SUBSET]
)
def test_known_subsets(child, parent):
    taxonomy, maps, _ = unified("all")
    child_bits, parent_bits = (
        leaves(taxonomy, maps, child),
        leaves(taxonomy, maps, parent),
    )
    assert child_bits & parent_bits == child_bits != parent_bits


@pytest.mark.parametrize(("a", "b"), EQUAL, ids=[f"{a}={b}" for a, b in EQUAL])
def test_known_equal(a, b):
    _, maps, _ = unified("all")
    assert node(maps, a) == node(maps, b)


@pytest.mark.parametrize(("a", "b"), DISJOINT, ids=[f"{a}|{b}" for a, b in DISJOINT])
def test_known_disjoint(a, b):
    taxonomy, maps, _ = unified("all")
    assert not leaves(taxonomy, maps, a) & leaves(taxonomy, maps, b)


@pytest.mark.parametrize(("a", "b"), OVERLAP, ids=[f"{a}~{b}" for a, b in OVERLAP])
def test_known_overlaps(a, b):
    taxonomy, maps, _ = unified("all")
    first, second = leaves(taxonomy, maps, a), leaves(taxonomy, maps, b)
    assert first & second and first & ~second and second & ~first


def test_every_vistas_distinction_survives():
    """No finer class is merged away: distinct labels of a space, distinct nodes."""
    for name in COMPOSED:
        _, maps, _ = unified(name)
        for label_map in maps.values():
            mapped = [n for n in label_map.nodes.values() if n is not None]
            assert len(mapped) == len(set(mapped)), label_map.space.name


# -- the conflict report: only findings judged acceptable --------------------------

ACCEPTED_COLLISIONS = {
    # different meanings under one normalised name (see notebook 04)
    ("ade20k-150", "animal", "gtsdb", "animals"),  # a warning sign
    ("ade20k-150", "bicycle", "vistas-v2.0", "marking--discrete--symbol--bicycle"),
    ("ade20k-150", "glass", "openimages", "Glasses"),  # drinking glass, eyeglasses
    ("ade20k-150", "tank", "openimages", "Tank"),  # storage tank, armoured vehicle
    ("coco-panoptic", "mouse", "openimages", "Mouse"),  # computer mouse, animal
    ("coco-panoptic", "snow", "gtsdb", "snow"),  # a warning sign
    ("gtsdb", "animals", "openimages", "Animal"),
    ("vistas-v1.2", "object--traffic-sign--back", "vistas-v2.0", "object--sign--back"),
}


def test_remaining_name_collisions_are_the_accepted_ones():
    taxonomy, maps, _ = unified("all")
    findings = ux.find_conflicts(taxonomy, maps)
    collisions = findings[findings["kind"] == "name_collision"]
    found = {
        (row.space, row.label, row.other_space, row.other_label)
        for row in collisions.itertuples()
    }
    assert found == ACCEPTED_COLLISIONS
    assert not (findings["kind"] == "equivalent").any()


def test_unmapped_labels_are_single_dataset_classes():
    taxonomy, maps, _ = unified("all")
    findings = ux.find_conflicts(taxonomy, maps)
    unmapped = findings[findings["kind"] == "unmapped"]
    assert set(unmapped.space) <= {
        "ade20k-150",
        "coco-panoptic",
        "openimages",
        "pascal-context-59",
        "vistas-v2.0",
    }
    assert len(unmapped) <= 60
    street = ux.find_conflicts(*unified("street")[:2])
    assert list(street.label[street["kind"] == "unmapped"]) == ["object--water-valve"]


# -- Vistas v1.2 -> v2.0 on real pixels --------------------------------------------


def test_vistas_sample_pixels_map_to_nested_nodes(shared):
    folder = (
        shared / "data" / "format_samples" / "mapillary_vistas" / "mmsegmentation"
        / "tests" / "data" / "pseudo_mapillary_dataset"
    )  # fmt: skip
    image = "__CRyFzoDOXn6unQ6a3DnQ.png"
    old = np.asarray(Image.open(folder / "v1.2" / image))
    new = np.asarray(Image.open(folder / "v2.0" / image))
    assert old.shape == new.shape
    pairs = set(zip(old.ravel().tolist(), new.ravel().tolist(), strict=True))
    assert pairs == {(17, 27), (44, 84), (45, 85)}
    for name in COMPOSED:
        taxonomy, maps, _ = unified(name)
        for old_id, new_id in pairs:
            old_node = maps["vistas-v1.2"].nodes[old_id]
            new_node = maps["vistas-v2.0"].nodes[new_id]
            assert old_node is not None and new_node is not None
            old_bits = taxonomy.leaf_bits(old_node)
            new_bits = taxonomy.leaf_bits(new_node)
            assert new_bits & old_bits == new_bits, (old_node, new_node)
