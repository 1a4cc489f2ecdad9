from __future__ import annotations

import pytest

import unitax as ux
from unitax import builtin
from unitax.errors import LabelSpaceError

COUNTS = {
    "ade20k-150": 150,
    "bdd100k": 19,
    "bdd100k-full": 40,
    "cityscapes": 34,
    "cityscapes-19": 19,
    "cityscapes-categories": 7,
    "coco-detection": 80,
    "coco-panoptic": 133,
    "gtsdb": 43,
    "idd": 39,
    "idd-level1": 7,
    "idd-level2": 16,
    "idd-level3": 26,
    "kitti": 33,
    "openimages": 601,
    "pascal-context-459": 459,
    "pascal-context-59": 60,
    "pascal-voc": 21,
    "vistas-v1.2": 65,
    "vistas-v2.0": 123,
    "wilddash-2": 80,
    "wilddash-v1": 33,
}


def test_every_builtin_space_is_listed():
    assert builtin.label_space_names() == tuple(sorted(COUNTS))


@pytest.mark.parametrize(("name", "count"), sorted(COUNTS.items()), ids=sorted(COUNTS))
def test_builtin_space_loads(name, count):
    space = ux.builtin_label_space(name)
    assert space.name == name
    assert len(space) == count


@pytest.mark.parametrize(
    ("name", "label", "label_id", "void"),
    [
        ("cityscapes", "traffic sign", 20, {0}),
        ("vistas-v1.2", "construction--flat--road", 13, {65}),
        ("coco-panoptic", "wall-other-merged", 199, {0}),
        ("pascal-voc", "background", 0, {255}),
        ("ade20k-150", "wall", 1, {0}),
        ("gtsdb", "speed limit 20", 0, set()),
    ],
    ids=["cityscapes", "vistas", "coco", "voc", "ade", "gtsdb"],
)
def test_builtin_facts(name, label, label_id, void):
    space = ux.builtin_label_space(name)
    assert space.by_name(label).id == label_id
    assert space.void == void


def test_openimages_keeps_its_multi_parent_hierarchy():
    space = ux.builtin_label_space("openimages")
    assert not space.exhaustive
    multi = [label for label in space.labels if len(label.parents) > 1]
    assert len(multi) == 45  # distinct Subcategory parents in the official file
    car = space.by_name("Car")
    assert car.code == "/m/0k4j" and car.parents == ("Land vehicle",)
    taxonomy, maps = ux.unify([space])
    assert maps["openimages"].node(car.id) == "openimages/Car"
    assert taxonomy.parents("openimages/Car") == ("openimages/Land vehicle",)
    assert all(node is not None for node in maps["openimages"].nodes.values())


def test_builtin_rules_and_collections():
    assert "iv2018" in builtin.rules_names()
    spaces, rules = builtin.collection("iv2018")
    taxonomy, maps = ux.unify(spaces, rules)
    assert set(maps) == {"cityscapes", "vistas-v1.2", "gtsdb"}
    assert len(taxonomy.leaves) == 108
    spaces, rules = builtin.collection("street")
    taxonomy, maps = ux.unify(spaces, rules)
    assert {"cityscapes", "vistas-v2.0", "idd", "bdd100k", "gtsdb"} <= set(maps)
    assert all(rule.reason for rule in rules), "every built-in rule gives a reason"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ux.builtin_label_space("cityscape"), "did you mean 'cityscapes'"),
        (lambda: ux.builtin_rules("iv2019"), "did you mean 'iv2018'"),
        (lambda: builtin.collection("streets"), "did you mean 'street'"),
    ],
    ids=["space", "rules", "collection"],
)
def test_unknown_builtin(call, match):
    with pytest.raises(LabelSpaceError, match=match):
        call()
