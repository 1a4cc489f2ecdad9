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
# # Unify four street-scene label spaces, and review the conflicts
#
# **Purpose.** Build one universal taxonomy over Cityscapes, Mapillary Vistas
# v1.2, IDD and GTSDB; read the conflict report that `unitax` produces; act
# on the suggestions a person agrees with; and look at the result as a
# coverage table and a drawing of a subtree.
#
# **Inputs.** Only data shipped with unitax: the built-in label spaces
# `cityscapes`, `vistas-v1.2`, `idd`, `gtsdb`, and the built-in rules
# `iv2018` (Meletis & Dubbelman, IV 2018: Cityscapes + Vistas + GTSDB in 108
# leaf classes). The rules for IDD are written below, stored as YAML and read
# back. No image is read.
#
# **Output.** `02_output/idd_rules.yaml`, `02_output/coverage.png`,
# `02_output/subtree.png` in the working directory.
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
from unitax.conflicts import COVERAGE, coverage, find_conflicts, summarize
from unitax.rules import Concept, Ignore, IsA, Overlap, Same, Split

start = time.perf_counter()
OUT = Path("02_output")
OUT.mkdir(exist_ok=True)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)

# %% [markdown]
# ## 1. IV2018 alone: Cityscapes + Vistas + GTSDB
#
# The built-in rules reproduce the IV2018 classifier tree. Its leaves are the
# 108 classes of the paper.

# %%
NAMES = ("cityscapes", "vistas-v1.2", "idd", "gtsdb")
spaces = {name: ux.builtin_label_space(name) for name in NAMES}
iv2018 = ux.builtin_rules("iv2018")
iv_taxonomy, iv_maps = ux.unify(
    [spaces[name] for name in ("cityscapes", "vistas-v1.2", "gtsdb")], iv2018
)
print(iv_taxonomy, f"from {len(iv2018)} rules")
{name: len(space) for name, space in spaces.items()}

# %% [markdown]
# ## 2. Rules for IDD
#
# IDD (India Driving Dataset) was made to resemble Cityscapes, with a few
# classes for what Indian roads add: `autorickshaw`, and *fallback* classes
# for what fits no other class of a group. The rules below relate the
# interesting ones by their IDD definitions (`anue_labels.py`: the `csId`
# column names the closest Cityscapes class). The plain one-to-one pairs
# (`car` = `car`, ...) are left out on purpose: the conflict report finds
# them, in step 3.

# %%
V = "vistas-v1.2"
idd_rules = [
    Same(labels=("idd/road", "cityscapes/road"),
         reason="IDD csId 7: IDD road is Cityscapes road, markings included"),
    Same(labels=("idd/parking", "cityscapes/parking"), reason="IDD csId 9"),
    Concept(name="drivable surface",
            reason="IDD level-1 class 'drivable': road + parking + drivable fallback"),
    Split(whole="drivable surface", parts=("driveable", "idd/drivable fallback"),
          reason="IV2018 'driveable' is road area + parking; IDD drivable fallback "
                 "(unpaved, muddy drivable ground) is the rest of IDD's 'drivable'"),
    Same(labels=("idd/sidewalk", "cityscapes/sidewalk"), reason="IDD csId 8"),
    Same(labels=("idd/rail track", "cityscapes/rail track"), reason="IDD csId 10"),
    Overlap(labels=("idd/non-drivable fallback", "cityscapes/terrain"),
            name="unpaved roadside",
            reason="IDD evaluates non-drivable fallback as Cityscapes terrain "
                   "(csTrainId 9), but it also holds rubble and bare ground that "
                   "Cityscapes calls ground, and terrain also holds lawns and "
                   "fields that are no road side"),
    Same(labels=("idd/person", "cityscapes/person"), reason="IDD csId 24"),
    Same(labels=("idd/rider", "cityscapes/rider"),
         reason="IDD csId 25: one rider class, as in Cityscapes"),
    Split(whole="idd/animal", parts=(f"{V}/animal--bird", f"{V}/animal--ground-animal"),
          reason="IDD animal is any animal; Vistas splits birds from ground animals"),
    IsA(child="idd/autorickshaw", parent=f"{V}/object--vehicle--other-vehicle",
        reason="Vistas 'other vehicle' holds vehicles of no other class, "
               "three-wheelers included; IDD names autorickshaws apart"),
    Overlap(labels=("idd/vehicle fallback", f"{V}/object--vehicle--other-vehicle"),
            name="other vehicle (shared)",
            reason="IDD vehicle fallback (tractors, carts, ...) and Vistas other "
                   "vehicle share vehicles of no named class; autorickshaws are "
                   "'other' only in Vistas"),
    Same(labels=("idd/traffic sign", "cityscapes/traffic sign"),
         reason="IDD csId 20: front and back, as in Cityscapes"),
    Same(labels=("idd/curb", f"{V}/construction--barrier--curb"),
         reason="both name the curb itself; Cityscapes has no curb class"),
    IsA(child=f"{V}/construction--barrier--other-barrier",
        parent="idd/obs-str-bar-fallback",
        reason="IDD obs-str-bar-fallback holds every obstacle, structure and barrier "
               "without an IDD class"),
    IsA(child=f"{V}/object--bench", parent="idd/obs-str-bar-fallback",
        reason="IDD has no bench class: a road-side obstacle"),
    IsA(child=f"{V}/object--trash-can", parent="idd/obs-str-bar-fallback",
        reason="IDD has no trash can class: a road-side obstacle"),
    Ignore(label="idd/fallback background",
           reason="a catch-all for far background that fits no IDD class; it "
                  "overlaps many Vistas classes in no stated way"),
    Ignore(label="idd/polegroup", reason="as Cityscapes: ignored in training"),
    Ignore(label="idd/license plate", reason="as Cityscapes: never evaluated"),
    Ignore(label="idd/rectification border", reason="as Cityscapes: no scene content"),
    Ignore(label="idd/out of roi", reason="as Cityscapes: no scene content"),
]  # fmt: skip
rules_path = ux.rules.write_rules(
    idd_rules, OUT / "idd_rules.yaml", description="IDD against IV2018 (notebook 02)"
)
idd_read = ux.read_rules(rules_path)
assert idd_read == tuple(idd_rules)
print(rules_path.read_text()[:600])

