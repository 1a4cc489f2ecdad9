from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

import unitax as ux
from unitax.errors import FormatError, LabelSpaceError
from unitax.imports import (
    master_table_order,
    read_master_table,
    read_openimages_hierarchy,
    read_reduction_table,
    read_set_mapping,
)
from unitax.rules import Concept, describe


def _leaves(taxonomy, label_map, name):
    node = label_map.node(label_map.space.by_name(name).id)
    return None if node is None else set(taxonomy.leaves_of(node))


# -- master table ------------------------------------------------------------------

CITY = ux.LabelSpace.from_names("city", ["road", "sidewalk", "rider", "car", "ego"])
VISTAS = ux.LabelSpace.from_names(
    "vistas", ["road", "crosswalk", "sidewalk", "bicyclist", "motorcyclist", "car"]
)
WILD = ux.LabelSpace.from_names("wild", ["flat", "rider", "car", "ego"])
MASTER = (
    "universal\tcity\tvistas\twild\n"
    "road\troad\t{road, crosswalk}\tflat\n"
    "sidewalk\tsidewalk\tsidewalk\tflat\n"
    "rider\trider\t{bicyclist, motorcyclist}\trider\n"
    "car\tcar\tcar\tcar\n"
    "unlabeled\tego\t\tego\n"
)


def _master(tmp_path, text=MASTER, **kwargs):
    path = tmp_path / "master.tsv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    kwargs.setdefault("test_columns", ("wild",))
    return read_master_table(path, [CITY, VISTAS, WILD], **kwargs)


def test_master_table_rules(tmp_path):
    rules = _master(tmp_path)
    assert [describe(rule) for rule in rules if rule.kind != "concept"] == [
        "Same(labels=('city/road', 'road')) at master.tsv:2",
        (
            "Split(whole='road', parts=('vistas/road', 'vistas/crosswalk'))"
            " at master.tsv:2"
        ),
        "Same(labels=('city/sidewalk', 'sidewalk')) at master.tsv:3",
        "Same(labels=('vistas/sidewalk', 'sidewalk')) at master.tsv:3",
        "Same(labels=('city/rider', 'rider')) at master.tsv:4",
        (
            "Split(whole='rider', parts=('vistas/bicyclist', 'vistas/motorcyclist'))"
            " at master.tsv:4"
        ),
        "Same(labels=('city/car', 'car')) at master.tsv:5",
        "Same(labels=('vistas/car', 'car')) at master.tsv:5",
        "Ignore(label='city/ego') at master.tsv:6",
        "Ignore(label='wild/ego') at master.tsv:6",
        "Split(whole='wild/flat', parts=('road', 'sidewalk')) at master.tsv:2",
        "Same(labels=('wild/rider', 'rider')) at master.tsv:4",
        "Same(labels=('wild/car', 'car')) at master.tsv:5",
    ]
    assert [r.name for r in rules if isinstance(r, Concept)] == [
        "road",
        "sidewalk",
        "rider",
        "car",
    ]


def test_master_table_unifies(tmp_path):
    taxonomy, maps = ux.unify([CITY, VISTAS, WILD], _master(tmp_path))
    assert _leaves(taxonomy, maps["city"], "road") == {
        "vistas/crosswalk",
        "vistas/road",
    }
    assert _leaves(taxonomy, maps["wild"], "flat") == {
        "vistas/crosswalk",
        "vistas/road",
        "sidewalk",
    }
    assert _leaves(taxonomy, maps["city"], "rider") == {
        "vistas/bicyclist",
        "vistas/motorcyclist",
    }
    assert (
        maps["wild"].node(2) == maps["city"].node(3) == maps["vistas"].node(5) == "car"
    )
    assert taxonomy.ancestors("vistas/crosswalk") == ("wild/flat", "road")
    assert maps["city"].node(4) is None
    assert maps["wild"].node(3) is None
    assert "unlabeled" not in taxonomy


def test_master_table_order(tmp_path):
    path = tmp_path / "master.tsv"
    path.write_text(MASTER)
    assert master_table_order(path) == ("road", "sidewalk", "rider", "car", "unlabeled")


