"""The result of rasterising: a unified target and what comes beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unitax.annotations import Skip

__all__ = ["Extra", "Target"]


@dataclass(frozen=True, slots=True)
class Extra:
    """A sample's extra target value: a set of leaves, or a mixture of nodes.

    ``weights is None``: the truth is one of ``nodes`` (their leaves united);
    otherwise ``weights[i]`` is the probability of ``nodes[i]``.
    """

    nodes: tuple[str, ...]
    weights: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A unified per-pixel target and the image-level knowledge beside it.

    Parameters
    ----------
    array : ndarray of shape (H, W), uint8 or uint16
        Node indices, ``len(taxonomy) + k`` for ``extra[k]``, and
        ``ignore_index``; kept as a read-only view (copy it to change it).
    ignore_index
        The value meaning "no supervision" (the dtype's maximum).
    extra
        The sample's extra sets and mixtures.
    positive, negative
        Nodes tagged present / verified absent on the whole image.
    skipped
        Annotations left out under ``errors="lenient"``, with reasons.
    """

    array: NDArray[np.unsignedinteger[Any]]
    ignore_index: int
    extra: tuple[Extra, ...] = ()
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    skipped: tuple[Skip, ...] = ()

    def __post_init__(self) -> None:
        # Immutable like the rest: a read-only view (the given array is untouched).
        view = self.array.view()
        view.flags.writeable = False
        object.__setattr__(self, "array", view)
