"""Build unitax's built-in label-space files from the shared label-space facts.

The facts are the files described in ``shared/data/label_spaces/README.md``: class
lists of segmentation and detection datasets, each with its origin and licence. This
script turns them into the package's own formats:

* ``unitax/data/label_spaces/<name>.json``: one label space per file;
* ``unitax/data/reductions/<source>__<target>.csv``: a dataset's own many-to-one
  reduction from one of its label spaces to another, one ``source,target`` row per
  source label name. Source labels that the dataset's reduction sends to void are
  absent from the table.

A label-space file is a JSON object with the keys ``schema_version``, ``name``,
``origin``, ``license``, ``notes``, ``exhaustive``, ``void`` and ``labels``. Each
label has an ``id`` (the raw value in the dataset's annotations) and a ``name`` and,
only where the dataset defines them, ``code``, ``color``, ``category``, ``parents``
and ``synonyms``. ``void`` lists the label ids that mean "not annotated"; they are not
labels.

Every space and reduction is validated before anything is written: unique ids and
names, void disjoint from ids, parents that exist and form no cycle, reductions that
name existing labels, and the sizes the facts README states. Every written file is
read back and compared. Any failure raises `BuildError`.

Usage
-----
Run from anywhere; paths default to the repository layout::

    python tools/build_label_spaces.py [FACTS_DIR] [--output DIR]

``FACTS_DIR`` defaults to ``../shared/data/label_spaces`` relative to the repository
root, and ``--output`` to the repository's ``unitax/data``.

Notes
-----
The output is deterministic: labels are sorted by id, JSON is written with
``indent=1``, ``ensure_ascii=False`` and a trailing newline, and CSV rows follow the
source label ids.

"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTS = REPO_ROOT / ".." / "shared" / "data" / "label_spaces"
DEFAULT_OUTPUT = REPO_ROOT / "unitax" / "data"

SCHEMA_VERSION = 1
SPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

# (number of labels, number of void ids) of every space. The facts README counts the
# entries of each source list, which is labels + void where the list has a void entry.
EXPECTED_SIZES: dict[str, tuple[int, int]] = {
    "cityscapes": (34, 1),
    "cityscapes-19": (19, 1),
    "cityscapes-categories": (7, 1),
    "kitti": (33, 1),
    "wilddash-v1": (33, 1),
    "wilddash-2": (80, 1),
    "vistas-v1.2": (65, 1),
    "vistas-v2.0": (123, 1),
    "coco-panoptic": (133, 1),
    "coco-detection": (80, 0),
    "ade20k-150": (150, 1),
    "pascal-voc": (21, 1),
    "pascal-context-59": (60, 0),
    "pascal-context-459": (459, 1),
    "idd": (39, 1),
    "idd-level3": (26, 1),
    "idd-level2": (16, 1),
    "idd-level1": (7, 1),
    "bdd100k": (19, 1),
    "bdd100k-full": (40, 1),
    "gtsdb": (43, 0),
    "openimages": (601, 0),
}

CITYSCAPES_ORIGIN = (
    "PyPI cityscapesscripts 2.3.0, cityscapesscripts/helpers/labels.py (list `labels`)"
)
CITYSCAPES_LICENSE = "MIT (scripts); the dataset has its own terms"
MSEG_API = "mseg-dataset/mseg-api"

# objectInfo150.csv writes both the separator between synonyms and the space inside a
# synonym as ';' ("door;double;door"). For the 41 rows with a multi-word synonym the
# split comes from CSAILVision/sceneparsing objectInfo150.txt (commit 4ce20bd9), which
# separates synonyms with ", ". `ade20k_synonyms` checks each row against the CSV.
ADE20K_MULTIWORD_SYNONYMS: dict[int, str] = {
    15: "door, double door",
    18: "plant, flora, plant life",
    38: "bathtub, bathing tub, bath, tub",
    45: "chest of drawers, chest, bureau, dresser",
    50: "fireplace, hearth, open fireplace",
    52: "grandstand, covered stand",
    56: "case, display case, showcase, vitrine",
    57: "pool table, billiard table, snooker table",
    59: "screen door, screen",
    65: "coffee table, cocktail table",
    72: "stove, kitchen stove, range, kitchen range, cooking stove",
    73: "palm, palm tree",
    74: "kitchen island",
    75: (
        "computer, computing machine, computing device, data processor, "
        "electronic computer, information processing system"
    ),
    76: "swivel chair",
    79: "arcade machine",
    81: (
        "bus, autobus, coach, charabanc, double-decker, jitney, motorbus, "
        "motorcoach, omnibus, passenger vehicle"
    ),
    83: "light, light source",
    88: "streetlight, street lamp",
    90: (
        "television, television receiver, television set, tv, tv set, idiot box, "
        "boob tube, telly, goggle box"
    ),
    92: "dirt track",
    93: "apparel, wearing apparel, dress, clothes",
    97: "escalator, moving staircase, moving stairway",
    106: "conveyer belt, conveyor belt, conveyer, conveyor, transporter",
    108: "washer, automatic washer, washing machine",
    110: "swimming pool, swimming bath, natatorium",
    115: "tent, collapsible shelter",
    121: "food, solid food",
    123: "tank, storage tank",
    124: "trade name, brand name, brand, marque",
    125: "microwave, microwave oven",
    127: "animal, animate being, beast, brute, creature, fauna",
    130: "dishwasher, dish washer, dishwashing machine",
    131: "screen, silver screen, projection screen",
    134: "hood, exhaust hood",
    137: "traffic light, traffic signal, stoplight",
    139: (
        "ashcan, trash can, garbage can, wastebin, ash bin, ash-bin, ashbin, "
        "dustbin, trash barrel, trash bin"
    ),
    142: "crt screen",
    144: "monitor, monitoring device",
    145: "bulletin board, notice board",
    148: "glass, drinking glass",
}

# IDD level-1 names by level1Id. anue_labels.py has none; these are the seven groups
# of the label hierarchy in the IDD paper (Varma et al., WACV 2019).
IDD_LEVEL1_NAMES = (
    "drivable",
    "non-drivable",
    "living things",
    "vehicles",
    "road side objects",
    "far objects",
    "sky",
)
IDD_VOID_NAMES = ("unlabeled",)

OPENIMAGES_ROOT = "/m/0bl9f"

Entry = dict[str, Any]


class BuildError(ValueError):
    """A fact file or a built label space is not what this script expects."""


@dataclass(frozen=True)
class Space:
    """One label space, ready to be written as ``<name>.json``."""

    name: str
    origin: str
    license: str
    notes: str
    exhaustive: bool
    void: tuple[int, ...]
    labels: tuple[Entry, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the file's JSON object, with void and labels sorted by id."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "origin": self.origin,
            "license": self.license,
            "notes": self.notes,
            "exhaustive": self.exhaustive,
            "void": sorted(self.void),
            "labels": sorted(self.labels, key=by_id),
        }


@dataclass(frozen=True)
class Reduction:
    """A dataset's own many-to-one map between two of its label spaces, by name."""

    source: str
    target: str
    rows: tuple[tuple[str, str], ...]

    @property
    def filename(self) -> str:
        """Return the file name, ``<source>__<target>.csv``."""
        return f"{self.source}__{self.target}.csv"