# %% [markdown]
# ## 3. Unify the four spaces, and read the conflict report
#
# `find_conflicts` returns one row per finding. Warnings first: labels with
# the same normalised name on unrelated nodes (`name_collision`, with a
# suggested rule) and labels no rule relates (`unmapped`).

# %%
all_spaces = [spaces[name] for name in NAMES]
taxonomy, maps = ux.unify(all_spaces, [*iv2018, *idd_read])
findings = find_conflicts(taxonomy, maps)
print(taxonomy)
findings.kind.value_counts()

# %%
collisions = findings[findings.kind == "name_collision"]
collisions[["space", "label", "other_space", "other_label", "suggestion"]]

# %% [markdown]
# Most suggestions are right (IDD `car` is Cityscapes `car`). Two are not:
# GTSDB names its sign classes after what they warn about, so `gtsdb/snow`
# (a sign) is not Vistas `nature--snow`, and `gtsdb/animals` is not IDD
# `animal`. We accept the suggestions that do not involve GTSDB and write
# them into the IDD rules file.

# %%
accepted = collisions[
    (collisions.space != "gtsdb") & (collisions.other_space != "gtsdb")
]
rejected = collisions.drop(accepted.index)
namespace = {"Same": Same}
suggested = [
    eval(text, namespace).model_copy(update={"reason": "accepted from find_conflicts"})
    for text in accepted.suggestion
]
ux.rules.write_rules([*idd_rules, *suggested], rules_path,
                     description="IDD against IV2018 (notebook 02)")  # fmt: skip
idd_final = ux.read_rules(rules_path)
taxonomy, maps = ux.unify(all_spaces, [*iv2018, *idd_final])
findings = find_conflicts(taxonomy, maps)
print(f"{len(suggested)} suggestions accepted, {len(rejected)} rejected; {taxonomy}")
findings.kind.value_counts()

# %% [markdown]
# What is left: the rejected GTSDB look-alikes, and classes that only one
# dataset has (Vistas `nature--mountain`, ...), which stay leaves of their
# own. Some of these deserve a rule: an IDD annotator labels a mailbox or a
# fire hydrant `obs-str-bar-fallback`, so Vistas `object--mailbox` belongs
# under it (an `IsA` each, as for the bench above), or IDD's fallback trains
# the wrong leaves. They are left out here to keep the list short.
#
# The `info` rows explain the structure: which label is coarser than another
# dataset's labels, where labels overlap, what is ignored, and which
# remainder leaves complete a node.

# %%
warnings = findings[findings.severity == "warning"]
warnings.groupby(["kind", "space"], observed=True).size()

# %%
for kind in ("granularity", "overlap", "ignored", "remainder"):
    print(f"--- {kind}")
    for detail in findings.detail[findings.kind == kind].head(4):
        print("   ", detail)

# %%
summarize(taxonomy, maps)

# %% [markdown]
# ## 4. Coverage: which leaves each dataset supervises
#
# `exact`: a label of the dataset is that leaf; `ancestor`: a label covers it
# together with other leaves (a coarser class); `absent`: the dataset says
# nothing about it.

# %%
table = coverage(taxonomy, maps)
codes = np.stack([table[space].cat.codes.to_numpy() for space in table.columns])
colors = ["#2e7d32", "#a5d6a7", "#eeeeee"]
fig, ax = plt.subplots(figsize=(16, 2.6))
ax.imshow(codes, aspect="auto", interpolation="nearest", cmap=ListedColormap(colors),
          vmin=0, vmax=2)  # fmt: skip
