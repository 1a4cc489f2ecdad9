"""The FCN: a dilated ResNet backbone and a flat or hierarchical head.

Conventions
-----------
* The backbone is `unitax_train.backbone.ResNet` (output stride 8, random
  weights, torchvision parameter names for user weights), or any module
  with an ``out_channels`` attribute.
* Both heads are built from the same taxonomy and give **leaf logits**
  ``(N, L, H, W)`` at the input resolution (`FCN.forward`).
* **Flat head**: a 1x1 convolution to one logit per leaf.
* **Hierarchical head** (IV2018): one classifier per inner node with at
  least two children (plus a root classifier over the roots when there are
  several), each an adaptation block (1x1 conv, batch norm, ReLU) and a
  1x1 convolution to the node's children; ``p(child | node)`` is a softmax
  over them. A node with one child passes all its mass on to it.
* **Several parents** (a DAG): the probability of a node is the sum over
  its parents of ``p(parent) * p(node | parent)`` -- every node hands all
  its mass to its children, and a node with several parents collects it
  from each. So the probability of a leaf is the sum, over the root-to-leaf
  paths, of the product of the conditionals along the path (for a tree:
  the product of conditionals), and the leaf probabilities sum to 1. The
  leaf logits of the hierarchical head are these log-probabilities.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Literal, get_args

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor, nn

from unitax_train.backbone import Backbone, resnet

if TYPE_CHECKING:
    from unitax.taxonomy import Taxonomy

__all__ = ["FCN", "FlatHead", "HeadKind", "HierarchicalHead"]

HeadKind = Literal["flat", "hierarchical"]


class FlatHead(nn.Module):  # type: ignore[misc]
    """A 1x1 convolution to one logit per leaf."""

    def __init__(self, in_channels: int, num_leaves: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.channels = num_leaves
        self.classifier = nn.Conv2d(in_channels, num_leaves, 1)

    def forward(self, features: Tensor) -> Tensor:
        """Shapes: ``features: (N, C, h, w)`` -> leaf logits ``(N, L, h, w)``."""
        return self.classifier(features)

    def leaf_logits(self, scores: Tensor) -> Tensor:
        """The leaf logits of the head's output: the output itself."""
        return scores


