"""From canvas values to target values: the final table, and fast lookups.

Private to `unitax._canvas` (and `unitax.rasterize`, which re-exports
`lookup`).
"""

from __future__ import annotations

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
