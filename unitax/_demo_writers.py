"""Writing each demo dataset in its own format, its ground truth and the config.

One writer a format (Cityscapes ``labelIds``, Vistas v1.2, GTSDB, Open Images
image-level labels) saves the images and what that dataset would have
annotated, and `_save_truth` the fine ground truth of every scene, with fixed
zip timestamps; `_write_config` writes the export configuration and the
rules relating the Open Images tags to IV2018. Private to `unitax.demo`,
which documents the layout.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from numpy.typing import NDArray
from PIL import Image

from unitax._demo_scenes import _Canvas
from unitax._demo_world import _World
from unitax.annotations import Box, Dataset, Sample
from unitax.builtin import builtin_label_space
from unitax.formats.gtsdb import write_gtsdb
from unitax.rules import IsA, Same, write_rules

if TYPE_CHECKING:
    from unitax.demo import Demo

_V = "vistas-v1.2/"
_OPEN_IMAGES_RULES = (
    Same(labels=("openimages/Car", _V + "object--vehicle--car"), reason="car"),
    Same(labels=("openimages/Bus", _V + "object--vehicle--bus"), reason="bus"),
    Same(labels=("openimages/Truck", _V + "object--vehicle--truck"), reason="truck"),
    Same(
        labels=("openimages/Bicycle", _V + "object--vehicle--bicycle"), reason="bicycle"
    ),
    Same(
        labels=("openimages/Motorcycle", _V + "object--vehicle--motorcycle"),
        reason="motorcycle",
    ),
    Same(
        labels=("openimages/Traffic light", _V + "object--traffic-light"),
        reason="traffic light",
    ),
    Same(labels=("openimages/Traffic sign", "traffic sign"), reason="traffic sign"),
    Same(labels=("openimages/Stop sign", "gtsdb/stop"), reason="a stop sign"),
    Same(
        labels=("openimages/Building", _V + "construction--structure--building"),
        reason="building",
    ),
    IsA(child=_V + "human--person", parent="openimages/Person", reason="a person"),
    IsA(
        child="rider",
        parent="openimages/Person",
        reason="Open Images boxes riders as persons",
    ),
)
"""Rules relating the demo's Open Images classes to the IV2018 taxonomy."""

_Scenes = list[tuple[int, str, _Canvas, NDArray[np.uint8], np.random.Generator]]


