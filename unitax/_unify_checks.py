"""The checks of `unitax.unify`'s last step; each failure names the rules.

Private; `unitax.unify` documents what they check for the user. They take the
graph `unify` built and ``sources`` (which rules put each edge there), and
raise `TaxonomyError`: `check_acyclic` on a cycle, `check_splits` when a node
split exactly has a child that is none of its parts (a child below a part is
implied, and its direct edge dropped), `check_disjoint` when two labels of one
space cover a common leaf that their space's hierarchy does not explain.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import networkx as nx

from unitax._graph import Sources, Splits
from unitax.errors import TaxonomyError
from unitax.taxonomy import LabelMap

__all__ = ["check_acyclic", "check_disjoint", "check_splits"]


def check_acyclic(
    graph: nx.DiGraph[str], sources: dict[tuple[str, str], list[str]]
) -> None:
    if nx.is_directed_acyclic_graph(graph):
        return
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    steps = "; ".join(
        f"{parent!r} -> {child!r} by {sources[parent, child][0]}"
        for parent, child in cycle
    )
    raise TaxonomyError(f"the rules form a cycle: {steps}")


def check_splits(graph: nx.DiGraph[str], sources: Sources, exhausted: Splits) -> None:
    for whole in sorted(exhausted):
        splits = exhausted[whole]
        parts = set().union(*splits)
        for child in sorted(set(graph.successors(whole)) - parts):
            if any(part in nx.ancestors(graph, child) for part in parts):
                graph.remove_edge(whole, child)  # implied through a part
                continue
            text = splits[min(splits, key=sorted)]
            raise TaxonomyError(
                f"{text} says {whole!r} is exactly the union of its parts, but "
                f"{sources[whole, child][0]} puts {child!r} under {whole!r} too; "
                f"say which part {child!r} belongs to"
            )


def check_disjoint(
    label_map: LabelMap,
    graph: nx.DiGraph[str],
    sources: dict[tuple[str, str], list[str]],
) -> None:
    """Check that labels of one space cover disjoint leaves.

    Labels may share leaves where the space's own hierarchy nests them.

    A leaf may be covered by several labels only if they have a least
    element in the space's hierarchy. Equivalently, the *exclusive* leaf
    sets (a label's leaves minus its in-space children's leaves) are
    disjoint: one pass of bit-set operations.
    """
    taxonomy = label_map.taxonomy
    space = label_map.space
    bits = {
        label.name: taxonomy.leaf_bits(node)
        for label in space.labels
        if (node := label_map.nodes[label.id]) is not None
    }
    children: dict[str, list[str]] = defaultdict(list)
    for label in space.labels:
        for parent in label.parents:
            if label.name in bits and parent in bits:
                children[parent].append(label.name)
    covered = 0
    owners: list[tuple[str, int]] = []
    for label in sorted(space.labels, key=lambda label: label.id):
        if label.name not in bits:
            continue
        exclusive = bits[label.name]
        for child in children.get(label.name, ()):
            exclusive &= ~bits[child]
        if covered & exclusive:
            other = next(name for name, own in owners if own & exclusive)
            raise _overlap_error(
                label_map,
                other,
                label.name,
                exclusive & bits[other],
                graph,
                sources,
            )
        covered |= exclusive
        owners.append((label.name, exclusive))


def _overlap_error(
    label_map: LabelMap,
    first: str,
    second: str,
    shared: int,
    graph: nx.DiGraph[str],
    sources: dict[tuple[str, str], list[str]],
) -> TaxonomyError:
    taxonomy, space = label_map.taxonomy, label_map.space
    leaf = taxonomy.leaves[(shared & -shared).bit_length() - 1]
    involved: list[str] = []
    for name in (first, second):
        node = label_map.nodes[space.by_name(name).id]
        path = nx.shortest_path(graph, node, leaf) if node != leaf else [leaf]
        for step in itertools.pairwise(path):
            involved.extend(s for s in sources.get(step, []) if s not in involved)
    because = "; ".join(involved) if involved else "Same rules merging them"
    first, second = f"{space.name}/{first}", f"{space.name}/{second}"
    return TaxonomyError(
        f"labels {first!r} and {second!r} both cover the leaf {leaf!r}, but "
        f"labels of one space must be disjoint. Involved: {because}"
    )