ax.set_yticks(range(len(table.columns)), table.columns)
ax.set_xlabel(f"{len(table)} leaves, in taxonomy order")
ax.set_xticks([])
handles = [Patch(color=c, label=n) for c, n in zip(colors, COVERAGE, strict=True)]
ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3,
          frameon=False)  # fmt: skip
ax.set_title("Coverage of the universal leaves")
fig.tight_layout()
fig.savefig(OUT / "coverage.png", dpi=80)
table.apply(lambda column: column.value_counts()).T

# %% [markdown]
# ## 5. A subtree: IDD's drivable surface
#
# A layered drawing: each node sits one row below its lowest parent. Blue:
# nodes that a label maps to; grey: concepts no label names (orange would be
# remainders and intersections).

# %%
root = "drivable surface"
nodes = [root, *taxonomy.descendants(root)]
graph = taxonomy.to_graph().subgraph(nodes)
layer = {root: 0}
for node in nodes[1:]:  # topological order
    layer[node] = 1 + max(layer[p] for p in graph.predecessors(node))
rows: dict[int, list[str]] = {}
for node in nodes:
    rows.setdefault(layer[node], []).append(node)
position: dict[str, tuple[float, float]] = {}
for depth in sorted(rows):  # each layer ordered by its parents' places
    row = sorted(rows[depth], key=lambda n: np.mean(
        [position[p][0] for p in graph.predecessors(n)] or [0.0]))  # fmt: skip
    position.update(
        (node, ((i + 0.5) / len(row) - 0.5, -depth)) for i, node in enumerate(row)
    )
mapped_nodes = {node for m in maps.values() for node in m.nodes.values() if node}
kind_color = {"label": "#1f77b4", "concept": "#7f7f7f", "remainder": "#ff7f0e",
              "intersection": "#ff7f0e"}  # fmt: skip
node_colors = [
    "#1f77b4" if node in mapped_nodes else kind_color[taxonomy.kind(node)]
    for node in graph
]


def short(name: str) -> str:
    """The last part of a Vistas name, with the space kept as a prefix."""
    space, _, label = name.rpartition("/")
    return f"{space}/\n{label.rsplit('--', 1)[-1]}" if space else name


fig, ax = plt.subplots(figsize=(16, 5))
nx.draw_networkx_edges(graph, position, ax=ax, edge_color="#999999", arrows=True)
nx.draw_networkx_nodes(graph, position, ax=ax, node_color=node_colors, node_size=120)
for node, (x, y) in position.items():
    ax.text(x, y - 0.12, short(node), ha="center", va="top", fontsize=8)
ax.legend(handles=[Patch(color="#1f77b4", label="a label maps to it"),
                   Patch(color="#7f7f7f", label="concept")],
          loc="upper left", frameon=False)  # fmt: skip
ax.set_ylim(-max(rows) - 0.5, 0.3)
ax.set_title(f"Subtree of {root!r}: {len(nodes)} nodes")
ax.axis("off")
fig.tight_layout()
fig.savefig(OUT / "subtree.png", dpi=80)

# %% [markdown]
# ## 6. Facts this notebook checks

# %%
# IV2018 alone has the paper's 108 leaf classes.
assert len(iv_taxonomy.leaves) == 108
# Every label of the four spaces maps to a node or, on purpose, to ignore.
for name, space in spaces.items():
    assert set(maps[name].nodes) == set(space.ids)
    assert all(node is None or node in taxonomy for node in maps[name].nodes.values())
# The accepted suggestions removed every collision but the GTSDB look-alikes.
left = findings[findings.kind == "name_collision"]
assert len(left) == len(rejected) > 0
assert all("gtsdb" in (row.space, row.other_space) for row in left.itertuples())
# No IDD label is left unrelated.
assert not ((findings.kind == "unmapped") & (findings.space == "idd")).any()
# Cityscapes and IDD have one rider where Vistas has three.
riders = findings[(findings.kind == "granularity") & (findings.node == "rider")]
assert set(riders.space) == {"cityscapes", "idd"}
assert set(riders.other_space) == {V}
# The autorickshaw is an IDD leaf; Vistas supervises it through 'other vehicle'.
autorickshaw = maps["idd"].node(spaces["idd"].by_name("autorickshaw").id)
assert table.loc[autorickshaw].to_dict() == {
    "cityscapes": "absent", "gtsdb": "absent", "idd": "exact", V: "ancestor"
}  # fmt: skip
# The two overlaps are reported, each with both labels.
overlaps = findings[findings.kind == "overlap"]
assert set(overlaps.node) == {"unpaved roadside", "other vehicle (shared)"}
assert overlaps.other_label.notna().all()
# IDD's drivable surface holds IV2018's driveable and IDD's drivable fallback.
assert set(taxonomy.children(root)) == {"driveable", "idd/drivable fallback"}
assert (OUT / "coverage.png").stat().st_size > 0
assert (OUT / "subtree.png").exists()
elapsed = time.perf_counter() - start
assert elapsed < 20, elapsed
print(f"all checks passed in {elapsed:.1f} s")