def test_master_table_unlabeled_name_and_bom(tmp_path):
    text = "\ufeffuniversal\tcity\nroad\troad\nvoid\tego\n"
    rules = _master(tmp_path, text, test_columns=(), unlabeled="void")
    assert describe(rules[-1]) == "Ignore(label='city/ego') at master.tsv:3"
    assert [r.name for r in rules if isinstance(r, Concept)] == ["road"]


def test_master_table_two_merge_sets_in_one_row_are_crossed(tmp_path):
    text = "universal\tcity\tvistas\nflat\t{road, sidewalk}\t{road, crosswalk}\n"
    rules = _master(tmp_path, text, test_columns=())
    taxonomy, _ = ux.unify([CITY, VISTAS], rules)
    assert set(taxonomy.leaves_of("flat")) == {
        "city/road & vistas/crosswalk",
        "city/road & vistas/road",
        "city/sidewalk & vistas/crosswalk",
        "city/sidewalk & vistas/road",
    }


_H = "universal\tcity\tvistas\twild\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("univ\tcity\n", r"master\.tsv:1: expected a header 'universal"),
        ("universal\tcity\tcity\n", r"master\.tsv:1: expected a header"),
        ("universal\tcty\n", r"master\.tsv:1: column 'cty'.*did you mean 'city'\?"),
        ("universal\tcity\n", r"master\.tsv:1: expected the test columns \['wild'\]"),
        (
            _H + "road\troda\t\t\n",
            (
                r"master\.tsv:2: column 'city': expected a label of 'city', got 'roda';"
                r" did you mean 'road'\?"
            ),
        ),
        (
            _H + "road\troad\t\t\nflat\troad\t\t\n",
            r"master\.tsv:3: column 'city'.*'city/road' again \(first on line 2\)",
        ),
        (
            _H + "road\t\troad\t\nflat\t\t{road, sidewalk}\t\n",
            r"master\.tsv:3: column 'vistas'.*'vistas/road' again",
        ),
        (_H + "road\t{road, car\t\t\n", r":2: column 'city'.*merge set.*'\{road, car'"),
        (_H + "road\troad}\t\t\n", r":2: column 'city'.*got 'road}'"),
        (_H + "road\t{road, {car}}\t\t\n", r":2: column 'city'.*got '\{road, \{car}}'"),
        (_H + "road\t{}\t\t\n", r":2: column 'city'.*merge set"),
        (_H + "road\t{road, }\t\t\n", r":2: column 'city'.*merge set"),
        (_H + "road\t{road, road}\t\t\n", r":2: column 'city'.*distinct"),
        (
            _H + "road\troad\t\t\nroad\tcar\t\t\n",
            r":3: column 'universal'.*got 'road' \(first on line 2\)",
        ),
        (_H + "\troad\t\t\n", r":2: column 'universal': expected a unique non-empty"),
        (_H + "a/b\troad\t\t\n", r":2: column 'universal'.*without '/'"),
        (
            _H + "road\troad\t\n",
            r"master\.tsv:2: expected 4 tab-separated cells.*got 3",
        ),
        (_H + "road\troad\t\t\tx\n", r":2: expected 4 tab-separated cells.*got 5"),
        (_H.encode() + b"road\tro\xe9d\t\t\n", r"master\.tsv:2: expected UTF-8"),
        (_H + "road\troad\t\t{flat, car}\n", r":2: column 'wild'.*one test label"),
        (
            _H + "road\troad\t\tflat\nunlabeled\t\t\tflat\n",
            (
                r"master\.tsv:3: expected the test label 'wild/flat' either ignored or "
                r"used, got both \(used on line 2\)"
            ),
        ),
    ],
    ids=[
        "wrong-header",
        "duplicate-column",
        "unknown-space",
        "unknown-test-column",
        "unknown-label",
        "label-in-two-rows",
        "label-in-merge-set-and-row",
        "unclosed-brace",
        "unopened-brace",
        "nested-braces",
        "empty-set",
        "empty-set-member",
        "duplicate-set-member",
        "duplicate-universal",
        "empty-universal",
        "slash-in-universal",
        "short-row",
        "long-row",
        "not-utf8",
        "merge-set-in-test-column",
        "test-label-ignored-and-used",
    ],
)
def test_master_table_errors(tmp_path, text, match):
    with pytest.raises(FormatError, match=match):
        _master(tmp_path, text)