class HierarchicalHead(nn.Module):  # type: ignore[misc]
    """IV2018's hierarchy of classifiers (see the module docstring).

    Parameters
    ----------
    in_channels
        Feature channels.
    leaf_matrix : Tensor of shape (nodes, L), bool
        Which leaves each node covers (`unitax.taxonomy.Taxonomy.leaf_matrix`).
    edges : Tensor of shape (2, E), int64
        ``(parent, child)`` node indices.
    width
        Channels of each adaptation block.

    Attributes
    ----------
    sizes : tuple of int
        Children of each classifier; its conditionals are consecutive
        channels of the head's output (``channels = sum(sizes)``).
    levels : Tensor of shape (K,), int64
        Each classifier's level (0: the top classifier).
    edge_leaves : Tensor of shape (channels, L), bool
        The leaves below each output channel's child.
    classifier_leaves : Tensor of shape (K, L), bool
        The leaves below each classifier.
    """

    def __init__(
        self, in_channels: int, leaf_matrix: Tensor, edges: Tensor, *, width: int = 64
    ) -> None:
        super().__init__()
        nodes, leaves = leaf_matrix.shape
        if edges.dim() != 2 or edges.shape[0] != 2:
            raise ValueError(f"edges must be (2, E), got {tuple(edges.shape)}")
        children: list[list[int]] = [[] for _ in range(nodes)]
        has_parent = [False] * nodes
        for parent, child in edges.T.tolist():
            children[parent].append(child)
            has_parent[child] = True
        roots = [n for n in range(nodes) if not has_parent[n]]
        order = _topological(children, roots, nodes)
        groups: list[tuple[int, list[int]]] = []  # (node or -1 for the top, children)
        if len(roots) > 1:
            groups.append((-1, roots))
        groups += [(n, sorted(children[n])) for n in order if len(children[n]) > 1]
        depth = [0] * nodes
        for node in order:
            for child in children[node]:
                depth[child] = max(depth[child], depth[node] + 1)
        offset = int(len(roots) > 1)
        self.in_channels = in_channels
        self.sizes = tuple(len(group) for _, group in groups)
        self.channels = sum(self.sizes)
        channel_of: dict[tuple[int, int], int] = {}
        for parent, group in groups:
            for child in group:
                channel_of[parent, child] = len(channel_of)
        matrix = leaf_matrix.to(torch.bool)
        edge_leaves = matrix[[child for (_, child) in channel_of]]
        classifier_leaves = torch.zeros(len(groups), leaves, dtype=torch.bool)
        for row, (_, group) in enumerate(groups):
            classifier_leaves[row] = matrix[group].any(0)
        levels = [0 if n < 0 else depth[n] + offset for n, _ in groups]
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.int64), False)
        self.register_buffer("edge_leaves", edge_leaves, False)
        self.register_buffer("classifier_leaves", classifier_leaves, False)
        self._register_paths(children, roots, matrix, channel_of)
        self.classifiers = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels, width, 1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.Conv2d(width, size, 1),
            )
            for size in self.sizes
        )

    def _register_paths(
        self,
        children: list[list[int]],
        roots: list[int],
        matrix: Tensor,
        channel_of: dict[tuple[int, int], int],
    ) -> None:
        """Every root-to-leaf path as the channels of its conditionals."""
        leaves = matrix.shape[1]
        pad = self.channels  # an extra all-zero channel: log 1
        paths: list[tuple[int, list[int]]] = []
        top = -1 if len(roots) > 1 else roots[0]
        stack: list[tuple[int, list[int]]] = [
            (root, [channel_of[-1, root]] if top == -1 else []) for root in roots
        ]
        while stack:
            node, path = stack.pop()
            if not children[node]:
                if int(matrix[node].sum()) != 1:
                    raise ValueError(
                        f"node {node} has no children but covers "
                        f"{int(matrix[node].sum())} leaves; expected 1"
                    )
                paths.append((int(matrix[node].to(torch.int8).argmax()), path))
                continue
            for child in children[node]:
                step = [channel_of[node, child]] if len(children[node]) > 1 else []
                stack.append((child, path + step))
        paths.sort(key=lambda item: (item[0], item[1]))
        found = sorted({leaf for leaf, _ in paths})
        if found != list(range(leaves)):
            raise ValueError(
                f"every leaf must be reachable; {leaves - len(found)} are not"
            )
        depth = max(1, *(len(path) for _, path in paths))
        table = torch.full((len(paths), depth), pad, dtype=torch.int64)
        for row, (_, path) in enumerate(paths):
            table[row, : len(path)] = torch.tensor(path, dtype=torch.int64)
        leaf_of = torch.tensor([leaf for leaf, _ in paths], dtype=torch.int64)
        first = torch.ones(len(paths), dtype=torch.bool)
        first[1:] = leaf_of[1:] != leaf_of[:-1]
        self.register_buffer("paths", table, False)
        self.register_buffer("path_leaf", leaf_of, False)
        self.register_buffer("first_path", first, False)

    @classmethod
    def from_taxonomy(
        cls, in_channels: int, taxonomy: Taxonomy, *, width: int = 64
    ) -> HierarchicalHead:
        """The head of a `unitax.taxonomy.Taxonomy`."""
        edges = [(taxonomy.index(p), taxonomy.index(c)) for p, c in taxonomy.edges]
        edge_tensor = torch.tensor(edges, dtype=torch.int64).reshape(-1, 2).T
        matrix = torch.from_numpy(taxonomy.leaf_matrix())
        return cls(in_channels, matrix, edge_tensor, width=width)

    def forward(self, features: Tensor) -> Tensor:
        """Raw conditional scores, one block of channels per classifier.

        Shapes: ``features: (N, C, h, w)`` -> ``(N, channels, h, w)``.
        """
        if not self.sizes:
            return features.new_zeros((features.shape[0], 0, *features.shape[2:]))
        return torch.cat([classifier(features) for classifier in self.classifiers], 1)

    def log_conditionals(self, scores: Tensor) -> Tensor:
        """``log p(child | node)``: a log-softmax within each classifier's block.

        Shapes: ``scores: (N, channels, H, W)`` -> the same.
        """
        if scores.shape[1] != self.channels:
            raise ValueError(
                f"scores {tuple(scores.shape)} must have the head's {self.channels} "
                "channels"
            )
        if not self.sizes:
            return scores
        parts = torch.split(scores, list(self.sizes), 1)
        return torch.cat([torch.log_softmax(part, 1) for part in parts], 1)

    def leaf_logits(self, scores: Tensor) -> Tensor:
        """Leaf log-probabilities: over paths, the log of the sum of products.

        Shapes: ``scores: (N, channels, H, W)`` -> ``(N, L, H, W)``; their
        exponentials sum to 1 over ``L``.
        """
        conditionals = self.log_conditionals(scores)
        batch, _, height, width = conditionals.shape
        one = conditionals.new_zeros((batch, 1, height, width))  # log 1, for padding
        padded = torch.cat([conditionals, one], 1)
        path_log_p = padded[:, self.paths[:, 0]]
        for step in range(1, self.paths.shape[1]):
            path_log_p = path_log_p + padded[:, self.paths[:, step]]
        leaf_log_p = path_log_p[:, self.first_path]
        extra = (~self.first_path).nonzero().squeeze(1)
        while len(extra):  # leaves with several paths: add the others, once each
            leaf = self.path_leaf[extra]
            first = torch.ones_like(extra, dtype=torch.bool)
            first[1:] = leaf[1:] != leaf[:-1]
            now = extra[first]
            target = self.path_leaf[now]
            leaf_log_p = leaf_log_p.index_copy(
                1, target, torch.logaddexp(leaf_log_p[:, target], path_log_p[:, now])
            )
            extra = extra[~first]
        return leaf_log_p

    def trainable(self, labelled: Tensor) -> Tensor:
        """Classifiers with at least two labelled children (IV2018's rule).

        A child is labelled when some labelled set lies within its leaves; a
        classifier with a single labelled child (Cityscapes' ``parking``) is
        kept out of `unitax_train.losses.per_path_nll`.

        Shapes: ``labelled: (U, L)`` bool, the sets that occur in the
        training targets -> ``(K,)`` bool.
        """
        sets = labelled.to(torch.float32)
        size = sets.sum(1, keepdim=True)
        inside = (sets @ self.edge_leaves.to(torch.float32).T >= size) & (size > 0)
        child_labelled = inside.any(0)
        counts = (
            torch.stack(
                [part.sum() for part in torch.split(child_labelled, list(self.sizes))]
            )
            if self.sizes
            else torch.zeros(0)
        )
        return counts >= 2


