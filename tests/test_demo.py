from __future__ import annotations

import hashlib

import numpy as np
import pytest
import yaml

import unitax as ux
from unitax import formats
from unitax._png import read_label_png
from unitax.annotations import Box, Tag
from unitax.builtin import collection
from unitax.config import ExportConfig, run_export
from unitax.demo import DATASETS, Demo, make_demo, read_ground_truth
from unitax.export import Policy, export, read_export, read_target
from unitax.formats.cityscapes import read_cityscapes
from unitax.formats.gtsdb import read_gtsdb
from unitax.formats.open_images import read_open_images
from unitax.formats.vistas import read_vistas
from unitax.rasterize import rasterize

SAMPLES = 12
READERS = {
    "cityscapes": read_cityscapes,
    "vistas": read_vistas,
    "gtsdb": read_gtsdb,
    "open_images": read_open_images,
}
SPACES = {
    "cityscapes": "cityscapes",
    "vistas": "vistas-v1.2",
    "gtsdb": "gtsdb",
    "openimages": "openimages",
    "heldout": "cityscapes",
}
# Open Images MID -> the IV2018 nodes whose leaves make the class present
TAGS = {
    "/m/0k4j": ["cityscapes/car"],
    "/m/01bjv": ["cityscapes/bus"],
    "/m/07r04": ["cityscapes/truck"],
    "/m/01g317": ["cityscapes/person", "rider"],
    "/m/0199g": ["cityscapes/bicycle"],
    "/m/04_sv": ["cityscapes/motorcycle"],
    "/m/015qff": ["cityscapes/traffic light"],
    "/m/01mqdt": ["traffic sign"],
    "/m/02pv19": ["gtsdb/stop"],
    "/m/0cgh4": ["cityscapes/building"],
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    return make_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def iv2018():
    spaces, rules = collection("iv2018")
    return ux.unify(spaces, rules)


@pytest.fixture(scope="module")
def config(demo) -> ExportConfig:
    return ExportConfig.model_validate(yaml.safe_load(demo.config.read_text()))


def _read(demo, config, name):
    (entry,) = [d for d in config.datasets if d.name == name]
    return READERS[entry.format](demo.root / entry.root, **entry.options)


def _tree(root):
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# --- layout and readers -------------------------------------------------------


def test_layout(demo):
    assert demo.datasets == {name: demo.root / name for name in DATASETS}
    assert demo.config == demo.root / "export.yaml"
    assert (demo.datasets["vistas"] / "config_v1.2.json").is_file()
    assert (demo.datasets["gtsdb"] / "train" / "gt.txt").is_file()
    assert (demo.datasets["gtsdb"] / "train" / "00000.ppm").is_file()
    csv = "oidv6-train-annotations-human-imagelabels.csv"
    assert (demo.datasets["openimages"] / "annotations" / csv).is_file()
    sizes = [p.stat().st_size for p in demo.root.rglob("*") if p.is_file()]
    assert sum(sizes) < 5_000_000


def test_leaves_are_the_iv2018_leaves(demo, iv2018):
    taxonomy, _ = iv2018
    assert demo.leaves == taxonomy.leaves
    assert len(demo.leaves) == 108
    names = (demo.ground_truth / "leaves.json").read_text()
    assert yaml.safe_load(names) == list(demo.leaves)


@pytest.mark.parametrize("name", DATASETS)
def test_readers_read_everything_back(demo, config, name):
    dataset = _read(demo, config, name)
    assert dataset.label_space == ux.builtin_label_space(SPACES[name])
    assert dataset.skipped == ()
    assert len(dataset) == SAMPLES
    annotations = sum(len(sample.annotations) for sample in dataset)
    assert dataset.read == annotations
    truth = {
        p.relative_to(demo.ground_truth / name).as_posix()[: -len(".npz")]
        for p in (demo.ground_truth / name).rglob("*.npz")
    }
    assert {sample.key for sample in dataset} == truth
    splits = {sample.split for sample in dataset}
    assert len(splits) == (1 if name == "heldout" else 2)


def _covering_label(taxonomy, label_map):
    """Leaf index -> the label id whose node covers it (-1 if none)."""
    table = np.full(len(taxonomy.leaves), -1)
    for label_id, node in label_map.nodes.items():
        if node is not None:
            for leaf in taxonomy.leaves_of(node):
                assert table[taxonomy.leaves.index(leaf)] == -1
                table[taxonomy.leaves.index(leaf)] = label_id
    return table


@pytest.mark.parametrize("name", ["cityscapes", "heldout"])
def test_cityscapes_labels_are_the_truth_projected(demo, config, iv2018, name):
    taxonomy, maps = iv2018
    covering = _covering_label(taxonomy, maps["cityscapes"])
    static = ux.builtin_label_space("cityscapes").by_name("static").id
    expected_static = {
        "vistas-v1.2/object--street-light",
        "vistas-v1.2/object--trash-can",
    }
    for sample in _read(demo, config, name):
        truth = read_ground_truth(demo, name, sample.key)
        ids = read_label_png(sample.annotations[0].source)
        projected = covering[truth["leaves"]]
        uncovered = {demo.leaves[i] for i in np.unique(truth["leaves"][projected < 0])}
        assert uncovered <= expected_static
        projected[projected < 0] = static
        unlabeled = truth["unlabeled"]
        np.testing.assert_array_equal(ids, np.where(unlabeled, 0, projected))
        # unlabeled pixels lie on object borders
        objects = np.pad(truth["objects"].astype(int), 1, mode="edge")
        centre = objects[1:-1, 1:-1]
        border = np.zeros_like(unlabeled)
        for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
            border |= (
                objects[dy : dy + centre.shape[0], dx : dx + centre.shape[1]] != centre
            )
        assert not (unlabeled & ~border).any()


def test_vistas_labels_are_the_truth_projected(demo, config, iv2018):
    taxonomy, maps = iv2018
    covering = _covering_label(taxonomy, maps["vistas-v1.2"])
    assert (covering >= 0).all()
    front = ux.builtin_label_space("vistas-v1.2").by_name("object--traffic-sign--front")
    signs = 0
    for sample in _read(demo, config, "vistas"):
        truth = read_ground_truth(demo, "vistas", sample.key)
        ids = read_label_png(sample.annotations[0].source)
        np.testing.assert_array_equal(ids, covering[truth["leaves"]])
        signs += int((ids == front.id).sum())
    assert signs > 0


def _tight_sign_boxes(truth, leaves):
    boxes = set()
    for obj in np.unique(truth["objects"])[1:]:  # 0 is stuff
        pixels = truth["objects"] == obj
        (leaf,) = np.unique(truth["leaves"][pixels])
        if leaves[leaf].startswith("gtsdb/"):
            rows, cols = np.nonzero(pixels)
            xyxy = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            boxes.add((tuple(float(v) for v in xyxy), leaves[leaf]))
            assert pixels.sum() == (xyxy[2] - xyxy[0]) * (xyxy[3] - xyxy[1])
    return boxes


def test_gtsdb_boxes_are_the_tight_boxes_of_the_signs(demo, config):
    dataset = _read(demo, config, "gtsdb")
    names = {label.id: f"gtsdb/{label.name}" for label in dataset.label_space.labels}
    empty = 0
    for sample in dataset:
        truth = read_ground_truth(demo, "gtsdb", sample.key)
        assert all(isinstance(a, Box) for a in sample.annotations)
        found = {(a.xyxy, names[a.label]) for a in sample.annotations}
        assert len(found) == len(sample.annotations)
        assert found == _tight_sign_boxes(truth, demo.leaves)
        empty += not sample.annotations
    assert empty >= 1  # an image with no GTSDB sign is still a sample


def test_open_images_tags_say_what_is_present(demo, config, iv2018):
    taxonomy, _ = iv2018
    space = ux.builtin_label_space("openimages")
    mids = {label.id: label.code for label in space.labels}
    counts = {True: 0, False: 0}
    for sample in _read(demo, config, "openimages"):
        truth = read_ground_truth(demo, "openimages", sample.key)
        present = {demo.leaves[i] for i in np.unique(truth["leaves"])}
        assert sample.annotations
        for tag in sample.annotations:
            assert isinstance(tag, Tag)
            nodes = TAGS[mids[tag.label]]
            leaves = {leaf for node in nodes for leaf in taxonomy.leaves_of(node)}
            assert tag.positive == bool(present & leaves)
            counts[tag.positive] += 1
    assert counts[True] > 0
    assert counts[False] > 0


# --- the unification never lies ---------------------------------------------------


def _leaf_sets(target, taxonomy):
    """Value -> boolean row over the leaves (None for ignore)."""
    matrix = taxonomy.leaf_matrix()
    index = {name: i for i, name in enumerate(taxonomy.leaves)}
    rows = {}
    for value in np.unique(target.array):
        value = int(value)
        if value == target.ignore_index:
            rows[value] = None
        elif value < len(taxonomy):
            rows[value] = matrix[value]
        else:
            extra = target.extra[value - len(taxonomy)]
            assert extra.weights is None
            row = np.zeros(len(taxonomy.leaves), dtype=bool)
            for node in extra.nodes:
                for leaf in taxonomy.leaves_of(node):
                    row[index[leaf]] = True
            rows[value] = row
    return rows


@pytest.mark.parametrize("name", ["cityscapes", "vistas", "gtsdb", "heldout"])
def test_every_pixel_set_holds_the_true_leaf(demo, config, iv2018, name):
    taxonomy, maps = iv2018
    (entry,) = [d for d in config.datasets if d.name == name]
    policy = entry.policy.model_dump(exclude={"errors"})
    dataset = _read(demo, config, name)
    exact = supervised = total = 0
    for sample in dataset:
        truth = read_ground_truth(demo, name, sample.key)["leaves"]
        target = rasterize(
            sample.annotations,
            maps[dataset.label_space.name],
            shape=sample.shape,
            **policy,
        )
        for value, row in _leaf_sets(target, taxonomy).items():
            at = target.array == value
            total += int(at.sum())
            if row is None:
                continue
            assert row[truth[at]].all(), f"{sample.key}: a set misses the true leaf"
            supervised += int(at.sum())
            if row.sum() == 1:
                exact += int(at.sum())
    assert supervised / total > 0.75
    if name == "vistas":  # fine: every pixel but a GTSDB sign's is one leaf
        assert exact / total > 0.97


def test_gtsdb_outside_the_boxes_is_none_of_the_43_classes(demo, config, iv2018):
    taxonomy, maps = iv2018
    gtsdb = {i for i, leaf in enumerate(taxonomy.leaves) if leaf.startswith("gtsdb/")}
    for sample in _read(demo, config, "gtsdb"):
        target = rasterize(
            sample.annotations, maps["gtsdb"], shape=sample.shape, outside="complement"
        )
        truth = read_ground_truth(demo, "gtsdb", sample.key)["leaves"]
        boxed = target.array < len(taxonomy)
        assert set(np.unique(truth[boxed]).tolist()) <= gtsdb
        assert not set(np.unique(truth[~boxed]).tolist()) & gtsdb


def test_export_of_the_config_never_lies(demo, config, iv2018, tmp_path):
    datasets = {d.name: _read(demo, config, d.name) for d in config.datasets}
    spaces = [*collection("iv2018")[0], ux.builtin_label_space("openimages")]
    taxonomy, maps = ux.unify(spaces, collection("iv2018")[1])
    policies = {d.name: d.policy for d in config.datasets}
    export(datasets, maps, taxonomy, tmp_path / "out", policies=policies,
           engine="sequential")  # fmt: skip
    exported = read_export(tmp_path / "out")
    assert len(exported.manifest) == SAMPLES * len(DATASETS)
    columns = np.array([taxonomy.leaves.index(leaf) for leaf in demo.leaves])
    checked = 0
    for row, record in exported.manifest.iterrows():
        target = read_target(exported, row)
        truth = read_ground_truth(demo, record["dataset"], record["key"])["leaves"]
        known = target != np.iinfo(target.dtype).max
        assert exported.membership[target[known], columns[truth[known]]].all()
        checked += int(known.sum())
    assert checked > 0


def test_config_is_a_valid_export_configuration(demo, config):
    assert config.rules == ("iv2018", "openimages_rules.yaml")
    assert config.label_spaces == ("openimages",)
    assert [d.name for d in config.datasets] == list(DATASETS)
    assert {d.format for d in config.datasets} == set(READERS)
    for entry in config.datasets:
        assert (demo.root / entry.root).is_dir()
        assert isinstance(entry.policy, Policy)
    gtsdb = {d.name: d.policy for d in config.datasets}["gtsdb"]
    assert (gtsdb.boxes, gtsdb.outside) == ("fill", "complement")


def test_run_export_reads_the_config(demo, tmp_path):
    if not {"gtsdb", "open_images"} <= set(formats.READERS):
        pytest.skip("unitax.formats.READERS lacks 'gtsdb' or 'open_images'")
    manifest = run_export(demo.config, tmp_path / "out", engine="sequential")
    assert len(read_export(manifest.parent).manifest) == SAMPLES * len(DATASETS)


# --- determinism and arguments ------------------------------------------------------


def test_same_seed_same_bytes(tmp_path):
    first = make_demo(tmp_path / "a", samples=3, seed=7)
    second = make_demo(tmp_path / "b", samples=3, seed=7)
    assert _tree(first.root) == _tree(second.root)


def test_other_seed_other_scenes(tmp_path):
    first = make_demo(tmp_path / "a", samples=3, seed=1)
    second = make_demo(tmp_path / "b", samples=3, seed=2)
    for name, key in [("cityscapes", "train/synth/synth_000000_000019"),
                      ("vistas", "training/synth00000")]:  # fmt: skip
        a = read_ground_truth(first, name, key)["leaves"]
        b = read_ground_truth(second, name, key)["leaves"]
        assert (a != b).mean() > 0.05
    digest = {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (first.root / "openimages" / "images").rglob("*.jpg")
    }
    assert not digest & {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (second.root / "openimages" / "images").rglob("*.jpg")
    }


def test_shape_and_samples_are_honoured(tmp_path):
    demo = make_demo(tmp_path / "demo", samples=5, shape=(64, 80), seed=3)
    dataset = read_cityscapes(demo.datasets["cityscapes"])
    assert len(dataset) == 5
    assert {s.shape for s in dataset} == {(64, 80)}
    assert sorted(s.split for s in dataset) == ["train"] * 4 + ["val"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"samples": 1}, ValueError, "samples must be >= 2"),
        ({"shape": (32, 64)}, ValueError, r"shape must be at least \(48, 64\)"),
    ],
    ids=["samples", "shape"],
)
def test_bad_arguments(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        make_demo(tmp_path / "demo", **kwargs)


def test_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="new or empty folder"):
        make_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_open_images_tags_join_the_street_taxonomy(tmp_path):
    from unitax.config import read_config, unify_config

    demo = make_demo(tmp_path / "demo", samples=2)
    config = read_config(demo.config)
    _, _, maps = unify_config(config, base=demo.config.parent)
    car = maps["openimages"].node(
        ux.builtin_label_space("openimages").by_name("Car").id
    )
    vistas = ux.builtin_label_space("vistas-v1.2").by_name("object--vehicle--car")
    assert maps["vistas-v1.2"].node(vistas.id) == car
