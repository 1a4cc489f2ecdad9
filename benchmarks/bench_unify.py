"""Benchmark: unify label spaces and build leaf matrices, next to plain networkx.

Cases (synthetic inputs, deterministic from ``--seed``):

A   ``ux.unify`` of 15 label spaces (~2,000 labels) under ~1,500 rules (mostly
    Same; IsA, Split, Ignore, a few Overlap), then ``taxonomy.leaf_matrix()``.
    Rules derive from a hidden concept tree (each space labels a random
    antichain of it), so unify must succeed; sizes and label maps are checked.
B1  ``ux.unify([space])`` of one 20,000-label space with its own hierarchy
    (``Label.parents``: 9 levels, ~10% of labels with 2-3 parents, like Open
    Images scaled up), then ``leaf_matrix()``; unify adds remainder leaves.
B2  ``ux.Taxonomy(edges)`` from the same 20,000 nodes, then ``leaf_matrix()``.

Each is timed next to the same graph work in plain networkx + numpy, in the
same run: merge Same rules with ``nx.utils.UnionFind`` (A); build the
``nx.DiGraph`` with the remainder leaves (A, B1); check it is a DAG;
``lexicographical_topological_sort``; find the leaves; fill the dense boolean
(nodes x leaves) matrix from leaf-index sets propagated once in reverse
topological order (~2x faster than ``nx.descendants`` per node). Runs are
interleaved, order alternating; medians and peak RSS are printed.

Goal (issue): unitax within 2x of networkx and under 1 s per case, no
quadratic Python loops. Prints PASS/FAIL; exits 0 either way (a report).

Run:  python benchmarks/bench_unify.py [--repeat N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's unitax
import unitax as ux
from unitax.rules import Ignore, IsA, Overlap, Same, Split

REMAINDER = "{} (other)"


# -- A: 15 spaces and consistent rules from a hidden concept tree -------------


def make_spaces_and_rules(rng: np.random.Generator, n_spaces: int = 15):
    """Return spaces, rules and the expected ``(nodes, leaves, ignored labels)``."""
    parent, depth, kids = [-1], [0], [[]]
    frontier = [0]
    while frontier:  # hidden tree: 12 top concepts, then 0 or 2-5 children
        nxt = []
        for c in frontier:
            k = 12 if c == 0 else int(rng.integers(2, 6))
            k = 0 if c and (depth[c] >= 5 or rng.random() < 0.25) else k
            kids[c] = list(range(len(parent), len(parent) + k))
            nxt += kids[c]
            parent += [c] * k
            depth += [depth[c] + 1] * k
            kids += [[] for _ in range(k)]
        frontier = nxt
    cuts: list[set[int]] = []
    for _ in range(n_spaces):  # each space labels an antichain (cut) of the tree
        target, cut = int(rng.integers(90, 180)), list(kids[0])
        while len(cut) < target:  # replace a random inner concept by its children
            inner = [i for i, c in enumerate(cut) if kids[c]]
            if not inner:
                break
            c = cut.pop(int(rng.choice(inner)))
            cut += [k for k in kids[c] if rng.random() < 0.8] or kids[c][:1]
        cuts.append(set(cut))
    names = [f"ds{s:02d}" for s in range(n_spaces)]
    refs: dict[int, list[str]] = defaultdict(list)  # concept -> its labels
    for name, cut in zip(names, cuts, strict=True):
        for c in sorted(cut):
            refs[c].append(f"{name}/c{c:04d}")
    spaces = [
        ux.LabelSpace.from_names(name, [f"c{c:04d}" for c in sorted(cut)])
        for name, cut in zip(names, cuts, strict=True)
    ]
    singles = [c for c in sorted(refs) if len(refs[c]) == 1]
    ignored = rng.choice(singles, size=len(singles) // 12, replace=False)
    rules: list = [Ignore(label=refs.pop(int(c))[0]) for c in ignored]
    for c, group in refs.items():  # Same: one rule per concept, or pairwise
        group = [str(ref) for ref in rng.permutation(group)]
        if len(group) > 1 and rng.random() < 0.2:
            rules.append(Same(labels=tuple(group), name=f"concept {c}"))
        elif len(group) > 1:
            rules += [Same(labels=pair) for pair in itertools.pairwise(group)]

    def pick(c: int) -> str:
        return str(rng.choice(refs[c]))

    wholes, parents = set(), set()
    for c in sorted(refs):  # Split where one space labels every child of c
        by = [{ref.split("/")[0] for ref in refs.get(k, [])} for k in kids[c]]
        common = set.intersection(*by) if by else set()
        if common and rng.random() < 0.6:
            space = str(rng.choice(sorted(common)))
            parts = tuple(f"{space}/c{k:04d}" for k in kids[c])
            rules.append(Split(whole=pick(c), parts=parts))
            wholes.add(c)
    for c in sorted(refs):  # IsA to the nearest labelled ancestor, mostly
        a = parent[c]
        while a > 0 and a not in refs:
            a = parent[a]
        if a > 0 and a not in wholes and rng.random() < 0.7:
            rules.append(IsA(child=pick(c), parent=pick(a)))
            parents.add(a)
    parents |= wholes

    def up(c: int) -> set[int]:  # c and its ancestors
        return {c} | up(parent[c]) if c > 0 else set()

    n_overlap, labelled = 0, list(refs)
    for _ in range(10_000):  # a few Overlaps, where each space stays disjoint
        a, b = (int(x) for x in rng.choice(labelled, size=2, replace=False))
        up_a, up_b = up(a), up(b)
        if n_overlap == 8:
            break
        if {a, b} & wholes or a in up_b or b in up_a:
            continue
        above = [(cut & up_a, cut & up_b) for cut in cuts]  # <= 1 label each
        if all(not x or not y or x == y for x, y in above):
            rules.append(Overlap(labels=(pick(a), pick(b)), name=f"overlap {a}-{b}"))
            parents |= {a, b}
            n_overlap += 1
    remainders = len(parents - wholes)
    nodes = len(refs) + n_overlap + remainders
    leaves = len(refs) - len(parents) + n_overlap + remainders
    return spaces, rules, (nodes, leaves, {str(r.label) for r in rules[: len(ignored)]})


# -- B: one 20,000-label space with a multi-parent hierarchy ------------------


def make_big_space(rng: np.random.Generator, n: int = 20_000, levels: int = 9):
    """Levels growing ~2.5x; 10% of labels get 1-2 extra parents one level up."""
    sizes = 8 * 2.5 ** np.arange(levels)
    sizes = np.maximum(1, np.round(sizes * n / sizes.sum())).astype(int)
    sizes[-1] += n - sizes.sum()
    starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    labels = [ux.Label(id=i, name=f"n{i:05d}") for i in range(starts[1])]
    for lo, hi, end in zip(starts, starts[1:], starts[2:], strict=False):
        for i in range(hi, end):  # all parents one level up: no redundant edge
            extra = int(rng.integers(1, 3)) if rng.random() < 0.1 else 0
            ps = sorted(set(rng.integers(lo, hi, size=1 + extra).tolist()))
            parents = tuple(f"n{p:05d}" for p in ps)
            labels.append(ux.Label(id=i, name=f"n{i:05d}", parents=parents))
    return ux.LabelSpace(name="big", labels=tuple(labels))


# -- the networkx + numpy baseline ---------------------------------------------


def nx_leaf_matrix(graph: nx.DiGraph):
    """DAG check, lexicographic topological order, leaves, dense leaf matrix."""
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("not a DAG")
    order = list(nx.lexicographical_topological_sort(graph))
    succ = graph.succ
    leaves = [node for node in order if not succ[node]]
    column = {node: i for i, node in enumerate(leaves)}
    below: dict[str, set[int]] = {}
    for node in reversed(order):
        kids = succ[node]
        below[node] = set().union(*(below[k] for k in kids)) if kids else {column[node]}
    sizes = [len(below[node]) for node in order]
    rows = np.repeat(np.arange(len(order)), sizes)
    flat = itertools.chain.from_iterable(below[node] for node in order)
    matrix = np.zeros((len(order), len(leaves)), dtype=bool)
    matrix[rows, np.fromiter(flat, dtype=np.intp, count=len(rows))] = True
    return graph, matrix  # the graph is freed outside the timing, as unitax's is


def add_remainders(graph: nx.DiGraph, exhausted=frozenset()) -> None:
    inner = [node for node, d in graph.out_degree() if d and node not in exhausted]
    graph.add_edges_from((node, REMAINDER.format(node)) for node in inner)


def nx_unify(spaces, rules):
    uf = nx.utils.UnionFind()
    for rule in rules:
        if isinstance(rule, Same):
            uf.union(*rule.labels)
    ignored = {rule.label for rule in rules if isinstance(rule, Ignore)}
    refs = (f"{space.name}/{name}" for space in spaces for name in space.names)
    graph = nx.DiGraph()
    graph.add_nodes_from(uf[ref] for ref in refs if ref not in ignored)
    exhausted = set()
    for rule in rules:
        if isinstance(rule, IsA):
            graph.add_edge(uf[rule.parent], uf[rule.child])
        elif isinstance(rule, Split):
            exhausted.add(uf[rule.whole])
            graph.add_edges_from((uf[rule.whole], uf[part]) for part in rule.parts)
        elif isinstance(rule, Overlap):
            graph.add_edges_from((uf[label], rule.name) for label in rule.labels)
    add_remainders(graph, exhausted)
    return nx_leaf_matrix(graph)


def nx_unify_space(space):
    graph = nx.DiGraph()
    graph.add_nodes_from(f"{space.name}/{name}" for name in space.names)
    for label in space.labels:
        child = f"{space.name}/{label.name}"
        graph.add_edges_from((f"{space.name}/{p}", child) for p in label.parents)
    add_remainders(graph)
    return nx_leaf_matrix(graph)


# -- driver --------------------------------------------------------------------


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"unexpected result: {what} differs from the expectation")


def timed(fn):
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    spaces, rules, (nodes, leaves, ignored) = make_spaces_and_rules(rng)
    big = make_big_space(rng)
    edges = [(p, label.name) for label in big.labels for p in label.parents]
    kinds = dict(sorted(Counter(rule.kind for rule in rules).items()))
    n_labels = sum(len(space) for space in spaces)
    multi = sum(len(label.parents) > 1 for label in big.labels)
    print(f"seed {args.seed}; A: {len(spaces)} spaces, {n_labels} labels, ", end="")
    print(f"{len(rules)} rules {kinds}")
    print(f"B: 1 space, {len(big)} labels, {len(edges)} edges, {multi} multi-parent")

    # A warm-up run of each case doubles as the correctness check (untimed).
    taxonomy_a, maps = ux.unify(spaces, rules)
    check((len(taxonomy_a), len(taxonomy_a.leaves)) == (nodes, leaves), "A sizes")
    unmapped = {f"{s.name}/{s.by_id(i).name}" for s in spaces
                for i, node in maps[s.name].nodes.items() if node is None}  # fmt: skip
    check(unmapped == ignored, "A label maps")
    ux_a, (_, nx_a) = taxonomy_a.leaf_matrix(), nx_unify(spaces, rules)
    check(ux_a.shape == nx_a.shape and ux_a.sum() == nx_a.sum(), "A leaf matrix")
    taxonomy_b1, taxonomy_b2 = ux.unify([big])[0], ux.Taxonomy(edges)
    nx_b1 = nx_unify_space(big)[1]
    check(np.array_equal(taxonomy_b1.leaf_matrix(), nx_b1), "B1 leaf matrix")
    nx_b2 = nx_leaf_matrix(nx.DiGraph(edges))[1]
    check(np.array_equal(taxonomy_b2.leaf_matrix(), nx_b2), "B2 leaf matrix")
    taxonomies = (taxonomy_a, taxonomy_b1, taxonomy_b2)
    sizes = [(len(taxonomy), len(taxonomy.leaves)) for taxonomy in taxonomies]
    del taxonomy_a, maps, ux_a, nx_a, taxonomy_b1, taxonomy_b2, taxonomies, nx_b1, nx_b2

    cases = {  # name: (unitax build, networkx baseline)
        "A  unify 15 spaces": (
            lambda: ux.unify(spaces, rules)[0],
            lambda: nx_unify(spaces, rules),
        ),
        "B1 unify 1 space": (lambda: ux.unify([big])[0], lambda: nx_unify_space(big)),
        "B2 Taxonomy(edges)": (
            lambda: ux.Taxonomy(edges),
            lambda: nx_leaf_matrix(nx.DiGraph(edges)),
        ),
    }
    times = defaultdict(list)
    for rep in range(args.repeat):
        for name, (build, baseline) in cases.items():
            for side in ("ux", "nx") if rep % 2 == 0 else ("nx", "ux"):
                if side == "nx":
                    times[name, "nx"].append(timed(baseline)[0])
                    continue
                t_build, taxonomy = timed(build)
                t_matrix, matrix = timed(taxonomy.leaf_matrix)
                times[name, "ux"].append(t_build + t_matrix)
                times[name, "matrix"].append(t_matrix)
                del taxonomy, matrix

    row = "{:<20} {:>6} {:>6} {:>9} {:>9} {:>10} {:>6}  {}".format
    print("\n" + row("case", "nodes", "leaves", "unitax s", "(matrix)", "networkx s",
                     "ratio", "goal: ratio <= 2 and unitax < 1 s"))  # fmt: skip
    for name, (n_nodes, n_leaves) in zip(cases, sizes, strict=True):
        ux_s, matrix_s, nx_s = (
            statistics.median(times[name, side]) for side in ("ux", "matrix", "nx")
        )
        verdict = "PASS" if ux_s / nx_s <= 2.0 and ux_s < 1.0 else "FAIL"
        seconds = (f"{t:.3f}" for t in (ux_s, matrix_s, nx_s))
        print(row(name, n_nodes, n_leaves, *seconds, f"{ux_s / nx_s:.2f}", verdict))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmedians of {args.repeat} interleaved runs; peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
