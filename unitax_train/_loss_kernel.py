"""The machinery under `unitax_train.losses`: checks, reduction, the NLL kernel.

`_check` validates leaf logits against a target and a set table (naming both
shapes), `_reduce` applies a ``reduction``, and `_MarginalNLL` is the marginal
NLL's autograd function: one log-softmax, per-term gathers (`_gather`) of the
leaves inside a set or, for a large set, outside it, and exact gradients.
`unitax_train.losses` documents the conventions and owns the public losses.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check(logits: Tensor, target: Tensor, membership: Tensor) -> None:
    if (
        logits.dim() != 4
        or target.dim() != 3
        or (logits.shape[0] != target.shape[0] or logits.shape[2:] != target.shape[1:])
    ):
        raise ValueError(
            f"logits (N, L, H, W) {tuple(logits.shape)} and target (N, H, W) "
            f"{tuple(target.shape)} must agree on N, H and W; resize the target "
            "(nearest) or the logits (bilinear) first"
        )
    if logits.shape[1] != membership.shape[1]:
        raise ValueError(
            f"logits (N, L, H, W) {tuple(logits.shape)} and the set table's "
            f"membership (S, L) {tuple(membership.shape)} must have as many "
            "leaves; build the head from the export's taxonomy"
        )
    if target.dtype != torch.int64:
        raise ValueError(f"target must be int64 set indices, got {target.dtype}")


def _reduce(loss: Tensor, valid: Tensor, reduction: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return total / valid.sum().clamp_min(1)


class _MarginalNLL(torch.autograd.Function):  # type: ignore[misc]
    """Per-pixel ``-sum_t w_t log p(S_t)``; exact gradients, one log-softmax.

    Leaf targets take one gather. Every other term ``t`` (pixel
    ``pixels[t]``, set ``sets[t]``) gathers only the log-probabilities it
    needs, as a ``(K, T)`` block:

    * a set with at most half of the leaves: its own leaves,
      ``log p(S) = logsumexp``;
    * a larger set: the leaves outside it, ``log p(S) = log(1 - p(not S))``,
      used where ``p(not S) <= 1/2`` (so that it loses no precision); the
      other pixels fall back to the set's own leaves.

    The gradient is ``w * (softmax - softmax restricted to S)``; for a large
    set, the ``softmax * 1_S / p(S)`` part is written as a per-pixel scale of
    the softmax plus a correction on the leaves outside ``S``.
    """

    @staticmethod
    def forward(
        ctx: Any,
        logits: Tensor,
        leaf: Tensor,
        leaf_weight: Tensor,
        total_weight: Tensor,
        pixels: Tensor,
        sets: Tensor,
        term_weight: Tensor,
        membership: Tensor,
        sizes: Tensor,
    ) -> Tensor:
        batch, leaves, height, width = logits.shape
        dtype = torch.promote_types(logits.dtype, torch.float32)
        log_p = torch.log_softmax(logits, 1, dtype=dtype)
        picked = log_p.gather(1, leaf[:, None]).squeeze(1)
        loss = (picked * -leaf_weight).reshape(-1)
        flat = log_p.view(-1)
        large = sizes[sets] * 2 > leaves
        outside = _positions(large)
        values_out, where_out = _gather(
            flat, pixels[outside], membership, sets[outside], log_p.shape, outside=True
        )
        rest = torch.logsumexp(values_out, 0)
        good = rest <= -math.log(2.0)
        inside = torch.cat([_positions(~large), outside[~good]])
        outside = outside[good]
        values_out, where_out = values_out[:, good], where_out[:, good]
        log_ps_out = torch.log(-torch.expm1(rest[good]))
        values_in, where_in = _gather(
            flat, pixels[inside], membership, sets[inside], log_p.shape, outside=False
        )
        log_ps_in = torch.logsumexp(values_in, 0)
        loss = loss.index_add(0, pixels[inside], log_ps_in * -term_weight[inside])
        loss = loss.index_add(0, pixels[outside], log_ps_out * -term_weight[outside])
        ctx.save_for_backward(log_p, leaf, leaf_weight, total_weight)
        ctx.inside = (
            pixels[inside],
            term_weight[inside],
            values_in,
            log_ps_in,
            where_in,
        )
        ctx.outside = (
            pixels[outside],
            term_weight[outside],
            values_out,
            log_ps_out,
            where_out,
        )
        ctx.input_dtype = logits.dtype
        return loss.view(batch, height, width)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        log_p, leaf, leaf_weight, total_weight = ctx.saved_tensors
        grad = grad.to(log_p.dtype)
        scale = (grad * total_weight).reshape(-1)
        pixels, weight, values, log_ps, where = ctx.outside
        coefficient_out = grad.reshape(-1)[pixels] * weight * torch.exp(-log_ps)
        scale = scale.index_add(0, pixels, -coefficient_out)
        result = torch.exp(log_p).mul_(scale.view_as(grad)[:, None])
        result.scatter_add_(1, leaf[:, None], (grad * -leaf_weight)[:, None])
        flat = result.view(-1)
        flat.index_add_(
            0, where.reshape(-1), torch.exp(values).mul_(coefficient_out).reshape(-1)
        )
        pixels, weight, values, log_ps, where = ctx.inside
        coefficient = grad.reshape(-1)[pixels] * weight
        share = torch.exp(values - log_ps).mul_(-coefficient)
        flat.index_add_(0, where.reshape(-1), share.reshape(-1))
        return (result.to(ctx.input_dtype), *([None] * 8))


def _positions(mask: Tensor) -> Tensor:
    """Indices of the true entries of a 1-D mask, ascending (a fast ``nonzero``)."""
    return torch.masked_select(torch.arange(len(mask), device=mask.device), mask)


def _gather(
    flat: Tensor,
    pixels: Tensor,
    membership: Tensor,
    sets: Tensor,
    shape: torch.Size,
    *,
    outside: bool,
) -> tuple[Tensor, Tensor]:
    """The log-probabilities of each term's leaves (or the leaves outside).

    Returns ``(K, T)`` values and their flat indices; padding holds ``-inf``
    (its index points at a real entry; adding zero there is harmless).
    """
    _, leaves, height, width = shape
    size = height * width
    present, inverse = torch.unique(sets, return_inverse=True)
    rows = ~membership[present] if outside else membership[present]
    count = int(rows.sum(1).max()) if len(present) else 0
    order = torch.sort(rows.to(torch.int8), dim=1, descending=True, stable=True).indices
    lists = torch.where(rows.gather(1, order), order, -1)[:, :count]
    members = lists[inverse].T  # (K, T)
    base = (pixels // size) * (leaves * size) + pixels % size
    where = members.clamp_min(0).mul_(size).add_(base)
    values = flat[where].masked_fill_(members < 0, -torch.inf)
    return values, where
