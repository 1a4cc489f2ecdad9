"""From canvas values to target values: the final table, and fast lookups.

Private to `unitax._canvas` (and `unitax.rasterize`, which re-exports
`lookup`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from unitax._values import _SENTINELS, Values

__all__ = ["lookup"]


class _Final(NamedTuple):
    dtype: np.dtype[Any]
    ignore: int
    value: dict[int, int]  # canvas value -> target value
    extras: tuple[int, ...]  # canvas values of the target's extras, in order


_STEP = 1 << 18  # bytes of ids per step of `lookup`: its temporaries stay in cache
_SENTINEL_VALUES = (Values.IGNORE, Values.UNKNOWN, Values.UNSET)


def _dtype(total: int) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if total < 255 else np.uint16 if total < 65535 else np.uint32


def _code_table(final: _Final) -> NDArray[np.unsignedinteger[Any]]:
    """Return the table code -> target value for the canvas values of ``final``."""
    codes = {(v + _SENTINELS) & 0xFFFFFFFF: t for v, t in final.value.items()}
    table = np.full(max(codes) + 1, final.ignore, dtype=final.dtype)
    table[list(codes)] = list(codes.values())
    return table


def _take_codes(
    table: NDArray[np.unsignedinteger[Any]], work: NDArray[np.uint32]
) -> NDArray[np.unsignedinteger[Any]]:
    """``table[codes of work]``, by cache-sized steps."""
    out = np.empty(work.shape, dtype=table.dtype)
    source, target = work.reshape(-1), out.reshape(-1)
    step = _STEP // 8
    codes = np.empty(min(step, source.size), dtype=np.uint32)
    for start in range(0, source.size, step):
        chunk = source[start : start + step]
        part = codes[: chunk.size]
        np.add(chunk, np.uint32(_SENTINELS), out=part)
        np.take(table, part, out=target[start : start + step])
    return out


def lookup(
    table: NDArray[np.unsignedinteger[Any]], ids: NDArray[Any]
) -> NDArray[np.unsignedinteger[Any]]:
    """Return ``table[ids]`` for ``uint8`` or ``uint16`` ids, all in ``table``.

    A ``uint8`` -> ``uint8`` table runs through `bytes.translate` (a C loop,
    several times faster than numpy's indexing); others through `numpy.take`
    by steps, so that the ``intp`` copy of the ids stays small and in cache.
    """
    if ids.dtype != np.uint8 and ids.dtype != np.uint16:
        raise TypeError(f"ids must be uint8 or uint16, got {ids.dtype}")
    if len(table) != 1 << (8 * ids.dtype.itemsize):
        raise ValueError(
            f"table must have one entry per {ids.dtype} value, got {len(table)}"
        )
    out = np.empty(ids.shape, dtype=table.dtype)
    source, target = ids.reshape(-1), out.reshape(-1)
    if table.dtype == np.uint8 and ids.dtype == np.uint8:
        table_bytes = table.tobytes()
        source_bytes, target_bytes = source.data, target.data
        for start in range(0, source.size, _STEP):
            stop = start + _STEP
            chunk = bytearray(source_bytes[start:stop])
            target_bytes[start:stop] = chunk.translate(table_bytes)
        return out
    step = _STEP // 8
    for start in range(0, source.size, step):
        stop = start + step
        np.take(table, source[start:stop], out=target[start:stop], mode="wrap")
    return out


def _through(table: NDArray[Any], ids: NDArray[Any]) -> NDArray[Any]:
    """``table[ids]``: `lookup` where ``table`` covers the ids' dtype."""
    if (ids.dtype == np.uint8 or ids.dtype == np.uint16) and len(table) == 1 << (
        8 * ids.dtype.itemsize
    ):
        return lookup(table, ids)
    return np.take(table, ids)


def _top(ids: NDArray[Any]) -> int:
    return int(ids.max()) if ids.size else 0


def _distinct(values: NDArray[np.uint32]) -> list[int] | NDArray[np.uint32]:
    """The distinct values of an array that mostly holds very few."""
    found: list[int] = []
    rest = values.reshape(-1)
    while rest.size and len(found) < 8:
        value = rest[0]
        found.append(int(value))
        rest = rest[rest != value]
    return np.unique(values) if rest.size else found


def _finals(
    values: Values,
    present: Sequence[int],
    outside: str,
    removed: int,
    complement: Callable[[], int],
) -> _Final:
    """Each canvas value's value in the target, and the extras.

    ``UNSET`` becomes the complement (``outside="complement"``), verified
    negatives are removed, unions settle into sets of leaves, extras are
    numbered in a canonical order (by leaf set, so equal annotations give
    equal targets whatever order they came in) and sentinels become ignore.
    ``present`` may hold values the target will not: `_drop_absent`.
    ``complement()`` gives the leaves outside the dataset's labels; it is
    asked only for ``outside="complement"``.
    """
    nodes = values.nodes
    settled: dict[int, int] = {}
    for value in present:
        v = value
        if v < nodes and not removed:  # a node stays itself
            settled[value] = v
            continue
        if v == Values.UNSET and outside == "complement":
            v = values.of_bits(complement())
        if removed:
            v = values.without(v, removed)
        settled[value] = values.settle(v)
    extras = sorted(
        {v for v in settled.values() if nodes <= v < Values.IGNORE},
        key=values.sort_key,
    )
    dtype = _dtype(nodes + len(extras))
    ignore = int(np.iinfo(dtype).max)
    renumber = {old: nodes + i for i, old in enumerate(extras)}
    final = {
        value: v if v < nodes else renumber.get(v, ignore)
        for value, v in settled.items()
    }
    return _Final(np.dtype(dtype), ignore, final, tuple(extras))


def _drop_absent(
    array: NDArray[np.unsignedinteger[Any]], final: _Final, nodes: int
) -> tuple[NDArray[np.unsignedinteger[Any]], _Final]:
    """Keep only the extras ``array`` holds; renumber and retype to match.

    Values below ``nodes`` (the taxonomy's size) are nodes, kept as they are.
    """
    if not final.extras:
        return array, final
    if len(final.extras) <= 8:
        held = [bool((array == nodes + k).any()) for k in range(len(final.extras))]
    else:
        present = set(np.unique(array).tolist())
        held = [nodes + k in present for k in range(len(final.extras))]
    if all(held):
        return array, final
    kept = tuple(e for e, h in zip(final.extras, held, strict=True) if h)
    dtype = _dtype(nodes + len(kept))
    ignore = int(np.iinfo(dtype).max)
    size = nodes + len(final.extras)  # the target's values below ignore
    renumber = np.full(size + 1, ignore, dtype=np.int64)
    renumber[:nodes] = np.arange(nodes)
    index = iter(range(nodes, size))
    for k, h in enumerate(held):
        if h:
            renumber[nodes + k] = next(index)
    old_to_new = {
        v: (t if t < nodes else int(renumber[min(t, size)]))
        for v, t in final.value.items()
    }
    if array.dtype == np.uint8 or array.dtype == np.uint16:
        table = np.full(1 << (8 * array.dtype.itemsize), ignore, dtype=dtype)
        table[: size + 1] = renumber
        array = lookup(table, array)
    else:
        array = np.take(renumber.astype(dtype), np.minimum(array, size))
    return array, _Final(np.dtype(dtype), ignore, old_to_new, kept)
