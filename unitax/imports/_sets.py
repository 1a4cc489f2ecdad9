"""Bevandić-style set-valued mappings: each label is a set of universal classes."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import networkx as nx
from pydantic import BaseModel, ConfigDict

from unitax._files import load_document, validate_document
from unitax.errors import FormatError, did_you_mean
from unitax.imports._common import at, label_reference
from unitax.labels import LabelSpace
from unitax.rules import Concept, Ignore, Rule, Same, Split

__all__ = ["SetMappingFile", "read_set_mapping"]


class SetMappingFile(BaseModel):
    """A set-valued mapping: universal classes, and each label as a list of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    universal: tuple[str, ...]
    mappings: dict[str, dict[str, tuple[str, ...]]]


def read_set_mapping(
    path: str | os.PathLike[str], label_spaces: Iterable[LabelSpace]
) -> tuple[Rule, ...]:
    """Read Bevandić-style set-valued mappings (JSON or YAML) as rules.

    The file is ``{"universal": [u, ...], "mappings": {space: {label: [u,
    ...]}}}``. Each universal class is an atom, a `Concept` that becomes a
    leaf (also when no label uses it). Each label is the union of its
    classes: `Same` with its one class, `Split` into several, `Ignore` for
    ``[]``; labels with equal sets are made one node (`Same`). A set of
    several classes is split into the largest other sets inside it where
    they are disjoint, and its remaining classes, so that labels whose sets
    nest become ancestor and descendant in the taxonomy (where two such
    subsets overlap, one is chosen and leaf sets stay exact). Labels the
    file does not name get no rule.

    Raises
    ------
    FormatError
        On a file that is not such a document, an unknown space, label or
        universal class, a duplicate class, or two labels of one space that
        share a class (unless the space's own hierarchy nests them).
        The message names the file, the line and the labels.

    Examples
    --------
    >>> import json, pathlib, tempfile, unitax as ux
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sets.json"
    >>> _ = path.write_text(json.dumps({"universal": ["car", "van", "bus"],
    ...     "mappings": {"a": {"vehicle": ["car", "van", "bus"]},
    ...                  "b": {"car": ["car", "van"], "bus": ["bus"]}}}))
    >>> a = ux.LabelSpace.from_names("a", ["vehicle"])
    >>> b = ux.LabelSpace.from_names("b", ["car", "bus"])
    >>> taxonomy, maps = ux.unify([a, b], read_set_mapping(path, [a, b]))
    >>> taxonomy.leaves_of("b/car"), taxonomy.ancestors("b/car")
    (('car', 'van'), ('a/vehicle',))
    """
    path = Path(path)
    spaces = {space.name: space for space in label_spaces}
    data, locate = load_document(path)
    stored = validate_document(SetMappingFile, data, path, locate)
    universal: dict[str, int] = {}
    for position, name in enumerate(stored.universal):
        line = locate(["universal", position])
        if name in universal or not name or name != name.strip() or "/" in name:
            raise FormatError(
                f"{path}:{line}: universal: expected unique trimmed names without "
                f"'/', got {name!r}"
            )
        universal[name] = line or 0
    rules: list[Rule] = [at(Concept(name=u), path, universal[u]) for u in universal]
    sets: dict[frozenset[str], list[tuple[str, int]]] = defaultdict(list)
    for space_name, mapping in stored.mappings.items():
        where = f"{path}:{locate(['mappings', space_name])}"
        if space_name not in spaces:
            raise FormatError(
                f"{where}: mappings: expected a label space name, got {space_name!r}"
                f"{did_you_mean(space_name, spaces)}; known: {sorted(spaces)}"
            )
        owner: dict[str, str] = {}  # class -> label of this space
        nests = _nesting(spaces[space_name])
        for label, classes in mapping.items():
            line = locate(["mappings", space_name, label]) or 0
            where = f"{path}:{line}: mappings.{space_name}"
            ref = label_reference(spaces[space_name], label, where)
            if len(set(classes)) != len(classes):
                raise FormatError(
                    f"{where}: label {label!r}: expected distinct classes, got "
                    f"{list(classes)}"
                )
            for u in classes:
                if u not in universal:
                    raise FormatError(
                        f"{where}: label {label!r}: expected universal classes, got "
                        f"{u!r}{did_you_mean(u, universal)}"
                    )
                other = owner.get(u)
                if other is not None and not nests(other, label):
                    raise FormatError(
                        f"{where}: expected disjoint labels in one space, got "
                        f"{other!r} and {label!r} both holding {u!r}"
                    )
                owner[u] = label
            if not classes:
                rules.append(at(Ignore(label=ref), path, line))
            elif len(classes) == 1:
                rules.append(at(Same(labels=(ref, classes[0])), path, line))
            else:
                sets[frozenset(classes)].append((ref, line))
    return (*rules, *_set_rules(sets, path))


def _set_rules(
    sets: Mapping[frozenset[str], list[tuple[str, int]]], path: Path
) -> list[Rule]:
    """`Same` for equal sets; `Split` of each set into maximal disjoint subsets."""
    first = {s: min(refs) for s, refs in sets.items()}  # (ref, line), by ref
    rules: list[Rule] = []
    for whole, refs in sets.items():
        if len(refs) > 1:
            names = tuple(sorted(ref for ref, _ in refs))
            rules.append(at(Same(labels=names), path, first[whole][1]))
        inside = [s for s in sets if s < whole]
        largest = [s for s in inside if not any(s < other for other in inside)]
        parts: list[str] = []
        covered: set[str] = set()
        for subset in sorted(largest, key=lambda s: (-len(s), first[s][0])):
            if not covered & subset:
                parts.append(first[subset][0])
                covered |= subset
        parts.extend(sorted(whole - covered))
        ref, line = first[whole]
        rules.append(at(Split(whole=ref, parts=tuple(parts)), path, line))
    return rules


def _nesting(space: LabelSpace) -> Callable[[str, str], bool]:
    """Whether two labels of ``space`` nest in the space's own hierarchy."""
    graph = nx.DiGraph((p, label.name) for label in space.labels for p in label.parents)

    def nests(a: str, b: str) -> bool:
        return (
            a in graph
            and b in graph
            and (nx.has_path(graph, a, b) or nx.has_path(graph, b, a))
        )

    return nests
