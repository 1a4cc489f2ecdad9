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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np

from unitax._bits import bits_to_matrix
from unitax._conflict_index import (
    Index,
    equivalents,
    granularity,
    ignored,
    name_collisions,
    overlaps,
    remainders,
    unmapped,
)
from unitax.taxonomy import LabelMap, Taxonomy

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

    index = Index(taxonomy, label_maps)
    rows = [
        *name_collisions(index),
        *equivalents(index),
        *granularity(index),
        *overlaps(index),
        *ignored(index),
        *unmapped(index),
        *remainders(index),
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

    index = Index(taxonomy, label_maps)
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

    index = Index(taxonomy, label_maps)
    table = coverage(taxonomy, label_maps)
    unmapped_by_space: dict[str, int] = defaultdict(int)
    for row in unmapped(index):
        unmapped_by_space[row[1] or ""] += 1
    records = []
    for space in sorted(index.maps):
        nodes = index.maps[space].nodes.values()
        mapped = sum(node is not None for node in nodes)
        counts = table[space].value_counts()
        records.append(
            (space, len(nodes), mapped, len(nodes) - mapped, unmapped_by_space[space],
             int(counts["exact"]), int(counts["ancestor"]))
        )  # fmt: skip
    columns = ["space", "labels", "mapped", "ignored", "unmapped", "leaves_exact",
               "leaves_ancestor"]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns).set_index("space")