def test_master_table_order_errors(tmp_path):
    path = tmp_path / "master.tsv"
    path.write_text("universal\tcity\nroad\troad\nroad\tcar\n")
    with pytest.raises(FormatError, match=r"master\.tsv:3: column 'universal'"):
        master_table_order(path)


# -- set mappings ------------------------------------------------------------------

A = ux.LabelSpace.from_names("a", ["vehicle", "road", "sky", "blur"])
B = ux.LabelSpace.from_names("b", ["car", "large", "road", "tree"])
C = ux.LabelSpace.from_names("c", ["small", "heavy", "bus"])
ATOMS = ["car", "van", "pickup", "bus", "truck", "road", "marking", "sky", "unused"]
SETS = {
    "a": {
        "vehicle": ["car", "van", "pickup", "bus", "truck"],
        "road": ["road", "marking"],
        "sky": ["sky"],
        "blur": [],
    },
    "b": {
        "car": ["car", "van", "pickup"],
        "large": ["bus", "truck"],
        "road": ["marking", "road"],
    },
    "c": {"small": ["car", "van"], "heavy": ["pickup", "truck"], "bus": ["bus"]},
}


def _sets(tmp_path, document=None, spaces=(A, B, C)):
    path = tmp_path / "sets.json"
    if document is None:
        document = {"universal": ATOMS, "mappings": SETS}
    path.write_text(
        document if isinstance(document, str) else json.dumps(document, indent=1)
    )
    return read_set_mapping(path, spaces)


def test_set_mapping_rules(tmp_path):
    rules = _sets(tmp_path)
    assert [r.name for r in rules if isinstance(r, Concept)] == ATOMS
    described = {describe(rule).split(" at ")[0] for rule in rules}
    assert {
        "Ignore(label='a/blur')",
        "Same(labels=('a/sky', 'sky'))",
        "Same(labels=('a/road', 'b/road'))",
        "Split(whole='a/road', parts=('marking', 'road'))",
        "Split(whole='a/vehicle', parts=('b/car', 'b/large'))",
        "Split(whole='b/car', parts=('c/small', 'pickup'))",
    } <= described


def test_set_mapping_unifies_to_exact_leaf_sets(tmp_path):
    taxonomy, maps = ux.unify([A, B, C], _sets(tmp_path))
    assert set(taxonomy.leaves) == set(ATOMS) | {"b/tree"}  # b/tree: not in the file
    for space, mapping in SETS.items():
        for label, atoms in mapping.items():
            assert _leaves(taxonomy, maps[space], label) == (set(atoms) or None)
    assert maps["a"].node(1) == maps["b"].node(2)  # equal sets: one node
    assert taxonomy.ancestors("c/small") == ("a/vehicle", "b/car")
    assert taxonomy.ancestors("b/large") == ("a/vehicle",)
    # c/heavy overlaps both b/car and b/large: it shares leaves with them, but
    # a/vehicle was split into b/car and b/large, so it is not a's descendant
    assert taxonomy.ancestors("c/heavy") == ()
    assert taxonomy.parents("truck") == ("b/large", "c/heavy")


def test_set_mapping_allows_nesting_from_the_space_hierarchy(tmp_path):
    nested = ux.LabelSpace(
        name="n",
        labels=(
            ux.Label(id=0, name="vehicle"),
            ux.Label(id=1, name="car", parents=("vehicle",)),
        ),
    )
    mapping = {"vehicle": ["car", "van"], "car": ["car"]}
    document = {"universal": ["car", "van"], "mappings": {"n": mapping}}
    taxonomy, maps = ux.unify([nested], _sets(tmp_path, document, [nested]))
    assert _leaves(taxonomy, maps["n"], "vehicle") == {"car", "van"}
    assert taxonomy.ancestors("car") == ("n/vehicle",)