def _topological(children: list[list[int]], roots: list[int], nodes: int) -> list[int]:
    """Kahn's algorithm, smallest index first: index order when that is topological."""
    indegree = [0] * nodes
    for group in children:
        for child in group:
            indegree[child] += 1
    order: list[int] = []
    ready = sorted(roots)
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != nodes:
        raise ValueError("edges must form a DAG; they contain a cycle")
    return order


class FCN(nn.Module):  # type: ignore[misc]
    """A fully convolutional network: backbone, head, bilinear upsampling.

    Parameters
    ----------
    backbone
        A module mapping ``(N, 3, H, W)`` images to features; its
        ``out_channels`` must match the head's ``in_channels``.
    head
        `FlatHead` or `HierarchicalHead`.

    Examples
    --------
    >>> edges = [("vehicle", "car"), ("vehicle", "bus"), ("all", "vehicle"),
    ...          ("all", "road")]
    >>> taxonomy = ux.Taxonomy(edges)
    >>> model = FCN.from_taxonomy(taxonomy, head="hierarchical", width=4).eval()
    >>> with torch.no_grad():
    ...     logits = model(torch.zeros(1, 3, 16, 16))
    >>> tuple(logits.shape), round(float(logits.exp().sum(1).mean()), 4)
    ((1, 3, 16, 16), 1.0)
    """

    def __init__(self, backbone: nn.Module, head: FlatHead | HierarchicalHead) -> None:
        super().__init__()
        channels = getattr(backbone, "out_channels", head.in_channels)
        if channels != head.in_channels:
            raise ValueError(
                f"backbone gives {channels} channels but the head takes "
                f"{head.in_channels}"
            )
        self.backbone = backbone
        self.head = head

    @classmethod
    def from_taxonomy(
        cls,
        taxonomy: Taxonomy,
        *,
        head: HeadKind = "flat",
        backbone: Backbone = "resnet18",
        width: int = 64,
        adaptation: int = 64,
    ) -> FCN:
        """A randomly initialised FCN whose head has the taxonomy's leaves."""
        if head not in get_args(HeadKind):
            raise ValueError(f"head must be one of {get_args(HeadKind)}, got {head!r}")
        trunk = resnet(backbone, width=width)
        top: FlatHead | HierarchicalHead = (
            FlatHead(trunk.out_channels, len(taxonomy.leaves))
            if head == "flat"
            else HierarchicalHead.from_taxonomy(
                trunk.out_channels, taxonomy, width=adaptation
            )
        )
        return cls(trunk, top)

    def scores(self, images: Tensor) -> Tensor:
        """The head's raw output at the input resolution.

        Shapes: ``images: (N, 3, H, W)`` -> ``(N, head.channels, H, W)``.
        """
        out = self.head(self.backbone(images))
        return F.interpolate(
            out, size=images.shape[2:], mode="bilinear", align_corners=False
        )

    def forward(self, images: Tensor) -> Tensor:
        """Leaf logits. Shapes: ``images: (N, 3, H, W)`` -> ``(N, L, H, W)``."""
        return self.head.leaf_logits(self.scores(images))
