"""Build unitax's built-in label-space files from the shared label-space facts.

The facts are the files described in ``shared/data/label_spaces/README.md``: official
class lists of segmentation and detection datasets, each with its origin and licence.
This script turns them into the package's own formats:

* ``unitax/data/label_spaces/<name>.json``: one label space per file (format below);
* ``unitax/data/reductions/<source>__<target>.csv``: a dataset's own many-to-one
  reduction from one of its label spaces to another, one ``source,target`` row per
  source label name. Source labels that the dataset's reduction sends to void are
  absent from the table.

A label-space file is a JSON object with the keys ``schema_version``, ``name``,
``origin``, ``license``, ``notes``, ``exhaustive``, ``void`` and ``labels``. Each label
has an ``id`` (the raw value in the dataset's annotations) and a ``name``, and, only
where the dataset defines them, ``code``, ``color``, ``category``, ``parents`` and
``synonyms``. ``void`` lists the label ids that mean "not annotated"; they are not
labels.

Every space and reduction is validated before it is written (unique ids and names,
void disjoint from ids, parents that exist and form no cycle, reductions that name
existing labels, and the label counts the facts README states), and every written file
is read back and compared. Any failure raises `BuildError`.

Usage
-----
Run from anywhere; paths default to the repository layout::

    python tools/build_label_spaces.py [FACTS_DIR] [--output DIR]

``FACTS_DIR`` defaults to ``../shared/data/label_spaces`` relative to the repository
root, ``--output`` to ``unitax/data`` in the repository.

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

# (number of labels, number of void ids) per space. The facts README gives the number
# of entries of each source list; entries = labels + void where a void entry is listed.
EXPECTED_COUNTS: dict[str, tuple[int, int]] = {
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
    "idd": (36, 4),
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

# objectInfo150.csv stores both the synonym separator and the space inside a synonym as
# ';' ("door;double;door"). For the 41 rows with a multi-word synonym, the split is
# taken from CSAILVision/sceneparsing objectInfo150.txt (commit 4ce20bd9), which uses
# ", " between synonyms; `build_ade20k` checks that each entry encodes back to the CSV.
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

# IDD level-1 names (level1Id 0..6). anue_labels.py has no level-1 names; these are
# the seven groups of the IDD paper's label hierarchy (Varma et al., WACV 2019), also
# used by third-party IDD-Lite code.
IDD_LEVEL1_NAMES = (
    "drivable",
    "non-drivable",
    "living things",
    "vehicles",
    "road side objects",
    "far objects",
    "sky",
)
IDD_VOID_NAMES = ("unlabeled", "ego vehicle", "rectification border", "out of roi")

OPENIMAGES_ROOT = "/m/0bl9f"


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
    labels: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        """Return the file's JSON object, labels sorted by id."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "origin": self.origin,
            "license": self.license,
            "notes": self.notes,
            "exhaustive": self.exhaustive,
            "void": sorted(self.void),
            "labels": sorted(self.labels, key=lambda label: label["id"]),
        }


@dataclass(frozen=True)
class Reduction:
    """A dataset's own many-to-one map from labels of one space to another, by name."""

    source: str
    target: str
    rows: tuple[tuple[str, str], ...]

    @property
    def filename(self) -> str:
        return f"{self.source}__{self.target}.csv"


def make_label(
    label_id: int,
    name: str,
    *,
    code: str | None = None,
    color: list[int] | None = None,
    category: str | None = None,
    parents: list[str] | None = None,
    synonyms: list[str] | None = None,
) -> dict[str, Any]:
    """Return a label object, leaving out every field that has its default."""
    label: dict[str, Any] = {"id": label_id, "name": name}
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


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return json.load(file)


def expect_count(what: str, items: list[Any], expected: int) -> None:
    """Raise `BuildError` unless ``items`` has ``expected`` entries."""
    if len(items) != expected:
        raise BuildError(f"{what}: expected {expected} entries, found {len(items)}")