def _doc(**mappings):
    return {"universal": ["car", "van", "bus"], "mappings": mappings}


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ('{"universal": [', r"sets\.json:1: invalid JSON"),
        (
            {"universal": "car"},
            r"(?s)not a valid SetMappingFile.*: mappings: Field req",
        ),
        (
            {"universal": ["car"], "mappings": {"a": ["car"]}},
            r"(?s)SetMappingFile.*sets\.json:\d+: mappings\.a: Input should be a valid",
        ),
        (
            _doc(aa={"road": []}),
            r"sets\.json:\d+: mappings: .*'aa'; did you mean 'a'\?",
        ),
        (
            _doc(a={"rod": []}),
            r"mappings\.a: expected a label of 'a', got 'rod'; did you",
        ),
        (
            _doc(a={"vehicle": ["cat"]}),
            r":\d+: mappings\.a: label 'vehicle'.*'cat'; did",
        ),
        (
            _doc(b={"car": ["car", "van"], "large": ["van", "bus"]}),
            (
                r"sets\.json:\d+: mappings\.b: expected disjoint labels in one "
                r"space, got 'car' and 'large' both holding 'van'"
            ),
        ),
        (_doc(a={"vehicle": ["car", "car"]}), r"label 'vehicle': expected distinct"),
        (
            {"universal": ["car", "car"], "mappings": {}},
            r"sets\.json:\d+: universal.*'car'",
        ),
        ({"universal": ["a/b"], "mappings": {}}, r"universal: expected .*without '/'"),
    ],
    ids=[
        "bad-json",
        "not-a-document",
        "wrong-nesting",
        "unknown-space",
        "unknown-label",
        "unknown-class",
        "overlap-in-space",
        "duplicate-class-in-label",
        "duplicate-universal",
        "slash-in-universal",
    ],
)
def test_set_mapping_errors(tmp_path, document, match):
    with pytest.raises(FormatError, match=match):
        _sets(tmp_path, document)


def test_set_mapping_error_lines(tmp_path):
    document = '{"universal": ["car"],\n "mappings": {"a": {\n  "vehicle": ["cab"]}}}'
    with pytest.raises(FormatError, match=r"sets\.json:3: mappings\.a"):
        _sets(tmp_path, document)


@st.composite
def set_mappings(draw):
    """Random atoms; per space, labels as disjoint non-empty atom sets (some [])."""
    atoms = [f"u{i}" for i in range(draw(st.integers(1, 10)))]
    mappings = {}
    for s in range(draw(st.integers(1, 4))):
        groups = draw(
            st.lists(st.integers(-1, 3), min_size=len(atoms), max_size=len(atoms))
        )
        labels: dict[str, list[str]] = {}
        for atom, group in zip(atoms, groups, strict=True):
            if group >= 0:
                labels.setdefault(f"l{group}", []).append(atom)
        if draw(st.booleans()):
            labels["none"] = []
        mappings[f"s{s}"] = labels
    return atoms, mappings


@given(set_mappings())
def test_set_mapping_leaf_sets_property(tmp_path_factory, drawn):
    atoms, mappings = drawn
    spaces = [
        ux.LabelSpace.from_names(name, labels) for name, labels in mappings.items()
    ]
    path = tmp_path_factory.mktemp("sets") / "sets.json"
    path.write_text(json.dumps({"universal": atoms, "mappings": mappings}))
    taxonomy, maps = ux.unify(spaces, read_set_mapping(path, spaces))
    assert set(taxonomy.leaves) == set(atoms)
    nodes = {}
    for space, labels in mappings.items():
        for label, members in labels.items():
            assert _leaves(taxonomy, maps[space], label) == (set(members) or None)
            node = maps[space].node(maps[space].space.by_name(label).id)
            if members:  # equal sets are one node
                assert nodes.setdefault(frozenset(members), node) == node


# -- reduction tables --------------------------------------------------------------

