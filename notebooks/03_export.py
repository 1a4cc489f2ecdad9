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
# # Export a unified dataset, and look at what a trainer will read
#
# **Purpose.** Run the main job of unitax on a small collection: read five
# datasets in their own formats, unify their label spaces under the IV2018
# rules, and export one dataset of per-pixel targets. Then open the export as
# a trainer would: targets drawn with a legend (ignore and the extra sets
# visible), the set table, per-dataset statistics, and the report that
# accounts for every input annotation. A second, tiny export shows what
# overlapping boxes of different classes become (mixtures).
#
# **Inputs.** The demo collection that `unitax.demo.make_demo` writes (six
# images per dataset, 96 x 192): Cityscapes-like label PNGs, Vistas-like label
# PNGs (a finer label space), GTSDB-like sign boxes, Open-Images-like
# image-level tags, and a held-out Cityscapes-like domain; its export
# configuration `export.yaml` (IV2018 rules + the demo's Open Images rules).
#
# **Output.** In `03_output/` in the working directory: `demo/` (the
# collection), `export/` and `export_overlaps/` (the exports), `targets.png`
# (the drawing), `statistics.csv` and `pixels_per_class.csv`.
#
# **Runtime.** About 5 seconds on a laptop CPU (most of it importing).

# %%
import dataclasses
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch
from PIL import Image

from unitax.annotations import Box, Dataset
from unitax.config import read_config, run_export, unify_config
from unitax.demo import make_demo
from unitax.export import export, read_export, read_target
from unitax.rasterize import Policy

start = time.perf_counter()
OUT = Path("03_output")
shutil.rmtree(OUT, ignore_errors=True)  # a fresh run every time
OUT.mkdir()
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 70)

# %% [markdown]
# ## 1. The collection and the export
#
# `make_demo` writes the datasets and an export configuration. `run_export`
# reads each dataset with its reader, unifies the label spaces under the
# configured rules, rasterises every sample with its dataset's policy and
# writes the export. `engine="sequential"` runs in this process; the default
# is a process pool, and `"dask"` runs on a Dask cluster, with byte-identical
# results.

# %%
demo = make_demo(OUT / "demo", samples=6)
print(demo.config.read_text())
manifest_path = run_export(demo.config, OUT / "export", engine="sequential")
exported = read_export(OUT / "export")
taxonomy, manifest, sets = exported.taxonomy, exported.manifest, exported.sets
print(taxonomy)
print(f"{len(manifest)} samples exported to {manifest_path.parent}")
manifest[["dataset", "key", "split", "kinds", "annotations", "target"]].head(8)

# %% [markdown]
# ## 2. Overlapping boxes: mixtures
#
# In the demo, GTSDB signs never overlap. To see what a trainer gets where two
# boxes of *different* classes overlap, here is a tiny extra export: each
# GTSDB box of three images gets a neighbour of another sign class, shifted
# by half its width, under `boxes="distribution"` (the overlap becomes a
# uniform mixture of the two classes) and `outside="complement"` (pixels
# outside every box are "none of GTSDB's classes", a *set* of leaves).

# %%
datasets, _, maps = unify_config(read_config(demo.config), base=demo.root)
gtsdb = datasets["gtsdb"]
with_boxes = [s for s in gtsdb.samples if s.annotations][:3]
overlapping = []
for sample in with_boxes:
    boxes = list(sample.annotations)
    for box in sample.annotations:
        x0, y0, x1, y1 = box.xyxy
        shift = (x1 - x0) / 2
        other = (box.label + 1) % 43
        boxes.append(Box((x0 + shift, y0, x1 + shift, y1), other, key=f"{box.key}+"))
    overlapping.append(dataclasses.replace(sample, annotations=tuple(boxes)))
signs = Dataset(gtsdb.label_space, tuple(overlapping))
export(
    {"signs": signs},
    maps,
    taxonomy,
    OUT / "export_overlaps",
    policies={"signs": Policy(boxes="distribution", outside="complement")},
    engine="sequential",
)
overlaps = read_export(OUT / "export_overlaps")
overlaps.sets[overlaps.sets["kind"] != "node"]

# %% [markdown]
# ## 3. The set table
#
# A target pixel holds an index into the set table. The first rows are the
# taxonomy's nodes, in taxonomy order (`kind="node"`: a node's set is its
# leaves; inner nodes are coarse labels). After them come the *extra* sets
# the samples needed: `"set"` (a set of leaves no node has: here "none of
# GTSDB's signs") and `"mixture"` (a distribution over nodes, with weights).
# `membership[i]` marks the leaves of set `i`: a hierarchical loss needs
# nothing else. Ignore is the dtype's maximum.

