"""HTSS in miniature: single-dataset vs heterogeneous training on the demo.

Heterogeneous training (Meletis & Dubbelman, arXiv 1803.05675, 1903.03462)
claims three things; this script measures them on the `unitax demo`
collection, whose fine ground truth (108 IV2018 leaves) is known:

1. **seen datasets**: mIoU on the validation images of Cityscapes, Vistas
   and GTSDB, each in its own label space (leaf probabilities summed per
   dataset label);
2. **generalisation**: mIoU on ``heldout`` (another rendering domain,
   Cityscapes labels), which no model trains on;
3. **knowledgeability**: leaves recognised, i.e. with IoU > 0.5 against the
   fine ground truth over all validation images (of the leaves present
   there); also the mean IoU over those leaves ("fine mIoU").

Runs (same backbone, batch size and iterations):

* ``cityscapes``: Cityscapes only, flat head, marginal loss;
* ``hetero-flat``: 1 Cityscapes + 2 Vistas + 1 GTSDB per batch (IV2018),
  flat head over the leaves, marginal loss;
* ``hetero-hier``: the same data, IV2018's hierarchical head and per-path
  loss, GTSDB gated to where a sign front is predicted.

The export leaves out Open Images (its label space adds some 600 leaves,
which would make the flat head several times slower); image-level tags are
covered by the tests and the notebook. About 3-6 minutes on 2 CPU cores
with the defaults::

    python benchmarks/bench_htss.py [--samples 24] [--iterations 300] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import torch
except ImportError:
    print("bench_htss needs torch: pip install torch==2.13.0")
    sys.exit(0)

import numpy as np
import yaml

import unitax as ux
from unitax.config import ExportConfig, run_export, unify_config
from unitax.demo import Demo, make_demo, read_ground_truth
from unitax.export import Export, read_export
from unitax.taxonomy import LabelMap
from unitax_train.data import Crop, ManifestDataset
from unitax_train.evaluate import class_of_sets, confusion, iou, label_matrix, project
from unitax_train.model import FCN
from unitax_train.train import TrainConfig, build_model, fit

TRAIN = ("train", "training")
SEEN = ("cityscapes", "vistas", "gtsdb")
SPACE = {
    "cityscapes": "cityscapes",
    "vistas": "vistas-v1.2",
    "gtsdb": "gtsdb",
    "heldout": "cityscapes",
}


def export_demo(
    root: Path, *, samples: int, shape: tuple[int, int]
) -> tuple[Demo, Export, dict[str, LabelMap]]:
    """make_demo, then run_export of its configuration without Open Images."""
    demo = make_demo(root / "demo", samples=samples, shape=shape, seed=0)
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    data["datasets"] = [d for d in data["datasets"] if d["name"] != "openimages"]
    data["label_spaces"] = []
    data["rules"] = [rule for rule in data["rules"] if "openimages" not in rule]
    config_path = demo.root / "export-no-openimages.yaml"
    config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        run_export(config_path, root / "export", engine="sequential")
        _, taxonomy, maps = unify_config(
            ExportConfig.model_validate(_rooted(data, demo.root))
        )
    except ux.errors.FormatError:  # readers not registered in unitax.formats yet
        taxonomy, maps = _export_directly(demo, data, root / "export")
    exported = read_export(root / "export")
    if exported.taxonomy != taxonomy:
        raise RuntimeError("the label maps' taxonomy differs from the export's")
    return demo, exported, maps


def _rooted(data: dict[str, Any], base: Path) -> dict[str, Any]:
    datasets = [{**d, "root": str(base / d["root"])} for d in data["datasets"]]
    return {**data, "datasets": datasets}


def _export_directly(
    demo: Demo, data: dict[str, Any], dest: Path
) -> tuple[ux.Taxonomy, dict[str, LabelMap]]:
    from unitax.builtin import collection
    from unitax.export import export
    from unitax.formats.cityscapes import read_cityscapes
    from unitax.formats.gtsdb import read_gtsdb
    from unitax.formats.vistas import read_vistas

    readers = {
        "cityscapes": read_cityscapes,
        "vistas": read_vistas,
        "gtsdb": read_gtsdb,
    }
    config = ExportConfig.model_validate(_rooted(data, demo.root))
    datasets = {d.name: readers[d.format](d.root, **d.options) for d in config.datasets}
    spaces, rules = collection("iv2018")
    taxonomy, maps = ux.unify(spaces, rules)
    policies = {d.name: d.policy for d in config.datasets}
    export(datasets, maps, taxonomy, dest, policies=policies, engine="sequential")
    return taxonomy, maps


def train_run(
    exported: Export,
    *,
    batch: dict[str, int],
    head: str,
    iterations: int,
    width: int,
    learning_rate: float,
    output: Path,
) -> FCN:
    per_path = head == "hierarchical"
    config = TrainConfig.from_dict(
        {
            "batch": batch,
            "head": head,
            "loss": "per_path" if per_path else "marginal",
            "width": width,
            "adaptation": 32,
            "epochs": 10**6,
            "iterations": iterations,
            "learning_rate": learning_rate,
            "weak": ["gtsdb"],
            "gate": per_path,
            "output": str(output),
            "log_every": 100,
            "tag_weight": 0.0,
        }
    )
    crops = {"gtsdb": Crop(_shape(exported), scale=(1.0, 1.5))}
    dataset = ManifestDataset(exported, datasets=list(batch), splits=TRAIN, crops=crops)
    model = build_model(exported.taxonomy, config)
    fit(
        model,
        dataset,
        config=config,
        device="cpu",
        generator=torch.Generator().manual_seed(config.seed),
    )
    return model.eval()


def _shape(exported: Export) -> tuple[int, int]:
    row = exported.manifest.iloc[0]
    return int(row["height"]), int(row["width"])


@torch.no_grad()
def evaluate(
    model: FCN, exported: Export, demo: Demo, maps: dict[str, LabelMap]
) -> dict[str, float]:
    """mIoU per dataset (own labels) and leaves with IoU > 0.5."""
    taxonomy = exported.taxonomy
    dataset = ManifestDataset(exported, splits=("val", "validation"))
    membership = dataset.set_table.membership
    leaves = len(taxonomy.leaves)
    columns = torch.tensor([taxonomy.leaves.index(leaf) for leaf in demo.leaves])
    fine = torch.zeros(leaves, leaves, dtype=torch.int64)
    scores: dict[str, float] = {}
    for name, space in SPACE.items():
        classes = torch.from_numpy(label_matrix(maps[space])[1])
        set_class = class_of_sets(membership, classes)
        counts = torch.zeros(len(classes), len(classes), dtype=torch.int64)
        for index, own in enumerate(dataset.dataset_names):
            if own != name:
                continue
            item = dataset[index]
            logits = model(item.image[None])
            truth = torch.where(
                item.target >= 0, set_class[item.target.clamp_min(0)], -1
            )
            counts += confusion(
                project(logits, classes).argmax(1)[0], truth, len(classes)
            )
            key = exported.manifest.iloc[item.row]["key"]
            leaf_truth = columns[
                torch.from_numpy(
                    read_ground_truth(demo, name, key)["leaves"].astype(np.int64)
                )
            ]
            fine += confusion(logits.argmax(1)[0], leaf_truth, leaves)
        scores[name] = float(np.nanmean(iou(counts)))
    per_leaf = iou(fine)
    scores["leaves"] = float(np.sum(per_leaf > 0.5))
    scores["fine"] = float(np.nanmean(per_leaf))
    scores["leaves_seen"] = float(np.sum(~np.isnan(per_leaf)))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=24, help="images per dataset")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--width", type=int, default=16, help="ResNet-18 stage-1 width")
    parser.add_argument("--lr", type=float, default=0.05, help="SGD learning rate")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: default)"
    )
    parser.add_argument("--shape", type=int, nargs=2, default=(96, 192))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        demo, exported, maps = export_demo(
            root, samples=args.samples, shape=tuple(args.shape)
        )
        print(
            f"demo + export: {time.perf_counter() - started:.0f} s, "
            f"{len(exported.taxonomy.leaves)} leaves, {len(exported.manifest)} samples"
        )
        runs = {
            "cityscapes": ({"cityscapes": 4}, "flat"),
            "hetero-flat": ({"cityscapes": 1, "vistas": 2, "gtsdb": 1}, "flat"),
            "hetero-hier": ({"cityscapes": 1, "vistas": 2, "gtsdb": 1}, "hierarchical"),
        }
        rows = []
        for name, (batch, head) in runs.items():
            start = time.perf_counter()
            model = train_run(
                exported,
                batch=batch,
                head=head,
                iterations=args.iterations,
                width=args.width,
                learning_rate=args.lr,
                output=root / name,
            )
            scores = evaluate(model, exported, demo, maps)
            rows.append((name, scores, time.perf_counter() - start))
    print(
        f"\n{args.iterations} iterations of 4 images {tuple(args.shape)}, ResNet-18 "
        f"width {args.width}, {torch.get_num_threads()} threads; mIoU in each "
        "dataset's own labels (validation)"
    )
    header = (
        f"{'run':<12} {'cityscapes':>10} {'vistas':>7} {'gtsdb':>6} "
        f"{'heldout':>8} {'leaves>0.5':>11} {'fine mIoU':>9} {'time':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, scores, seconds in rows:
        print(
            f"{name:<12} {scores['cityscapes']:>10.3f} {scores['vistas']:>7.3f} "
            f"{scores['gtsdb']:>6.3f} {scores['heldout']:>8.3f} "
            f"{int(scores['leaves']):>4d} / {int(scores['leaves_seen']):<4d} "
            f"{scores['fine']:>9.3f} {seconds:>5.0f}s"
        )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