def _save_truth(
    demo: Demo,
    dataset: str,
    key: str,
    canvas: _Canvas,
    unlabeled: NDArray[np.bool_] | None = None,
) -> None:
    """Write the ``.npz`` with fixed zip timestamps, so the bytes are reproducible."""
    path = demo.ground_truth / dataset / f"{key}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    if unlabeled is None:
        unlabeled = np.zeros(canvas.shape, dtype=bool)
    arrays = {
        "leaves": canvas.leaves,
        "objects": canvas.objects,
        "unlabeled": unlabeled,
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _save(path: Path, array: NDArray[Any], **options: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)


def _borders(canvas: _Canvas, rng: np.random.Generator) -> NDArray[np.bool_]:
    """About half of the pixels where an object meets something else."""
    leaves, objects = canvas.leaves, canvas.objects
    edge = np.zeros(canvas.shape, dtype=bool)
    for axis in (0, 1):
        differs = np.diff(leaves, axis=axis) != 0
        thing = (np.diff(objects, axis=axis) != 0) & differs
        lower = [slice(None), slice(None)]
        upper = [slice(None), slice(None)]
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        edge[tuple(lower)] |= thing & (objects[tuple(lower)] > 0)
        edge[tuple(upper)] |= thing & (objects[tuple(upper)] > 0)
    return edge & (rng.random(canvas.shape) < 0.5)


def _write_cityscapes(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = world.spaces["cityscapes"]
    table = world.project("cityscapes", fallback=space.by_name("static").id)
    root = demo.datasets[name]
    city = "night" if name == "heldout" else "synth"
    for index, split, canvas, image, rng in scenes:
        base = f"{city}_{index:06d}_000019"
        folder = f"{split}/{city}"
        unlabeled = _borders(canvas, rng)
        ids = np.where(unlabeled, 0, table[canvas.leaves]).astype(np.uint8)
        _save(root / "leftImg8bit" / folder / f"{base}_leftImg8bit.png", image)
        _save(root / "gtFine" / folder / f"{base}_gtFine_labelIds.png", ids)
        _save_truth(demo, name, f"{folder}/{base}", canvas, unlabeled)


def _write_vistas(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = world.spaces["vistas-v1.2"]
    table = world.project("vistas-v1.2")
    if (table < 0).any():
        raise AssertionError("every IV2018 leaf should be under a Vistas label")
    root = demo.datasets[name]
    labels = sorted([*space.labels], key=lambda label: label.id)
    config: list[dict[str, Any]] = [
        {
            "name": label.name,
            "readable": label.synonyms[0] if label.synonyms else label.name,
            "color": list(label.color or (0, 0, 0)),
            "instances": label.category in ("human", "object--vehicle"),
            "evaluate": True,
        }
        for label in labels
    ]
    config.append(
        {
            "name": "void--unlabeled",
            "readable": "Unlabeled",
            "color": [0, 0, 0],
            "instances": False,
            "evaluate": False,
        }
    )
    root.mkdir(parents=True)
    (root / "config_v1.2.json").write_text(
        json.dumps({"labels": config}, indent=1) + "\n", encoding="utf-8"
    )
    palette = [c for entry in config for c in entry["color"]]
    for index, split, canvas, image, _ in scenes:
        stem = f"synth{index:05d}"
        _save(root / split / "images" / f"{stem}.jpg", image, quality=90)
        labels_png = Image.fromarray(table[canvas.leaves].astype(np.uint8))
        labels_png.putpalette(palette)  # mode L -> P, the values stay the ids
        path = root / split / "v1.2" / "labels" / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        labels_png.save(path)
        _save_truth(demo, name, f"{split}/{stem}", canvas)


def _write_gtsdb(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = builtin_label_space("gtsdb")
    root = demo.datasets[name]
    samples = []
    for index, split, canvas, image, _ in scenes:
        key = f"{split}/{index:05d}"
        path = root / f"{key}.ppm"
        _save(path, image, format="PPM")
        boxes = []
        for obj in range(1, canvas.count + 1):
            pixels = canvas.objects == obj
            leaf = int(canvas.leaves[pixels][0]) if pixels.any() else -1
            label = _gtsdb_label(world, leaf)
            if label is None:
                continue
            rows, cols = np.nonzero(pixels)
            xyxy = (
                float(cols.min()),
                float(rows.min()),
                float(cols.max() + 1),
                float(rows.max() + 1),
            )
            boxes.append(Box(xyxy, label=label))
        samples.append(Sample(key, path, canvas.shape, tuple(boxes), space.name, split))
        _save_truth(demo, name, key, canvas)
    write_gtsdb(Dataset(space, tuple(samples)), root)


def _gtsdb_label(world: _World, leaf: int) -> int | None:
    for cls in range(43):
        if world.leaf[f"gtsdb {cls}"] == leaf:
            return cls
    return None


def _write_openimages(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = builtin_label_space("openimages")
    mids = {label.name: label.code for label in space.labels}
    tags = world.tags()
    root = demo.datasets[name]
    rows: dict[str, list[str]] = {}
    for index, split, canvas, image, rng in scenes:
        digest = hashlib.sha256(f"unitax-demo/{seed}/{index}".encode()).hexdigest()
        image_id = digest[:16]
        _save(root / "images" / split / f"{image_id}.jpg", image, quality=90)
        present = 0
        for leaf in np.unique(canvas.leaves):
            present |= 1 << int(leaf)
        verified = rng.random(len(tags)) < 0.7
        if not verified.any():
            verified[0] = True
        lines = rows.setdefault(split, [])
        for (tag, bits), check in zip(tags.items(), verified, strict=True):
            if check:
                confidence = 1 if present & bits else 0
                lines.append(f"{image_id},verification,{mids[tag]},{confidence}")
        _save_truth(demo, name, image_id, canvas)
    folder = root / "annotations"
    folder.mkdir(parents=True)
    for split, lines in rows.items():
        prefix = "oidv6-" if split == "train" else ""
        path = folder / f"{prefix}{split}-annotations-human-imagelabels.csv"
        body = "".join(f"{line}\n" for line in lines)
        path.write_text(
            f"ImageID,Source,LabelName,Confidence\n{body}", encoding="utf-8"
        )


def _write_config(demo: Demo) -> None:
    dense = {"overlap": "specific", "outside": "ignore"}
    datasets: list[dict[str, Any]] = [
        {
            "name": "cityscapes",
            "format": "cityscapes",
            "root": "cityscapes",
            "options": {"source": "labelIds"},
            "policy": dict(dense),
        },
        {
            "name": "vistas",
            "format": "vistas",
            "root": "vistas",
            "options": {"version": "v1.2"},
            "policy": dict(dense),
        },
        {
            "name": "gtsdb",
            "format": "gtsdb",
            "root": "gtsdb",
            "options": {},
            "policy": {"boxes": "fill", "overlap": "specific", "outside": "complement"},
        },
        {
            "name": "openimages",
            "format": "open_images",
            "root": "openimages",
            "options": {},
            "policy": {},
        },
        {
            "name": "heldout",
            "format": "cityscapes",
            "root": "heldout",
            "options": {"source": "labelIds"},
            "policy": dict(dense),
        },
    ]
    write_rules(
        _OPEN_IMAGES_RULES,
        demo.root / "openimages_rules.yaml",
        description="How the demo's Open Images tags relate to the IV2018 nodes.",
    )
    config = {
        "schema_version": 1,
        "rules": ["iv2018", "openimages_rules.yaml"],
        "label_spaces": ["openimages"],
        "datasets": datasets,
    }
    header = (
        "# unitax demo: Cityscapes + Vistas v1.2 + GTSDB under the IV2018 rules, plus\n"
        "# Open Images image-level tags. 'heldout' is another domain: evaluate on it,\n"
        "# do not train on it. Roots are relative to this file.\n"
    )
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
    demo.config.write_text(header + text, encoding="utf-8")
