"""Read a unitax export as torch data: samples, set table, batch composition.

Conventions
-----------
* An item is an `Item`: the image ``(3, H, W)`` float32, normalised with the
  ImageNet mean and standard deviation (what torchvision-style weights
  expect); the target ``(H, W)`` int64 of **set indices** (an index into
  the export's set table, `unitax_train.losses.SetTable`) with
  `unitax_train.losses.IGNORE` where the export wrote ignore; the sample's
  dataset name; its image-level tags ``(S,)`` int8 (``1`` positive, ``-1``
  negative); and its manifest row.
* Images are read with PIL (PNG, JPEG, PPM, ...) and converted to RGB.
  Nothing is resized unless a dataset has a `Crop` policy.
* Randomness is explicit: `DatasetBatchSampler` draws a seed for every item
  it yields from its ``generator`` and the dataset crops with it
  (``dataset[index, seed]``), so results do not depend on worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from unitax.export import Export, read_target
from unitax_train.losses import IGNORE, SetTable

__all__ = ["MEAN", "STD", "Crop", "DatasetBatchSampler", "Item", "ManifestDataset"]

MEAN = (0.485, 0.456, 0.406)
"""ImageNet channel means (RGB, in [0, 1]) that images are normalised with."""
STD = (0.229, 0.224, 0.225)
"""ImageNet channel standard deviations."""


@dataclass(frozen=True, slots=True)
class Crop:
    """Aspect-preserving resize and random crop for one dataset's samples.

    The image is resized, keeping its aspect ratio, by the smallest factor
    that covers ``shape`` times a factor drawn from ``scale``; a random
    ``shape`` window is cut out (padding with ignore where a zoom below 1
    leaves the image smaller). Targets are resized with nearest neighbour.

    Parameters
    ----------
    shape
        ``(height, width)`` of the crop.
    scale
        ``(low, high)`` range of the extra zoom factor.
    """

    shape: tuple[int, int]
    scale: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        if min(self.shape) < 1 or not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(
                f"Crop needs a positive shape and 0 < low <= high scale, got "
                f"shape={self.shape}, scale={self.scale}"
            )


class Item(NamedTuple):
    """One sample (see the module docstring); `torch` collates these field-wise."""

    image: Tensor
    target: Tensor
    dataset: str
    tags: Tensor
    row: int


class ManifestDataset(Dataset[Item]):  # type: ignore[misc]
    """The samples of an export (`unitax.export.read_export`), as tensors.

    Parameters
    ----------
    exported
        The export.
    datasets
        Dataset names to keep (default: all).
    splits
        Split names to keep (datasets name them differently: ``train``,
        ``training``); default: all.
    crops
        ``{dataset name: Crop}``; samples of other datasets keep their size.

    Attributes
    ----------
    dataset_names : tuple of str
        The dataset of each item (for `DatasetBatchSampler`).
    set_table : SetTable
        What the target values mean.
    """

    def __init__(
        self,
        exported: Export,
        *,
        datasets: Collection[str] | None = None,
        splits: Collection[str] | None = None,
        crops: Mapping[str, Crop] | None = None,
    ) -> None:
        manifest = exported.manifest
        known = set(manifest["dataset"])
        unknown = sorted(set(datasets or ()) - known)
        if unknown:
            raise ValueError(
                f"datasets must be in the export, got unknown {unknown}; "
                f"have {sorted(known)}"
            )
        keep = np.ones(len(manifest), dtype=bool)
        if datasets is not None:
            keep &= manifest["dataset"].isin(list(datasets)).to_numpy()
        if splits is not None:
            keep &= manifest["split"].isin(list(splits)).to_numpy()
        self.exported = exported
        self.rows = tuple(int(row) for row in np.flatnonzero(keep))
        self.dataset_names = tuple(
            str(manifest["dataset"].iloc[row]) for row in self.rows
        )
        self.crops = dict(crops or {})
        self.set_table = SetTable.from_export(exported)
        self._mean = torch.tensor(MEAN).view(3, 1, 1)
        self._std = torch.tensor(STD).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: int | tuple[int, int]) -> Item:
        """``dataset[index]``, or ``dataset[index, seed]`` to seed the crop."""
        index, seed = key if isinstance(key, tuple) else (key, key)
        row = self.rows[index]
        record = self.exported.manifest.iloc[row]
        image = _read_image(self.exported.root, record["image"])
        raw = read_target(self.exported, row)
        target = torch.from_numpy(raw.astype(np.int64))
        target[target == int(np.iinfo(raw.dtype).max)] = IGNORE
        if image.shape[1:] != target.shape:
            raise ValueError(
                f"{record['image']}: image shape {tuple(image.shape[1:])} differs "
                f"from its target's {tuple(target.shape)}"
            )
        image = (image - self._mean) / self._std
        crop = self.crops.get(record["dataset"])
        if crop is not None:
            generator = torch.Generator().manual_seed(int(seed))
            image, target = _crop(image, target, crop, generator)
        tags = torch.zeros(self.set_table.membership.shape[0], dtype=torch.int8)
        taxonomy = self.exported.taxonomy
        for name in record["positive"]:
            tags[taxonomy.index(name)] = 1
        for name in record["negative"]:
            tags[taxonomy.index(name)] = -1
        return Item(image, target, str(record["dataset"]), tags, row)

    def set_counts(self) -> Tensor:
        """Pixels per set over all items (reads every target once).

        Shapes: returns ``(S,)`` int64; ``set_counts() > 0`` marks the
        labelled sets (`unitax_train.model.HierarchicalHead.trainable`).
        """
        counts = torch.zeros(self.set_table.membership.shape[0], dtype=torch.int64)
        for row in self.rows:
            target = read_target(self.exported, row)
            values = target[target != np.iinfo(target.dtype).max].astype(np.int64)
            counts += torch.from_numpy(
                np.bincount(values, minlength=len(counts))[: len(counts)]
            )
        return counts


def _read_image(root: Path, name: str) -> Tensor:
    path = Path(name)
    path = path if path.is_absolute() else root / path
    with Image.open(os.fspath(path)) as image:
        array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def _crop(
    image: Tensor, target: Tensor, crop: Crop, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    height, width = target.shape
    crop_height, crop_width = crop.shape
    low, high = crop.scale
    zoom = low + (high - low) * float(torch.rand((), generator=generator))
    factor = max(crop_height / height, crop_width / width) * zoom
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    if size != (height, width):
        image = F.interpolate(
            image[None], size=size, mode="bilinear", align_corners=False, antialias=True
        )[0]
        target = F.interpolate(target[None, None].float(), size=size, mode="nearest")[
            0, 0
        ].long()
    pad_height, pad_width = max(0, crop_height - size[0]), max(0, crop_width - size[1])
    if pad_height or pad_width:
        image = F.pad(image, (0, pad_width, 0, pad_height))
        target = F.pad(target, (0, pad_width, 0, pad_height), value=IGNORE)
    top = int(torch.randint(image.shape[1] - crop_height + 1, (), generator=generator))
    left = int(torch.randint(image.shape[2] - crop_width + 1, (), generator=generator))
    window = (slice(top, top + crop_height), slice(left, left + crop_width))
    return image[:, window[0], window[1]], target[window]


class DatasetBatchSampler(Sampler[list[tuple[int, int]]]):  # type: ignore[misc]
    """Batches with a fixed number of samples from each dataset.

    Each batch takes ``counts[name]`` items of every named dataset (IV2018:
    1 Cityscapes + 2 Vistas + 1 GTSDB). An epoch is one pass over the
    ``reference`` dataset; the others are reshuffled and cycled as needed.
    Every yielded entry is ``(index, seed)``: the seed drives the item's
    random crop.

    Parameters
    ----------
    dataset_names
        The dataset of each item (`ManifestDataset.dataset_names`).
    counts
        ``{dataset name: items per batch}``.
    reference
        The dataset that defines an epoch (default: the first in ``counts``).
    generator
        The source of all randomness (shuffles and crop seeds).

    Examples
    --------
    >>> sampler = DatasetBatchSampler(["a", "a", "b"], {"a": 1, "b": 2},
    ...                               generator=torch.Generator().manual_seed(0))
    >>> [[index for index, _ in batch] for batch in sampler]
    [[0, 2, 2], [1, 2, 2]]
    """

    def __init__(
        self,
        dataset_names: Sequence[str],
        counts: Mapping[str, int],
        *,
        reference: str | None = None,
        generator: torch.Generator,
    ) -> None:
        if not counts or min(counts.values()) < 1:
            raise ValueError(
                f"counts must be positive items per dataset, got {dict(counts)}"
            )
        reference = next(iter(counts)) if reference is None else reference
        if reference not in counts:
            raise ValueError(
                f"reference must be one of {list(counts)}, got {reference!r}"
            )
        self.indices = {
            name: [i for i, own in enumerate(dataset_names) if own == name]
            for name in counts
        }
        empty = sorted(name for name, items in self.indices.items() if not items)
        if empty:
            raise ValueError(
                f"counts name datasets without items: {empty}; "
                f"have {sorted(set(dataset_names))}"
            )
        self.counts = dict(counts)
        self.reference = reference
        self.generator = generator

    def __len__(self) -> int:
        return len(self.indices[self.reference]) // self.counts[self.reference]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        queues: dict[str, list[int]] = {name: [] for name in self.counts}
        for _ in range(len(self)):
            batch: list[int] = []
            for name, count in self.counts.items():
                queue = queues[name]
                while len(queue) < count:
                    order = torch.randperm(
                        len(self.indices[name]), generator=self.generator
                    )
                    queue.extend(self.indices[name][i] for i in order.tolist())
                batch.extend(queue[:count])
                del queue[:count]
            seeds = torch.randint(
                2**62, (len(batch),), generator=self.generator
            ).tolist()
            yield list(zip(batch, seeds, strict=True))