Built = tuple[list[Space], list[Reduction]]


def make_label(
    label_id: int,
    name: str,
    *,
    code: str | None = None,
    color: list[int] | None = None,
    category: str | None = None,
    parents: list[str] | None = None,
    synonyms: list[str] | None = None,
) -> Entry:
    """Return a label object without the fields that have their default."""
    label: Entry = {"id": label_id, "name": name}
    if code is not None:
        label["code"] = code
    if color is not None:
        label["color"] = list(color)
    if category is not None:
        label["category"] = category
    if parents:
        label["parents"] = list(parents)
    if synonyms:
        label["synonyms"] = list(synonyms)
    return label


def by_id(entry: Entry) -> int:
    """Return an entry's id, the sort key of labels and reduction rows."""
    return int(entry["id"])


def read_json(path: Path) -> Any:
    """Return the parsed content of a UTF-8 JSON file."""
    with path.open(encoding="utf-8") as file:
        return json.load(file)


def expect_count(what: str, items: list[Any], expected: int) -> None:
    """Raise `BuildError` unless ``items`` has ``expected`` entries."""
    if len(items) != expected:
        raise BuildError(f"{what}: expected {expected} entries, found {len(items)}")


def one_by(entries: list[Entry], key: str, value: Any) -> Entry:
    """Return the single entry whose ``key`` equals ``value``."""
    found = [entry for entry in entries if entry[key] == value]
    if len(found) != 1:
        raise BuildError(f"expected one entry with {key}={value!r}, found {len(found)}")
    return found[0]


def rename_rows(entries: list[Entry], target_of: Any) -> tuple[tuple[str, str], ...]:
    """Return reduction rows ``(name, target_of(entry))`` in source id order."""
    return tuple(
        (entry["name"], target_of(entry)) for entry in sorted(entries, key=by_id)
    )


# --- Cityscapes-style datasets --------------------------------------------------------


