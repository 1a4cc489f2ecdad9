"""Leaf sets as integer bit sets, and the node order they are built over.

Private; `unitax.taxonomy` documents the convention (bit ``i`` is leaf ``i``)
and re-exports `bits_to_matrix`. `Taxonomy` computes its index order with
`lexicographic_order` and each node's leaf set with `leaf_bits`, once, when it
is built; `bit_positions`, `bits_to_matrix` and `membership_matrix` read sets
back as leaf positions or rows of a boolean matrix.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "bit_positions",
    "bits_to_matrix",
    "leaf_bits",
    "lexicographic_order",
    "membership_matrix",
]


def lexicographic_order(graph: nx.DiGraph[str]) -> tuple[str, ...] | None:
    """Return `nx.lexicographical_topological_sort` as a tuple, None on a cycle.

    Kahn's algorithm with a heap of names, without networkx's per-node
    tuples and edge views (about 3x faster).
    """
    waiting = dict(graph.in_degree())
    ready = [node for node, count in waiting.items() if not count]
    heapq.heapify(ready)
    succ, order = dict(graph.adjacency()), []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for child in succ[node]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, child)
    return tuple(order) if len(order) == len(waiting) else None


def leaf_bits(
    order: Sequence[str],
    succ: Mapping[str, Iterable[str]],
    leaf_index: Mapping[str, int],
) -> tuple[int, ...]:
    """Each node's leaf set, in ``order``: children before parents, one OR each.

    ``order`` is topological, ``succ`` maps each node to its children and
    ``leaf_index`` each leaf to its bit.
    """
    bits: dict[str, int] = {}
    for name in reversed(order):
        if name in leaf_index:
            bits[name] = 1 << leaf_index[name]
        else:
            acc = 0
            for child in succ[name]:
                acc |= bits[child]
            bits[name] = acc
    return tuple(bits[name] for name in order)


def bit_positions(bits: int) -> list[int]:
    if bits == 0:
        return []
    nbytes = (bits.bit_length() + 7) // 8
    packed = np.frombuffer(bits.to_bytes(nbytes, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(packed, bitorder="little")).tolist()


def bits_to_matrix(bits: Iterable[int], width: int) -> NDArray[np.bool_]:
    """Unpack integer bit sets into rows of a boolean matrix.

    >>> bits_to_matrix([0b101, 0b010], 3).astype(int)
    array([[1, 0, 1],
           [0, 1, 0]])
    """
    bits = tuple(bits)
    nbytes = max(1, (width + 7) // 8)
    packed = b"".join(b.to_bytes(nbytes, "little") for b in bits)
    rows = np.frombuffer(packed, dtype=np.uint8).reshape(len(bits), nbytes)
    matrix = np.unpackbits(rows, axis=1, count=width, bitorder="little")
    return matrix.view(np.bool_)


def membership_matrix(bits: Sequence[int], width: int) -> NDArray[np.bool_]:
    """`bits_to_matrix` for non-empty sets, setting one-bit rows directly.

    >>> membership_matrix([0b01, 0b10, 0b11], 2).astype(int)
    array([[1, 0],
           [0, 1],
           [1, 1]])
    """
    matrix = np.zeros((len(bits), width), dtype=np.bool_)
    single: list[int] = []  # rows with one leaf (leaves, mostly): set directly
    inner: list[int] = []  # rows with several leaves: unpacked from bits
    for row, row_bits in enumerate(bits):
        (inner if row_bits & (row_bits - 1) else single).append(row)
    columns = [bits[row].bit_length() - 1 for row in single]
    matrix[single, columns] = True
    if inner:
        matrix[inner] = bits_to_matrix([bits[row] for row in inner], width)
    return matrix
