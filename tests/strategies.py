"""Hypothesis strategies for unitax's invariants (keyword-only, xarray style)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

import unitax as ux
from unitax.rules import Ignore, IsA, Same


@st.composite
def dags(draw: st.DrawFn, *, max_nodes: int = 25) -> list[tuple[str, str]]:
    """Edges of a random DAG over names ``n00``...: edges go from low to high."""
    count = draw(st.integers(2, max_nodes))
    edges = []
    for child in range(1, count):
        parents = draw(st.sets(st.integers(0, child - 1), max_size=3))
        edges.extend((f"n{p:02d}", f"n{child:02d}") for p in sorted(parents))
    if not edges:
        edges.append(("n00", "n01"))
    return edges


@dataclass(frozen=True)
class World:
    """Label spaces whose labels are known sets of atoms, and rules true of them."""

    spaces: tuple[ux.LabelSpace, ...]
    truth: dict[str, frozenset[int]]  # reference -> atoms
    rules: tuple[ux.rules.Rule, ...]


@st.composite
def worlds(draw: st.DrawFn, *, max_spaces: int = 4, max_atoms: int = 12) -> World:
    """Spaces partitioning random subsets of atoms, with every true Same/IsA rule.

    Each label is a non-empty set of atoms; labels of one space are disjoint.
    Rules state every equality (`Same`) and strict inclusion (`IsA`) between
    labels of different spaces; some unrelated labels are `Ignore`d.
    """
    atoms = draw(st.integers(2, max_atoms))
    spaces = []
    truth: dict[str, frozenset[int]] = {}
    for s in range(draw(st.integers(1, max_spaces))):
        covered = draw(st.lists(st.integers(0, atoms - 1), min_size=1, unique=True))
        groups = draw(st.lists(st.integers(0, 3), min_size=len(covered),
                               max_size=len(covered)))  # fmt: skip
        labels: dict[int, set[int]] = {}
        for atom, group in zip(covered, groups, strict=True):
            labels.setdefault(group, set()).add(atom)
        names = [f"l{g}" for g in sorted(labels)]
        space = ux.LabelSpace.from_names(f"s{s}", names, void=[255])
        spaces.append(space)
        for g in sorted(labels):
            truth[f"s{s}/l{g}"] = frozenset(labels[g])
    rules: list[ux.rules.Rule] = []
    refs = sorted(truth)
    related: set[str] = set()
    for i, a in enumerate(refs):
        for b in refs[i + 1 :]:
            if a.split("/")[0] == b.split("/")[0]:
                continue
            if truth[a] == truth[b]:
                rules.append(Same(labels=(a, b)))
            elif truth[a] < truth[b]:
                rules.append(IsA(child=a, parent=b))
            elif truth[b] < truth[a]:
                rules.append(IsA(child=b, parent=a))
            else:
                continue
            related.update((a, b))
    unrelated = [ref for ref in refs if ref not in related]
    ignored = (
        draw(st.lists(st.sampled_from(unrelated), unique=True)) if unrelated else []
    )
    rules.extend(Ignore(label=ref) for ref in ignored)
    return World(tuple(spaces), truth, tuple(rules))
