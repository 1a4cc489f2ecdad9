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
# # Twelve datasets, one taxonomy: where they disagree
#
# **Purpose.** Explore the built-in universal taxonomy over twelve popular
# segmentation datasets: how big and deep it is, where the datasets disagree
# (granularity, partial overlaps, names that collide), which leaves each
# dataset supervises, one subtree drawn, and what `suggest_rules` would have
# proposed without the curated rules.
#
# **Inputs.** Only data shipped with unitax: the built-in collections
# `iv2018`, `street` (Cityscapes, KITTI, WildDash v1 and 2, BDD100K, IDD,
# Mapillary Vistas v1.2 and v2.0, GTSDB) and `all` (street plus COCO panoptic,
# ADE20K-150, Pascal-Context 59, Pascal VOC, Open Images boxable): 14 label
# spaces, about 1,400 labels, and the curated rules (`unitax/data/rules`,
# written from fragments by `tools/build_rules.py`). No image is read.
#
# **Output.** `04_output/coverage.png`, `04_output/subtree.png`,
# `04_output/suggestions.csv` in the working directory.
#
# **Runtime.** A few seconds on a laptop CPU.

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

import unitax as ux
from unitax import builtin
from unitax.conflicts import COVERAGE, coverage, find_conflicts, summarize
from unitax.suggest import suggest_rules

start = time.perf_counter()
OUT = Path("04_output")
OUT.mkdir(exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 100)

# %% [markdown]
# ## 1. Size and depth
#
# Each collection extends the one before it: `street` is IV2018's rules plus
# one fragment per added dataset, `all` is `street` plus five more. Depth is
# the longest path from a root to a leaf.

# %%
unified = {}
sizes = []
for name in ("iv2018", "street", "all"):
    spaces, rules = builtin.collection(name)
    tick = time.perf_counter()
    taxonomy, maps = ux.unify(spaces, rules)
    seconds = time.perf_counter() - tick
    unified[name] = (spaces, rules, taxonomy, maps)
    kinds = pd.Series([rule.kind for rule in rules]).value_counts()
    sizes.append({
        "collection": name,
        "spaces": len(spaces),
        "labels": sum(len(space) for space in spaces),
        "rules": len(rules),
        **{kind: int(kinds.get(kind, 0)) for kind in ("same", "is_a", "ignore")},
        "nodes": len(taxonomy),
        "leaves": len(taxonomy.leaves),
        "depth": max(taxonomy.depth(leaf) for leaf in taxonomy.leaves),
        "unify s": round(seconds, 3),
    })  # fmt: skip
pd.DataFrame(sizes).set_index("collection")

# %%
spaces, rules, taxonomy, maps = unified["all"]
kinds = pd.Series([taxonomy.kind(node) for node in taxonomy.names]).value_counts()
print(taxonomy)
kinds

# %% [markdown]
# ## 2. Where the datasets disagree
#
# `find_conflicts` returns one row per finding. The info rows describe the
# structure: **granularity** (one label where another dataset has several
# below it), **overlap** (an intersection node where two labels share a
# part), **remainder** (the part of a label its children leave out). The
# warnings are what a person reviews.

# %%
findings = find_conflicts(taxonomy, maps)
findings.groupby(["severity", "kind"], observed=True).size()

# %% [markdown]
# **Granularity**: which dataset is coarser than which, counted over label
# pairs. Cityscapes-like datasets (one `rider`, one `traffic sign`) sit above
# Vistas' and GTSDB's finer classes; COCO's `-merged` stuff classes sit above
# ADE20K's.

# %%
granularity = findings[findings.kind == "granularity"]
pd.crosstab(granularity.space, granularity.other_space)

# %%
for detail in granularity.detail[granularity.label.isin(["rider", "road", "wall"])][:6]:
    print(detail)

# %% [markdown]
# **Overlaps** come from labels that cut the same thing two ways. Open Images
# splits `Person` by age and sex (Boy, Girl, Man, Woman), Cityscapes by
# riding (person, rider): `unify` builds the common refinement, so a
# Cityscapes `person` pixel and an Open Images `Man` box share exactly the
# "man & pedestrian" leaves. Walls are cut by material (COCO) and by
# standing free or not (Cityscapes).

# %%
overlaps = findings[findings.kind == "overlap"]
overlaps[["space", "label", "other_space", "other_label", "node"]].head(8)

