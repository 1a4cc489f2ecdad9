"""Decode universal predictions and score them: per taxonomy level, per dataset.

Conventions
-----------
* Everything starts from leaf logits ``(N, L, H, W)`` (either head). The
  probability of a set of leaves (a node, a dataset label) is the sum of
  its leaves' probabilities, summed in linear space (decoding only needs
  the argmax).
* **Classes** are rows of a bool matrix ``(C, L)``: the frontier of a
  taxonomy level (`frontier`), or a dataset's labels (`label_matrix`).
  A target set counts as class ``c`` when its leaves lie within class
  ``c``'s and no other's; otherwise (derived sets, coarser labels, ignore)
  the pixel is ignored -- each dataset's own ignore convention, as its
  export wrote it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

if TYPE_CHECKING:
    from unitax.taxonomy import LabelMap, Taxonomy

__all__ = [
    "class_of_sets",
    "confusion",
    "decode",
    "decode_cascade",
    "frontier",
    "iou",
    "label_matrix",
    "project",
]


def project(leaf_logits: Tensor, classes: Tensor) -> Tensor:
    """Probabilities of classes: the sum of their leaves' probabilities.

    Projects universal predictions into a dataset's own label space when
    ``classes`` is its `label_matrix`.

    Shapes: ``leaf_logits: (N, L, H, W)``, ``classes: (C, L)`` bool ->
    ``(N, C, H, W)``.
    """
    if (
        leaf_logits.dim() != 4
        or classes.dim() != 2
        or (classes.shape[1] != leaf_logits.shape[1])
    ):
        raise ValueError(
            f"leaf logits (N, L, H, W) {tuple(leaf_logits.shape)} and classes "
            f"(C, L) {tuple(classes.shape)} must have as many leaves"
        )
    dtype = torch.promote_types(leaf_logits.dtype, torch.float32)
    probs = torch.softmax(leaf_logits, 1, dtype=dtype)
    return torch.einsum("nlhw,cl->nchw", probs, classes.to(probs.dtype))


def decode(leaf_logits: Tensor, classes: Tensor) -> Tensor:
    """The most probable class per pixel (product of conditionals).

    With the classes of a taxonomy level (`frontier`) this is decoding by
    the product of conditionals, stopped at that depth: in a tree, a
    node's probability is the product of the conditionals on its path.

    Shapes: ``leaf_logits: (N, L, H, W)``, ``classes: (C, L)`` bool ->
    ``(N, H, W)`` int64 indices into ``classes``.
    """
    return project(leaf_logits, classes).argmax(1)


def frontier(
    taxonomy: Taxonomy, depth: int
) -> tuple[tuple[str, ...], NDArray[np.bool_]]:
    """The classes of a taxonomy level: ``(node names, (C, L) bool)``.

    The nodes a decoder stopping at ``depth`` chooses from: those at
    ``depth`` (`unitax.taxonomy.Taxonomy.depth`, roots: 0) and the leaves
    above it. Their leaf rows are the ``classes`` of `decode` and
    `class_of_sets`, for the mIoU of that level.

    >>> edges = [("vehicle", "car"), ("vehicle", "bus"), ("all", "vehicle"),
    ...          ("all", "road")]
    >>> names, classes = frontier(ux.Taxonomy(edges), 1)
    >>> names, classes.astype(int)
    (('road', 'vehicle'), array([[1, 0, 0],
           [0, 1, 1]]))
    """
    names = tuple(
        name
        for name in taxonomy.names
        if taxonomy.depth(name) == depth
        or (taxonomy.is_leaf(name) and taxonomy.depth(name) < depth)
    )
    matrix = taxonomy.leaf_matrix()
    return names, matrix[[taxonomy.index(name) for name in names]]


def decode_cascade(
    leaf_logits: Tensor, taxonomy: Taxonomy, *, depth: int | None = None
) -> Tensor:
    """Cascade argmax: from the roots down, the most probable child each time.

    Stops at a leaf or at a node of depth ``depth``. A child's probability
    is the sum of its leaves' (for a tree and the hierarchical head: the
    argmax of each classifier's conditionals).

    Shapes: ``leaf_logits: (N, L, H, W)`` -> ``(N, H, W)`` int64 node
    indices.
    """
    nodes = len(taxonomy)
    matrix = torch.from_numpy(taxonomy.leaf_matrix()).to(leaf_logits.device)
    scores = project(leaf_logits, matrix)  # (N, nodes, H, W)
    groups = [taxonomy.children(name) for name in taxonomy.names]
    groups.append(taxonomy.roots())
    width = max(len(group) for group in groups)
    table = torch.full((nodes + 1, width), -1, dtype=torch.int64)
    for row, group in enumerate(groups):
        table[row, : len(group)] = torch.tensor([taxonomy.index(n) for n in group])
    depths = torch.tensor([taxonomy.depth(n) for n in taxonomy.names] + [-1])
    limit = int(depths.max()) if depth is None else depth
    table, depths = table.to(leaf_logits.device), depths.to(leaf_logits.device)
    batch, _, height, width_ = leaf_logits.shape
    current = torch.full((batch, height, width_), nodes, device=leaf_logits.device)
    for _ in range(int(depths.max()) + 1):
        candidates = table[current]  # (N, H, W, C)
        stop = (candidates[..., 0] < 0) | (depths[current] >= limit)
        score = scores.permute(0, 2, 3, 1).gather(3, candidates.clamp_min(0))
        score = score.masked_fill(candidates < 0, -torch.inf)
        best = candidates.gather(3, score.argmax(3, keepdim=True)).squeeze(3)
        current = torch.where(stop, current, best)
    return current


def label_matrix(label_map: LabelMap) -> tuple[tuple[int, ...], NDArray[np.bool_]]:
    """A dataset's labels as leaf sets: ``(label ids, (D, L) bool)``.

    Labels sent to ignore are left out.
    """
    taxonomy = label_map.taxonomy
    matrix = taxonomy.leaf_matrix()
    ids = tuple(sorted(i for i, name in label_map.nodes.items() if name is not None))
    rows = [taxonomy.index(label_map.nodes[i] or "") for i in ids]
    return ids, matrix[rows] if rows else np.zeros((0, matrix.shape[1]), dtype=bool)


def class_of_sets(membership: Tensor, classes: Tensor) -> Tensor:
    """For each set, the one class whose leaves hold all of its leaves, else -1.

    Shapes: ``membership: (S, L)``, ``classes: (C, L)`` bool -> ``(S,)`` int64.
    """
    sets = membership.to(torch.float32)
    inside = sets @ classes.to(torch.float32).T >= sets.sum(1, keepdim=True)
    inside &= sets.sum(1, keepdim=True) > 0
    unique = inside.sum(1) == 1
    return torch.where(unique, inside.to(torch.int8).argmax(1), -1)


def confusion(predicted: Tensor, truth: Tensor, classes: int) -> Tensor:
    """Confusion counts ``[truth, predicted]``; negative truth is ignored.

    Shapes: ``predicted``, ``truth``: the same shape, int64 -> ``(C, C)``
    int64.
    """
    if predicted.shape != truth.shape:
        raise ValueError(
            f"predicted {tuple(predicted.shape)} and truth {tuple(truth.shape)} "
            "must have the same shape"
        )
    keep = truth >= 0
    flat = truth[keep] * classes + predicted[keep]
    return torch.bincount(flat, minlength=classes * classes).view(classes, classes)


def iou(counts: Tensor) -> NDArray[Any]:
    """Intersection over union per class; ``nan`` for classes not in the truth.

    The mean IoU is ``np.nanmean(iou(counts))``.

    >>> iou(torch.tensor([[2, 1], [0, 0]]))
    array([0.66666667,        nan])
    """
    counts_np = counts.double().cpu().numpy()
    hit = np.diag(counts_np)
    truth = counts_np.sum(1)
    union = truth + counts_np.sum(0) - hit
    with np.errstate(invalid="ignore", divide="ignore"):
        result: NDArray[Any] = np.where(truth > 0, hit / union, np.nan)
    return result
