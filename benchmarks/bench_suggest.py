"""Benchmark: unify the twelve built-in datasets, suggest rules, score the suggestions.

Inputs: the built-in collection ``all`` (Cityscapes, KITTI, WildDash v1 and 2,
BDD100K, IDD, Vistas v1.2 and v2.0, GTSDB, COCO panoptic, ADE20K-150,
Pascal-Context 59, Pascal VOC, Open Images; ~1,400 labels) and its curated
rules.

1. ``ux.unify`` of all spaces under the curated rules (goal: < 1 s).
2. ``suggest_rules`` over the same spaces *without* rules (goal: < 10 s).
3. Precision and recall of the suggestions per relation kind, against the
   curated taxonomy. Over pairs of labels of different spaces that both map to
   a node (pairs with an ignored label are left out):

   * truth ``same``: both labels on one node;
   * truth ``is_a``: the child's leaves a strict subset of the parent's;
   * truth ``overlap``: shared leaves, neither a subset of the other.

   A suggested ``same`` is correct if the truth is ``same``; an ``is_a`` if the
   child's leaves are a subset of the parent's (equal included); an
   ``overlap`` if the truth is ``overlap``. "related" counts suggestions whose
   labels share a leaf at all. Recall is the share of the truth pairs of a kind
   that a suggestion of that kind finds; for ``is_a`` also over the *direct*
   pairs only (the parent label's node is a parent of the child label's node),
   which name-based signals can hope to find.

Times are medians of ``--repeat`` runs. Prints PASS/FAIL for the time goals and
exits 0 either way (a report).

Run:  python benchmarks/bench_suggest.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's unitax
import unitax as ux
from unitax.builtin import collection
from unitax.suggest import suggest_rules

THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def truth_table(taxonomy, maps):
    """``{(a, b): kind}`` over related cross-space pairs, and per-kind counts."""
    refs = []
    for space, label_map in sorted(maps.items()):
        for label in label_map.space.labels:
            node = label_map.nodes[label.id]
            if node is not None:
                refs.append((f"{space}/{label.name}", space, node))
    bits = {node: taxonomy.leaf_bits(node) for _, _, node in refs}
    truth, direct = {}, set()
    for i, (a, space_a, node_a) in enumerate(refs):
        bits_a = bits[node_a]
        for b, space_b, node_b in refs[i + 1 :]:
            if space_a == space_b:
                continue
            bits_b = bits[node_b]
            shared = bits_a & bits_b
            if not shared:
                continue
            if node_a == node_b:
                truth[a, b] = "same"
            elif shared == bits_a:
                truth[a, b] = "a<b"
                direct.update({(a, b)} if node_b in taxonomy.parents(node_a) else ())
            elif shared == bits_b:
                truth[a, b] = "b<a"
                direct.update({(b, a)} if node_a in taxonomy.parents(node_b) else ())
            else:
                truth[a, b] = "overlap"
    return truth, direct


def relation(truth, a, b):
    if (a, b) in truth:
        return truth[a, b]
    flipped = truth.get((b, a))
    return {"a<b": "b<a", "b<a": "a<b"}.get(flipped, flipped) or "none"


def score(table, truth, direct, mapped):
    """One row per kind: found, precision, related, truth size, recall(s)."""
    counts = Counter(truth.values())
    totals = {
        "same": counts["same"],
        "is_a": counts["a<b"] + counts["b<a"],
        "overlap": counts["overlap"],
    }
    correct_if = {
        "same": {"same"},
        "is_a": {"same", "a<b"},  # a subset, equal included
        "overlap": {"overlap"},
    }
    exact = {"same": "same", "is_a": "a<b", "overlap": "overlap"}
    rows = []
    for kind in ("same", "is_a", "overlap"):
        part = table[table["kind"] == kind]
        pairs = [
            (a, b)
            for a, b in zip(part["label"], part["other"], strict=True)
            if a in mapped and b in mapped  # an ignored label: not scored
        ]
        relations = [relation(truth, a, b) for a, b in pairs]
        found = len(pairs)
        correct = sum(rel in correct_if[kind] for rel in relations)
        related = sum(rel != "none" for rel in relations)
        hits = sum(rel == exact[kind] for rel in relations)
        hits_direct = sum(pair in direct for pair in pairs) if kind == "is_a" else 0
        rows.append(
            (
                kind,
                found,
                correct / found if found else float("nan"),
                related / found if found else float("nan"),
                totals[kind],
                hits / totals[kind] if totals[kind] else float("nan"),
                hits_direct / len(direct) if kind == "is_a" and direct else None,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    spaces, rules = collection("all")
    n_labels = sum(len(space) for space in spaces)
    print(f"{len(spaces)} label spaces, {n_labels} labels, {len(rules)} curated rules")

    unify_s, (taxonomy, maps) = timed(lambda: ux.unify(spaces, rules), args.repeat)
    suggest_s, table = timed(
        lambda: suggest_rules(spaces, min_confidence=min(THRESHOLDS)), args.repeat
    )
    print(f"taxonomy: {len(taxonomy)} nodes, {len(taxonomy.leaves)} leaves")
    verdict = {True: "PASS", False: "FAIL"}
    print(f"\n{'step':<30} {'median s':>9}  goal")
    print(f"{'unify (all twelve)':<30} {unify_s:>9.3f}  < 1 s   {verdict[unify_s < 1]}")
    print(
        f"{'suggest_rules (all twelve)':<30} {suggest_s:>9.3f}  < 10 s  "
        f"{verdict[suggest_s < 10]}"
    )

    truth, direct = truth_table(taxonomy, maps)
    mapped = {
        f"{space}/{label.name}"
        for space, label_map in maps.items()
        for label in label_map.space.labels
        if label_map.nodes[label.id] is not None
    }
    header = "{:>9} {:<8} {:>9} {:>10} {:>8} {:>9} {:>7} {:>14}".format
    print(
        "\n"
        + header(
            "min conf",
            "kind",
            "suggested",
            "precision",
            "related",
            "truth",
            "recall",
            "recall direct",
        )
    )
    for threshold in THRESHOLDS:
        kept = table[table["confidence"] >= threshold]
        for kind, found, precision, related, total, recall, recall_direct in score(
            kept, truth, direct, mapped
        ):
            print(
                header(
                    f"{threshold:.1f}",
                    kind,
                    found,
                    f"{precision:.2f}",
                    f"{related:.2f}",
                    total,
                    f"{recall:.3f}",
                    "" if recall_direct is None else f"{recall_direct:.3f}",
                )
            )
    print(
        f"\ntruth: {len(truth)} related cross-space pairs; {len(direct)} direct "
        "is_a pairs. Recall is low by construction: most truth pairs are "
        "transitive (a GTSDB sign under ADE20K signboard) or come from the "
        "curated structure (Open Images Man overlaps Cityscapes person), which "
        "no name signal sees."
    )


if __name__ == "__main__":
    main()