def build_cityscapes(facts: Path) -> Built:
    """Build Cityscapes ids, trainIds and categories, with both reductions."""
    entries = read_json(facts / "cityscapes" / "cityscapes_labels.json")["labels"]
    expect_count("cityscapes_labels.json", entries, 35)
    void_entry = one_by(entries, "name", "unlabeled")
    labels = [entry for entry in entries if entry is not void_entry]
    full = Space(
        name="cityscapes",
        origin=CITYSCAPES_ORIGIN,
        license=CITYSCAPES_LICENSE,
        notes=(
            "id 0 `unlabeled` is void; every other entry of labels.py is a label, "
            "including the other void-category entries. `license plate` (id -1) is "
            "kept as in labels.py, but json2labelImg.py does not draw negative ids, "
            "so it never occurs in labelIds PNGs."
        ),
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["category"])
            for e in labels
        ),
    )

    trained = [e for e in labels if 0 <= e["trainId"] <= 18]
    expect_count("cityscapes trainIds 0..18", trained, 19)
    train_space = Space(
        name="cityscapes-19",
        origin=CITYSCAPES_ORIGIN + ", field trainId",
        license=CITYSCAPES_LICENSE,
        notes=(
            "The 19 trainIds 0..18 used for training and evaluation, each named after "
            "the one label with that trainId. 255 is void (ignore)."
        ),
        exhaustive=True,
        void=(255,),
        labels=tuple(
            make_label(
                e["trainId"], e["name"], color=e["color"], category=e["category"]
            )
            for e in trained
        ),
    )

    categories: dict[int, str] = {}
    for entry in entries:
        known = categories.setdefault(entry["categoryId"], entry["category"])
        if known != entry["category"]:
            raise BuildError(
                f"categoryId {entry['categoryId']} has two names: "
                f"{known!r} and {entry['category']!r}"
            )
    expect_count("cityscapes categories", list(categories), 8)
    if categories[0] != "void":
        raise BuildError(f"expected categoryId 0 to be 'void', found {categories[0]!r}")
    category_space = Space(
        name="cityscapes-categories",
        origin=CITYSCAPES_ORIGIN + ", fields categoryId and category",
        license=CITYSCAPES_LICENSE,
        notes=(
            "The 8 categories by categoryId. categoryId 0 (`void`) is void, so labels "
            "of the void category are absent from the reduction."
        ),
        exhaustive=True,
        void=(0,),
        labels=tuple(
            make_label(category_id, name)
            for category_id, name in sorted(categories.items())
            if category_id != 0
        ),
    )

    reductions = [
        Reduction(
            "cityscapes", "cityscapes-19", rename_rows(trained, lambda e: e["name"])
        ),
        Reduction(
            "cityscapes",
            "cityscapes-categories",
            rename_rows(
                [e for e in labels if e["categoryId"] != 0], lambda e: e["category"]
            ),
        ),
    ]
    return [full, train_space, category_space], reductions


def build_kitti(facts: Path) -> Built:
    """Build KITTI semantic: the Cityscapes ids without `license plate`."""
    entries = read_json(facts / "kitti" / "kitti_semantic_labels.json")["labels"]
    expect_count("kitti_semantic_labels.json", entries, 34)
    void_entry = one_by(entries, "name", "unlabeled")
    space = Space(
        name="kitti",
        origin=(
            "the Cityscapes label definition ("
            + CITYSCAPES_ORIGIN
            + "); names checked "
            f"against {MSEG_API} mseg/dataset_lists/kitti-34/kitti-34_names.txt "
            "(commit 2bd00ae8)"
        ),
        license="as Cityscapes: " + CITYSCAPES_LICENSE,
        notes=(
            "Cityscapes ids 0..33 (no `license plate`); id 0 `unlabeled` is void, "
            "as for cityscapes."
        ),
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["category"])
            for e in entries
            if e is not void_entry
        ),
    )
    return [space], []


def build_wilddash(facts: Path) -> Built:
    """Build WildDash v1 (Cityscapes ids) and WildDash2 (the policy's wd2 list)."""
    v1_entries = read_json(facts / "wilddash" / "wilddash_v1_labels.json")["labels"]
    expect_count("wilddash_v1_labels.json", v1_entries, 34)
    v1_void = one_by(v1_entries, "name", "unlabeled")
    v1 = Space(
        name="wilddash-v1",
        origin=(
            "WildDash v1 uses the Cityscapes label ids; names checked against "
            f"{MSEG_API} mseg/dataset_lists/wilddash-34/wilddash-34_names.txt"
        ),
        license="as Cityscapes: " + CITYSCAPES_LICENSE,
        notes=(
            "Cityscapes ids 0..33; id 0 `unlabeled` is void, as for cityscapes. The "
            "source list has no colors or categories, so none are given."
        ),
        exhaustive=True,
        void=(v1_void["id"],),
        labels=tuple(
            make_label(e["id"], e["name"]) for e in v1_entries if e is not v1_void
        ),
    )

    policy = read_json(facts / "wilddash" / "wd2_unified_label_policy.json")
    wd2_entries = policy["per_ds"]["wd2"]
    expect_count("wd2_unified_label_policy.json per_ds.wd2", wd2_entries, 81)
    wd2_void = one_by(wd2_entries, "name", "unlabeled")
    wd2 = Space(
        name="wilddash-2",
        origin=(
            "ozendelait/wilddash_scripts wd2_unified_label_policy.json "
            "(commit fe0d7dea), list per_ds.wd2"
        ),
        license="MIT",
        notes=(
            "id 0 `unlabeled` is void; the other entries of supercategory void "
            "(overlay, outofroi, static, dynamic) are labels. category = the "
            "policy's supercategory."
        ),
        exhaustive=True,
        void=(wd2_void["id"],),
        labels=tuple(
            make_label(
                e["id"], e["name"], color=e["color"], category=e["supercategory"]
            )
            for e in wd2_entries
            if e is not wd2_void
        ),
    )
    return [v1, wd2], []


# --- Mapillary Vistas -----------------------------------------------------------------


