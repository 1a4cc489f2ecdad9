"""Losses over set-valued targets: the marginal NLL, the IV2018 per-path loss, tags.

Conventions
-----------
* A target holds **set indices** (``int64``, shape ``(N, H, W)``) into a
  `SetTable`, whose membership matrix ``(S, L)`` says which of the ``L``
  leaves each set holds (a leaf, an inner node, or a derived set of an
  export). `IGNORE` (``-1``) marks pixels without supervision.
* Leaf scores are ``(N, L, H, W)`` logits over the leaves; a hierarchical
  head's leaf log-probabilities are valid logits too.
* The marginal NLL of a pixel with set ``S`` is ``-log sum_{l in S} p(l)``,
  computed in log space (a log-softmax, then a logsumexp over the masked
  leaves) by a custom autograd function with exact gradients
  ``softmax(z) - softmax_S(z)``. A *mixture* set (an export's box overlap,
  weights ``w_i`` over nodes ``S_i``) costs ``-sum_i w_i log p(S_i)``.

This module owns `SetTable` and the losses; the autograd function, the
argument checks and the reduction are in ``unitax_train._loss_kernel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from torch import Tensor

from unitax_train._loss_kernel import _check, _MarginalNLL, _positions, _reduce

if TYPE_CHECKING:
    from unitax.export import Export
    from unitax_train.model import HierarchicalHead

__all__ = [
    "IGNORE",
    "SetTable",
    "gate_weak",
    "marginal_nll",
    "per_path_nll",
    "tag_nll",
]

IGNORE = -1
"""The target value of pixels without supervision."""

Reduction = Literal["mean", "sum", "none"]


@dataclass(frozen=True, eq=False)
class SetTable:
    """An export's set table as tensors: what each target value means.

    Parameters
    ----------
    membership : Tensor of shape (S, L), bool
        Row ``s`` marks the leaves of set ``s``.
    components : Tensor of shape (S, K), int64
        The sets a target stands for: ``[s, -1, ...]`` for a plain set, the
        node sets ``S_i`` of a mixture (``-1`` pads).
    weights : Tensor of shape (S, K), float
        Their weights (``1`` for a plain set, ``w_i`` for a mixture, ``0``
        for padding).
    gates : Tensor of shape (S, L), bool
        The leaves of the parents of each set's nodes (all leaves for a
        root): where a weak pixel of set ``s`` counts (`gate_weak`).

    Raises
    ------
    ValueError
        If the shapes disagree or a component is out of range.

    Examples
    --------
    >>> table = SetTable.from_membership(torch.tensor([[1, 0], [0, 1], [1, 1]]).bool())
    >>> table.leaf.tolist()
    [0, 1, -1]
    """

    membership: Tensor
    components: Tensor
    weights: Tensor
    gates: Tensor
    leaf: Tensor = field(init=False, repr=False)
    """``(S,)`` int64: the leaf of a one-leaf plain set, else ``-1``."""
    mixture: Tensor = field(init=False, repr=False)
    """``(S,)`` bool: whether a set is a mixture of others."""
    sizes: Tensor = field(init=False, repr=False)
    """``(S,)`` int64: the number of leaves of each set."""

    def __post_init__(self) -> None:
        sets = self.membership.shape[0]
        if self.membership.dim() != 2 or self.membership.dtype != torch.bool:
            raise ValueError(
                f"membership must be a (sets, leaves) bool tensor, got "
                f"{tuple(self.membership.shape)} {self.membership.dtype}"
            )
        if self.gates.shape != self.membership.shape:
            raise ValueError(
                f"gates must have the membership's shape "
                f"{tuple(self.membership.shape)}, got {tuple(self.gates.shape)}"
            )
        if self.components.shape != self.weights.shape or (
            self.components.dim() != 2 or self.components.shape[0] != sets
        ):
            raise ValueError(
                f"components and weights must both be ({sets}, K), got "
                f"{tuple(self.components.shape)} and {tuple(self.weights.shape)}"
            )
        if self.components.numel() and int(self.components.max()) >= sets:
            raise ValueError(
                f"components must index the {sets} sets, got "
                f"{int(self.components.max())}"
            )
        own = torch.arange(sets, device=self.membership.device)
        mixture = self.components[:, 0] != own
        single = (self.membership.sum(1) == 1) & ~mixture
        leaf = torch.where(single, self.membership.to(torch.int8).argmax(1), -1)
        object.__setattr__(self, "mixture", mixture)
        object.__setattr__(self, "leaf", leaf)
        object.__setattr__(self, "sizes", self.membership.sum(1))

    @classmethod
    def from_membership(cls, membership: Tensor) -> SetTable:
        """Plain sets only (no mixture), every set ungated."""
        sets = membership.shape[0]
        device = membership.device
        return cls(
            membership=membership,
            components=torch.arange(sets, device=device)[:, None],
            weights=torch.ones(sets, 1, device=device),
            gates=torch.ones_like(membership),
        )

    @classmethod
    def from_export(cls, exported: Export) -> SetTable:
        """The set table of an export (`unitax.export.read_export`)."""
        taxonomy = exported.taxonomy
        membership = np.asarray(exported.membership, dtype=bool)
        sets, leaves = membership.shape
        rows: list[dict[str, Any]] = [
            {str(key): value for key, value in row.items()}
            for row in exported.sets.to_dict("records")
        ]
        mixtures = [len(row["nodes"]) for row in rows if row["kind"] == "mixture"]
        width = max([1, *mixtures])
        components = np.full((sets, width), -1, dtype=np.int64)
        weights = np.zeros((sets, width), dtype=np.float32)
        gates = np.zeros((sets, leaves), dtype=bool)
        matrix = taxonomy.leaf_matrix()
        for row in rows:
            index = int(row["index"])
            names = [str(name) for name in row["nodes"]]
            nodes = [taxonomy.index(name) for name in names]
            if row["kind"] == "mixture":
                components[index, : len(nodes)] = nodes
                weights[index, : len(nodes)] = np.asarray(row["weights"], np.float32)
            else:
                components[index, 0] = index
                weights[index, 0] = 1.0
            for name in names:
                parents = taxonomy.parents(name)
                if not parents:
                    gates[index] = True
                for parent in parents:
                    gates[index] |= matrix[taxonomy.index(parent)]
        return cls(
            membership=torch.from_numpy(membership),
            components=torch.from_numpy(components),
            weights=torch.from_numpy(weights),
            gates=torch.from_numpy(gates),
        )

    def to(self, device: torch.device | str) -> SetTable:
        """The same table on ``device``."""
        return SetTable(
            membership=self.membership.to(device),
            components=self.components.to(device),
            weights=self.weights.to(device),
            gates=self.gates.to(device),
        )


def marginal_nll(
    logits: Tensor, target: Tensor, table: SetTable, *, reduction: Reduction = "mean"
) -> Tensor:
    """Marginal negative log-likelihood of set-valued targets.

    Each pixel costs ``-log sum_{l in S} p(l)`` with ``p = softmax(logits)``
    over the leaves and ``S`` its target set; a mixture costs
    ``-sum_i w_i log p(S_i)``. With one-leaf targets this is
    ``F.cross_entropy``.

    Shapes: ``logits: (N, L, H, W)`` float, ``target: (N, H, W)`` int64 set
    indices or `IGNORE`; the result is a scalar, or ``(N, H, W)`` for
    ``reduction="none"`` (``0`` at ignored pixels). ``"mean"`` divides by
    the number of supervised pixels.

    Raises
    ------
    ValueError
        If the shapes disagree (both are named), the target is not int64
        or indexes no set, or ``reduction`` is unknown.

    Examples
    --------
    >>> table = SetTable.from_membership(torch.tensor([[1, 0], [0, 1], [1, 1]]).bool())
    >>> logits = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1)
    >>> float(marginal_nll(logits, torch.tensor([[[2]]]), table))  # a sure thing
    0.0
    """
    _check(logits, target, table.membership)
    sets = table.membership.shape[0]
    if target.numel() and (int(target.min()) < IGNORE or int(target.max()) >= sets):
        raise ValueError(
            f"target values must be set indices in [0, {sets}) or {IGNORE}, got "
            f"{int(target.min())}..{int(target.max())}"
        )
    valid = target != IGNORE
    safe = torch.where(valid, target, 0)
    leaf = table.leaf[safe]
    plain_leaf = valid & (leaf >= 0)
    sparse = valid & (leaf < 0)
    pixels = _positions(sparse.reshape(-1))
    chosen = safe.reshape(-1)[pixels]
    components = table.components[chosen]
    weights = table.weights[chosen].to(logits.dtype)
    keep = weights != 0
    pixels = pixels[:, None].expand_as(components)[keep]
    term_sets, term_weight = components[keep], weights[keep]
    # group the terms by set: gathers then walk each leaf's plane in order
    order = torch.sort(term_sets, stable=True).indices
    pixels, term_sets, term_weight = pixels[order], term_sets[order], term_weight[order]
    total = plain_leaf.to(logits.dtype).reshape(-1).index_add(0, pixels, term_weight)
    loss = _MarginalNLL.apply(
        logits,
        leaf.clamp_min(0),
        plain_leaf.to(logits.dtype),
        total.view_as(target),
        pixels,
        term_sets,
        term_weight,
        table.membership,
        table.sizes,
    )
    return _reduce(loss, valid, reduction)


def gate_weak(
    leaf_logits: Tensor, target: Tensor, table: SetTable, *, weak: Tensor
) -> Tensor:
    """Ignore the pixels of weak samples where their parent is not predicted.

    A pixel of a weak sample (``weak[n]``) keeps its target only where the
    current prediction (the argmax leaf) lies in ``table.gates[target]``:
    the leaves of the parents of its set's nodes (IV2018: a GTSDB box
    trains the sign classes only where the network sees a sign). Nothing
    flows back through the prediction.

    Shapes: ``leaf_logits: (N, L, H, W)``, ``target: (N, H, W)`` int64,
    ``weak: (N,)`` bool; returns a target like ``target``.
    """
    _check(leaf_logits, target, table.membership)
    if weak.shape != target.shape[:1]:
        raise ValueError(
            f"weak must be ({target.shape[0]},), one flag per sample of target "
            f"{tuple(target.shape)}, got {tuple(weak.shape)}"
        )
    predicted = leaf_logits.detach().argmax(1)
    valid = target != IGNORE
    allowed = table.gates[torch.where(valid, target, 0), predicted]
    drop = valid & ~allowed & weak.to(torch.bool)[:, None, None]
    return torch.where(drop, IGNORE, target)


def per_path_nll(
    scores: Tensor,
    target: Tensor,
    head: HierarchicalHead,
    table: SetTable,
    *,
    level_weights: tuple[float, ...] = (1.0, 0.1),
    classifiers: Tensor | None = None,
) -> Tensor:
    """The IV2018 loss: a label trains only the classifiers on its path.

    The classifier of a node ``k`` is trained by a pixel of set ``S`` when
    all of ``S``'s leaves lie below ``k`` and not all of ``k``'s children
    meet ``S``; its target is the children that meet ``S`` (for a tree and a
    node target: the one child on the root-to-node path), its cost
    ``-log sum_{c} p(c | k)``. Each classifier's cost is averaged over its
    pixels and weighted by its level (``level_weights[level]``, the last
    weight for deeper levels: 1.0 for the root, 0.1 deeper). A mixture
    trains as the union of its nodes.

    Shapes: ``scores: (N, E, H, W)``, the raw output of ``head`` (`FCN.scores`);
    ``target: (N, H, W)`` int64 set indices; ``classifiers: (K,)`` bool,
    the classifiers to train (default all; see
    `HierarchicalHead.trainable`). Returns a scalar.

    Raises
    ------
    ValueError
        If the shapes disagree with each other or with ``head``.
    """
    if scores.shape[1] != head.channels:
        raise ValueError(
            f"scores {tuple(scores.shape)} must have the head's {head.channels} "
            "channels; pass FCN.scores(images), not the leaf logits"
        )
    if head.edge_leaves.shape[1] != table.membership.shape[1]:
        raise ValueError(
            f"head leaves {tuple(head.edge_leaves.shape)} and set table "
            f"{tuple(table.membership.shape)} must have as many leaves"
        )
    if (
        scores.dim() != 4
        or scores.shape[0] != target.shape[0]
        or (scores.shape[2:] != target.shape[1:])
    ):
        raise ValueError(
            f"scores (N, E, H, W) {tuple(scores.shape)} and target (N, H, W) "
            f"{tuple(target.shape)} must agree on N, H and W"
        )
    count = len(head.sizes)
    if classifiers is None:
        classifiers = torch.ones(count, dtype=torch.bool, device=scores.device)
    if classifiers.shape != (count,):
        raise ValueError(
            f"classifiers must be ({count},), one flag per classifier, got "
            f"{tuple(classifiers.shape)}"
        )
    valid = target != IGNORE
    total = scores.new_zeros(())
    if not valid.any():
        return total
    present, inverse = torch.unique(target[valid], return_inverse=True)
    sets = table.membership[present].to(scores.dtype)  # (U, L)
    size = sets.sum(1)
    hits = (sets @ head.edge_leaves.to(scores.dtype).T) > 0  # (U, E)
    inside = (sets @ head.classifier_leaves.to(scores.dtype).T) >= size[:, None]
    local = torch.full_like(target, IGNORE)
    local[valid] = inverse
    start = 0
    for k, width in enumerate(head.sizes):
        stop = start + width
        hit = hits[:, start:stop]
        trained = inside[:, k] & (hit.sum(1) < width) & classifiers[k]
        if trained.any():
            rows = torch.where(
                trained, torch.arange(len(present), device=trained.device), -1
            )
            mapped = torch.where(local >= 0, rows[local.clamp_min(0)], IGNORE)
            if (mapped != IGNORE).any():
                level = min(int(head.levels[k]), len(level_weights) - 1)
                sub = SetTable.from_membership(hit)
                total = total + level_weights[level] * marginal_nll(
                    scores[:, start:stop], mapped, sub
                )
        start = stop
    return total


def tag_nll(leaf_logits: Tensor, tags: Tensor, table: SetTable) -> Tensor:
    """Image-level tag loss: binary cross-entropy of each tagged set.

    A positive tag of set ``S`` costs ``-log max_pixels p(S)`` (somewhere
    in the image is an ``S``); a negative tag costs the mean over pixels of
    ``-log(1 - p(S))``, computed as the log-probability of the leaves
    outside ``S``. The result is the mean over the tags of the batch (``0``
    without tags).

    Shapes: ``leaf_logits: (N, L, H, W)``, ``tags: (N, S)`` int8 (``1``
    positive, ``-1`` negative, ``0`` unknown); returns a scalar.
    """
    batch, leaves = leaf_logits.shape[:2]
    if tags.shape != (batch, table.membership.shape[0]) or (
        leaves != table.membership.shape[1]
    ):
        raise ValueError(
            f"tags must be (N, S) = ({batch}, {table.membership.shape[0]}) for "
            f"leaf logits {tuple(leaf_logits.shape)} and set table "
            f"{tuple(table.membership.shape)}, got {tuple(tags.shape)}"
        )
    pairs = tags.nonzero()
    if not len(pairs):
        return leaf_logits.new_zeros(())
    log_p = torch.log_softmax(leaf_logits, 1)
    costs = []
    for image, index in pairs.tolist():
        inside = table.membership[index]
        positive = bool(tags[image, index] > 0)
        keep = inside if positive else ~inside
        if not keep.any():
            continue
        log_ps = torch.logsumexp(log_p[image][keep], 0)  # (H, W)
        costs.append(-log_ps.max() if positive else -log_ps.mean())
    if not costs:
        return leaf_logits.new_zeros(())
    return torch.stack(costs).mean()
