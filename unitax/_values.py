"""The values a canvas paints: nodes, extras and sentinels, and how claims combine.

Private to `unitax.rasterize` (which documents the semantics) and its canvas.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from unitax.targets import Extra
from unitax.taxonomy import Taxonomy

__all__ = ["Values"]

_SENTINELS = 3  # UNSET, UNKNOWN, IGNORE: the codes 2, 1, 0
_MAX_PAIR_TABLE = 1 << 22


def _codes(values: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """Canvas values as small codes: ``value + 3``, so the sentinels wrap to 0-2."""
    return values + np.uint32(_SENTINELS)


def _value(code: int) -> int:
    return (code - _SENTINELS) & 0xFFFFFFFF


class Values:
    """The value table of one target under construction.

    Values below ``len(taxonomy)`` are nodes; the next ones are *extras*,
    numbered as they first appear: a ``"set"`` of leaves; a ``"union"`` (the
    antichain of the most specific claims at a pixel, kept so that combining
    claims is order-free, and turned into its set of leaves at the end); or a
    ``"mixture"`` (a uniform mixture over such an antichain of nodes). Three
    sentinels sit at the top of ``uint32``: ``UNSET`` (no claim at all: the
    outside policy applies), ``UNKNOWN`` (no claim, but not outside: a void
    mask pixel, a box's ignore band) and ``IGNORE`` (a contradiction or a
    label sent to ignore: it overrides claims).
    """

    UNSET = 0xFFFFFFFF
    UNKNOWN = 0xFFFFFFFE
    IGNORE = 0xFFFFFFFD
    _KINDS = ("set", "union", "mixture")

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.nodes = len(taxonomy)
        self.extras: list[tuple[str, int, frozenset[int]]] = []
        self.extra_index: dict[tuple[str, int, frozenset[int]], int] = {}
        self._node_bits: dict[int, int] = {}

    @cached_property
    def node_bits(self) -> list[int]:
        """Each node's leaf set (made when first needed: most targets never do)."""
        return [self.taxonomy.leaf_bits(name) for name in self.taxonomy.names]

    @cached_property
    def by_bits(self) -> dict[int, int]:
        by_bits: dict[int, int] = {}
        for index, bits in enumerate(self.node_bits):
            by_bits.setdefault(bits, index)
        return by_bits

    def bits(self, value: int) -> int:
        if value < self.nodes:  # one node at a time: few are ever asked for
            bits = self._node_bits.get(value)
            if bits is None:
                bits = self.taxonomy.leaf_bits(self.taxonomy.names[value])
                self._node_bits[value] = bits
            return bits
        return self.extras[value - self.nodes][1]

    def kind(self, value: int) -> str:
        if value < self.nodes:
            return "node"
        if value >= self.IGNORE:
            return "sentinel"
        return self.extras[value - self.nodes][0]

    def of_bits(self, bits: int) -> int:
        """A leaf set's value: the node with exactly these leaves, else an extra."""
        if bits == 0:
            return self.IGNORE
        node = self.by_bits.get(bits)
        return node if node is not None else self._extra("set", bits, frozenset())

    def group(self, kind: str, members: frozenset[int]) -> int:
        """A union or mixture over ``members``; one member is itself."""
        if not members:
            return self.IGNORE
        if len(members) == 1:
            return next(iter(members))
        bits = 0
        for member in members:
            bits |= self.bits(member)
        return self._extra(kind, bits, members)

    def _extra(self, kind: str, bits: int, members: frozenset[int]) -> int:
        key = (kind, bits, members)
        index = self.extra_index.get(key)
        if index is None:
            index = self.nodes + len(self.extras)
            self.extras.append(key)
            self.extra_index[key] = index
        return index

    def members(self, value: int) -> frozenset[int]:
        if self.kind(value) in ("union", "mixture"):
            return self.extras[value - self.nodes][2]
        return frozenset({value})

    def antichain(self, old: int, new: int) -> frozenset[int]:
        """The most specific claims among ``old``'s and the claim ``new``.

        The minimal elements of a set of claims do not depend on the order
        the claims arrive in, which makes ``"union"`` and ``"distribution"``
        order-free.
        """
        members = self.members(old)
        new_bits = self.bits(new)
        if any(self.bits(m) & ~new_bits == 0 for m in members):
            return members  # a member is at least as specific as the claim
        kept = {m for m in members if new_bits & ~self.bits(m)}
        return frozenset({*kept, new})

    def combine(self, old: int, new: int, rule: str) -> int:
        """The value of a pixel holding ``old`` when the claim ``new`` arrives."""
        if old == self.UNSET or old == new:
            return new
        if new in (self.UNSET, self.UNKNOWN):
            return old
        if old == self.UNKNOWN or rule == "last":  # later wins, over ignore too
            return new
        if self.IGNORE in (old, new):
            return self.IGNORE
        if rule == "ignore":
            return self.IGNORE
        if rule == "specific":
            return self.of_bits(self.bits(old) & self.bits(new))
        kind = "union" if rule == "union" else "mixture"
        return self.group(kind, self.antichain(old, new))

    def combine_arrays(
        self, old: NDArray[np.uint32], new: NDArray[np.uint32], rule: str
    ) -> NDArray[np.uint32]:
        """`combine` elementwise, computed once per distinct pair of values."""
        size = self.nodes + len(self.extras) + _SENTINELS  # codes: value + 3
        if size * size <= _MAX_PAIR_TABLE:
            pairs = _codes(old).astype(np.intp) * size + _codes(new)
            seen = np.flatnonzero(np.bincount(pairs, minlength=size * size))
            table = np.zeros(size * size, dtype=np.uint32)
            for pair in seen.tolist():
                a, b = divmod(pair, size)
                table[pair] = self.combine(_value(a), _value(b), rule)
            taken: NDArray[np.uint32] = np.take(table, pairs)
            return taken
        packed = (old.astype(np.uint64) << np.uint64(32)) | new
        uniques, inverse = np.unique(packed, return_inverse=True)
        results = np.array(
            [self.combine(int(p) >> 32, int(p) & 0xFFFFFFFF, rule) for p in uniques],
            dtype=np.uint32,
        )
        combined: NDArray[np.uint32] = results[inverse.ravel()]
        return combined

    def settle(self, value: int) -> int:
        """The final form of a value: a union becomes its set of leaves."""
        if self.kind(value) == "union":
            return self.of_bits(self.bits(value))
        return value

    def without(self, value: int, removed: int) -> int:
        """``value`` with the leaves ``removed`` taken out (verified negatives)."""
        if value >= self.IGNORE or value == self.UNKNOWN:
            return value
        if self.kind(value) == "mixture":
            members = self.members(value)
            return self.group(
                "mixture", frozenset(m for m in members if self.bits(m) & ~removed)
            )
        return self.of_bits(self.bits(value) & ~removed)

    def describe(self, value: int) -> Extra:
        kind, bits, members = self.extras[value - self.nodes]
        if kind == "mixture":
            nodes = tuple(self.taxonomy.names[n] for n in sorted(members))
            return Extra(nodes=nodes, weights=tuple(1.0 / len(nodes) for _ in nodes))
        leaves = self.taxonomy.leaves
        return Extra(
            nodes=tuple(leaves[i] for i in range(len(leaves)) if bits >> i & 1)
        )

    def sort_key(self, value: int) -> tuple[int, int, tuple[int, ...]]:
        kind, bits, members = self.extras[value - self.nodes]
        return (self._KINDS.index(kind), bits, tuple(sorted(members)))


# A box's claims (plain tuples: a box costs little), in pixel spans:
# (r0, r1, c0, c1, i0, i1, j0, j1, band, band_rule, value, rule). ``band`` is
# claimed on [r0, r1) x [c0, c1) outside the core [i0, i1) x [j0, j1), then
# ``value`` on the core. A box without a core (``boxes="fill"``, or a core
# that holds no pixel centre) is all band.
