"""The universal taxonomy: an immutable DAG of nodes, and label maps into it.

Conventions
-----------
* Edges point from parent to child. A node's meaning is the set of leaves
  below it (a leaf covers itself). A node may have several parents.
* ``Taxonomy.names`` is a topological order, ties broken by name; a node's
  *index* is its position there, and targets hold indices. Leaves keep the
  same relative order in ``Taxonomy.leaves``.
* Targets are ``uint8`` while the node count is below 255, else ``uint16``
  (then ``uint32``); ``ignore_index`` is the dtype's maximum.
* Leaf sets are kept as Python integers used as bit sets (bit ``i`` is leaf
  ``i``): unions and intersections of thousands of leaves cost one C call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from unitax._bits import (
    bit_positions,
    leaf_bits,
    lexicographic_order,
    membership_matrix,
)
from unitax._bits import bits_to_matrix as bits_to_matrix  # tests import it here
from unitax.errors import FormatError, TaxonomyError, did_you_mean
from unitax.labels import LabelSpace

__all__ = ["LabelMap", "NodeKind", "Taxonomy"]

NodeKind = Literal["label", "concept", "remainder", "intersection"]
_KINDS: tuple[str, ...] = ("label", "concept", "remainder", "intersection")


class Taxonomy:
    """An immutable DAG of universal classes; edges point parent -> child.

    Parameters
    ----------
    edges
        ``(parent, child)`` pairs of node names.
    nodes
        Extra node names (isolated nodes, or to fix a node's kind); optional.
    kinds
        ``{name: kind}`` with kind one of ``"label"`` (stands for dataset
        labels), ``"concept"`` (a universal concept no dataset names),
        ``"remainder"`` (the part of a parent its children leave out) and
        ``"intersection"`` (where two overlapping labels meet). Nodes not
        named default to ``"label"``.

    Raises
    ------
    TaxonomyError
        If the edges form a cycle, a kind is unknown or names no node.

    Examples
    --------
    >>> taxonomy = ux.Taxonomy([("vehicle", "car"), ("vehicle", "bus")])
    >>> taxonomy.names
    ('vehicle', 'bus', 'car')
    >>> taxonomy.leaves
    ('bus', 'car')
    >>> taxonomy.leaf_matrix().astype(int)
    array([[1, 1],
           [1, 0],
           [0, 1]])
    >>> taxonomy.ignore_index, taxonomy.dtype
    (255, dtype('uint8'))
    """

    __slots__ = (
        "_bits",
        "_graph",
        "_index",
        "_kinds",
        "_leaf_index",
        "_leaves",
        "_names",
    )

    def __init__(
        self,
        edges: Iterable[tuple[str, str]],
        *,
        nodes: Iterable[str] = (),
        kinds: Mapping[str, NodeKind] | None = None,
    ) -> None:
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from(edges)
        self._build(graph, dict(kinds or {}))

    @classmethod
    def _from_graph(
        cls, graph: nx.DiGraph[str], kinds: Mapping[str, NodeKind]
    ) -> Taxonomy:
        """Wrap ``graph`` without copying it; the caller hands it over."""
        taxonomy = cls.__new__(cls)
        taxonomy._build(graph, dict(kinds))
        return taxonomy

    def _build(self, graph: nx.DiGraph[str], kinds: dict[str, NodeKind]) -> None:
        for name, kind in kinds.items():
            if name not in graph:
                raise TaxonomyError(f"kinds names {name!r}, which is not a node")
            if kind not in _KINDS:
                raise TaxonomyError(
                    f"node kind must be one of {_KINDS}, got {kind!r} for {name!r}"
                )
        order = lexicographic_order(graph)
        if order is None:
            cycle = nx.find_cycle(graph)
            path = " -> ".join([*(parent for parent, _ in cycle), cycle[0][0]])
            raise TaxonomyError(
                f"taxonomy edges must form a DAG, got the cycle {path}"
            ) from None
        self._graph = nx.freeze(graph)
        self._names = order
        self._index = {name: i for i, name in enumerate(order)}
        self._kinds = {name: kinds.get(name, "label") for name in order}
        succ = dict(graph.adjacency())  # plain dicts: no view per lookup
        self._leaves = tuple(n for n in order if not succ[n])
        self._leaf_index = leaf_index = {name: i for i, name in enumerate(self._leaves)}
        self._bits = leaf_bits(order, succ, leaf_index)

    # -- basic queries --------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """All node names, in index order (topological, ties by name)."""
        return self._names

    @property
    def leaves(self) -> tuple[str, ...]:
        """Leaf names in index order; leaf ``i`` is column ``i`` of `leaf_matrix`."""
        return self._leaves

    @property
    def dtype(self) -> np.dtype[np.unsignedinteger[Any]]:
        """The smallest unsigned dtype that holds every index and ``ignore_index``."""
        for dtype in (np.uint8, np.uint16, np.uint32):
            if len(self._names) < np.iinfo(dtype).max:
                return np.dtype(dtype)
        raise TaxonomyError(f"too many nodes for a target: {len(self._names)}")

    @property
    def ignore_index(self) -> int:
        """The target value meaning "no supervision": the dtype's maximum."""
        return int(np.iinfo(self.dtype).max)

    def index(self, name: str) -> int:
        """Return the index of node ``name``.

        >>> ux.Taxonomy([("vehicle", "car")]).index("car")
        1
        """
        try:
            return self._index[name]
        except KeyError:
            raise self._unknown(name) from None

    def kind(self, name: str) -> NodeKind:
        """Return what node ``name`` stands for (see the class docstring)."""
        self.index(name)
        return self._kinds[name]

    def is_leaf(self, name: str) -> bool:
        """Return whether ``name`` has no children."""
        self.index(name)
        return name in self._leaf_index

    def parents(self, name: str) -> tuple[str, ...]:
        """Direct parents of ``name``, in index order."""
        self.index(name)
        return self._sorted(self._graph.predecessors(name))

    def children(self, name: str) -> tuple[str, ...]:
        """Direct children of ``name``, in index order."""
        self.index(name)
        return self._sorted(self._graph.successors(name))

    def ancestors(self, name: str) -> tuple[str, ...]:
        """All nodes above ``name``, in index order."""
        self.index(name)
        return self._sorted(nx.ancestors(self._graph, name))

    def descendants(self, name: str) -> tuple[str, ...]:
        """All nodes below ``name``, in index order."""
        self.index(name)
        return self._sorted(nx.descendants(self._graph, name))

    def leaves_of(self, name: str) -> tuple[str, ...]:
        """The leaves ``name`` covers (itself, if it is a leaf), in index order.

        >>> ux.Taxonomy([("vehicle", "car"), ("vehicle", "bus")]).leaves_of("vehicle")
        ('bus', 'car')
        """
        bits = self._bits[self.index(name)]
        return tuple(self._leaves[i] for i in bit_positions(bits))

    def depth(self, name: str) -> int:
        """Length of the longest path from a root down to ``name`` (roots: 0)."""
        self.index(name)
        depth = 0
        frontier = {name}
        while True:
            frontier = {p for n in frontier for p in self._graph.predecessors(n)}
            if not frontier:
                return depth
            depth += 1

    def roots(self) -> tuple[str, ...]:
        """Nodes without parents, in index order."""
        return tuple(n for n in self._names if self._graph.in_degree(n) == 0)

    def leaf_bits(self, name: str) -> int:
        """The leaves of ``name`` as a bit set: bit ``i`` is ``leaves[i]``."""
        return self._bits[self.index(name)]

    def leaf_matrix(self) -> NDArray[np.bool_]:
        """Binary membership matrix of shape ``(len(names), len(leaves))``.

        Row ``i`` marks the leaves that node ``names[i]`` covers; each leaf's
        row marks itself alone. Memory is ``nodes * leaves`` bytes.
        """
        return membership_matrix(self._bits, len(self._leaves))

    def to_graph(self) -> nx.DiGraph[str]:
        """A mutable copy of the graph, with each node's ``kind`` attribute."""
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(
            (name, {"kind": self._kinds[name]}) for name in self._names
        )
        graph.add_edges_from(self._graph.edges)
        return graph

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """``(parent, child)`` pairs, sorted by the indices of parent and child."""
        index = self._index
        return tuple(
            sorted(self._graph.edges, key=lambda e: (index[e[0]], index[e[1]]))
        )

    # -- serialisation --------------------------------------------------------

    def to_json(self) -> str:
        """Serialise to JSON (see ``schemas/taxonomy.schema.json``).

        >>> taxonomy = ux.Taxonomy([("vehicle", "car")])
        >>> ux.Taxonomy.from_json(taxonomy.to_json()) == taxonomy
        True
        """
        stored = TaxonomyFile(
            nodes=tuple(
                TaxonomyNode(
                    name=name, kind=self._kinds[name], parents=self.parents(name)
                )
                for name in self._names
            )
        )
        return stored.model_dump_json(indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Taxonomy:
        """Parse what `to_json` wrote.

        Raises
        ------
        FormatError
            If ``text`` is not a taxonomy document.
        """
        try:
            stored = TaxonomyFile.model_validate_json(text)
        except ValueError as err:
            raise FormatError(f"not a taxonomy document: {err}") from err
        names = {node.name for node in stored.nodes}
        for node in stored.nodes:
            for parent in node.parents:
                if parent not in names:
                    raise FormatError(
                        f"taxonomy node {node.name!r} has unknown parent {parent!r}"
                    )
        return cls(
            ((parent, node.name) for node in stored.nodes for parent in node.parents),
            nodes=(node.name for node in stored.nodes),
            kinds={node.name: node.kind for node in stored.nodes},
        )

    # -- dunder ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Taxonomy):
            return NotImplemented
        return (
            self._names == other._names
            and self._kinds == other._kinds
            and set(self._graph.edges) == set(other._graph.edges)
        )

    def __hash__(self) -> int:
        return hash((self._names, frozenset(self._graph.edges)))

    def __repr__(self) -> str:
        return (
            f"Taxonomy({len(self._names)} nodes, {len(self._leaves)} leaves, "
            f"{self._graph.number_of_edges()} edges)"
        )

    def _repr_html_(self) -> str:
        from unitax._html import taxonomy_html

        return taxonomy_html(self)

    # -- private --------------------------------------------------------------

    def _sorted(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=self._index.__getitem__))

    def _unknown(self, name: str) -> TaxonomyError:
        hint = did_you_mean(name, self._names) if len(self._names) < 50_000 else ""
        return TaxonomyError(f"taxonomy has no node {name!r}{hint}")


class TaxonomyNode(BaseModel):
    """One node of a stored taxonomy."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    kind: NodeKind = "label"
    parents: tuple[str, ...] = ()


class TaxonomyFile(BaseModel):
    """A taxonomy as stored in ``taxonomy.json``: nodes in index order."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: Literal[1] = 1
    nodes: tuple[TaxonomyNode, ...]


@dataclass(frozen=True, slots=True)
class LabelMap:
    """Where each label of one label space goes in a taxonomy.

    Parameters
    ----------
    space
        The label space.
    taxonomy
        The taxonomy.
    nodes
        ``{label id: node name}`` for every label of ``space``; ``None``
        means the label is sent to ignore on purpose.

    Raises
    ------
    TaxonomyError
        If ``nodes`` misses a label, names an id that is not a label, or a
        node the taxonomy lacks.

    Examples
    --------
    >>> space = ux.LabelSpace.from_names("toy", ["car", "bus", "blur"], void=[255])
    >>> taxonomy = ux.Taxonomy([("vehicle", "car"), ("vehicle", "bus")])
    >>> label_map = ux.LabelMap(space, taxonomy, {0: "car", 1: "bus", 2: None})
    >>> label_map.lut()[:4]
    array([  2,   1, 255, 255], dtype=uint8)
    """

    space: LabelSpace
    taxonomy: Taxonomy
    nodes: Mapping[int, str | None] = field(repr=False)
    _table: NDArray[Any] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        nodes = MappingProxyType(dict(self.nodes))
        object.__setattr__(self, "nodes", nodes)
        ids = set(self.space.ids)
        missing = sorted(ids - nodes.keys())
        extra = sorted(nodes.keys() - ids)
        if missing or extra:
            raise TaxonomyError(
                f"label map for {self.space.name!r} must map exactly the space's "
                f"labels, got missing ids {missing[:10]} and extra ids {extra[:10]}"
            )
        for label_id, name in nodes.items():
            if name is not None and name not in self.taxonomy:
                raise TaxonomyError(
                    f"label map for {self.space.name!r}: label id {label_id} maps to "
                    f"{name!r}, which is not a taxonomy node"
                    + did_you_mean(name, self.taxonomy.names)
                )

    def node(self, label_id: int) -> str | None:
        """The node that label ``label_id`` maps to, or ``None`` for ignore."""
        self.space.by_id(label_id)
        return self.nodes[label_id]

    def lut(self) -> NDArray[np.unsignedinteger[Any]]:
        """Lookup table from label id to node index, for dense remapping.

        Its length is one more than the largest label or void id; callers
        indexing with larger ids must extend it (`unitax.rasterize.remap`
        does). Void ids, unmapped ids and ids sent to ignore hold
        ``taxonomy.ignore_index``. Negative
        label ids (Cityscapes' ``license plate`` is -1) never appear in
        masks and are left out. Built once and read-only (copy it to edit).
        """
        if self._table is None:
            taxonomy = self.taxonomy
            top = max([0, *self.space.ids, *self.space.void])
            table = np.full(top + 1, taxonomy.ignore_index, dtype=taxonomy.dtype)
            for label_id, name in self.nodes.items():
                if name is not None and label_id >= 0:
                    table[label_id] = taxonomy.index(name)
            table.flags.writeable = False
            object.__setattr__(self, "_table", table)
        assert self._table is not None  # set just above
        return self._table

    def __repr__(self) -> str:
        mapped = sum(name is not None for name in self.nodes.values())
        return (
            f"LabelMap({self.space.name!r} -> {self.taxonomy!r}, "
            f"{mapped}/{len(self.nodes)} labels mapped)"
        )