FULL = ux.LabelSpace.from_names(
    "full", ["road", "sidewalk", "parking", "car", "static"]
)
COARSE = ux.LabelSpace.from_names("coarse", ["flat", "vehicle"])
REDUCTION = "source,target\nroad,flat\nsidewalk,flat\nparking,flat\ncar,vehicle\n"


def _reduction(tmp_path, text=REDUCTION):
    path = tmp_path / "reduce.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return read_reduction_table(path, FULL, COARSE)


def test_reduction_table(tmp_path):
    rules = _reduction(tmp_path)
    assert [describe(rule) for rule in rules] == [
        (
            "Split(whole='coarse/flat', parts=('full/road', 'full/sidewalk',"
            " 'full/parking')) at reduce.csv:2"
        ),
        "Same(labels=('coarse/vehicle', 'full/car')) at reduce.csv:5",
    ]
    taxonomy, maps = ux.unify([FULL, COARSE], rules)
    assert _leaves(taxonomy, maps["coarse"], "flat") == {
        "full/parking",
        "full/road",
        "full/sidewalk",
    }
    assert maps["coarse"].node(1) == maps["full"].node(3)
    assert taxonomy.ancestors("full/static") == ()  # in the target's void


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("from,to\nroad,flat\n", r"reduce\.csv:1: expected the header 'source,target'"),
        (
            "source,target\nrod,flat\n",
            r":2: column 'source'.*'rod'; did you mean 'road'",
        ),
        (
            "source,target\nroad,flta\n",
            r":2: column 'target'.*'flta'; did you mean 'flat'",
        ),
        (
            "source,target\nroad,flat\nroad,vehicle\n",
            r"reduce\.csv:3: column 'source'.*'road' again \(first on line 2\)",
        ),
        ("source,target\nroad,flat,x\n", r"reduce\.csv:2: expected 'source,target'"),
        ("source,target\nroad,\n", r"reduce\.csv:2: expected 'source,target'"),
        (b"source,target\nroad,flat\nr\xf6ad,flat\n", r"reduce\.csv:3: expected UTF-8"),
    ],
    ids=[
        "wrong-header",
        "unknown-source",
        "unknown-target",
        "source-twice",
        "three-cells",
        "empty-cell",
        "not-utf8",
    ],
)
def test_reduction_table_errors(tmp_path, text, match):
    with pytest.raises(FormatError, match=match):
        _reduction(tmp_path, text)


def _shipped(name):
    return resources.files("unitax").joinpath("data", "reductions", f"{name}.csv")


def test_cityscapes_reduction():
    table = _shipped("cityscapes__cityscapes-19")
    if not table.is_file():
        pytest.skip(
            "unitax/data/reductions/cityscapes__cityscapes-19.csv not shipped yet"
        )
    city = ux.builtin_label_space("cityscapes")
    city19 = ux.builtin_label_space("cityscapes-19")
    with resources.as_file(table) as path:
        rules = read_reduction_table(path, city, city19)
    taxonomy, maps = ux.unify([city, city19], rules)
    assert len(rules) == 19
    for label in city19.labels:  # 19 train ids, each one Cityscapes label
        assert _leaves(taxonomy, maps["cityscapes-19"], label.name) == _leaves(
            taxonomy, maps["cityscapes"], label.name
        )
    covered = 0
    for node in maps["cityscapes-19"].nodes.values():
        covered |= taxonomy.leaf_bits(node)
    for name in ("parking", "rail track", "caravan", "license plate", "ego vehicle"):
        node = maps["cityscapes"].node(city.by_name(name).id)
        assert not taxonomy.leaf_bits(node) & covered  # in cityscapes-19's void


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name[:-4]
        for p in resources.files("unitax").joinpath("data", "reductions").iterdir()
        if p.name.endswith(".csv")
    ),
)
def test_shipped_reduction_tables_unify(name):
    source, target = (ux.builtin_label_space(n) for n in name.split("__"))
    with resources.as_file(_shipped(name)) as path:
        rules = read_reduction_table(path, source, target)
    taxonomy, maps = ux.unify([source, target], rules)
    for label in target.labels:  # every target label is covered by its sources
        assert taxonomy.leaf_bits(maps[target.name].node(label.id))


