"""Graph steps of `unitax.unify`: reconcile splits, drop redundant edges.

Private; `unitax.unify` documents what they do for the user.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx

from unitax.errors import TaxonomyError
from unitax.taxonomy import NodeKind

__all__ = ["INTERSECTION", "Sources", "Splits", "drop_redundant_edges", "refine_splits"]

Sources = dict[tuple[str, str], list[str]]
"""``(parent, child) -> descriptions of the rules that put the edge there``."""
Splits = dict[str, dict[frozenset[str], str]]
"""``whole -> {parts: description of the rule}``: the ways each node is split."""

INTERSECTION = "{} & {}"
"""Format of the name of a node where two parts of different splits meet."""


def refine_splits(
    graph: nx.DiGraph[str],
    sources: Sources,
    exhausted: Splits,
    kinds: dict[str, NodeKind],
) -> None:
    """Reconcile a node split in several ways into their common refinement.

    Two splits of one whole (Cityscapes road = Vistas {road, crosswalk}, and
    road = IDD {road, parking-like}) agree on their shared parts; the other
    parts are crossed: each pair meets in an intersection node ``"a & b"``,
    and each part becomes split into its intersections. Where one side has
    a single part left, it is split into the other side's parts instead. The
    new splits are reconciled in turn (a work list, in a fixed order).
    """
    pending = sorted(whole for whole, splits in exhausted.items() if len(splits) > 1)
    while pending:
        whole = pending.pop(0)
        splits = sorted(exhausted[whole].items(), key=lambda item: sorted(item[0]))
        cells, first_text = set(splits[0][0]), splits[0][1]
        for parts, text in splits[1:]:
            shared = cells & parts
            mine, theirs = sorted(cells - shared), sorted(parts - shared)
            if not mine and not theirs:
                continue
            if len(mine) == 1 and len(theirs) == 1:
                raise TaxonomyError(
                    f"{first_text} and {text} split {whole!r} into the same parts "
                    f"except {mine[0]!r} and {theirs[0]!r}, which must therefore be "
                    f"equal; state it with a Same rule"
                )
            if not mine or not theirs:
                raise TaxonomyError(
                    f"{first_text} and {text} split {whole!r} into parts that "
                    "cannot both be exact (one is a strict subset of the other)"
                )
            if len(mine) == 1 or len(theirs) == 1:
                single, many = (
                    (mine[0], theirs) if len(mine) == 1 else (theirs[0], mine)
                )
                reason = f"{single!r} is what remains of {whole!r} in both splits"
                crossed: dict[str, set[str]] = {single: set(many)}
                new_cells = set(many)
            else:
                crossed = defaultdict(set)
                new_cells = set()  # fmt: skip
                for a in mine:
                    for b in theirs:
                        meet = INTERSECTION.format(a, b)
                        if meet in graph and kinds.get(meet) != "intersection":
                            raise TaxonomyError(
                                f"node {meet!r} is needed where {a!r} and {b!r} meet, "
                                "but a node of that name exists already"
                            )
                        kinds[meet] = "intersection"
                        crossed[a].add(meet)
                        crossed[b].add(meet)
                        new_cells.add(meet)
                reason = f"{first_text} and {text} split {whole!r} in different ways"
            for part, pieces in sorted(crossed.items()):
                for piece in sorted(pieces):
                    graph.add_edge(part, piece)
                    sources[part, piece].append(reason)
                exhausted[part].setdefault(frozenset(pieces), reason)
                if len(exhausted[part]) > 1 and part not in pending:
                    pending.append(part)
            cells = shared | new_cells


def drop_redundant_edges(graph: nx.DiGraph[str]) -> None:
    """Remove ``parent -> child`` where another parent of child lies below parent.

    One walk up from all parents of each child with several parents: a parent
    reached from another parent is redundant. Removing a redundant edge keeps
    every ancestor set, so the order of removal does not matter.
    """
    for child in [node for node, count in graph.in_degree() if count > 1]:
        parents = set(graph.predecessors(child))
        seen: set[str] = set()
        stack = [above for parent in parents for above in graph.predecessors(parent)]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(graph.predecessors(node))
        graph.remove_edges_from((parent, child) for parent in parents & seen)
