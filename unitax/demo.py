"""A small heterogeneous collection in real formats, with a known fine truth.

`make_demo` draws street-like scenes as per-pixel maps of universal *leaves*
of the built-in IV2018 taxonomy (``unitax.builtin.collection("iv2018")``:
Cityscapes + Vistas v1.2 + GTSDB, 108 leaves), renders a matching RGB image
for each, and writes what each dataset would have annotated, in that
dataset's own format and label space::

    dest/
      export.yaml                 an export configuration (`unitax.config`)
      cityscapes/                 leftImg8bit/{train,val}/synth/*_leftImg8bit.png
                                  gtFine/{train,val}/synth/*_gtFine_labelIds.png
      vistas/                     config_v1.2.json,
                                  {training,validation}/images/*.jpg,
                                  {training,validation}/v1.2/labels/*.png
      gtsdb/                      {train,val}/00000.ppm ... + gt.txt (boxes)
      openimages/                 images/{train,validation}/{ImageID}.jpg,
                                  annotations/*-annotations-human-imagelabels.csv
      heldout/                    Cityscapes layout, val/night: another domain
      ground_truth/leaves.json    the taxonomy's leaf names (index = value)
      ground_truth/{dataset}/{sample key}.npz

Ground truth
------------
Each ``.npz`` holds ``leaves`` (uint8, an index into ``leaves.json``),
``objects`` (uint16 instance ids, 0 for stuff) and ``unlabeled`` (bool: the
pixels a Cityscapes-style annotator left void). Scenes use 24 kinds of
street elements plus the 43 GTSDB sign classes (67 leaves): sky, building,
vegetation, terrain, fence, sidewalk, road, lane marking, crosswalk,
manhole, pole, street light, traffic light, traffic sign front (other),
traffic sign back, trash can, car, truck, bus, bicycle, motorcycle, person,
bicyclist and motorcyclist.

What each dataset says
----------------------
* **Cityscapes** (``labelIds``): each pixel's label is the Cityscapes label
  whose IV2018 node covers the pixel's leaf (coarser: a crosswalk is
  ``road``, a bicyclist ``rider``, every sign ``traffic sign``). Leaves no
  Cityscapes label covers (street light, trash can) are ``static``, which
  IV2018 ignores; about half of the pixels on object borders are
  ``unlabeled`` (0).
* **Vistas v1.2** (``labels``): the Vistas label covering the leaf (finer:
  bicyclist vs motorcyclist, crosswalk, lane marking; but a GTSDB sign class
  is just ``object--traffic-sign--front``).
* **GTSDB**: one box per sign of the 43 classes, its tight bounding box.
  Sign plates are rectangles drawn on top of everything and never overlap,
  so the box is exactly the sign (``boxes="fill"`` is exact); other signs
  are not annotated, as in GTSDB. Every sixth image has no GTSDB sign.
* **Open Images** (image-level labels): for each of ten classes (Car, Bus,
  Truck, Person, Bicycle, Motorcycle, Traffic light, Traffic sign, Stop
  sign, Building) verified with probability 0.7, confidence 1 if present
  in the scene, 0 if verified absent.
* **heldout**: Cityscapes labels of scenes rendered in another domain
  (darker, bluer, noisier), for measuring generalisation. It is in the
  export configuration like the others; train on the other datasets.

Images get a colour and a texture per leaf, a GTSDB-class-specific glyph
per sign, a tint per object, noise, and a colour shift per dataset.
Everything is deterministic given ``seed``.

This module owns the public names and `make_demo`'s order of work. Its
private helpers: the taxonomy's leaves and looks of the scene elements in
``unitax._demo_world``, drawing scenes in ``unitax._demo_scenes``, rendering
images in ``unitax._demo_images``, and the writer of each dataset's format
in ``unitax._demo_writers``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from unitax._demo_images import _DOMAINS, _render
from unitax._demo_scenes import _draw_scene
from unitax._demo_world import _World
from unitax._demo_writers import (
    _write_cityscapes,
    _write_config,
    _write_gtsdb,
    _write_openimages,
    _write_vistas,
)

__all__ = ["DATASETS", "Demo", "make_demo", "read_ground_truth"]

DATASETS = ("cityscapes", "vistas", "gtsdb", "openimages", "heldout")
"""The dataset folders `make_demo` writes, in this order."""

_SPLITS = {
    "cityscapes": ("train", "val"),
    "vistas": ("training", "validation"),
    "gtsdb": ("train", "val"),
    "openimages": ("train", "validation"),
}


@dataclass(frozen=True, slots=True)
class Demo:
    """What `make_demo` wrote.

    Parameters
    ----------
    root
        The demo folder.
    datasets
        ``{dataset name: its folder}`` for the names in `DATASETS`.
    ground_truth
        The folder of ``leaves.json`` and ``{dataset}/{key}.npz``.
    leaves
        The IV2018 taxonomy's leaf names: ground-truth value ``i`` is
        ``leaves[i]``.
    config
        The export configuration, ``root / "export.yaml"``.
    """

    root: Path
    datasets: Mapping[str, Path]
    ground_truth: Path
    leaves: tuple[str, ...]
    config: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", MappingProxyType(dict(self.datasets)))


def make_demo(
    dest: str | os.PathLike[str],
    *,
    samples: int = 12,
    shape: tuple[int, int] = (96, 192),
    seed: int = 0,
) -> Demo:
    """Write the demo collection into ``dest`` (see the module docstring).

    Parameters
    ----------
    dest
        A new or empty folder.
    samples
        Images per dataset (a quarter of them, at least one, in the
        validation split; ``heldout`` has them all in ``val``).
    shape
        ``(height, width)`` of every image.
    seed
        Seed of everything random; the same seed gives the same bytes.

    Returns
    -------
    Demo

    Raises
    ------
    FileExistsError
        If ``dest`` exists and is not an empty folder.
    ValueError
        If ``samples < 2`` or ``shape`` is smaller than ``(48, 64)``.

    Examples
    --------
    >>> import tempfile
    >>> demo = make_demo(Path(tempfile.mkdtemp()) / "demo", samples=2)
    >>> sorted(demo.datasets)
    ['cityscapes', 'gtsdb', 'heldout', 'openimages', 'vistas']
    >>> truth = read_ground_truth(demo, "gtsdb", "train/00000")
    >>> truth["leaves"].shape, len(demo.leaves)
    ((96, 192), 108)
    """
    if samples < 2:
        raise ValueError(f"samples must be >= 2 (train and val), got {samples}")
    height, width = shape
    if height < 48 or width < 64:
        raise ValueError(f"shape must be at least (48, 64), got {shape}")
    root = Path(dest)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root}: expected a new or empty folder")
    world = _World()
    demo = Demo(
        root=root,
        datasets={name: root / name for name in DATASETS},
        ground_truth=root / "ground_truth",
        leaves=world.taxonomy.leaves,
        config=root / "export.yaml",
    )
    demo.ground_truth.mkdir(parents=True)
    (demo.ground_truth / "leaves.json").write_text(
        json.dumps(list(demo.leaves), indent=1) + "\n", encoding="utf-8"
    )
    validation = max(1, samples // 4)
    writers: dict[str, Callable[..., None]] = {
        "cityscapes": _write_cityscapes,
        "vistas": _write_vistas,
        "gtsdb": _write_gtsdb,
        "openimages": _write_openimages,
        "heldout": _write_cityscapes,
    }
    for number, name in enumerate(DATASETS):
        scenes = []
        for index in range(samples):
            rng = np.random.default_rng([seed, number, index])
            plain = name == "gtsdb" and index % 6 == 5
            canvas = _draw_scene(rng, shape, world, gtsdb=name, plain=plain)
            image = _render(canvas, world, rng, _DOMAINS[name])
            splits = _SPLITS.get(name, ("val", "val"))
            split = splits[1] if index >= samples - validation else splits[0]
            if name == "heldout":
                split = "val"
            scenes.append((index, split, canvas, image, rng))
        writers[name](demo, name, scenes, world, seed)
    _write_config(demo)
    return demo


def read_ground_truth(demo: Demo, dataset: str, key: str) -> dict[str, NDArray[Any]]:
    """The ground truth of one sample: ``leaves``, ``objects`` and ``unlabeled``.

    ``key`` is the sample's key as the dataset's reader gives it.
    """
    path = demo.ground_truth / dataset / f"{key}.npz"
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}