# %%
table = overlaps.sets.assign(
    leaves=overlaps.membership.sum(axis=1),
    nodes=[
        ", ".join(n) if len(n) < 4 else f"{len(n)} nodes"
        for n in overlaps.sets["nodes"]
    ],
)
print(table["kind"].value_counts().to_string())
pd.concat([table.head(3), table[table["kind"] != "node"]])

# %% [markdown]
# ## 4. Targets, drawn
#
# One sample of each dataset with pixels, and one of the overlap export.
# Each node has its own colour, the same in every panel. **Ignore** is black
# with grey stripes. **Extra sets** are striped too: white and magenta for a
# `set`, white and orange for a `mixture`. Open Images has tags only: its
# targets are all ignore, and its knowledge is in the manifest's `positive`
# and `negative` columns (below).

# %%
PALETTE = np.concatenate(
    [plt.get_cmap(name).colors for name in ("tab20", "Dark2", "tab20b", "Set1")]
)


def first_of(exported, dataset: str) -> int:
    return int(np.flatnonzero(exported.manifest["dataset"] == dataset)[0])


panels = [(exported, first_of(exported, name)) for name in ("cityscapes", "vistas")]
panels += [(exported, first_of(exported, name)) for name in ("gtsdb", "heldout")]
panels.append((overlaps, 0))
# one colour per node, the same in every panel: nodes in taxonomy order
shown = sorted(
    {int(v) for source, row in panels for v in np.unique(read_target(source, row))}
)
COLOURS = {
    taxonomy.names[v]: PALETTE[i % len(PALETTE)]
    for i, v in enumerate(v for v in shown if v < len(taxonomy))
}