# -- Open Images --------------------------------------------------------------------

HIERARCHY = {
    "LabelName": "/m/root",
    "Subcategory": [
        {"LabelName": "/m/vehicle", "Subcategory": [{"LabelName": "/m/car"}]},
        {"LabelName": "/m/toy", "Subcategory": [{"LabelName": "/m/car"}]},
        {
            "LabelName": "/m/person",
            "Part": [
                {"LabelName": "/m/hand", "Subcategory": [{"LabelName": "/m/thumb"}]}
            ],
        },
    ],
}
DESCRIPTIONS = (
    "/m/person,Person\n/m/car,Car\n/m/other,Other\n/m/vehicle,Vehicle\n"
    "/m/toy,Toy\n/m/hand,Hand\n/m/thumb,Thumb\n"
)


def _openimages(tmp_path, hierarchy=HIERARCHY, descriptions=None, **kwargs):
    path = tmp_path / "hierarchy.json"
    path.write_text(hierarchy if isinstance(hierarchy, str) else json.dumps(hierarchy))
    if descriptions is not None:
        (tmp_path / "desc.csv").write_text(descriptions)
        kwargs["descriptions"] = tmp_path / "desc.csv"
    return read_openimages_hierarchy(path, **kwargs)


def test_openimages_without_descriptions(tmp_path):
    space = _openimages(tmp_path, name="oi")
    assert space.name == "oi"
    assert not space.exhaustive
    assert space.names == tuple(
        f"/m/{name}" for name in ("vehicle", "car", "toy", "person", "hand", "thumb")
    )
    assert space.ids == (0, 1, 2, 3, 4, 5)
    assert space.by_name("/m/car").parents == ("/m/vehicle", "/m/toy")
    assert space.by_name("/m/hand").parents == ()  # Part is not is-a
    assert space.by_name("/m/thumb").parents == ("/m/hand",)
    assert all(label.code == label.name for label in space.labels)


def test_openimages_with_descriptions_unifies(tmp_path):
    space = _openimages(tmp_path, descriptions=DESCRIPTIONS)
    assert space.name == "openimages"
    assert [(label.id, label.name, label.code) for label in space.labels] == [
        (0, "Person", "/m/person"),
        (1, "Car", "/m/car"),
        (3, "Vehicle", "/m/vehicle"),  # ids are rows; /m/other is skipped
        (4, "Toy", "/m/toy"),
        (5, "Hand", "/m/hand"),
        (6, "Thumb", "/m/thumb"),
    ]
    taxonomy, _ = ux.unify([space])
    assert taxonomy.parents("openimages/Car") == (
        "openimages/Toy",
        "openimages/Vehicle",
    )
    assert taxonomy.leaves_of("openimages/Vehicle") == (
        "openimages/Car",
        "openimages/Vehicle (other)",
    )


def test_openimages_real_hierarchy(shared):
    folder = shared / "data" / "label_spaces" / "openimages"
    space = read_openimages_hierarchy(
        folder / "bbox_labels_600_hierarchy.json",
        descriptions=folder / "class-descriptions-boxable.csv",
    )
    assert len(space) == 601
    assert sum(len(label.parents) > 1 for label in space.labels) == 45
    builtin = ux.builtin_label_space("openimages")
    assert [(x.id, x.name, x.code, set(x.parents)) for x in space.labels] == [
        (x.id, x.name, x.code, set(x.parents)) for x in builtin.labels
    ]
    taxonomy, _ = ux.unify([space])
    assert len(taxonomy.leaves) == 601
    # 3 of the 45 lose a redundant parent: Clothing > Fashion accessory > Hat
    assert sum(len(taxonomy.parents(node)) > 1 for node in taxonomy) == 42
    assert taxonomy.parents("openimages/Toothbrush") == (
        "openimages/Personal care",
        "openimages/Tool",
    )
    plain = read_openimages_hierarchy(folder / "bbox_labels_600_hierarchy.json")
    assert len(plain) == 601
    assert plain.names[0] == "/m/0242l"


