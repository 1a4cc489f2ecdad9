"""The signals of `unitax.suggest.suggest_rules`: evidence that two labels relate.

Each label becomes an `_Entry` of normalised keys (name, synonyms, hints from
hierarchical names, categories and in-space parents); `_index` maps keys to
entries, and each ``_*_signals`` function adds ``{evidence: confidence}`` to
the candidate ``(kind, label, other)`` it finds (`_Signals`). Candidates come
from these indexes, never from a loop over all pairs. The signals themselves
are tabled in `unitax.suggest`'s module docstring, which owns combining them
into the suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from unitax.labels import Label, LabelSpace
from unitax.rules import normalize_name

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