def vistas_labels(entries: list[Entry]) -> tuple[list[Entry], int]:
    """Return the Vistas labels (id = position) and the id of ``void--unlabeled``."""
    labels = []
    void_id = None
    for position, entry in enumerate(entries):
        if entry.get("id", position) != position:
            raise BuildError(
                f"Vistas entry {entry['name']!r} has id {entry['id']} "
                f"at position {position}"
            )
        if entry["name"] == "void--unlabeled":
            void_id = position
            continue
        readable = entry["readable"]
        labels.append(
            make_label(
                position,
                entry["name"],
                color=entry["color"],
                category=entry["name"].rsplit("--", 1)[0],
                synonyms=[readable] if readable != entry["name"] else None,
            )
        )
    if void_id is None:
        raise BuildError("no `void--unlabeled` entry in the Vistas list")
    return labels, void_id


def build_vistas(facts: Path) -> Built:
    """Build Mapillary Vistas v1.2 (the v1.1 list) and the v2.0 reconstruction."""
    folder = facts / "mapillary_vistas"
    v12_entries = read_json(folder / "config_v1.1_public.json")["labels"]
    expect_count("config_v1.1_public.json", v12_entries, 66)
    v12_labels, v12_void = vistas_labels(v12_entries)
    v12 = Space(
        name="vistas-v1.2",
        origin=(
            f"Mapillary config.json v1.1 as {MSEG_API} tests/test_data/"
            "mapillary-vistas-dataset_public_v1.1_config.json (commit 2bd00ae8); its "
            "66 labels equal the v1.2 list in facebookresearch/Mask2Former "
            "mask2former/data/datasets/register_mapillary_vistas.py (commit 9b0651c6)"
        ),
        license=(
            "Vistas research license; the config file is MSeg test data (CC BY 4.0)"
        ),
        notes=(
            "id = position in config.json. `void--unlabeled` (not evaluated) is void; "
            "`void--car-mount` and `void--ego-vehicle` are evaluated, so they are "
            "labels. category = the name up to its last `--`; synonyms = the readable "
            "name."
        ),
        exhaustive=True,
        void=(v12_void,),
        labels=tuple(v12_labels),
    )

    v20_entries = read_json(folder / "config_v2.0_labels_reconstructed.json")["labels"]
    expect_count("config_v2.0_labels_reconstructed.json", v20_entries, 124)
    v20_labels, v20_void = vistas_labels(v20_entries)
    color_counts = Counter(tuple(label["color"]) for label in v20_labels)
    shared = [count for count in color_counts.values() if count > 1]
    v20 = Space(
        name="vistas-v2.0",
        origin=(
            "reconstructed: names and colors from openvinotoolkit/datumaro "
            "src/datumaro/plugins/data_formats/mapillary_vistas/format.py "
            "(MapillaryVistasLabelMap_V20, commit 3d533b9c); readable names and label "
            "order from MMSegmentation 1.x mmseg/utils/class_names.py "
            "(mapillary_v2_classes)"
        ),
        license=(
            "datumaro MIT; MMSegmentation Apache-2.0; the dataset has the Vistas "
            "research license"
        ),
        notes=(
            "id = position, as in config_v2.0.json (not itself available). "
            "`void--unlabeled` is void; the other void--* entries are labels. "
            f"Colors are not unique: {sum(shared)} labels share {len(shared)} colors "
            "(all traffic-light--* are [250, 170, 30]), so decode id PNGs, not color "
            "PNGs. The readable `Lane Marking (only) - Test` is spelled as in the "
            "sources."
        ),
        exhaustive=True,
        void=(v20_void,),
        labels=tuple(v20_labels),
    )
    return [v12, v20], []


# --- COCO, ADE20K, PASCAL -------------------------------------------------------------


def build_coco(facts: Path) -> Built:
    """Build COCO panoptic (133 categories) and COCO detection (its 80 things)."""
    panoptic = read_json(facts / "coco" / "panoptic_coco_categories.json")
    expect_count("panoptic_coco_categories.json", panoptic, 133)
    origin = "cocodataset/panopticapi panoptic_coco_categories.json (commit 7bb46555)"
    license_ = "panopticapi: BSD-style (A. Kirillov); COCO annotations: CC BY 4.0"
    panoptic_space = Space(
        name="coco-panoptic",
        origin=origin,
        license=license_,
        notes=(
            "80 things (ids 1..90) and 53 stuff categories (ids 92..200, including "
            "the -merged classes). Segment id 0 in panoptic PNGs means unlabeled, so "
            "0 is void. category = supercategory."
        ),
        exhaustive=True,
        void=(0,),
        labels=tuple(
            make_label(
                e["id"], e["name"], color=e["color"], category=e["supercategory"]
            )
            for e in panoptic
        ),
    )

    detection = read_json(facts / "coco" / "coco_detection_categories.json")
    detection = detection["categories"]
    expect_count("coco_detection_categories.json", detection, 80)
    things = {e["id"]: e for e in panoptic if e["isthing"] == 1}
    for entry in detection:
        thing = things.get(entry["id"], {})
        if [thing.get("name"), thing.get("supercategory")] != [
            entry["name"],
            entry["supercategory"],
        ]:
            raise BuildError(f"COCO detection {entry} differs from panoptic {thing}")
    detection_space = Space(
        name="coco-detection",
        origin=origin + ", the 80 entries with isthing=1",
        license=license_,
        notes=(
            "category_id values 1..90, 10 of them unused. No id means unlabeled, so "
            "void is empty. category = supercategory."
        ),
        exhaustive=True,
        void=(),
        labels=tuple(
            make_label(e["id"], e["name"], category=e["supercategory"])
            for e in detection
        ),
    )
    return [panoptic_space, detection_space], []