def stripes(shape: tuple[int, int], *, width: int, up: bool) -> np.ndarray:
    rows, cols = np.indices(shape)
    return ((cols + rows if up else cols - rows) // width) % 2 == 0


def draw_target(exported, row: int):
    """RGB drawing of one target, and the legend patches of what it holds."""
    values = read_target(exported, row)
    ignore = int(np.iinfo(values.dtype).max)
    rgb = np.zeros((*values.shape, 3))
    patches = []
    for value, count in zip(*np.unique(values, return_counts=True), strict=True):
        where = values == value
        if value == ignore:
            rgb[where] = np.where(stripes(values.shape, width=3, up=True), 0.0, 0.35)[
                where
            ][:, None]
            patches.append(Patch(facecolor="black", hatch="///", edgecolor="0.4"))
            patches[-1].set_label(f"ignore ({count / values.size:.0%})")
            continue
        entry = exported.sets.iloc[int(value)]
        if entry["kind"] == "node":
            rgb[where] = COLOURS[entry["nodes"][0]]
            label = entry["nodes"][0]
            patches.append(Patch(facecolor=COLOURS[label], label=label))
            continue
        colour = (0.9, 0.45, 0.9) if entry["kind"] == "set" else (1.0, 0.55, 0.0)
        band = stripes(values.shape, width=2, up=False)
        rgb[where & band] = colour
        rgb[where & ~band] = (1.0, 1.0, 1.0)
        if entry["kind"] == "set":
            label = f"set #{value}: {exported.membership[value].sum()} leaves"
        else:
            pairs = zip(entry["nodes"], entry["weights"], strict=True)
            label = f"mixture #{value}: " + ", ".join(f"{n} {w:.2f}" for n, w in pairs)
        patch = Patch(facecolor="white", edgecolor=colour, hatch="\\\\\\", label=label)
        patches.append(patch)
    return rgb, patches


figure, axes = plt.subplots(len(panels), 2, figsize=(13, 2.6 * len(panels)))
for (source, row), (left, right) in zip(panels, axes, strict=True):
    record = source.manifest.iloc[row]
    with Image.open(record["image"]) as image:
        left.imshow(image.convert("RGB"))
    left.set_title(f"{record['dataset']}: {record['key']}", fontsize=9)
    rgb, patches = draw_target(source, row)
    right.imshow(rgb, interpolation="nearest")
    right.set_title(f"target ({', '.join(record['kinds'])})", fontsize=9)
    right.legend(
        handles=patches,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=6.5,
        ncol=2 if len(patches) > 12 else 1,
        frameon=False,
    )
    for axis in (left, right):
        axis.set_xticks([])
        axis.set_yticks([])
figure.tight_layout()
figure.savefig(OUT / "targets.png", dpi=90, bbox_inches="tight")
plt.close(figure)
print(f"wrote {OUT / 'targets.png'}")

# %% [markdown]
# ## 5. Per-dataset statistics
#
# Samples, pixels, the share of ignore, and the pixels per class (set) of each
# dataset, counted from the exported targets. Cityscapes-style datasets
# ignore void borders and labels the rules send to ignore (`static`); GTSDB
# knows only its boxes and, outside them, the complement set; Open Images
# knows no pixel.

# %%
counts: dict[str, np.ndarray] = {}
rows = []
for name, group in manifest.groupby("dataset"):
    total = np.zeros(len(sets) + 1, dtype=np.int64)  # the last bin: ignore
    for row in group.index:
        values = read_target(exported, row).astype(np.int64).ravel()
        values[values == np.iinfo(np.uint16).max] = len(sets)
        values[values == np.iinfo(np.uint8).max] = len(sets)
        total += np.bincount(values, minlength=len(sets) + 1)
    counts[name] = total
    rows.append(
        {
            "dataset": name,
            "samples": len(group),
            "pixels": int(total.sum()),
            "classes seen": int((total[:-1] > 0).sum()),
            "ignore share": total[-1] / total.sum(),
            "positive tags": int(group["positive"].map(len).sum()),
            "negative tags": int(group["negative"].map(len).sum()),
        }
    )
per_dataset = pd.DataFrame(rows).set_index("dataset")
per_dataset.to_csv(OUT / "statistics.csv")
per_dataset

# %%
names = [
    ", ".join(n) if len(n) < 3 else f"set #{i}" for i, n in enumerate(sets["nodes"])
]
per_class = pd.DataFrame(
    {name: total[:-1] for name, total in counts.items()}, index=names
)
per_class = per_class[per_class.sum(axis=1) > 0]
share = per_class / per_class.sum(axis=0).replace(0, 1)
share.to_csv(OUT / "pixels_per_class.csv")
print("share of each dataset's labelled pixels, the 15 largest classes overall:")
share.loc[per_class.sum(axis=1).nlargest(15).index].round(3)

# %% [markdown]
# Open Images knows only image-level tags: verified present (`positive`) or
# verified absent (`negative`), as nodes of the taxonomy.

# %%
tags = manifest.loc[
    manifest["dataset"] == "openimages", ["key", "positive", "negative"]
]
tags.assign(
    positive=tags["positive"].map(", ".join), negative=tags["negative"].map(", ".join)
)

# %% [markdown]
# ## 6. The report: every input annotation accounted for
#
# For each dataset: annotations read from its files, exported, and skipped
# with a reason (a lenient reader or rasteriser would list them under
# `skipped_by_reason`). `exported + skipped == annotations_read`, always.

# %%
report = pd.DataFrame(exported.report).T
report

# %% [markdown]
# ## 7. Checks
#
# The notebook is also a test: these hold for every run.

# %%
demo_sets = set(manifest["dataset"])
assert demo_sets == {"cityscapes", "vistas", "gtsdb", "openimages", "heldout"}
assert (manifest.groupby("dataset").size() == 6).all()
for name, entry in exported.report.items():
    assert entry["exported"] + entry["skipped"] == entry["annotations_read"], name
assert report["annotations_read"].sum() > len(manifest)
# every target value is a set index or ignore; nodes come first, in order
assert list(sets["kind"].iloc[: len(taxonomy)]) == ["node"] * len(taxonomy)
assert list(sets["index"]) == list(range(len(sets)))
for row in range(len(manifest)):
    values = read_target(exported, row)
    known = np.unique(values)
    ignore = np.iinfo(values.dtype).max
    assert set(known.tolist()) <= set(range(len(sets))) | {ignore}
# ignore is visible where it should be: Open Images has no pixel, the rest some
assert per_dataset.loc["openimages", "ignore share"] == 1.0
assert per_dataset.loc["openimages", "positive tags"] > 0
for name in ("cityscapes", "heldout"):  # void borders, labels sent to ignore
    assert 0.0 < per_dataset.loc[name, "ignore share"] < 0.5, name
for name in ("vistas", "gtsdb"):
    assert per_dataset.loc[name, "ignore share"] < 0.5, name
# the extra sets: complement sets and mixtures, with weights that sum to 1
kinds = set(overlaps.sets["kind"])
assert kinds == {"node", "set", "mixture"}, kinds
for weights in overlaps.sets.loc[overlaps.sets["kind"] == "mixture", "weights"]:
    assert abs(sum(weights) - 1.0) < 1e-9
assert overlaps.membership.shape == (len(overlaps.sets), len(taxonomy.leaves))
# a finished export is left as it is when run again (resumable, deterministic)
before = (OUT / "export" / "manifest.parquet").read_bytes()
run_export(demo.config, OUT / "export", engine="sequential")
assert (OUT / "export" / "manifest.parquet").read_bytes() == before
assert (OUT / "targets.png").stat().st_size > 10_000
elapsed = time.perf_counter() - start
assert elapsed < 20, elapsed
print(f"all checks passed in {elapsed:.1f} s")
