"""The conflict report: what `unify` left for a person to review.

Findings are data, not exceptions: `find_conflicts` returns one row per
finding, `coverage` tells which leaves each label space supervises, and
`summarize` gives one row of counts per space.

Kinds of finding
----------------
================ ======== =====================================================
kind             severity meaning
================ ======== =====================================================
name_collision   warning  labels of two spaces with the same normalised name
                          (`unitax.rules.normalize_name`) on nodes that share
                          no leaf: no rule relates them. Suggests a `Same`.
granularity      info     one label stands where another space has several
                          (Cityscapes ``rider`` vs three Vistas riders).
overlap          info     an intersection node: two labels overlap partially.
ignored          info     a label sent to ignore on purpose.
unmapped         warning  a label no rule relates: its node is its own, named
                          ``space/label``, without parents or children.
equivalent       warning  two nodes cover exactly the same leaves (two labels
                          split into the same parts): they mean the same
                          thing. Suggests a `Same`.
remainder        info     a remainder leaf: the part of a node its children
                          leave out, usually supervised only through it.
================ ======== =====================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np

from unitax.errors import TaxonomyError
from unitax.rules import Same, normalize_name
from unitax.taxonomy import LabelMap, Taxonomy, bits_to_matrix

if TYPE_CHECKING:  # imported where used: pandas costs ~80 MiB, not needed to read
    import pandas as pd

__all__ = ["COLUMNS", "COVERAGE", "KINDS", "coverage", "find_conflicts", "summarize"]

FindingKind = Literal[
    "name_collision",
    "equivalent",
    "granularity",
    "overlap",
    "ignored",
    "unmapped",
    "remainder",
]
KINDS: tuple[FindingKind, ...] = (
    "name_collision",
    "equivalent",
    "granularity",
    "overlap",
    "ignored",
    "unmapped",
    "remainder",
)
"""The kinds of finding, in report order (categories of the ``kind`` column)."""

_SEVERITY: dict[str, str] = {
    "name_collision": "warning",
    "equivalent": "warning",
    "unmapped": "warning",
    "granularity": "info",
    "overlap": "info",
    "ignored": "info",
    "remainder": "info",
}
COLUMNS: tuple[str, ...] = (
    "kind",
    "severity",
    "space",
    "label",
    "other_space",
    "other_label",
    "node",
    "detail",
    "suggestion",
)
"""The columns of `find_conflicts`' table, in order."""

COVERAGE: tuple[str, ...] = ("exact", "ancestor", "absent")
"""The categories of `coverage`'s cells."""

_Ref = tuple[str, str]  # (space, label)
_Row = tuple[
    str, str | None, str | None, str | None, str | None, str | None, str, str | None
]


