"""A tiny export for the unitax_train tests: two datasets, 32x32 images.

``fine`` labels leaves (road, sidewalk, car, bus, sky); ``coarse`` labels
the inner nodes ``ground`` and ``vehicle`` (and ``sky``); ``tags`` has
image-level tags only. Every image shows the same layout (sky on top,
vehicles in the middle, ground below) in per-leaf colours, so a tiny
network can learn it. torch is not imported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import unitax as ux
from unitax.annotations import Dataset, Mask, Sample, Tag
from unitax.export import Export, export, read_export

LEAVES = ("road", "sidewalk", "car", "bus", "sky")
COLOURS = {
    "road": (80, 80, 90),
    "sidewalk": (190, 180, 170),
    "car": (40, 70, 170),
    "bus": (220, 200, 60),
    "sky": (120, 170, 230),
}
SHAPE = (32, 32)


def taxonomy() -> ux.Taxonomy:
    return ux.Taxonomy(
        [
            ("ground", "road"),
            ("ground", "sidewalk"),
            ("vehicle", "car"),
            ("vehicle", "bus"),
        ],
        nodes=["sky"],
    )


def scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An RGB image and its leaf map (indices into LEAVES)."""
    rng = np.random.default_rng(seed)
    leaves = np.zeros(SHAPE, dtype=np.uint8)
    split = 12 + int(rng.integers(-3, 4))
    leaves[:10] = LEAVES.index("sky")
    leaves[10:20, :split] = LEAVES.index("car")
    leaves[10:20, split:] = LEAVES.index("bus")
    leaves[20:, : 32 - split] = LEAVES.index("road")
    leaves[20:, 32 - split :] = LEAVES.index("sidewalk")
    colours = np.array([COLOURS[name] for name in LEAVES], dtype=np.float64)
    image = colours[leaves] + rng.normal(0, 6, (*SHAPE, 3))
    return np.clip(image, 0, 255).astype(np.uint8), leaves


def build_export(root: Path) -> Export:
    tax = taxonomy()
    fine = ux.LabelSpace.from_names("fine", list(LEAVES), void=[255])
    coarse = ux.LabelSpace.from_names(
        "coarse", ["ground", "vehicle", "sky"], void=[255]
    )
    tags = ux.LabelSpace.from_names("tags", ["car", "bus"])
    maps = {
        "fine": ux.LabelMap(fine, tax, dict(enumerate(LEAVES))),
        "coarse": ux.LabelMap(coarse, tax, {0: "ground", 1: "vehicle", 2: "sky"}),
        "tags": ux.LabelMap(tags, tax, {0: "car", 1: "bus"}),
    }
    to_coarse = np.array([0, 0, 1, 1, 2], dtype=np.uint8)
    samples: dict[str, list[Sample]] = {"fine": [], "coarse": [], "tags": []}
    (root / "images").mkdir(parents=True)
    for index in range(9):
        name = ("fine", "coarse", "tags")[index % 3]
        image, leaves = scene(index)
        path = root / "images" / f"{index}.png"
        Image.fromarray(image).save(path)
        if name == "fine":
            annotations: tuple = (Mask(leaves.copy()),)
        elif name == "coarse":
            mask = to_coarse[leaves]
            mask[:, :2] = 255  # a void border
            annotations = (Mask(mask),)
        else:
            annotations = (Tag(0, positive=True), Tag(1, positive=False))
        split = "val" if index >= 6 else "train"
        samples[name].append(
            Sample(f"s{index}", path, SHAPE, annotations, source=name, split=split)
        )
    spaces = {"fine": fine, "coarse": coarse, "tags": tags}
    datasets = {
        name: Dataset(spaces[name], tuple(items)) for name, items in samples.items()
    }
    export(datasets, maps, tax, root / "export", engine="sequential")
    return read_export(root / "export")


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    return build_export(tmp_path_factory.mktemp("tiny"))
