"""Train an FCN on an export: `TrainConfig`, a plain `fit` loop, and `main`.

A training configuration is a YAML or JSON file whose keys are the fields of
`TrainConfig` (paths relative to the file)::

    export: unified/              # a unitax export folder
    output: runs/iv2018           # checkpoints go here
    batch: {cityscapes: 1, vistas: 2, gtsdb: 1}
    crop: [512, 512]
    zoom: {gtsdb: [0.5, 1.0]}
    head: hierarchical
    loss: per_path
    weak: [gtsdb]
    iterations: 20000

`main(path)` reads it, builds the model from the export's taxonomy and runs
`fit`. Nothing here prints; progress goes to the ``unitax_train.train``
logger.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import torch
import yaml
from torch.utils.data import DataLoader

from unitax.export import read_export
from unitax_train.backbone import Backbone
from unitax_train.data import Crop, DatasetBatchSampler, ManifestDataset
from unitax_train.losses import gate_weak, marginal_nll, per_path_nll, tag_nll
from unitax_train.model import FCN, HeadKind, HierarchicalHead

if TYPE_CHECKING:
    from unitax.taxonomy import Taxonomy

__all__ = ["TrainConfig", "build_model", "fit", "main"]

_log = logging.getLogger(__name__)

LossKind = Literal["marginal", "per_path"]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Everything a training run needs, as plain values (see the module docstring).

    Parameters
    ----------
    batch
        ``((dataset, items per batch), ...)``; ``from_dict`` takes a mapping.
    reference
        The dataset whose one pass is an epoch (default: the first of ``batch``).
    export, output, weights
        Export folder, checkpoint folder, and optional backbone weights (a
        state dict file, torchvision names).
    splits
        Splits to train on.
    head, loss
        ``"flat"`` or ``"hierarchical"``; ``"marginal"`` (any head) or
        ``"per_path"`` (hierarchical head only).
    backbone, width, adaptation
        ResNet name, its first-stage width, the adaptation-block width.
    crop, zoom
        Crop ``(height, width)`` for every dataset (``None``: full images,
        which must then share one shape); ``((dataset, (low, high)), ...)``
        random zoom ranges.
    weak, gate
        Datasets whose pixels are weak; whether to gate them to where their
        parent is predicted (`unitax_train.losses.gate_weak`).
    level_weights, tag_weight
        Per-level weights of the per-path loss; weight of the tag loss.
    epochs, iterations
        Passes over the reference dataset; optional cap on iterations.
    learning_rate, momentum, weight_decay, power
        SGD with a polynomial ("poly") decay of the learning rate.
    log_every, checkpoint_every
        Iterations between log lines and between checkpoints (0: only the
        last checkpoint).
    resume
        Continue from ``output / "checkpoint.pt"`` when it exists (weights,
        optimiser and iteration; the data order then differs).
    seed, device, workers
        Seed of the model's initialisation and of the data order; torch
        device; data-loading processes.
    """

    batch: tuple[tuple[str, int], ...]
    reference: str | None = None
    export: Path = Path("export")
    output: Path = Path("runs/unitax")
    weights: Path | None = None
    splits: tuple[str, ...] = ("train", "training")
    head: HeadKind = "flat"
    loss: LossKind = "marginal"
    backbone: Backbone = "resnet18"
    width: int = 64
    adaptation: int = 64
    crop: tuple[int, int] | None = None
    zoom: tuple[tuple[str, tuple[float, float]], ...] = ()
    weak: tuple[str, ...] = ()
    gate: bool = False
    level_weights: tuple[float, ...] = (1.0, 0.1)
    tag_weight: float = 0.1
    epochs: int = 1
    iterations: int | None = None
    learning_rate: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    power: float = 0.9
    log_every: int = 10
    checkpoint_every: int = 0
    resume: bool = False
    seed: int = 0
    device: str = "cpu"
    workers: int = 0

    def __post_init__(self) -> None:
        if not self.batch or min(count for _, count in self.batch) < 1:
            raise ValueError(
                f"batch must name datasets with counts >= 1, got {self.batch}"
            )
        if self.head not in get_args(HeadKind):
            raise ValueError(
                f"head must be one of {get_args(HeadKind)}, got {self.head!r}"
            )
        if self.loss not in get_args(LossKind):
            raise ValueError(
                f"loss must be one of {get_args(LossKind)}, got {self.loss!r}"
            )
        if self.loss == "per_path" and self.head != "hierarchical":
            raise ValueError(
                "loss 'per_path' needs head 'hierarchical', got head 'flat'"
            )
        if not self.level_weights:
            raise ValueError("level_weights must hold at least one weight")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Path = Path()) -> TrainConfig:
        """A configuration from parsed YAML/JSON; relative paths join ``base``.

        >>> TrainConfig.from_dict({"batch": {"a": 1, "b": 2}, "crop": [32, 32]}).batch
        (('a', 1), ('b', 2))
        """
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown training options {unknown}; valid: {sorted(names)}"
            )
        values = dict(data)
        for key in ("batch", "zoom"):
            if isinstance(values.get(key), Mapping):
                values[key] = tuple(values[key].items())
        values["batch"] = tuple((str(k), int(n)) for k, n in values.get("batch", ()))
        values["zoom"] = tuple(
            (str(k), (float(a), float(b))) for k, (a, b) in values.get("zoom", ())
        )
        for key in ("splits", "weak", "level_weights"):
            if key in values:
                values[key] = tuple(values[key])
        if values.get("crop") is not None:
            values["crop"] = tuple(values["crop"])
        for key in ("export", "output", "weights"):
            if values.get(key) is not None:
                values[key] = base / Path(values[key])
        return cls(**values)