def find_conflicts(
    taxonomy: Taxonomy, label_maps: Mapping[str, LabelMap]
) -> pd.DataFrame:
    """Report what a person should review after `unify`, one row per finding.

    Parameters
    ----------
    taxonomy
        The taxonomy `unify` built.
    label_maps
        The label maps `unify` returned with it, keyed by space name.

    Returns
    -------
    pandas.DataFrame
        Columns `COLUMNS`: ``kind`` (categorical, `KINDS`), ``severity``
        (categorical, ``"warning"`` or ``"info"``), ``space``, ``label``,
        ``other_space``, ``other_label``, ``node``, ``detail`` (a sentence)
        and ``suggestion`` (a rule as text, or ``None``). Unused cells are
        ``None``. Rows are sorted by severity (warnings first), kind, then
        the text columns, so equal inputs give equal tables.

    Raises
    ------
    TaxonomyError
        If a label map points to another taxonomy.

    Examples
    --------
    >>> a = ux.LabelSpace.from_names("a", ["road", "rider", "car", "blur"])
    >>> b_labels = ["Roads", "bicyclist", "motorcyclist", "Cars"]
    >>> b = ux.LabelSpace.from_names("b", b_labels)
    >>> rules = [
    ...     ux.rules.Same(labels=("a/road", "b/Roads")),
    ...     ux.rules.IsA(child="b/bicyclist", parent="a/rider"),
    ...     ux.rules.IsA(child="b/motorcyclist", parent="a/rider"),
    ...     ux.rules.Ignore(label="a/blur"),
    ... ]
    >>> taxonomy, maps = ux.unify([a, b], rules)
    >>> findings = find_conflicts(taxonomy, maps)
    >>> findings[["kind", "space", "label", "other_label"]]
                 kind space  label other_label
    0  name_collision     a    car        Cars
    1        unmapped     a    car        None
    2        unmapped     b   Cars        None
    3     granularity     a  rider        None
    4         ignored     a   blur        None
    5       remainder     a  rider        None
    >>> findings.suggestion[0]
    "Same(labels=('a/car', 'b/Cars'))"
    >>> findings.detail[3]
    "'a/rider' is one label where b has 2 below it: 'bicyclist', 'motorcyclist'"
    """
    import pandas as pd

    index = _Index(taxonomy, label_maps)
    rows = [
        *_name_collisions(index),
        *_equivalents(index),
        *_granularity(index),
        *_overlaps(index),
        *_ignored(index),
        *_unmapped(index),
        *_remainders(index),
    ]
    kind_rank: dict[str, int] = {kind: i for i, kind in enumerate(KINDS)}
    rows.sort(
        key=lambda row: (
            _SEVERITY[row[0]] != "warning",
            kind_rank[row[0]],
            *(value or "" for value in row[1:]),
        )
    )
    records = [(kind, _SEVERITY[kind], *rest) for kind, *rest in rows]
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame = frame.astype(object).where(frame.notna(), None)
    frame["kind"] = pd.Categorical(frame["kind"], categories=KINDS)
    frame["severity"] = pd.Categorical(
        frame["severity"], categories=["warning", "info"]
    )
    return frame


def coverage(taxonomy: Taxonomy, label_maps: Mapping[str, LabelMap]) -> pd.DataFrame:
    """Tell, for each leaf and label space, how the space supervises the leaf.

    Parameters
    ----------
    taxonomy
        The taxonomy `unify` built.
    label_maps
        Its label maps, keyed by space name.

    Returns
    -------
    pandas.DataFrame
        Index: the leaves, in taxonomy order (named ``"leaf"``). Columns: the
        space names, sorted (named ``"space"``). Cells: a categorical with
        categories `COVERAGE`: ``"exact"`` where a label of the space maps to
        the leaf itself, ``"ancestor"`` where a label maps to a node above it
        (the space supervises the leaf only together with others), and
        ``"absent"`` otherwise.

    Raises
    ------
    TaxonomyError
        If a label map points to another taxonomy.

    Examples
    --------
    >>> a = ux.LabelSpace.from_names("a", ["rider"])
    >>> b = ux.LabelSpace.from_names("b", ["bicyclist", "car"])
    >>> rules = [ux.rules.IsA(child="b/bicyclist", parent="a/rider")]
    >>> taxonomy, maps = ux.unify([a, b], rules)
    >>> coverage(taxonomy, maps)
    space                     a       b
    leaf
    a/rider (other)    ancestor  absent
    b/bicyclist        ancestor   exact
    b/car                absent   exact
    """
    import pandas as pd

    index = _Index(taxonomy, label_maps)
    leaves = taxonomy.leaves
    width = len(leaves)
    leaf_position = {leaf: i for i, leaf in enumerate(leaves)}
    columns = {}
    for space in sorted(index.maps):
        codes = np.full(width, 2, dtype=np.int8)
        covered = 0
        for node in index.maps[space].nodes.values():
            if node is not None:
                covered |= taxonomy.leaf_bits(node)
        if width:
            codes[bits_to_matrix([covered], width)[0]] = 1
        for node in index.maps[space].nodes.values():
            if node is not None and node in leaf_position:
                codes[leaf_position[node]] = 0
        columns[space] = pd.Categorical.from_codes(codes, categories=pd.Index(COVERAGE))
    frame = pd.DataFrame(columns, index=pd.Index(leaves, name="leaf", dtype=object))
    frame.columns.name = "space"
    return frame