def ade20k_synonyms(label_id: int, csv_name: str) -> list[str]:
    """Split an objectInfo150.csv name into synonyms, word groups kept together."""
    official = ADE20K_MULTIWORD_SYNONYMS.get(label_id)
    if official is None:
        return csv_name.split(";")
    synonyms = [synonym.strip() for synonym in official.split(",")]
    encoded = ";".join(synonym.replace(" ", ";") for synonym in synonyms)
    if encoded != csv_name:
        raise BuildError(
            f"ADE20K id {label_id}: {official!r} does not match the CSV name "
            f"{csv_name!r}"
        )
    return synonyms


def build_ade20k(facts: Path) -> Built:
    """Build the 150 classes of the ADE20K SceneParsing benchmark."""
    entries = read_json(facts / "ade20k" / "ade20k_sceneparsing150.json")["labels"]
    expect_count("ade20k_sceneparsing150.json", entries, 150)
    csv_path = facts / "ade20k" / "objectInfo150.csv"
    with csv_path.open(encoding="utf-8", newline="") as file:
        csv_names = {int(row["Idx"]): row["Name"] for row in csv.DictReader(file)}
    labels = []
    for entry in entries:
        if csv_names.get(entry["id"]) != entry["name"]:
            raise BuildError(
                f"ADE20K id {entry['id']}: JSON name {entry['name']!r} differs from "
                f"the CSV name {csv_names.get(entry['id'])!r}"
            )
        first, *rest = ade20k_synonyms(entry["id"], entry["name"])
        labels.append(
            make_label(entry["id"], first, color=entry["color"], synonyms=rest)
        )
    space = Space(
        name="ade20k-150",
        origin=(
            "CSAILVision/sceneparsing objectInfo150.csv (commit e2022296) and "
            "visualizationCode/color150.mat; multi-word synonyms split as in "
            "objectInfo150.txt (commit 4ce20bd9)"
        ),
        license="BSD 3-Clause",
        notes=(
            "PNG value 0 is `other` (none of the 150 classes) and every benchmark "
            "ignores it, so 0 is void. name = the first synonym, synonyms = the rest; "
            "objectInfo150.csv writes spaces as `;`, so multi-word synonyms were split "
            "as in objectInfo150.txt."
        ),
        exhaustive=True,
        void=(0,),
        labels=tuple(labels),
    )
    return [space], []