# %% [markdown]
# **Name collisions left on purpose.** Every remaining pair names different
# things under one normalised name, so no rule relates them:
#
# * GTSDB's `snow` and `animals` are *warning signs*, not snow or animals;
# * Vistas v2.0's `marking--discrete--symbol--bicycle` is a painted symbol;
# * ADE20K `glass` is a drinking glass, Open Images `Glasses` are spectacles;
# * ADE20K `tank` is a storage tank, Open Images `Tank` an armoured vehicle;
# * COCO `mouse` is the computer mouse (beside keyboard and laptop), Open
#   Images `Mouse` the animal;
# * Vistas v1.2 `object--traffic-sign--back` is the back of a traffic sign,
#   v2.0 `object--sign--back` the back of other signage.
#
# **Unmapped labels** are classes only one dataset names (Open Images' human
# body parts, ADE20K's `arcade machine`, COCO's `cardboard`,
# Pascal-Context's `wood`, ...): each stays a leaf of its own, which is
# what it is.

# %%
collisions = findings[findings.kind == "name_collision"]
collisions[["space", "label", "other_space", "other_label"]]

# %%
unmapped = findings[findings.kind == "unmapped"]
unmapped.groupby("space").label.apply(lambda labels: ", ".join(labels[:8]))

# %% [markdown]
# ## 3. Coverage: which leaves each dataset supervises
#
# `exact`: a label of the dataset is that leaf; `ancestor`: a coarser label
# covers it together with other leaves; `absent`: the dataset says nothing
# about it. Leaves are in taxonomy order, so related leaves sit together.

# %%
table = coverage(taxonomy, maps)
codes = np.stack([table[space].cat.codes.to_numpy() for space in table.columns])
colors = ["#2e7d32", "#a5d6a7", "#f2f2f2"]
fig, ax = plt.subplots(figsize=(16, 4.5))
ax.imshow(codes, aspect="auto", interpolation="nearest", cmap=ListedColormap(colors),
          vmin=0, vmax=2)  # fmt: skip
ax.set_yticks(range(len(table.columns)), table.columns)
ax.set_xticks([])
ax.set_xlabel(f"{len(table)} leaves, in taxonomy order")
handles = [Patch(color=c, label=n) for c, n in zip(colors, COVERAGE, strict=True)]
ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3,
          frameon=False)  # fmt: skip
ax.set_title("Coverage of the universal leaves by each dataset")
fig.tight_layout()
fig.savefig(OUT / "coverage.png", dpi=80)
summary = summarize(taxonomy, maps)
summary

# %% [markdown]
# ## 4. A subtree: `person`
#
# COCO, ADE20K, VOC, Pascal-Context and Open Images label every human
# `person`. Below it, two ways to cut: Cityscapes' pedestrian/rider (with
# Vistas' three riders and WildDash2's two "other" riders below) and Open
# Images' boy/girl/man/woman. Orange nodes are the intersections unify made.

# %%
root = "person"
nodes = [root, *taxonomy.descendants(root)]
graph = taxonomy.to_graph().subgraph(nodes)
layer = {root: 0}
for node in nodes[1:]:  # topological order
    layer[node] = 1 + max(layer[p] for p in graph.predecessors(node))
rows: dict[int, list[str]] = {}
for node in nodes:
    rows.setdefault(layer[node], []).append(node)
position: dict[str, tuple[float, float]] = {}
for depth in sorted(rows):
    row = sorted(rows[depth], key=lambda n: (np.mean(
        [position[p][0] for p in graph.predecessors(n)] or [0.0]), n))  # fmt: skip
    position.update(
        (node, ((i + 0.5) / len(row) - 0.5, -depth)) for i, node in enumerate(row)
    )
kind_color = {"label": "#1f77b4", "concept": "#7f7f7f", "remainder": "#ff7f0e",
              "intersection": "#ff7f0e"}  # fmt: skip


def short(name: str) -> str:
    """A short label: the last part of a reference, or the first word of a meet."""
    name = name.rsplit("/", 1)[-1].rsplit("--", 1)[-1]
    return (
        name if " & " not in name else "&".join(p.split()[0] for p in name.split(" & "))
    )


fig, ax = plt.subplots(figsize=(18, 6))
nx.draw_networkx_edges(graph, position, ax=ax, edge_color="#bbbbbb", arrows=False,
                       width=0.6)  # fmt: skip
node_colors = [kind_color[taxonomy.kind(node)] for node in graph]
nx.draw_networkx_nodes(graph, position, ax=ax, node_size=60, node_color=node_colors)
for node, (x, y) in position.items():
    if layer[node] <= 2:
        ax.text(
            x, y - 0.12, short(node), ha="center", va="top", fontsize=7, rotation=30
        )