def summarize(taxonomy: Taxonomy, label_maps: Mapping[str, LabelMap]) -> pd.DataFrame:
    """Count, per label space, its labels, findings and covered leaves.

    Returns
    -------
    pandas.DataFrame
        Index: space names, sorted. Columns: ``labels``; ``mapped`` (to a
        node); ``ignored``; ``unmapped`` (mapped, but related by no rule);
        ``leaves_exact`` and ``leaves_ancestor`` (the `coverage` counts).

    Examples
    --------
    >>> a = ux.LabelSpace.from_names("a", ["rider", "blur"])
    >>> b = ux.LabelSpace.from_names("b", ["bicyclist", "car"])
    >>> rules = [
    ...     ux.rules.IsA(child="b/bicyclist", parent="a/rider"),
    ...     ux.rules.Ignore(label="a/blur"),
    ... ]
    >>> summarize(*ux.unify([a, b], rules))
           labels  mapped  ignored  unmapped  leaves_exact  leaves_ancestor
    space
    a           2       1        1         0             0                2
    b           2       2        0         1             2                0
    """
    import pandas as pd

    index = _Index(taxonomy, label_maps)
    table = coverage(taxonomy, label_maps)
    unmapped: dict[str, int] = defaultdict(int)
    for row in _unmapped(index):
        unmapped[row[1] or ""] += 1
    records = []
    for space in sorted(index.maps):
        nodes = index.maps[space].nodes.values()
        mapped = sum(node is not None for node in nodes)
        counts = table[space].value_counts()
        records.append(
            (space, len(nodes), mapped, len(nodes) - mapped, unmapped[space],
             int(counts["exact"]), int(counts["ancestor"]))
        )  # fmt: skip
    columns = ["space", "labels", "mapped", "ignored", "unmapped", "leaves_exact",
               "leaves_ancestor"]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns).set_index("space")


# -- the finding kinds ----------------------------------------------------------


class _Index:
    """Labels by node, in a fixed order: what every finding kind looks up."""

    def __init__(self, taxonomy: Taxonomy, label_maps: Mapping[str, LabelMap]) -> None:
        self.taxonomy = taxonomy
        self.maps = {
            label_map.space.name: label_map for label_map in label_maps.values()
        }
        self.by_node: dict[str, list[_Ref]] = defaultdict(list)
        self.ignored: list[_Ref] = []
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


def _name_collisions(index: _Index) -> Iterator[_Row]:
    """Same normalised name, nodes that share no leaf: one row per node pair."""
    taxonomy = index.taxonomy
    groups: dict[str, dict[str, list[_Ref]]] = defaultdict(lambda: defaultdict(list))
    for space, label, node in index.labels():
        groups[normalize_name(label)][node].append((space, label))
    for key in sorted(groups):
        nodes = groups[key]
        if len(nodes) < 2:
            continue
        ordered = list(nodes)  # nodes by index, from `_Index.labels`
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


def _equivalents(index: _Index) -> Iterator[_Row]:
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


def _granularity(index: _Index) -> Iterator[_Row]:
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


def _overlaps(index: _Index) -> Iterator[_Row]:
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


def _ignored(index: _Index) -> Iterator[_Row]:
    """Labels sent to ignore on purpose."""
    for space, label in index.ignored:
        detail = f"'{space}/{label}' is sent to ignore: its pixels supervise nothing"
        yield ("ignored", space, label, None, None, None, detail, None)


def _unmapped(index: _Index) -> Iterator[_Row]:
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


def _remainders(index: _Index) -> Iterator[_Row]:
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


def _first(index: _Index, node: str) -> tuple[str, str] | tuple[None, None]:
    refs = index.by_node.get(node)
    return refs[0] if refs else (None, None)