def _save(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically: a temporary name, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def fit(
    model: FCN,
    dataset: ManifestDataset,
    *,
    config: TrainConfig,
    device: torch.device | str,
    generator: torch.Generator,
) -> list[dict[str, float]]:
    """Train ``model`` on ``dataset``: a plain loop; return the loss history.

    Batches follow ``config.batch`` (`DatasetBatchSampler`, drawing from
    ``generator``); the loss is the marginal NLL over the leaves (or the
    per-path loss), plus ``tag_weight`` times the tag loss. Checkpoints
    (``config.output / "checkpoint.pt"``: model, optimiser, iteration,
    configuration) are written atomically.

    Returns
    -------
    list of dict
        One ``{"iteration", "loss", "learning_rate"}`` per iteration.

    Raises
    ------
    FloatingPointError
        If the loss stops being finite.
    """
    device = torch.device(device)
    model.to(device).train()
    table = dataset.set_table.to(device)
    sampler = DatasetBatchSampler(
        dataset.dataset_names,
        dict(config.batch),
        reference=config.reference,
        generator=generator,
    )
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=config.workers)
    total = config.epochs * len(sampler)
    if config.iterations is not None:
        total = min(total, config.iterations)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.learning_rate,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1 - step / max(1, total)) ** config.power
    )
    classifiers = None
    head = model.head
    if config.loss == "per_path" and isinstance(head, HierarchicalHead):
        labelled = dataset.set_table.membership[dataset.set_counts() > 0]
        classifiers = head.trainable(labelled).to(device)
        _log.info(
            "per-path loss trains %d of %d classifiers",
            int(classifiers.sum()),
            len(classifiers),
        )
    checkpoint = config.output / "checkpoint.pt"
    iteration = 0
    if config.resume and checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        iteration = int(state["iteration"])
        _log.info("resumed from %s at iteration %d", checkpoint, iteration)
    weak_names = set(config.weak)
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    while iteration < total:
        for images, target, names, tags, _ in loader:
            if iteration >= total:
                break
            images, target, tags = images.to(device), target.to(device), tags.to(device)
            scores = model.scores(images)
            leaf_logits = model.head.leaf_logits(scores)
            if config.gate and weak_names:
                weak = torch.tensor(
                    [name in weak_names for name in names], device=device
                )
                target = gate_weak(leaf_logits, target, table, weak=weak)
            if config.loss == "per_path" and isinstance(head, HierarchicalHead):
                loss = per_path_nll(
                    scores,
                    target,
                    head,
                    table,
                    level_weights=config.level_weights,
                    classifiers=classifiers,
                )
            else:
                loss = marginal_nll(leaf_logits, target, table)
            if config.tag_weight and bool(tags.any()):
                loss = loss + config.tag_weight * tag_nll(leaf_logits, tags, table)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"loss is {value} at iteration {iteration}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            iteration += 1
            rate = optimizer.param_groups[0]["lr"]
            history.append(
                {"iteration": iteration, "loss": value, "learning_rate": rate}
            )
            if iteration % max(1, config.log_every) == 0 or iteration == total:
                _log.info(
                    "iteration %d/%d loss %.4f lr %.2e (%.1f s)",
                    iteration,
                    total,
                    value,
                    rate,
                    time.perf_counter() - started,
                )
            every = config.checkpoint_every
            if iteration == total or (every and iteration % every == 0):
                _save(
                    checkpoint,
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(),
                        "iteration": iteration,
                        "config": _plain(config),
                    },
                )
    return history


def _plain(config: TrainConfig) -> dict[str, Any]:
    return {
        field.name: (str(value) if isinstance(value, Path) else value)
        for field in dataclasses.fields(config)
        for value in [getattr(config, field.name)]
    }


def build_model(taxonomy: Taxonomy, config: TrainConfig) -> FCN:
    """The model a configuration describes, initialised from ``config.seed``.

    The initialisation uses a forked random state, so the caller's global
    torch seed is left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = FCN.from_taxonomy(
            taxonomy,
            head=config.head,
            backbone=config.backbone,
            width=config.width,
            adaptation=config.adaptation,
        )
    if config.weights is not None:
        state = torch.load(config.weights, map_location="cpu", weights_only=True)
        missing, _ = model.backbone.load_state_dict(state, strict=False)
        if missing:
            _log.warning(
                "backbone weights lack %d tensors, e.g. %s", len(missing), missing[:3]
            )
    return model


def main(config_path: str | os.PathLike[str]) -> None:
    """Read a training configuration (YAML or JSON) and train.

    What ``unitax train CONFIG`` runs: relative paths in the file are
    relative to it; the final checkpoint is ``output / "checkpoint.pt"``.
    """
    path = Path(config_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{path}: expected a mapping of training options, got {type(data)}"
        )
    config = TrainConfig.from_dict(data, base=path.parent)
    exported = read_export(config.export)
    names = [name for name, _ in config.batch]
    zoom = dict(config.zoom)
    crops = (
        {name: Crop(config.crop, zoom.get(name, (1.0, 1.0))) for name in names}
        if config.crop is not None
        else {}
    )
    dataset = ManifestDataset(
        exported, datasets=names, splits=config.splits, crops=crops
    )
    model = build_model(exported.taxonomy, config)
    generator = torch.Generator().manual_seed(config.seed)
    _log.info("training on %d samples of %s", len(dataset), names)
    fit(model, dataset, config=config, device=config.device, generator=generator)