def build_pascal(facts: Path) -> Built:
    """Build PASCAL VOC, PASCAL-Context 59 and 459, and the 459 -> 59 reduction."""
    voc = read_json(facts / "pascal_voc" / "voc2012_classes.json")
    expect_count("voc2012_classes.json", voc["labels"], 21)
    voc_space = Space(
        name="pascal-voc",
        origin=(
            "PASCAL VOC 2012 devkit class order (checked against "
            f"{MSEG_API} mseg/dataset_lists/voc2012/voc2012_names.txt); colors from "
            "the standard VOC colormap"
        ),
        license="PASCAL VOC data terms",
        notes=(
            f"id 0 `background` is a label. {voc['ignore_index']} (object boundaries "
            f"and difficult regions, color {voc['ignore_color']}) is void."
        ),
        exhaustive=True,
        void=(voc["ignore_index"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"]) for e in voc["labels"]
        ),
    )

    context_folder = facts / "pascal_context"
    context_59 = read_json(context_folder / "pascal_context_59.json")["labels"]
    expect_count("pascal_context_59.json", context_59, 60)
    context_59_space = Space(
        name="pascal-context-59",
        origin=(
            f"{MSEG_API} mseg/dataset_lists/pascal-context-60/pascal-context-60_names"
            ".txt, reordered to 0 = background, then the 59 classes alphabetically"
        ),
        license="CC BY 4.0 (mseg-api data)",
        notes=(
            "id 0 `background` is a label: every PASCAL-Context class outside the 59, "
            "and unlabeled pixels. Many trainers drop it (reduce_zero_label) and keep "
            "59 classes. Void is empty."
        ),
        exhaustive=True,
        void=(),
        labels=tuple(make_label(e["id"], e["name"]) for e in context_59),
    )

    context_459 = read_json(context_folder / "pascal_context_459_full.json")["labels"]
    expect_count("pascal_context_459_full.json", context_459, 460)
    void_entry = one_by(context_459, "name", "unlabeled")
    kept = [e for e in context_459 if e is not void_entry]
    context_459_space = Space(
        name="pascal-context-459",
        origin=(
            f"{MSEG_API} mseg/dataset_lists/pascal-context-460/pascal-context-460_"
            "names.txt and mseg/class_remapping_files/"
            "pascal-context-460_to_pascal-context-60.tsv"
        ),
        license="CC BY 4.0 (mseg-api data)",
        notes=(
            "id 0 `unlabeled` is void; ids 1..459 are the PASCAL-Context labels in "
            "labels.txt order."
        ),
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(make_label(e["id"], e["name"]) for e in kept),
    )
    reduction = Reduction(
        "pascal-context-459",
        "pascal-context-59",
        rename_rows(kept, lambda e: e["reduces_to"]),
    )
    return [voc_space, context_59_space, context_459_space], [reduction]


# --- Driving datasets with their own hierarchies --------------------------------------


def joined_name(members: list[Entry]) -> str:
    """Name a class that merges labels by their names, joined with ' + ' in id order."""
    return " + ".join(member["name"] for member in sorted(members, key=by_id))


def build_idd(facts: Path) -> Built:
    """Build IDD raw ids and its level-3, -2 and -1 classes, with the reductions."""
    entries = read_json(facts / "idd" / "idd_anue_labels.json")["labels"]
    expect_count("idd_anue_labels.json", entries, 40)
    void_entries = [one_by(entries, "name", name) for name in IDD_VOID_NAMES]
    for entry in void_entries:
        if entry["level3Id"] != 255 or entry["level2IdName"] != "void":
            raise BuildError(f"IDD entry {entry['name']!r} is not void in the source")
    labels = [e for e in entries if e not in void_entries]
    origin = (
        "AutoNUE/public-code helpers/anue_labels.py (list `labels`, commit 5d9a93be)"
    )
    license_ = "none stated in the repository; the dataset has its own terms"
    raw_space = Space(
        name="idd",
        origin=origin,
        license=license_,
        notes=(
            "Raw ids 0..39. Only unlabeled is void, as in cityscapes: ego vehicle, "
            "rectification border and out of roi stay labels (level2IdName void) "
            "that the level reductions drop, and so does `license plate` "
            "(level2IdName vehicle). category = level2IdName."
        ),
        exhaustive=True,
        void=tuple(e["id"] for e in void_entries),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["level2IdName"])
            for e in labels
        ),
    )

    spaces = [raw_space]
    reductions = []
    for level, size in (("level3", 26), ("level2", 16), ("level1", 7)):
        key = level + "Id"
        groups: dict[int, list[Entry]] = {}
        for entry in labels:
            if entry[key] != 255:
                groups.setdefault(entry[key], []).append(entry)
        if sorted(groups) != list(range(size)):
            raise BuildError(
                f"IDD {key}: expected 0..{size - 1}, found {sorted(groups)}"
            )
        if level == "level1":
            names = dict(enumerate(IDD_LEVEL1_NAMES))
            notes = (
                "The 7 level-1 classes; 255 is void. anue_labels.py has no level-1 "
                "names: these are the groups of the IDD paper's label hierarchy "
                "(Varma et al., WACV 2019)."
            )
        else:
            names = {level_id: joined_name(group) for level_id, group in groups.items()}
            notes = (
                f"The {size} {level} classes; 255 is void. anue_labels.py names no "
                f"{level} class, so a class of one label takes that label's name and a "
                "merged class joins its labels' names with ' + ' in id order."
            )
            if level == "level2":
                notes += (
                    " level2IdName is not a level-2 name: it differs within level2Id 7 "
                    "and 15 and repeats across level2Ids."
                )
        space_name = f"idd-{level}"
        spaces.append(
            Space(
                name=space_name,
                origin=origin + f", field {key}",
                license=license_,
                notes=notes,
                exhaustive=True,
                void=(255,),
                labels=tuple(make_label(i, names[i]) for i in sorted(groups)),
            )
        )
        rows = tuple(
            (e["name"], names[e[key]])
            for e in sorted(labels, key=by_id)
            if e[key] != 255
        )
        reductions.append(Reduction("idd", space_name, rows))
    return spaces, reductions


def build_bdd100k(facts: Path) -> Built:
    """Build BDD100K segmentation: the 19 trainIds of its masks and the 41 raw ids."""
    entries = read_json(facts / "bdd100k" / "bdd100k_labels.json")["labels"]
    expect_count("bdd100k_labels.json", entries, 41)
    void_entry = one_by(entries, "name", "unlabeled")
    labels = [e for e in entries if e is not void_entry]
    trained = [e for e in labels if 0 <= e["trainId"] <= 18]
    expect_count("bdd100k trainIds 0..18", trained, 19)
    origin = "bdd100k/bdd100k bdd100k/label/label.py (list `labels`, commit 9ac17c6c)"
    train_space = Space(
        name="bdd100k",
        origin=origin + ", field trainId",
        license="BSD 3-Clause",
        notes=(
            "The semantic-segmentation masks store the 19 trainIds 0..18 (as "
            "Cityscapes); 255 is void. Names, categories and colors are those of the "
            "label with that trainId (label.py colors; sem_seg.toml swaps wall and "
            "fence)."
        ),
        exhaustive=True,
        void=(255,),
        labels=tuple(
            make_label(
                e["trainId"], e["name"], color=e["color"], category=e["category"]
            )
            for e in trained
        ),
    )
    full_space = Space(
        name="bdd100k-full",
        origin=origin,
        license="BSD 3-Clause",
        notes=(
            "All 41 ids of label.py; id 0 `unlabeled` is void and the other "
            "void-category entries are labels. The released masks use the trainIds "
            "(space bdd100k)."
        ),
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["category"])
            for e in labels
        ),
    )
    reduction = Reduction(
        "bdd100k-full", "bdd100k", rename_rows(trained, lambda e: e["name"])
    )
    return [train_space, full_space], [reduction]