def one_by(entries: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    """Return the single entry whose ``key`` equals ``value``."""
    found = [entry for entry in entries if entry[key] == value]
    if len(found) != 1:
        raise BuildError(f"expected one entry with {key}={value!r}, found {len(found)}")
    return found[0]


# --- Cityscapes-style datasets -------------------------------------------------------


def build_cityscapes(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """Cityscapes ids, its 19 trainIds and its 7 categories, with both reductions."""
    entries = read_json(facts / "cityscapes" / "cityscapes_labels.json")["labels"]
    expect_count("cityscapes_labels.json", entries, 35)
    void_entry = one_by(entries, "name", "unlabeled")
    labels = [entry for entry in entries if entry is not void_entry]

    full = Space(
        name="cityscapes",
        origin=CITYSCAPES_ORIGIN,
        license=CITYSCAPES_LICENSE,
        notes=(
            "id 0 `unlabeled` is void; every other entry of labels.py is a label, including "
            "the other void-category entries. `license plate` (id -1) is kept as in labels.py, "
            "but json2labelImg.py does not draw negative ids, so it never occurs in labelIds "
            "PNGs."
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
            "The 19 trainIds 0..18 used for training and evaluation; each is named after "
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
                f"categoryId {entry['categoryId']} has two names: {known}, {entry['category']}"
            )
    expect_count("cityscapes categories", list(categories), 8)
    if categories[0] != "void":
        raise BuildError(f"expected categoryId 0 to be 'void', found {categories[0]!r}")
    category_space = Space(
        name="cityscapes-categories",
        origin=CITYSCAPES_ORIGIN + ", fields categoryId and category",
        license=CITYSCAPES_LICENSE,
        notes=(
            "The 8 categories by categoryId; categoryId 0 (`void`) is void, so labels of "
            "the void category have no target in the reduction."
        ),
        exhaustive=True,
        void=(0,),
        labels=tuple(
            make_label(cid, name)
            for cid, name in sorted(categories.items())
            if cid != 0
        ),
    )

    reductions = [
        Reduction(
            "cityscapes",
            "cityscapes-19",
            tuple((e["name"], e["name"]) for e in sorted(trained, key=_by_id)),
        ),
        Reduction(
            "cityscapes",
            "cityscapes-categories",
            tuple(
                (e["name"], e["category"])
                for e in sorted(labels, key=_by_id)
                if e["categoryId"] != 0
            ),
        ),
    ]
    return [full, train_space, category_space], reductions


def build_kitti(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """KITTI semantic: the Cityscapes ids without `license plate`."""
    entries = read_json(facts / "kitti" / "kitti_semantic_labels.json")["labels"]
    expect_count("kitti_semantic_labels.json", entries, 34)
    void_entry = one_by(entries, "name", "unlabeled")
    space = Space(
        name="kitti",
        origin=(
            "Cityscapes label definition ("
            + CITYSCAPES_ORIGIN
            + "); names checked against "
            "mseg-dataset/mseg-api mseg/dataset_lists/kitti-34/kitti-34_names.txt (commit 2bd00ae8)"
        ),
        license="as Cityscapes: " + CITYSCAPES_LICENSE,
        notes="Cityscapes ids 0..33 (no `license plate`); id 0 `unlabeled` is void, as for cityscapes.",
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["category"])
            for e in entries
            if e is not void_entry
        ),
    )
    return [space], []


def build_wilddash(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """WildDash v1 (Cityscapes ids) and WildDash2 (the `per_ds.wd2` list of the label policy)."""
    v1_entries = read_json(facts / "wilddash" / "wilddash_v1_labels.json")["labels"]
    expect_count("wilddash_v1_labels.json", v1_entries, 34)
    v1_void = one_by(v1_entries, "name", "unlabeled")
    v1 = Space(
        name="wilddash-v1",
        origin=(
            "WildDash v1 uses the Cityscapes label ids; names checked against mseg-dataset/mseg-api "
            "mseg/dataset_lists/wilddash-34/wilddash-34_names.txt"
        ),
        license="as Cityscapes: " + CITYSCAPES_LICENSE,
        notes=(
            "Cityscapes ids 0..33; id 0 `unlabeled` is void, as for cityscapes. The source list "
            "has no colors or categories, so none are given."
        ),
        exhaustive=True,
        void=(v1_void["id"],),
        labels=tuple(
            make_label(e["id"], e["name"]) for e in v1_entries if e is not v1_void
        ),
    )

    wd2_entries = read_json(facts / "wilddash" / "wd2_unified_label_policy.json")[
        "per_ds"
    ]["wd2"]
    expect_count("wd2_unified_label_policy.json per_ds.wd2", wd2_entries, 81)
    wd2_void = one_by(wd2_entries, "name", "unlabeled")
    wd2 = Space(
        name="wilddash-2",
        origin="ozendelait/wilddash_scripts wd2_unified_label_policy.json (commit fe0d7dea), list per_ds.wd2",
        license="MIT",
        notes=(
            "id 0 `unlabeled` is void; the other entries of supercategory void (overlay, outofroi, "
            "static, dynamic) are labels. category = the policy's supercategory."
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


# --- Mapillary Vistas ---------------------------------------------------------------


def vistas_labels(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Return Vistas labels (id = position) and the id of ``void--unlabeled``."""
    labels = []
    void_id = None
    for position, entry in enumerate(entries):
        if "id" in entry and entry["id"] != position:
            raise BuildError(
                f"Vistas entry {entry['name']!r} has id {entry['id']} at position {position}"
            )
        if entry["name"] == "void--unlabeled":
            void_id = position
            continue
        synonyms = [entry["readable"]] if entry["readable"] != entry["name"] else None
        category = entry["name"].rsplit("--", 1)[0]
        labels.append(
            make_label(
                position,
                entry["name"],
                color=entry["color"],
                category=category,
                synonyms=synonyms,
            )
        )
    if void_id is None:
        raise BuildError("no `void--unlabeled` entry in the Vistas list")
    return labels, void_id


def build_vistas(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """Mapillary Vistas v1.2 (from the v1.1 config, same list) and the reconstructed v2.0."""
    v12_entries = read_json(facts / "mapillary_vistas" / "config_v1.1_public.json")[
        "labels"
    ]
    expect_count("config_v1.1_public.json", v12_entries, 66)
    v12_labels, v12_void = vistas_labels(v12_entries)
    v12 = Space(
        name="vistas-v1.2",
        origin=(
            "Mapillary config.json v1.1 as mseg-dataset/mseg-api "
            "tests/test_data/mapillary-vistas-dataset_public_v1.1_config.json (commit 2bd00ae8); "
            "its 66 labels equal the v1.2 list in facebookresearch/Mask2Former "
            "mask2former/data/datasets/register_mapillary_vistas.py (commit 9b0651c6)"
        ),
        license="Vistas research license; the config file is MSeg test data (CC BY 4.0)",
        notes=(
            "id = position in config.json. `void--unlabeled` (not evaluated) is void; "
            "`void--car-mount` and `void--ego-vehicle` are evaluated, so they are labels. "
            "category = the name up to its last `--`; synonyms = the readable name."
        ),
        exhaustive=True,
        void=(v12_void,),
        labels=tuple(v12_labels),
    )

    v20_entries = read_json(
        facts / "mapillary_vistas" / "config_v2.0_labels_reconstructed.json"
    )["labels"]
    expect_count("config_v2.0_labels_reconstructed.json", v20_entries, 124)
    v20_labels, v20_void = vistas_labels(v20_entries)
    color_counts = Counter(tuple(label["color"]) for label in v20_labels)
    shared = [count for count in color_counts.values() if count > 1]
    v20 = Space(
        name="vistas-v2.0",
        origin=(
            "reconstructed: names and colors from openvinotoolkit/datumaro "
            "src/datumaro/plugins/data_formats/mapillary_vistas/format.py (MapillaryVistasLabelMap_V20, "
            "commit 3d533b9c); readable names and label order from MMSegmentation 1.x "
            "mmseg/utils/class_names.py (mapillary_v2_classes)"
        ),
        license="datumaro MIT; MMSegmentation Apache-2.0; the dataset has the Vistas research license",
        notes=(
            f"id = position (as in config_v2.0.json, not itself available). `void--unlabeled` is void; "
            f"the other void--* entries are labels. Colors are not unique: {sum(shared)} labels share "
            f"{len(shared)} colors (e.g. all traffic-light--* are [250, 170, 30]), so decode id PNGs, "
            "not color PNGs. Readable `Lane Marking (only) - Test` is spelled as in the sources."
        ),
        exhaustive=True,
        void=(v20_void,),
        labels=tuple(v20_labels),
    )
    return [v12, v20], []


# --- COCO, ADE20K, PASCAL -----------------------------------------------------------


def build_coco(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """COCO panoptic (133 categories) and COCO detection (its 80 things)."""
    panoptic = read_json(facts / "coco" / "panoptic_coco_categories.json")
    expect_count("panoptic_coco_categories.json", panoptic, 133)
    origin = "cocodataset/panopticapi panoptic_coco_categories.json (commit 7bb46555)"
    license_ = "panopticapi: BSD-style (A. Kirillov); COCO annotations: CC BY 4.0"
    panoptic_space = Space(
        name="coco-panoptic",
        origin=origin,
        license=license_,
        notes=(
            "80 things (ids 1..90) and 53 stuff categories (ids 92..200, including the -merged "
            "classes). Segment id 0 in panoptic PNGs is unlabeled, so 0 is void. "
            "category = supercategory."
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

    detection = read_json(facts / "coco" / "coco_detection_categories.json")[
        "categories"
    ]
    expect_count("coco_detection_categories.json", detection, 80)
    things = {e["id"]: e for e in panoptic if e["isthing"] == 1}
    for entry in detection:
        thing = things.get(entry["id"])
        if thing is None or (thing["name"], thing["supercategory"]) != (
            entry["name"],
            entry["supercategory"],
        ):
            raise BuildError(
                f"COCO detection category {entry} differs from the panoptic thing {thing}"
            )
    detection_space = Space(
        name="coco-detection",
        origin=origin + ", the 80 entries with isthing=1",
        license=license_,
        notes=(
            "category_id values 1..90 with 10 unused; no id means unlabeled, so void is empty. "
            "category = supercategory."
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
    """Split an objectInfo150.csv name into synonyms, using the multi-word table where needed."""
    official = ADE20K_MULTIWORD_SYNONYMS.get(label_id)
    if official is None:
        return csv_name.split(";")
    synonyms = [synonym.strip() for synonym in official.split(",")]
    encoded = ";".join(synonym.replace(" ", ";") for synonym in synonyms)
    if encoded != csv_name:
        raise BuildError(
            f"ADE20K id {label_id}: {official!r} does not encode to the CSV name {csv_name!r}"
        )
    return synonyms


def build_ade20k(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """ADE20K SceneParsing 150 classes."""
    entries = read_json(facts / "ade20k" / "ade20k_sceneparsing150.json")["labels"]
    expect_count("ade20k_sceneparsing150.json", entries, 150)
    with (facts / "ade20k" / "objectInfo150.csv").open(
        encoding="utf-8", newline=""
    ) as file:
        csv_names = {int(row["Idx"]): row["Name"] for row in csv.DictReader(file)}
    labels = []
    for entry in entries:
        if csv_names.get(entry["id"]) != entry["name"]:
            raise BuildError(
                f"ADE20K id {entry['id']}: JSON name {entry['name']!r} differs from the CSV"
            )
        first, *rest = ade20k_synonyms(entry["id"], entry["name"])
        labels.append(
            make_label(entry["id"], first, color=entry["color"], synonyms=rest)
        )
    space = Space(
        name="ade20k-150",
        origin=(
            "CSAILVision/sceneparsing objectInfo150.csv (commit e2022296) and "
            "visualizationCode/color150.mat; synonym splits of multi-word names from "
            "objectInfo150.txt (commit 4ce20bd9)"
        ),
        license="BSD 3-Clause",
        notes=(
            "PNG value 0 is `other` (not one of the 150 classes) and every benchmark ignores it, "
            "so 0 is void. name = first synonym, synonyms = the rest; objectInfo150.csv writes "
            "spaces as `;`, so multi-word synonyms were split as in objectInfo150.txt."
        ),
        exhaustive=True,
        void=(0,),
        labels=tuple(labels),
    )
    return [space], []


def build_pascal(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """PASCAL VOC 2012, PASCAL-Context 59 (+background) and 459, with the 459 -> 59 reduction."""
    voc = read_json(facts / "pascal_voc" / "voc2012_classes.json")
    expect_count("voc2012_classes.json", voc["labels"], 21)
    voc_space = Space(
        name="pascal-voc",
        origin=(
            "PASCAL VOC 2012 devkit class order (checked against mseg-dataset/mseg-api "
            "mseg/dataset_lists/voc2012/voc2012_names.txt); colors from the standard VOC colormap"
        ),
        license="PASCAL VOC data terms",
        notes=(
            f"id 0 `background` is a label. {voc['ignore_index']} (object boundaries and difficult "
            f"regions, color {voc['ignore_color']}) is void."
        ),
        exhaustive=True,
        void=(voc["ignore_index"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"]) for e in voc["labels"]
        ),
    )

    context_59 = read_json(facts / "pascal_context" / "pascal_context_59.json")[
        "labels"
    ]
    expect_count("pascal_context_59.json", context_59, 60)
    context_59_space = Space(
        name="pascal-context-59",
        origin=(
            "mseg-dataset/mseg-api mseg/dataset_lists/pascal-context-60/pascal-context-60_names.txt, "
            "reordered to 0 = background, then the 59 classes alphabetically"
        ),
        license="CC BY 4.0 (mseg-api data)",
        notes=(
            "id 0 `background` is a label: every PASCAL-Context class outside the 59, and unlabeled "
            "pixels. Many trainers drop it (reduce_zero_label), leaving 59 classes; void is empty."
        ),
        exhaustive=True,
        void=(),
        labels=tuple(make_label(e["id"], e["name"]) for e in context_59),
    )

    context_459 = read_json(facts / "pascal_context" / "pascal_context_459_full.json")[
        "labels"
    ]
    expect_count("pascal_context_459_full.json", context_459, 460)
    void_entry = one_by(context_459, "name", "unlabeled")
    kept = [e for e in context_459 if e is not void_entry]
    context_459_space = Space(
        name="pascal-context-459",
        origin=(
            "mseg-dataset/mseg-api mseg/dataset_lists/pascal-context-460/pascal-context-460_names.txt "
            "and mseg/class_remapping_files/pascal-context-460_to_pascal-context-60.tsv"
        ),
        license="CC BY 4.0 (mseg-api data)",
        notes="id 0 `unlabeled` is void; ids 1..459 are the PASCAL-Context labels in labels.txt order.",
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(make_label(e["id"], e["name"]) for e in kept),
    )
    reduction = Reduction(
        "pascal-context-459",
        "pascal-context-59",
        tuple((e["name"], e["reduces_to"]) for e in sorted(kept, key=_by_id)),
    )
    return [voc_space, context_59_space, context_459_space], [reduction]


# --- Driving datasets with their own hierarchies ------------------------------------


def idd_level_name(members: list[dict[str, Any]]) -> str:
    """Name a merged IDD class by its member labels, joined with ' + ' in id order."""
    return " + ".join(member["name"] for member in sorted(members, key=_by_id))


def build_idd(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """IDD raw ids and its level-3, level-2 and level-1 classes, with the three reductions."""
    entries = read_json(facts / "idd" / "idd_anue_labels.json")["labels"]
    expect_count("idd_anue_labels.json", entries, 40)
    void_entries = [one_by(entries, "name", name) for name in IDD_VOID_NAMES]
    for entry in void_entries:
        if entry["level3Id"] != 255 or entry["level2IdName"] != "void":
            raise BuildError(
                f"IDD entry {entry['name']!r} was expected to be void: {entry}"
            )
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
            "Raw ids 0..39. unlabeled, ego vehicle, rectification border and out of roi "
            "(level3Id 255, level2IdName void) are void; `license plate` (level3Id 255, "
            "level2IdName vehicle) is a label that the level reductions drop. category = level2IdName."
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
    for level, expected in (("level3Id", 26), ("level2Id", 16), ("level1Id", 7)):
        groups: dict[int, list[dict[str, Any]]] = {}
        for entry in labels:
            if entry[level] != 255:
                groups.setdefault(entry[level], []).append(entry)
        if sorted(groups) != list(range(expected)):
            raise BuildError(
                f"IDD {level}: expected ids 0..{expected - 1}, found {sorted(groups)}"
            )
        if level == "level1Id":
            names = dict(enumerate(IDD_LEVEL1_NAMES))
            notes = (
                "The 7 level-1 classes. anue_labels.py gives no level-1 names; these are the groups "
                "of the IDD paper's label hierarchy (Varma et al., WACV 2019). 255 is void."
            )
        else:
            names = {
                level_id: idd_level_name(members)
                for level_id, members in groups.items()
            }
            notes = (
                f"The {expected} {level[:6]} classes; 255 is void. anue_labels.py gives no names at this "
                "level (level2IdName is neither unique per level2Id nor distinct across them), so a class "
                "with one label takes its name and a merged class joins its labels' names with ' + ' in "
                "id order."
            )
        space_name = f"idd-{level[:6]}"
        spaces.append(
            Space(
                name=space_name,
                origin=origin + f", field {level}",
                license=license_,
                notes=notes,
                exhaustive=True,
                void=(255,),
                labels=tuple(
                    make_label(level_id, names[level_id]) for level_id in sorted(groups)
                ),
            )
        )
        reductions.append(
            Reduction(
                "idd",
                space_name,
                tuple(
                    (e["name"], names[e[level]])
                    for e in sorted(labels, key=_by_id)
                    if e[level] != 255
                ),
            )
        )
    return spaces, reductions


def build_bdd100k(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """BDD100K semantic segmentation: the 19 trainIds of its masks and the 41 raw ids."""
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
            "The semantic-segmentation masks store the 19 trainIds 0..18 (Cityscapes-compatible); "
            "255 is void. Names, categories and colors are those of the label with that trainId "
            "(label.py colors; sem_seg.toml swaps wall and fence)."
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
            "All 41 ids of label.py; id 0 `unlabeled` is void, the other void-category entries "
            "are labels. The released masks use trainIds (space bdd100k)."
        ),
        exhaustive=True,
        void=(void_entry["id"],),
        labels=tuple(
            make_label(e["id"], e["name"], color=e["color"], category=e["category"])
            for e in labels
        ),
    )
    reduction = Reduction(
        "bdd100k-full",
        "bdd100k",
        tuple((e["name"], e["name"]) for e in sorted(trained, key=_by_id)),
    )
    return [train_space, full_space], [reduction]


# --- Detection datasets -------------------------------------------------------------


def build_gtsdb(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """German Traffic Sign Detection Benchmark: 43 ClassIds."""
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
            "ClassIds 0..42 (the GTSRB classes). category = the detection-track super-class "
            "(prohibitory, danger, mandatory, other). Boxes have no void id."
        ),
        exhaustive=True,
        void=(),
        labels=tuple(
            make_label(e["id"], e["name"], category=e["category"]) for e in entries
        ),
    )
    return [space], []


def openimages_edges(node: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """Return every (parent MID, child MID) edge of ``kind`` in the hierarchy, with repeats."""
    edges = []
    stack = [node]
    while stack:
        current = stack.pop()
        for kind_ in ("Subcategory", "Part"):
            for child in current.get(kind_, []):
                if kind_ == kind:
                    edges.append((current["LabelName"], child["LabelName"]))
                stack.append(child)
    return edges


def build_openimages(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """Open Images boxable classes with the Subcategory hierarchy as parents."""
    with (facts / "openimages" / "class-descriptions-boxable.csv").open(
        encoding="utf-8", newline=""
    ) as file:
        rows = [row for row in csv.reader(file)]
    expect_count("class-descriptions-boxable.csv", rows, 601)
    names = {mid: name for mid, name in rows}
    duplicates = sorted(
        name for name, count in Counter(names.values()).items() if count > 1
    )
    if len(names) != len(rows) or duplicates:
        raise BuildError(
            f"Open Images MIDs or display names are not unique: {duplicates}"
        )

    hierarchy = read_json(facts / "openimages" / "bbox_labels_600_hierarchy.json")
    if hierarchy["LabelName"] != OPENIMAGES_ROOT:
        raise BuildError(
            f"expected hierarchy root {OPENIMAGES_ROOT}, found {hierarchy['LabelName']}"
        )
    subcategory_edges = set(openimages_edges(hierarchy, "Subcategory"))
    part_edges = openimages_edges(hierarchy, "Part")
    nodes = {mid for edge in subcategory_edges | set(part_edges) for mid in edge} - {
        OPENIMAGES_ROOT
    }
    if nodes != set(names):
        raise BuildError(
            f"hierarchy nodes and boxable classes differ: {sorted(nodes ^ set(names))[:10]}"
        )

    parents: dict[str, set[str]] = {mid: set() for mid in names}
    for parent, child in subcategory_edges:
        if parent != OPENIMAGES_ROOT:
            parents[child].add(names[parent])
    multi_parent = sum(1 for found in parents.values() if len(found) > 1)
    space = Space(
        name="openimages",
        origin=(
            "Open Images V4+ class-descriptions-boxable.csv (copy in jaza10/google-object-detection, "
            "commit fe08d113) and bbox_labels_600_hierarchy.json (copy in jordyo40/QHDT-Sensor-System, "
            "commit ee9a8405)"
        ),
        license="Open Images annotations: CC BY 4.0",
        notes=(
            "id = row of class-descriptions-boxable.csv (0..600), code = MID. parents follow "
            "Subcategory edges only; the root /m/0bl9f (Entity) is not a label and never a parent, "
            f"and the {len(set(part_edges))} distinct Part edges ({len(part_edges)} in the file) are "
            f"left out. {multi_parent} labels have more than one parent. Images are annotated only for "
            "verified classes, so the space is not exhaustive."
        ),
        exhaustive=False,
        void=(),
        labels=tuple(
            make_label(index, name, code=mid, parents=sorted(parents[mid]))
            for index, (mid, name) in enumerate(rows)
        ),
    )
    return [space], []


def _by_id(entry: dict[str, Any]) -> int:
    return entry["id"]


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


# --- Validation and output ----------------------------------------------------------


def validate_space(space: Space) -> None:
    """Raise `BuildError` unless ``space`` is a well-formed label space of the expected size."""
    where = f"label space {space.name!r}"
    if not SPACE_NAME.match(space.name):
        raise BuildError(f"{where}: name must match {SPACE_NAME.pattern}")
    ids = [label["id"] for label in space.labels]
    names = [label["name"] for label in space.labels]
    for kind, values in (
        ("ids", ids),
        ("names", names),
        ("void ids", list(space.void)),
    ):
        repeated = sorted(
            value for value, count in Counter(values).items() if count > 1
        )
        if repeated:
            raise BuildError(f"{where}: {kind} must be unique, repeated: {repeated}")
    blank = [name for name in names if not name or name != name.strip()]
    if blank:
        raise BuildError(
            f"{where}: names must be non-empty without outer whitespace: {blank}"
        )
    overlap = sorted(set(ids) & set(space.void))
    if overlap:
        raise BuildError(f"{where}: void ids {overlap} are also label ids")
    for label in space.labels:
        color = label.get("color")
        if color is not None and (
            len(color) != 3 or not all(0 <= value <= 255 for value in color)
        ):
            raise BuildError(
                f"{where}: label {label['name']!r} has color {color}, expected [r, g, b] in 0..255"
            )
        unknown = sorted(set(label.get("parents", ())) - set(names))
        if unknown or label["name"] in label.get("parents", ()):
            raise BuildError(
                f"{where}: label {label['name']!r} has unknown or own parents: {unknown}"
            )
    check_acyclic(space)
    expected = EXPECTED_COUNTS.get(space.name)
    found = (len(space.labels), len(space.void))
    if expected != found:
        raise BuildError(
            f"{where}: expected (labels, void ids) = {expected}, found {found}"
        )


def check_acyclic(space: Space) -> None:
    """Raise `BuildError` if the parents of ``space`` form a cycle.

    Labels are removed in topological order (Kahn's algorithm): a label goes once all
    its parents have gone. Whatever cannot be removed lies on or below a cycle.
    """
    parents = {label["name"]: set(label.get("parents", ())) for label in space.labels}
    remaining = dict(parents)
    while True:
        free = [
            name for name, names in remaining.items() if not names & remaining.keys()
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
    """Raise `BuildError` unless every row names a label of the source and the target space."""
    where = f"reduction {reduction.filename}"
    for end in (reduction.source, reduction.target):
        if end not in spaces:
            raise BuildError(f"{where}: no label space named {end!r}")
    source_names = {label["name"] for label in spaces[reduction.source].labels}
    target_names = {label["name"] for label in spaces[reduction.target].labels}
    sources = [source for source, _ in reduction.rows]
    repeated = sorted(name for name, count in Counter(sources).items() if count > 1)
    if repeated:
        raise BuildError(f"{where}: source labels listed twice: {repeated}")
    unknown_sources = sorted(set(sources) - source_names)
    unknown_targets = sorted({target for _, target in reduction.rows} - target_names)
    if unknown_sources or unknown_targets:
        raise BuildError(
            f"{where}: unknown source labels {unknown_sources}, unknown target labels {unknown_targets}"
        )


def space_text(space: Space) -> str:
    return json.dumps(space.to_json(), indent=1, ensure_ascii=False) + "\n"


def reduction_text(reduction: Reduction) -> list[list[str]]:
    return [["source", "target"], *[list(row) for row in reduction.rows]]


def write_outputs(
    spaces: list[Space], reductions: list[Reduction], output: Path
) -> None:
    """Write every space and reduction, then read each file back and compare."""
    space_dir = output / "label_spaces"
    reduction_dir = output / "reductions"
    space_dir.mkdir(parents=True, exist_ok=True)
    reduction_dir.mkdir(parents=True, exist_ok=True)
    for space in spaces:
        path = space_dir / f"{space.name}.json"
        path.write_text(space_text(space), encoding="utf-8")
        if read_json(path) != space.to_json():
            raise BuildError(f"{path} does not read back as written")
    for reduction in reductions:
        path = reduction_dir / reduction.filename
        with path.open("w", encoding="utf-8", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(reduction_text(reduction))
        with path.open(encoding="utf-8", newline="") as file:
            if list(csv.reader(file)) != reduction_text(reduction):
                raise BuildError(f"{path} does not read back as written")


def build(facts: Path) -> tuple[list[Space], list[Reduction]]:
    """Build and validate every label space and reduction from the fact files in ``facts``."""
    spaces: list[Space] = []
    reductions: list[Reduction] = []
    for builder in BUILDERS:
        built_spaces, built_reductions = builder(facts)
        spaces.extend(built_spaces)
        reductions.extend(built_reductions)
    by_name = {space.name: space for space in spaces}
    if len(by_name) != len(spaces) or set(by_name) != set(EXPECTED_COUNTS):
        built = sorted(space.name for space in spaces)
        raise BuildError(
            f"built spaces {built} differ from the expected {sorted(EXPECTED_COUNTS)}"
        )
    for space in spaces:
        validate_space(space)
    for reduction in reductions:
        validate_reduction(reduction, by_name)
    return spaces, reductions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "facts",
        nargs="?",
        type=Path,
        default=DEFAULT_FACTS,
        help="folder of label-space fact files (default: ../shared/data/label_spaces from the repo root)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="folder to write into (default: unitax/data)",
    )
    args = parser.parse_args(argv)
    spaces, reductions = build(args.facts)
    write_outputs(spaces, reductions, args.output)
    n_labels = sum(len(space.labels) for space in spaces)
    print(
        f"wrote {len(spaces)} label spaces ({n_labels} labels) and {len(reductions)} reductions to {args.output}"
    )


if __name__ == "__main__":
    main()
