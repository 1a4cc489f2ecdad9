"""The findings behind `unitax.conflicts`: labels by node, one generator per kind.

Private; `unitax.conflicts` documents the kinds, sorts the rows and builds the
tables. `Index` checks the label maps against the taxonomy and files every
label under its node; each generator (`name_collisions`, `equivalents`,
`granularity`, `overlaps`, `ignored`, `unmapped`, `remainders`) yields `Row`
tuples: the columns of `unitax.conflicts.COLUMNS` without ``severity``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from unitax.errors import TaxonomyError
from unitax.rules import Same, normalize_name
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = [
    "Index",
    "Ref",
    "Row",
    "equivalents",
    "granularity",
    "ignored",
    "name_collisions",
    "overlaps",
    "remainders",
    "unmapped",
]

Ref = tuple[str, str]  # (space, label)
Row = tuple[
    str, str | None, str | None, str | None, str | None, str | None, str, str | None
]
"""``(kind, space, label, other_space, other_label, node, detail, suggestion)``."""


class Index:
    """Labels by node, in a fixed order: what every finding kind looks up."""

    def __init__(self, taxonomy: Taxonomy, label_maps: Mapping[str, LabelMap]) -> None:
        self.taxonomy = taxonomy
        self.maps = {
            label_map.space.name: label_map for label_map in label_maps.values()
        }
        self.by_node: dict[str, list[Ref]] = defaultdict(list)
        self.ignored: list[Ref] = []
        for space in sorted(self.maps):
            label_map = self.maps[space]
            if label_map.taxonomy is not taxonomy and label_map.taxonomy != taxonomy:
                raise TaxonomyError(
                    f"label map for {space!r} points to {label_map.taxonomy!r}, "
                    f"expected the taxonomy given, {taxonomy!r}"
                )
            for label in label_map.space.labels:
                node = label_map.nodes[label.id]
                if node is None:
                    self.ignored.append((space, label.name))
                else:
                    self.by_node[node].append((space, label.name))

    def labels(self) -> Iterator[tuple[str, str, str]]:
        """``(space, label, node)`` of every mapped label, by node index."""
        for node in sorted(self.by_node, key=self.taxonomy.index):
            for space, label in self.by_node[node]:
                yield space, label, node


def name_collisions(index: Index) -> Iterator[Row]:
    """Same normalised name, nodes that share no leaf: one row per node pair."""
    taxonomy = index.taxonomy
    groups: dict[str, dict[str, list[Ref]]] = defaultdict(lambda: defaultdict(list))
    for space, label, node in index.labels():
        groups[normalize_name(label)][node].append((space, label))
    for key in sorted(groups):
        nodes = groups[key]
        if len(nodes) < 2:
            continue
        ordered = list(nodes)  # nodes by index, from `Index.labels`
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if taxonomy.leaf_bits(first) & taxonomy.leaf_bits(second):
                    continue  # related: one covers the other, or they overlap
                pair = next(
                    (
                        (a, b)
                        for a in nodes[first]
                        for b in nodes[second]
                        if a[0] != b[0]
                    ),
                    None,
                )
                if pair is None:
                    continue  # labels of one space are never paired
                (space, label), (other_space, other_label) = sorted(pair)
                node, other_node = (
                    (first, second) if pair[0][0] == space else (second, first)
                )
                refs = (f"{space}/{label}", f"{other_space}/{other_label}")
                detail = (
                    f"{refs[0]!r} and {refs[1]!r} have the same normalised name "
                    f"{key!r} but unrelated nodes {node!r} and {other_node!r}; "
                    "no rule relates them"
                )
                yield ("name_collision", space, label, other_space, other_label,
                       node, detail, repr(Same(labels=refs)))  # fmt: skip


def equivalents(index: Index) -> Iterator[Row]:
    """Distinct nodes with equal leaf sets: one row per pair with labels."""
    taxonomy = index.taxonomy
    by_bits: dict[int, list[str]] = defaultdict(list)
    for node in taxonomy.names:
        if not taxonomy.is_leaf(node):
            by_bits[taxonomy.leaf_bits(node)].append(node)
    for nodes in by_bits.values():
        for i, first in enumerate(nodes):
            for second in nodes[i + 1 :]:
                space, label = _first(index, first)
                other_space, other_label = _first(index, second)
                detail = (
                    f"{first!r} and {second!r} cover exactly the same leaves, so "
                    "they mean the same thing; a Same rule makes them one node"
                )
                refs = tuple(
                    f"{s}/{lab}" if s is not None else node
                    for s, lab, node in ((space, label, first),
                                         (other_space, other_label, second))
                )  # fmt: skip
                yield ("equivalent", space, label, other_space, other_label,
                       first, detail, repr(Same(labels=refs)))  # fmt: skip


def granularity(index: Index) -> Iterator[Row]:
    """A label on an inner node where another space has 2+ labels below it."""
    taxonomy = index.taxonomy
    for node, refs in sorted(
        index.by_node.items(), key=lambda item: taxonomy.index(item[0])
    ):
        if taxonomy.is_leaf(node):
            continue
        below: dict[str, list[str]] = defaultdict(list)
        for descendant in taxonomy.descendants(node):
            for space, label in index.by_node.get(descendant, ()):
                below[space].append(label)
        here = {space for space, _ in refs}
        for space, label in refs:
            for other in sorted(below):
                if other in here or len(below[other]) < 2:
                    continue
                names = sorted(below[other])
                listed = ", ".join(repr(name) for name in names[:10])
                more = f" and {len(names) - 10} more" if len(names) > 10 else ""
                detail = (
                    f"'{space}/{label}' is one label where {other} has {len(names)} "
                    f"below it: {listed}{more}"
                )
                yield ("granularity", space, label, other, None, node, detail, None)


def overlaps(index: Index) -> Iterator[Row]:
    """Intersection nodes: which two labels overlap partially."""
    taxonomy = index.taxonomy
    for node in taxonomy.names:
        if taxonomy.kind(node) != "intersection":
            continue
        parents = taxonomy.parents(node)
        (space, label), (other_space, other_label) = (
            _first(index, parents[0]) if parents else (None, None),
            _first(index, parents[1]) if len(parents) > 1 else (None, None),
        )
        detail = (
            f"{' and '.join(repr(parent) for parent in parents)} overlap partially; "
            f"their shared part is the leaf {node!r}"
        )
        yield ("overlap", space, label, other_space, other_label, node, detail, None)


def ignored(index: Index) -> Iterator[Row]:
    """Labels sent to ignore on purpose."""
    for space, label in index.ignored:
        detail = f"'{space}/{label}' is sent to ignore: its pixels supervise nothing"
        yield ("ignored", space, label, None, None, None, detail, None)


def unmapped(index: Index) -> Iterator[Row]:
    """Labels on their own isolated node ``space/label`` that no rule relates."""
    taxonomy = index.taxonomy
    for space, label, node in index.labels():
        if (
            node == f"{space}/{label}"
            and len(index.by_node[node]) == 1
            and not taxonomy.parents(node)
            and taxonomy.is_leaf(node)
        ):
            detail = (
                f"no rule relates {node!r}: it is a node of its own, "
                "unrelated to every other label"
            )
            yield ("unmapped", space, label, None, None, node, detail, None)


def remainders(index: Index) -> Iterator[Row]:
    """Remainder leaves: which node they complete, and who maps to them."""
    taxonomy = index.taxonomy
    for node in taxonomy.names:
        if taxonomy.kind(node) != "remainder":
            continue
        parents = taxonomy.parents(node)
        direct = index.by_node.get(node, [])
        whose = " and ".join(repr(parent) for parent in parents) or "no node"
        if direct:
            mapped = ", ".join(f"'{space}/{label}'" for space, label in direct)
            how = f"{mapped} map(s) to it directly"
        else:
            how = "no label maps to it: it is supervised only through its parent"
        detail = f"{node!r} is the part of {whose} that its children leave out; {how}"
        space, label = _first(index, parents[0]) if parents else (None, None)
        yield ("remainder", space, label, None, None, node, detail, None)


def _first(index: Index, node: str) -> tuple[str, str] | tuple[None, None]:
    refs = index.by_node.get(node)
    return refs[0] if refs else (None, None)