_DATUMARO = "datumaro/tests/assets/open_images_dataset/v6/annotations"
_MMDET = "mmdetection/tests/data/OpenImages/annotations"


@pytest.mark.parametrize(
    ("folder", "hierarchy", "descriptions", "count"),
    [
        (
            _DATUMARO,
            "bbox_labels_600_hierarchy.json",
            "oidv6-class-descriptions.csv",
            2,
        ),
        (_MMDET, "bbox_labels_600_hierarchy.json", "class-descriptions-boxable.csv", 1),
    ],
    ids=["datumaro-v6", "mmdetection"],
)
def test_openimages_format_samples(shared, folder, hierarchy, descriptions, count):
    folder = shared / "data" / "format_samples" / "open_images" / folder
    space = read_openimages_hierarchy(
        folder / hierarchy, descriptions=folder / descriptions
    )
    assert len(space) == count
    ux.unify([space])


def test_openimages_v2_layout_is_not_supported(shared):
    path = shared / "data/format_samples/open_images/openimages_dataset/assets"
    with pytest.raises(FormatError, match=r"'name/children' layout is not supported"):
        read_openimages_hierarchy(path / "bbox_hierarchy.json")


def _node(mid, *children, kind="Subcategory"):
    node = {"LabelName": mid}
    if children:
        node[kind] = list(children)
    return node


@pytest.mark.parametrize(
    ("hierarchy", "match"),
    [
        (
            "[1, 2]",
            r"hierarchy\.json:1: \$: expected an object with a 'LabelName'.*list",
        ),
        (_node("/m/r", {"Label": "/m/a"}), r"\$\.Subcategory\[0\]: expected an object"),
        (
            _node("/m/r", _node("/m/a", 3, kind="Part")),
            r"\$\.Subcategory\[0\]\.Part\[0\]",
        ),
        ({"LabelName": "/m/r", "Subcategory": {}}, r"\$: expected 'Subcategory' and"),
        (
            _node("/m/r", _node("")),
            r"\$\.Subcategory\[0\]: expected a trimmed, non-empty",
        ),
        ({"LabelName": "/m/r", "Children": []}, r"\$: expected keys from"),
        (
            _node("/m/r", _node("/m/a", _node("/m/r"))),
            r"root MID '/m/r' at the root only",
        ),
        (
            '{"LabelName": "/m/r",\n "Subcategory": [\n  {"LabelName": 7}]}',
            r"hierarchy\.json:3: \$\.Subcategory\[0\]: expected an object",
        ),
    ],
    ids=[
        "not-object",
        "no-label-name",
        "part-not-object",
        "not-a-list",
        "empty-mid",
        "unknown-key",
        "root-below",
        "line-number",
    ],
)
def test_openimages_structure_errors(tmp_path, hierarchy, match):
    with pytest.raises(FormatError, match=match):
        _openimages(tmp_path, hierarchy)


def test_openimages_cycle(tmp_path):
    hierarchy = _node(
        "/m/r", _node("/m/a", _node("/m/b")), _node("/m/b", _node("/m/a"))
    )
    with pytest.raises(LabelSpaceError, match="cycle"):
        _openimages(tmp_path, hierarchy)


@pytest.mark.parametrize(
    ("descriptions", "match"),
    [
        (
            "/m/vehicle,Vehicle\n",
            r"desc\.csv: expected a display name for every MID.*5",
        ),
        (
            DESCRIPTIONS + "/m/car,Auto\n",
            r"desc\.csv:8: expected each MID once.*line 2",
        ),
        (
            DESCRIPTIONS.replace("Toy", "Car"),
            r"desc\.csv:5: .*unique display names.*'Car'",
        ),
        ("/m/car\n", r"desc\.csv:1: expected 'MID,DisplayName'"),
    ],
    ids=["missing-mid", "mid-twice", "name-twice", "bad-row"],
)
def test_openimages_description_errors(tmp_path, descriptions, match):
    with pytest.raises(FormatError, match=match):
        _openimages(tmp_path, descriptions=descriptions)