# --- Detection datasets ---------------------------------------------------------------


def build_gtsdb(facts: Path) -> Built:
    """Build the 43 ClassIds of the German Traffic Sign Detection Benchmark."""
    entries = read_json(facts / "gtsdb" / "gtsdb_classes.json")["labels"]
    expect_count("gtsdb_classes.json", entries, 43)
    space = Space(
        name="gtsdb",
        origin=(
            "GTSDB ReadMe.txt (FullIJCNN2013 package) section 3, as stored in "
            "johpetsc/traffic-sign-recognition dataset/Training/GTSDB/train/ReadMe.txt"
        ),
        license='the ReadMe says "free to use this data package for any purpose"',
        notes=(
            "ClassIds 0..42, the GTSRB classes. category = the super-class of the "
            "detection tracks (prohibitory, danger, mandatory, other). Boxes have no "
            "void id."
        ),
        exhaustive=True,
        void=(),
        labels=tuple(
            make_label(e["id"], e["name"], category=e["category"]) for e in entries
        ),
    )
    return [space], []


def openimages_edges(root: Entry, kind: str) -> list[tuple[str, str]]:
    """Return every (parent MID, child MID) edge of ``kind``, repeats included."""
    edges = []
    stack = [root]
    while stack:
        node = stack.pop()
        for edge_kind in ("Subcategory", "Part"):
            for child in node.get(edge_kind, []):
                if edge_kind == kind:
                    edges.append((node["LabelName"], child["LabelName"]))
                stack.append(child)
    return edges


def build_openimages(facts: Path) -> Built:
    """Build the 601 Open Images boxable classes, Subcategory parents included."""
    csv_path = facts / "openimages" / "class-descriptions-boxable.csv"
    with csv_path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    expect_count("class-descriptions-boxable.csv", rows, 601)
    names = dict(rows)
    repeated = sorted(name for name, n in Counter(names.values()).items() if n > 1)
    if len(names) != len(rows) or repeated:
        raise BuildError(f"Open Images MIDs or display names repeat: {repeated}")

    hierarchy = read_json(facts / "openimages" / "bbox_labels_600_hierarchy.json")
    if hierarchy["LabelName"] != OPENIMAGES_ROOT:
        raise BuildError(
            f"expected the root {OPENIMAGES_ROOT}: {hierarchy['LabelName']}"
        )
    subcategory_edges = set(openimages_edges(hierarchy, "Subcategory"))
    part_edges = openimages_edges(hierarchy, "Part")
    nodes = {mid for edge in subcategory_edges | set(part_edges) for mid in edge}
    differ = sorted(nodes ^ (set(names) | {OPENIMAGES_ROOT}))
    if differ:
        raise BuildError(f"hierarchy nodes and boxable classes differ: {differ[:10]}")

    parents: dict[str, set[str]] = {mid: set() for mid in names}
    for parent, child in subcategory_edges:
        if parent != OPENIMAGES_ROOT:
            parents[child].add(names[parent])
    multi_parent = sum(1 for found in parents.values() if len(found) > 1)
    space = Space(
        name="openimages",
        origin=(
            "Open Images V4+ class-descriptions-boxable.csv (copy in "
            "jaza10/google-object-detection, commit fe08d113) and "
            "bbox_labels_600_hierarchy.json (copy in jordyo40/QHDT-Sensor-System, "
            "commit ee9a8405)"
        ),
        license="Open Images annotations: CC BY 4.0",
        notes=(
            "id = row of class-descriptions-boxable.csv (0..600), code = MID. parents "
            "follow Subcategory edges only; the root /m/0bl9f (Entity) is not a label "
            f"and never a parent, and the {len(set(part_edges))} distinct Part edges "
            f"({len(part_edges)} in the file) are left out. {multi_parent} labels have "
            "more than one parent. Images are annotated only for verified classes, so "
            "the space is not exhaustive."
        ),
        exhaustive=False,
        void=(),
        labels=tuple(
            make_label(index, name, code=mid, parents=sorted(parents[mid]))
            for index, (mid, name) in enumerate(rows)
        ),
    )
    return [space], []


BUILDERS = (
    build_cityscapes,
    build_kitti,
    build_wilddash,
    build_vistas,
    build_coco,
    build_ade20k,
    build_pascal,
    build_idd,
    build_bdd100k,
    build_gtsdb,
    build_openimages,
)


# --- Validation and output ------------------------------------------------------------


