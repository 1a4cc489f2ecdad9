"""Unify label spaces into one taxonomy, from rules.

`unify` turns label spaces and rules (see `unitax.rules`) into a `Taxonomy`
and one `LabelMap` per space:

1. References resolve to labels (``space/label``) or declared concepts;
   `Same` rules merge them into groups (union-find). A group becomes one
   node, named by its concept, by the rules' ``name``, or else by its
   smallest reference. A label no rule names is its own node ``space/label``.
2. `IsA`, `Split`, `Overlap` and each space's own hierarchy (``parents``)
   add parent -> child edges. An `Overlap` adds its intersection node as a
   child of both labels.
3. A node with children that no `Split` exhausts gets a remainder leaf
   ``"<name> (other)"``: what none of its children covers.
   A node split in two ways is split into the common refinement: parts the
   splits share stay, the others meet in intersection nodes ``"a & b"``.
4. Checks: the graph is acyclic; a split node's children are its parts;
   labels of one space cover disjoint leaves (unless the space's own
   hierarchy relates them). Every failure is a `TaxonomyError` that names
   the rules involved.

The result does not depend on the order of spaces or rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import networkx as nx

from unitax._graph import Sources, Splits, drop_redundant_edges, refine_splits
from unitax._unify_checks import check_acyclic, check_disjoint, check_splits
from unitax.errors import LabelSpaceError, TaxonomyError, did_you_mean
from unitax.labels import LabelSpace
from unitax.rules import (
    Concept,
    Ignore,
    IsA,
    Overlap,
    Rule,
    Same,
    Split,
    describe,
    parse_reference,
)
from unitax.taxonomy import LabelMap, NodeKind, Taxonomy

__all__ = ["REMAINDER", "unify"]

REMAINDER = "{} (other)"
"""Format of a remainder leaf's name, filled with its parent's name."""


def unify(
    label_spaces: Iterable[LabelSpace], rules: Iterable[Rule] = ()
) -> tuple[Taxonomy, dict[str, LabelMap]]:
    """Build the universal taxonomy of ``label_spaces`` under ``rules``.

    Parameters
    ----------
    label_spaces
        The spaces to unify; names must be unique.
    rules
        `Same`, `IsA`, `Split`, `Overlap`, `Ignore` and `Concept` rules.

    Returns
    -------
    taxonomy : Taxonomy
    label_maps : dict of str to LabelMap
        One map per space, keyed by space name (sorted).

    Raises
    ------
    TaxonomyError
        On an unknown reference (with a suggestion), a cycle, a duplicate
        node name, two labels of one space made one node or overlapping, two
        splits of one node that cannot both be exact, or an ignored label that
        another rule relates. The message names the rules involved.
    LabelSpaceError
        If two spaces share a name.

    Examples
    --------
    >>> city = ux.LabelSpace.from_names("city", ["road", "rider"])
    >>> vistas = ux.LabelSpace.from_names(
    ...     "vistas", ["road", "bicyclist", "motorcyclist"]
    ... )
    >>> rules = [
    ...     ux.rules.Same(labels=("city/road", "vistas/road"), name="road"),
    ...     ux.rules.IsA(child="vistas/bicyclist", parent="city/rider"),
    ...     ux.rules.IsA(child="vistas/motorcyclist", parent="city/rider"),
    ... ]
    >>> taxonomy, maps = ux.unify([city, vistas], rules)
    >>> taxonomy.names
    ('city/rider', 'city/rider (other)', 'road', 'vistas/bicyclist',
     'vistas/motorcyclist')
    >>> maps["city"].nodes[1], taxonomy.leaves_of("city/rider")
    ('city/rider', ('city/rider (other)', 'vistas/bicyclist', 'vistas/motorcyclist'))
    """
    return _Unifier(label_spaces, rules).run()


class _Unifier:
    """The state of one `unify` call; see the module docstring for the steps."""

    def __init__(
        self, label_spaces: Iterable[LabelSpace], rules: Iterable[Rule]
    ) -> None:
        self.spaces: dict[str, LabelSpace] = {}
        for space in label_spaces:
            if space.name in self.spaces:
                raise LabelSpaceError(
                    f"label space names must be unique, got {space.name!r} twice"
                )
            self.spaces[space.name] = space
        # Sorting makes every outcome, error messages included, order-free.
        self.rules = sorted(rules, key=lambda rule: (rule.kind, rule.model_dump_json()))
        self.refs: dict[str, NodeKind] = {}
        for name in sorted(self.spaces):
            for label in self.spaces[name].labels:
                self.refs[f"{name}/{label.name}"] = "label"
        self.parent: dict[str, str] = {}

    def run(self) -> tuple[Taxonomy, dict[str, LabelMap]]:
        self._declare_concepts()
        for rule in self.rules:
            for reference in rule.references:
                self._resolve(reference, rule)
        ignored = self._ignored()
        groups = self._merge()
        names, kinds = self._name_groups(groups, ignored)
        graph, sources, exhausted = self._edges(names, ignored)
        refine_splits(graph, sources, exhausted, kinds)
        check_acyclic(graph, sources)
        check_splits(graph, sources, exhausted)
        drop_redundant_edges(graph)
        out_degree = dict(graph.out_degree())
        for node in sorted(graph):
            if out_degree[node] and node not in exhausted:
                remainder = REMAINDER.format(node)
                if remainder in graph:
                    raise TaxonomyError(
                        f"node {node!r} needs a remainder leaf {remainder!r}, but a "
                        "node of that name exists already; rename one of them"
                    )
                graph.add_edge(node, remainder)
                kinds[remainder] = "remainder"
        taxonomy = Taxonomy._from_graph(graph, kinds)
        maps = {}
        for space_name in sorted(self.spaces):
            space = self.spaces[space_name]
            nodes = {
                label.id: None
                if f"{space_name}/{label.name}" in ignored
                else names[self._find(f"{space_name}/{label.name}")]
                for label in space.labels
            }
            maps[space_name] = LabelMap(space, taxonomy, nodes)
            check_disjoint(maps[space_name], graph, sources)
        return taxonomy, maps

    # -- references and groups ------------------------------------------------

    def _declare_concepts(self) -> None:
        declared: dict[str, Rule] = {}
        for rule in self.rules:
            if isinstance(rule, Concept | Overlap):
                kind: NodeKind = (
                    "concept" if isinstance(rule, Concept) else "intersection"
                )
                if "/" in rule.name:
                    raise TaxonomyError(
                        f"rule {describe(rule)}: a node name must not contain '/', "
                        f"got {rule.name!r}"
                    )
                if rule.name in declared:
                    raise TaxonomyError(
                        f"duplicate node {rule.name!r}: declared by rule "
                        f"{describe(declared[rule.name])} and rule {describe(rule)}"
                    )
                declared[rule.name] = rule
                self.refs[rule.name] = kind

    def _resolve(self, reference: str, rule: Rule) -> None:
        if reference in self.refs:
            return
        space, label = parse_reference(reference)
        where = f"rule {describe(rule)}"
        if space is None:
            concepts = [r for r, kind in self.refs.items() if kind != "label"]
            raise TaxonomyError(
                f"{where}: unknown concept {reference!r}"
                + did_you_mean(reference, concepts)
                + "; declare it with a Concept rule (labels are 'space/label')"
            )
        if space not in self.spaces:
            raise TaxonomyError(
                f"{where}: unknown label space {space!r}"
                + did_you_mean(space, self.spaces)
                + f"; the spaces are {sorted(self.spaces)}"
            )
        names = self.spaces[space].names
        raise TaxonomyError(
            f"{where}: label space {space!r} has no label {label!r}"
            + did_you_mean(label, names)
        )

    def _ignored(self) -> set[str]:
        ignored: dict[str, Rule] = {}
        for rule in self.rules:
            if isinstance(rule, Ignore):
                if self.refs[rule.label] != "label":
                    raise TaxonomyError(
                        f"rule {describe(rule)}: only labels can be ignored, "
                        f"{rule.label!r} is a {self.refs[rule.label]}"
                    )
                ignored[rule.label] = rule
        for rule in self.rules:
            if isinstance(rule, Ignore | Concept):
                continue
            for reference in rule.references:
                if reference in ignored:
                    raise TaxonomyError(
                        f"rule {describe(rule)} relates {reference!r}, which rule "
                        f"{describe(ignored[reference])} sends to ignore"
                    )
        return set(ignored)

    def _find(self, ref: str) -> str:
        parent = self.parent
        root = ref
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(ref, ref) != root:  # path compression
            parent[ref], ref = root, parent[ref]
        return root

    def _merge(self) -> dict[str, list[str]]:
        for rule in self.rules:
            if isinstance(rule, Same):
                first = self._find(rule.labels[0])
                for other in rule.labels[1:]:
                    root = self._find(other)
                    if root != first:
                        # The smaller reference is the root: order-free.
                        low, high = sorted((first, root))
                        self.parent[high] = low
                        first = low
        groups: dict[str, list[str]] = defaultdict(list)
        for ref in self.parent:
            groups[self._find(ref)].append(ref)
        for root, members in groups.items():
            if root not in members:
                members.append(root)
        return groups

    def _name_groups(
        self, groups: dict[str, list[str]], ignored: set[str]
    ) -> tuple[dict[str, str], dict[str, NodeKind]]:
        """Name each group's node; return ``{root: name}`` and ``{name: kind}``."""
        same_rules: dict[str, list[Same]] = defaultdict(list)
        for rule in self.rules:
            if isinstance(rule, Same):
                same_rules[self._find(rule.labels[0])].append(rule)
        names: dict[str, str] = {}
        kinds: dict[str, NodeKind] = {}
        for ref, kind in self.refs.items():
            root = self._find(ref)
            if root != ref or ref in ignored:
                continue
            if root not in groups and root not in same_rules:  # no Same rule
                names[root] = ref
                kinds[ref] = kind
                continue
            members = sorted(groups.get(root, [root]))
            rules = same_rules.get(root, [])
            name, kind = self._group_name(members, rules)
            names[root] = name
            kinds[name] = kind
        taken: dict[str, str] = {}
        for root, name in names.items():
            if name in taken:
                raise TaxonomyError(
                    f"duplicate node {name!r}: it names both the node of "
                    f"{_members(groups, taken[name])} and the node of "
                    f"{_members(groups, root)}; give one of them another name"
                )
            taken[name] = root
        return names, kinds

    def _group_name(
        self, members: list[str], rules: list[Same]
    ) -> tuple[str, NodeKind]:
        spaces: dict[str, str] = {}
        concepts = [ref for ref in members if self.refs[ref] != "label"]
        for ref in members:
            space, _ = parse_reference(ref)
            if space is not None and space in spaces:
                raise TaxonomyError(
                    f"rules {_describe_all(rules)} make {spaces[space]!r} and {ref!r} "
                    "one node, but labels of one label space are disjoint"
                )
            if space is not None:
                spaces[space] = ref
        if len(concepts) > 1:
            raise TaxonomyError(
                f"rules {_describe_all(rules)} make the nodes {concepts} one node; "
                "use a single name"
            )
        given = sorted({rule.name for rule in rules if rule.name is not None})
        if len(given) > 1 or (given and concepts and given[0] != concepts[0]):
            raise TaxonomyError(
                f"rules {_describe_all(rules)} give one node the names "
                f"{sorted({*given, *concepts})}; keep one"
            )
        if concepts:
            return concepts[0], self.refs[concepts[0]]
        return (given[0] if given else members[0]), "label"

    # -- edges ----------------------------------------------------------------

    def _edges(
        self, names: dict[str, str], ignored: set[str]
    ) -> tuple[nx.DiGraph[str], Sources, Splits]:
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(names.values())
        sources: Sources = defaultdict(list)
        exhausted: Splits = defaultdict(dict)

        def node(ref: str) -> str:
            return names[self._find(ref)]

        def add(parent: str, child: str, source: str) -> None:
            if parent == child:
                raise TaxonomyError(
                    f"{source} makes {parent!r} a part of itself (a cycle); "
                    "check the Same rules that merged them"
                )
            graph.add_edge(parent, child)
            sources[parent, child].append(source)

        for rule in self.rules:
            if not isinstance(rule, IsA | Split | Overlap):
                continue
            text = f"rule {describe(rule)}"
            if isinstance(rule, IsA):
                add(node(rule.parent), node(rule.child), text)
            elif isinstance(rule, Split):
                whole = node(rule.whole)
                parts = frozenset(node(part) for part in rule.parts)
                exhausted[whole].setdefault(parts, text)
                for part in sorted(parts):
                    add(whole, part, text)
            elif isinstance(rule, Overlap):
                first, second = (node(ref) for ref in rule.labels)
                if first == second:
                    raise TaxonomyError(
                        f"{text}: both labels are the same node {first!r}"
                    )
                for whole in (first, second):
                    add(whole, node(rule.name), text)
        for space_name in sorted(self.spaces):
            for label in self.spaces[space_name].labels:
                child = f"{space_name}/{label.name}"
                for parent in label.parents:
                    parent_ref = f"{space_name}/{parent}"
                    if child not in ignored and parent_ref not in ignored:
                        text = (
                            f"label space {space_name!r}: {label.name!r} is in "
                            f"{parent!r}"
                        )
                        add(node(parent_ref), node(child), text)
        return graph, sources, exhausted


def _members(groups: dict[str, list[str]], root: str) -> list[str]:
    return sorted(groups.get(root, [root]))


def _describe_all(rules: list[Same]) -> str:
    return ", ".join(describe(rule) for rule in rules) or "(none)"
