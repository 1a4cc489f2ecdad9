# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Train a hierarchical FCN on a unified export
#
# **Purpose.** Show the whole path from heterogeneous datasets to a network
# that predicts the universal taxonomy: write the small demo collection
# (Cityscapes, Vistas and GTSDB look-alikes with a known fine truth), export
# it under the IV2018 rules, train an FCN with IV2018's hierarchical head
# (one classifier per inner node, per-path loss) for a few iterations, and
# look at what it predicts, in the universal leaves and projected into
# Cityscapes' own labels.
#
# **Inputs.** Nothing but unitax: `unitax.demo.make_demo` draws the data.
# Needs `torch` (`pip install torch==2.13.0`); without it the notebook says
# so and stops.
#
# **Output.** `05_output/predictions.png` in the working directory.
#
# **Runtime.** About 10-20 seconds on a laptop CPU (a tiny network, 40
# iterations; the predictions are rough, the point is the pipeline).

# %%
import importlib.util
import sys

if importlib.util.find_spec("torch") is None:
    print("This notebook needs PyTorch: pip install torch==2.13.0. Skipping.")
    sys.exit(0)

import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch  # noqa: TID251 (the notebook trains; unitax itself never imports torch)
import yaml

import unitax as ux
from unitax.config import ExportConfig, run_export
from unitax.demo import make_demo
from unitax.export import read_export
from unitax_train.data import ManifestDataset
from unitax_train.evaluate import class_of_sets, label_matrix, project
from unitax_train.losses import IGNORE, marginal_nll
from unitax_train.train import TrainConfig, build_model, fit

started = time.perf_counter()
torch.set_num_threads(1)  # tiny tensors: one thread is steadier
work = Path(tempfile.mkdtemp())
output = Path("05_output")
output.mkdir(exist_ok=True)

# %% [markdown]
# ## 1. A small heterogeneous collection, exported
#
# Four images per dataset at 48x96. The export configuration that
# `make_demo` writes also names Open Images tags and a held-out domain; we
# keep Cityscapes, Vistas and GTSDB under the IV2018 rules (108 leaves).

# %%
demo = make_demo(work / "demo", samples=4, shape=(48, 96))
config = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
keep = {"cityscapes", "vistas", "gtsdb"}
config["datasets"] = [d for d in config["datasets"] if d["name"] in keep]
config["rules"], config["label_spaces"] = ["iv2018"], []
for dataset in config["datasets"]:
    dataset["root"] = str(demo.root / dataset["root"])
try:
    run_export(
        ExportConfig.model_validate(config), work / "export", engine="sequential"
    )
    maps = None
except ux.errors.FormatError:  # a reader not yet registered in unitax.formats
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
    parsed = ExportConfig.model_validate(config)
    datasets = {d.name: readers[d.format](d.root, **d.options) for d in parsed.datasets}
    taxonomy, maps = ux.unify(*collection("iv2018"))
    policies = {d.name: d.policy for d in parsed.datasets}
    export(
        datasets,
        maps,
        taxonomy,
        work / "export",
        policies=policies,
        engine="sequential",
    )
exported = read_export(work / "export")
taxonomy = exported.taxonomy
print(taxonomy)
print(exported.manifest.groupby(["dataset", "split"]).size())

# %% [markdown]
# ## 2. Train: 1 Cityscapes + 2 Vistas + 1 GTSDB per batch
#
# The hierarchical head has one classifier per inner node with two or more
# children; the per-path loss trains, for each pixel, only the classifiers
# on its path (1.0 for the top level, 0.1 deeper). GTSDB's box pixels are
# weak: gated to where the network currently predicts a sign front.

# %%
settings = TrainConfig.from_dict(
    {
        "batch": {"cityscapes": 1, "vistas": 2, "gtsdb": 1},
        "head": "hierarchical",
        "loss": "per_path",
        "width": 8,
        "adaptation": 16,
        "iterations": 40,
        "epochs": 1000,
        "learning_rate": 0.05,
        "weak": ["gtsdb"],
        "gate": True,
        "output": str(work / "run"),
        "log_every": 10,
    }
)
train = ManifestDataset(
    exported, datasets=["cityscapes", "vistas", "gtsdb"], splits=["train", "training"]
)
model = build_model(taxonomy, settings)
print(f"{len(model.head.sizes)} classifiers, {model.head.channels} conditionals")
history = fit(
    model,
    train,
    config=settings,
    device="cpu",
    generator=torch.Generator().manual_seed(0),
)
losses = [step["loss"] for step in history]
print(f"loss {losses[0]:.3f} -> {np.mean(losses[-5:]):.3f}")

# %% [markdown]
# ## 3. Predictions vs targets
#
# Left to right: the image; its target, shown in Cityscapes' labels (each
# target set that lies within one Cityscapes label; white: ignore, or a set
# no single label holds); the prediction projected into Cityscapes' labels
# (leaf probabilities summed per label); and the most probable universal
# leaf, which can be finer than any Cityscapes label.

# %%
model.eval()
table = train.set_table
valid = ManifestDataset(
    exported, datasets=["cityscapes", "vistas"], splits=["val", "validation"]
)
if maps is None:
    from unitax.config import unify_config

    _, _, maps = unify_config(ExportConfig.model_validate(config))
classes = torch.from_numpy(label_matrix(maps["cityscapes"])[1])
set_class = class_of_sets(table.membership, classes)
figure, axes = plt.subplots(
    len(valid), 4, figsize=(12, 2.2 * len(valid)), squeeze=False
)
validation_losses = []
with torch.no_grad():
    for row, index in enumerate(range(len(valid))):
        item = valid[index]
        logits = model(item.image[None])
        validation_losses.append(float(marginal_nll(logits, item.target[None], table)))
        image = item.image.permute(1, 2, 0).numpy() * np.array([0.229, 0.224, 0.225])
        image = np.clip(image + np.array([0.485, 0.456, 0.406]), 0, 1)
        label = set_class[item.target.clamp_min(0)].numpy()
        target = np.where((item.target.numpy() == IGNORE) | (label < 0), np.nan, label)
        cityscapes = project(logits, classes).argmax(1)[0].numpy()
        leaf = logits.argmax(1)[0].numpy()
        panels = [image, target, cityscapes, leaf]
        titles = [
            item.dataset,
            "target, Cityscapes labels",
            "predicted, Cityscapes labels",
            "predicted leaf",
        ]
        limits = [None, len(classes), len(classes), len(taxonomy.leaves)]
        for axis, panel, title, top in zip(
            axes[row], panels, titles, limits, strict=True
        ):
            if top is None:
                axis.imshow(panel)
            else:
                axis.imshow(
                    panel, cmap="tab20", vmin=0, vmax=top, interpolation="nearest"
                )
            axis.set_title(title, fontsize=8)
            axis.axis("off")
figure.tight_layout()
figure.savefig(output / "predictions.png", dpi=80)
plt.close(figure)
print("validation marginal NLL per image:", np.round(validation_losses, 3))

# %% [markdown]
# ## 4. Checks

# %%
probabilities = model(valid[0].image[None]).exp().sum(1)
assert torch.allclose(probabilities, torch.ones_like(probabilities), atol=1e-4)
assert np.mean(losses[-5:]) < losses[0], "training lowered the loss"
assert all(np.isfinite(validation_losses))
assert (output / "predictions.png").stat().st_size > 0
assert int((set_class >= 0).sum()) >= 19  # every Cityscapes evaluation label
print(f"done in {time.perf_counter() - started:.1f} s")