def validate_space(space: Space) -> None:
    """Raise `BuildError` unless ``space`` is well formed and of the expected size."""
    where = f"label space {space.name!r}"
    if not SPACE_NAME.match(space.name):
        raise BuildError(f"{where}: the name must match {SPACE_NAME.pattern}")
    ids = [label["id"] for label in space.labels]
    names = [label["name"] for label in space.labels]
    for kind, values in (("ids", ids), ("names", names), ("void ids", space.void)):
        repeated = sorted(value for value, n in Counter(values).items() if n > 1)
        if repeated:
            raise BuildError(f"{where}: {kind} must be unique, repeated: {repeated}")
    untrimmed = [name for name in names if not name or name != name.strip()]
    if untrimmed:
        raise BuildError(f"{where}: names must be non-empty and trimmed: {untrimmed}")
    overlap = sorted(set(ids) & set(space.void))
    if overlap:
        raise BuildError(f"{where}: void ids {overlap} are also label ids")
    for label in space.labels:
        color = label.get("color")
        if color is not None and (
            len(color) != 3 or not all(0 <= c < 256 for c in color)
        ):
            raise BuildError(
                f"{where}: {label['name']!r} has color {color}, not [r, g, b]"
            )
        parents = label.get("parents", [])
        unknown = sorted(set(parents) - set(names))
        if unknown or label["name"] in parents:
            raise BuildError(f"{where}: {label['name']!r} has bad parents {parents}")
    check_acyclic(space)
    found = (len(space.labels), len(space.void))
    if EXPECTED_SIZES.get(space.name) != found:
        raise BuildError(
            f"{where}: expected (labels, void ids) = {EXPECTED_SIZES.get(space.name)}, "
            f"found {found}"
        )


def check_acyclic(space: Space) -> None:
    """Raise `BuildError` if the parents of ``space`` form a cycle.

    Labels are removed in topological order (Kahn's algorithm): a label goes once all
    its parents have gone. What cannot be removed lies on or below a cycle.
    """
    remaining = {label["name"]: set(label.get("parents", ())) for label in space.labels}
    while True:
        free = [
            name
            for name, parents in remaining.items()
            if not parents & remaining.keys()
        ]
        if not free:
            break
        for name in free:
            del remaining[name]
    if remaining:
        raise BuildError(
            f"label space {space.name!r}: parent cycle among {sorted(remaining)[:10]}"
        )


def validate_reduction(reduction: Reduction, spaces: dict[str, Space]) -> None:
    """Raise `BuildError` unless each row names a source and a target label."""
    where = f"reduction {reduction.filename}"
    for end in (reduction.source, reduction.target):
        if end not in spaces:
            raise BuildError(f"{where}: no label space named {end!r}")
    sources = [source for source, _ in reduction.rows]
    repeated = sorted(name for name, n in Counter(sources).items() if n > 1)
    if repeated:
        raise BuildError(f"{where}: source labels listed twice: {repeated}")
    source_names = {label["name"] for label in spaces[reduction.source].labels}
    target_names = {label["name"] for label in spaces[reduction.target].labels}
    unknown = sorted(set(sources) - source_names)
    unknown += sorted({target for _, target in reduction.rows} - target_names)
    if unknown:
        raise BuildError(f"{where}: names not in the source or target space: {unknown}")


def build(facts: Path) -> Built:
    """Build and validate every label space and reduction from ``facts``."""
    spaces: list[Space] = []
    reductions: list[Reduction] = []
    for builder in BUILDERS:
        built_spaces, built_reductions = builder(facts)
        spaces.extend(built_spaces)
        reductions.extend(built_reductions)
    built_names = sorted(space.name for space in spaces)
    if built_names != sorted(EXPECTED_SIZES):
        raise BuildError(f"built {built_names}, expected {sorted(EXPECTED_SIZES)}")
    for space in spaces:
        validate_space(space)
    by_name = {space.name: space for space in spaces}
    for reduction in reductions:
        validate_reduction(reduction, by_name)
    return spaces, reductions


def write(spaces: list[Space], reductions: list[Reduction], output: Path) -> None:
    """Write every space and reduction under ``output`` and read each file back."""
    space_folder = output / "label_spaces"
    reduction_folder = output / "reductions"
    space_folder.mkdir(parents=True, exist_ok=True)
    reduction_folder.mkdir(parents=True, exist_ok=True)
    for space in spaces:
        path = space_folder / f"{space.name}.json"
        content = space.to_json()
        text = json.dumps(content, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        if read_json(path) != content:
            raise BuildError(f"{path} does not read back as written")
    for reduction in reductions:
        path = reduction_folder / reduction.filename
        table = [["source", "target"], *(list(row) for row in reduction.rows)]
        with path.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(table)
        with path.open(encoding="utf-8", newline="") as file:
            if list(csv.reader(file)) != table:
                raise BuildError(f"{path} does not read back as written")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, build, validate and write, then print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "facts",
        nargs="?",
        type=Path,
        default=DEFAULT_FACTS,
        help="fact files (default: ../shared/data/label_spaces from the repo root)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where label_spaces/ and reductions/ go (default: unitax/data)",
    )
    args = parser.parse_args(argv)
    spaces, reductions = build(args.facts)
    write(spaces, reductions, args.output)
    n_labels = sum(len(space.labels) for space in spaces)
    print(
        f"wrote {len(spaces)} label spaces ({n_labels} labels) and "
        f"{len(reductions)} reductions to {args.output}"
    )


if __name__ == "__main__":
    main()