ax.legend(handles=[Patch(color="#1f77b4", label="label or named node"),
                   Patch(color="#7f7f7f", label="concept"),
                   Patch(color="#ff7f0e", label="intersection or remainder")],
          loc="upper left", frameon=False)  # fmt: skip
ax.set_title(f"Subtree of {root!r}: {len(nodes)} nodes, "
             f"{len(taxonomy.leaves_of(root))} leaves")  # fmt: skip
ax.axis("off")
fig.tight_layout()
fig.savefig(OUT / "subtree.png", dpi=80)

# %% [markdown]
# ## 5. What `suggest_rules` proposes, without the curated rules
#
# The suggester sees only names, synonyms, categories and in-space
# hierarchies. Scored against the curated taxonomy: a `same` is right if
# both labels are one node, an `is_a` if the child's leaves lie inside the
# parent's. (`benchmarks/bench_suggest.py` prints the full table, with
# recall.)

# %%
tick = time.perf_counter()
suggestions = suggest_rules(spaces)
suggest_seconds = time.perf_counter() - tick
bits = {
    f"{name}/{label.name}": taxonomy.leaf_bits(node)
    for name, label_map in maps.items()
    for label in label_map.space.labels
    if (node := label_map.nodes[label.id]) is not None
}


def verdict(row: pd.Series) -> str:
    """How the curated taxonomy judges a suggestion."""
    if row.label not in bits or row.other not in bits:
        return "ignored label"
    a, b = bits[row.label], bits[row.other]
    if row.kind == "same":
        return "right" if a == b else ("related" if a & b else "wrong")
    return "right" if a & b == a else ("related" if a & b else "wrong")


suggestions["curated"] = suggestions.apply(verdict, axis=1)
suggestions.drop(columns=["rule"]).to_csv(OUT / "suggestions.csv", index=False)
print(f"{len(suggestions)} suggestions in {suggest_seconds:.2f} s")
pd.crosstab(suggestions.kind, suggestions.curated, margins=True)

# %%
columns = ["kind", "label", "other", "confidence", "evidence", "curated"]
suggestions[columns].head(12)

# %% [markdown]
# Where a suggestion is "related" but not right, the curated rules chose a
# finer relation than the names show: Vistas v2.0 `service-lane` has the
# name of v1.2's, but v2.0 carved road shoulders and driveways out of it.

# %%
suggestions[suggestions.curated == "related"][columns].head(8)

# %% [markdown]
# ## 6. Facts this notebook checks

# %%
sizes_by_name = {row["collection"]: row for row in sizes}
assert sizes_by_name["iv2018"]["leaves"] == 108  # IV2018's 108 classes
assert sizes_by_name["all"]["labels"] > 1300
assert all(row["unify s"] < 1.0 for row in sizes)  # the goal
# Every label maps to a node, or to ignore by an Ignore rule.
ignored = {rule.label for rule in rules if rule.kind == "ignore"}
for name, label_map in maps.items():
    for label in label_map.space.labels:
        ref = f"{name}/{label.name}"
        assert (label_map.nodes[label.id] is None) == (ref in ignored), ref
# Only the collisions explained above remain; no two nodes mean the same.
assert len(collisions) == 8
assert not (findings.kind == "equivalent").any()
# Cityscapes has one rider where Vistas has three.
riders = granularity[
    (granularity.space == "cityscapes") & (granularity.label == "rider")
]
assert "vistas-v1.2" in set(riders.other_space)
# A pickup is a truck everywhere, and not an ADE20K van.
ade = maps["ade20k-150"]
truck = ade.node(ade.space.by_name("truck").id)
assert "pickup truck" in taxonomy.descendants(truck)
assert "pickup truck" not in taxonomy.descendants("van")
# The person subtree crosses Open Images' and Cityscapes' cuts.
assert "man & pedestrian" in taxonomy.descendants(root)
assert len(taxonomy.leaves_of(root)) == 24
# The suggester is fast and mostly right on same.
assert suggest_seconds < 10
same = suggestions[suggestions.kind == "same"]
assert (same.curated == "right").mean() > 0.7
assert (OUT / "coverage.png").stat().st_size > 0
assert (OUT / "subtree.png").stat().st_size > 0
elapsed = time.perf_counter() - start
assert elapsed < 15, elapsed
print(f"all checks passed in {elapsed:.1f} s")
