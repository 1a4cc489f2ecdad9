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
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from PIL import Image

from unitax.annotations import Box, Dataset, Sample
from unitax.builtin import builtin_label_space, collection
from unitax.formats.gtsdb import write_gtsdb
from unitax.rules import IsA, Same, write_rules
from unitax.taxonomy import Taxonomy
from unitax.unify import unify

__all__ = ["DATASETS", "Demo", "make_demo", "read_ground_truth"]

DATASETS = ("cityscapes", "vistas", "gtsdb", "openimages", "heldout")
"""The dataset folders `make_demo` writes, in this order."""

_KINDS = {  # scene element -> the Vistas v1.2 label whose IV2018 leaf it is
    "sky": "nature--sky",
    "building": "construction--structure--building",
    "vegetation": "nature--vegetation",
    "terrain": "nature--terrain",
    "fence": "construction--barrier--fence",
    "sidewalk": "construction--flat--sidewalk",
    "road": "construction--flat--road",
    "lane marking": "marking--general",
    "crosswalk": "marking--crosswalk-zebra",
    "manhole": "object--manhole",
    "pole": "object--support--pole",
    "street light": "object--street-light",
    "traffic light": "object--traffic-light",
    "sign back": "object--traffic-sign--back",
    "trash can": "object--trash-can",
    "car": "object--vehicle--car",
    "truck": "object--vehicle--truck",
    "bus": "object--vehicle--bus",
    "bicycle": "object--vehicle--bicycle",
    "motorcycle": "object--vehicle--motorcycle",
    "person": "human--person",
    "bicyclist": "human--rider--bicyclist",
    "motorcyclist": "human--rider--motorcyclist",
}
_FRONT = "object--traffic-sign--front"  # "sign front": its remainder leaf

_COLOURS = {
    "sky": (120, 165, 225),
    "building": (135, 115, 105),
    "vegetation": (60, 125, 45),
    "terrain": (150, 140, 85),
    "fence": (175, 150, 115),
    "sidewalk": (185, 180, 175),
    "road": (85, 85, 92),
    "lane marking": (240, 240, 225),
    "crosswalk": (230, 232, 240),
    "manhole": (55, 50, 45),
    "pole": (115, 120, 128),
    "street light": (205, 190, 110),
    "traffic light": (30, 32, 30),
    "sign back": (150, 150, 156),
    "sign front": (30, 110, 60),
    "trash can": (40, 95, 70),
    "car": (40, 70, 170),
    "truck": (215, 145, 40),
    "bus": (225, 205, 60),
    "bicycle": (20, 140, 140),
    "motorcycle": (95, 40, 150),
    "person": (200, 60, 85),
    "bicyclist": (235, 105, 30),
    "motorcyclist": (150, 30, 40),
}
_SIGN_PLATES = {  # GTSDB category -> (plate, border, glyph)
    "prohibitory": ((235, 235, 235), (200, 25, 25), (20, 20, 20)),
    "danger": ((240, 235, 220), (210, 40, 20), (15, 15, 15)),
    "mandatory": ((30, 75, 185), (30, 75, 185), (240, 240, 240)),
    "other": ((245, 200, 20), (240, 240, 240), (30, 30, 30)),
}
_DOMAINS = {  # dataset -> (gain, offset, noise sigma)
    "cityscapes": ((1.0, 1.0, 1.05), (0.0, 0.0, 0.0), 3.0),
    "vistas": ((1.08, 1.0, 0.9), (8.0, 4.0, -4.0), 4.0),
    "gtsdb": ((1.1, 1.05, 1.0), (-12.0, -10.0, -8.0), 3.0),
    "openimages": ((0.95, 1.0, 1.0), (10.0, 10.0, 10.0), 4.0),
    "heldout": ((0.45, 0.5, 0.72), (8.0, 8.0, 22.0), 6.0),
}
_TAGS = {  # Open Images class -> IV2018 nodes whose leaves make it present
    "Car": ("car",),
    "Bus": ("bus",),
    "Truck": ("truck",),
    "Person": ("person", "bicyclist", "motorcyclist"),
    "Bicycle": ("bicycle",),
    "Motorcycle": ("motorcycle",),
    "Traffic light": ("traffic light",),
    "Traffic sign": ("traffic sign",),
    "Stop sign": ("gtsdb/stop",),
    "Building": ("building",),
}
_V = "vistas-v1.2/"
_OPEN_IMAGES_RULES = (
    Same(labels=("openimages/Car", _V + "object--vehicle--car"), reason="car"),
    Same(labels=("openimages/Bus", _V + "object--vehicle--bus"), reason="bus"),
    Same(labels=("openimages/Truck", _V + "object--vehicle--truck"), reason="truck"),
    Same(
        labels=("openimages/Bicycle", _V + "object--vehicle--bicycle"), reason="bicycle"
    ),
    Same(
        labels=("openimages/Motorcycle", _V + "object--vehicle--motorcycle"),
        reason="motorcycle",
    ),
    Same(
        labels=("openimages/Traffic light", _V + "object--traffic-light"),
        reason="traffic light",
    ),
    Same(labels=("openimages/Traffic sign", "traffic sign"), reason="traffic sign"),
    Same(labels=("openimages/Stop sign", "gtsdb/stop"), reason="a stop sign"),
    Same(
        labels=("openimages/Building", _V + "construction--structure--building"),
        reason="building",
    ),
    IsA(child=_V + "human--person", parent="openimages/Person", reason="a person"),
    IsA(
        child="rider",
        parent="openimages/Person",
        reason="Open Images boxes riders as persons",
    ),
)
"""Rules relating the demo's Open Images classes to the IV2018 taxonomy."""

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


# -- the universe of the scenes ------------------------------------------------


class _World:
    """The IV2018 taxonomy, the leaves of the scene elements, and their looks."""

    def __init__(self) -> None:
        spaces, rules = collection("iv2018")
        self.taxonomy, self.maps = unify(spaces, rules)
        taxonomy = self.taxonomy
        vistas = self.maps["vistas-v1.2"]
        self.spaces = {space.name: space for space in spaces}
        by_name = {label.name: label.id for label in self.spaces["vistas-v1.2"].labels}
        leaf = {kind: vistas.nodes[by_name[label]] for kind, label in _KINDS.items()}
        front = vistas.nodes[by_name[_FRONT]]
        if front is None:
            raise AssertionError(f"IV2018 maps {_FRONT!r} to a node")
        (other,) = (
            n for n in taxonomy.leaves_of(front) if taxonomy.kind(n) == "remainder"
        )
        leaf["sign front"] = other
        gtsdb = self.maps["gtsdb"]
        for label in self.spaces["gtsdb"].labels:
            leaf[f"gtsdb {label.id}"] = gtsdb.nodes[label.id]
        index = {name: i for i, name in enumerate(taxonomy.leaves)}
        self.leaf = {kind: index[str(name)] for kind, name in leaf.items()}
        self.categories = {
            label.id: label.category or "other" for label in self.spaces["gtsdb"].labels
        }
        self._looks(len(taxonomy.leaves))

    def _looks(self, count: int) -> None:
        """A colour and a texture per leaf; glyphs per GTSDB class (fixed)."""
        self.colour = np.full((count, 3), 128.0)
        for kind, rgb in _COLOURS.items():
            self.colour[self.leaf[kind]] = rgb
        looks = np.random.default_rng(20180605)  # fixed: the same looks for any seed
        self.frequency = looks.uniform(-0.35, 0.35, (count, 2))
        self.amplitude = looks.uniform(4.0, 16.0, count)
        self.glyphs = looks.random((43, 4, 4)) < 0.5

    def project(self, space: str, fallback: int | None = None) -> NDArray[np.int16]:
        """Leaf index -> the id of the label of ``space`` covering it (else fallback).

        Labels of one space cover disjoint leaves, so the label is unique.
        """
        table = np.full(len(self.taxonomy.leaves), -1, dtype=np.int16)
        index = {name: i for i, name in enumerate(self.taxonomy.leaves)}
        for label_id, node in sorted(self.maps[space].nodes.items()):
            if node is not None:
                for name in self.taxonomy.leaves_of(node):
                    table[index[name]] = label_id
        if fallback is not None:
            table[table < 0] = fallback
        return table

    def tags(self) -> dict[str, int]:
        """Open Images class -> bit set of the leaves that make it present."""
        taxonomy = self.taxonomy
        names = {kind: taxonomy.leaves[i] for kind, i in self.leaf.items()}
        return {
            tag: _bits(taxonomy, [names.get(node, node) for node in nodes])
            for tag, nodes in _TAGS.items()
        }


def _bits(taxonomy: Taxonomy, nodes: list[str]) -> int:
    bits = 0
    for node in nodes:
        bits |= taxonomy.leaf_bits(node)
    return bits


# -- scenes ---------------------------------------------------------------------


class _Canvas:
    """A scene being drawn: leaf and object per pixel, painter's order."""

    def __init__(self, shape: tuple[int, int], leaf: Mapping[str, int]) -> None:
        self.shape = shape
        self.leaf = leaf
        self.leaves = np.zeros(shape, dtype=np.uint8)
        self.objects = np.zeros(shape, dtype=np.uint16)
        rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
        self.y: NDArray[np.float64] = rows + 0.5
        self.x: NDArray[np.float64] = cols + 0.5
        self.count = 0
        self.signs: list[tuple[int, int, int, int, str, int]] = []
        self.lamps: list[tuple[float, float, float, int]] = []

    def new(self) -> int:
        self.count += 1
        return self.count

    def fill(self, mask: NDArray[np.bool_], kind: str, obj: int = 0) -> None:
        self.leaves[mask] = self.leaf[kind]
        self.objects[mask] = obj

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> NDArray[np.bool_]:
        """Pixels whose centres lie in ``[x0, x1) x [y0, y1)``."""
        return (self.x >= x0) & (self.x < x1) & (self.y >= y0) & (self.y < y1)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float) -> NDArray[np.bool_]:
        rx, ry = max(rx, 0.5), max(ry, 0.5)
        return ((self.x - cx) / rx) ** 2 + ((self.y - cy) / ry) ** 2 <= 1.0


@dataclass(frozen=True, slots=True)
class _Street:
    """The road's perspective: ``t`` is 0 at the horizon, 1 at the bottom."""

    horizon: float
    bottom: float
    centre: float
    drift: float
    width: float

    def y(self, t: float) -> float:
        return self.horizon + t * (self.bottom - self.horizon)

    def cx(self, t: Any) -> Any:
        return self.centre + self.drift * t

    def road(self, t: Any) -> Any:
        return self.width * (0.01 + 0.48 * t)

    def side(self, t: Any) -> Any:
        return self.road(t) + self.width * (0.005 + 0.2 * t)


def _draw_scene(
    rng: np.random.Generator,
    shape: tuple[int, int],
    world: _World,
    *,
    gtsdb: str,
    plain: bool,
) -> _Canvas:
    height, width = shape
    canvas = _Canvas(shape, world.leaf)
    street = _Street(
        horizon=height * rng.uniform(0.36, 0.5),
        bottom=float(height),
        centre=width * rng.uniform(0.4, 0.6),
        drift=width * rng.uniform(-0.15, 0.15),
        width=float(width),
    )
    _background(canvas, rng, street)
    _ground(canvas, rng, street)
    many_signs = gtsdb == "gtsdb"
    p_gtsdb = 0.0 if plain else (0.8 if many_signs else 0.5)
    poles = int(rng.integers(2, 6) if many_signs else rng.integers(1, 5))
    things = [_pole(canvas, rng, street, p_gtsdb) for _ in range(poles)]
    if rng.random() < 0.5:
        things.append(_trash_can(canvas, rng, street))
    for draw_thing, most in ((_vehicle, 4), (_person, 4), (_rider, 3)):
        count = int(rng.integers(0, most))
        things.extend(draw_thing(canvas, rng, street) for _ in range(count))
    for _, draw in sorted(things, key=lambda thing: thing[0]):
        draw()
    for x0, y0, x1, y1, kind, _ in canvas.signs:  # on top of everything
        canvas.fill(canvas.rect(x0, y0, x1, y1), kind, canvas.new())
    return canvas


def _background(canvas: _Canvas, rng: np.random.Generator, street: _Street) -> None:
    width = canvas.shape[1]
    horizon = street.horizon
    canvas.fill(np.ones(canvas.shape, dtype=bool), "sky")
    x = -rng.uniform(0, 10)
    while x < width:
        span = width * rng.uniform(0.08, 0.25)
        choice = rng.random()
        if choice < 0.65:
            top = horizon * rng.uniform(0.1, 0.85)
            canvas.fill(canvas.rect(x, top, x + span, horizon + 1), "building")
        elif choice < 0.9:
            crown = horizon * rng.uniform(0.25, 0.6)
            canvas.fill(
                canvas.ellipse(x + span / 2, horizon - crown * 0.7, span / 2, crown)
                | canvas.rect(x, horizon - crown * 0.5, x + span, horizon + 1),
                "vegetation",
            )
        x += span
    if rng.random() < 0.4:
        x0 = width * rng.uniform(0, 0.6)
        tall = horizon * rng.uniform(0.08, 0.2)
        span = width * rng.uniform(0.15, 0.4)
        canvas.fill(canvas.rect(x0, horizon - tall, x0 + span, horizon + 1), "fence")


def _ground(canvas: _Canvas, rng: np.random.Generator, street: _Street) -> None:
    width = canvas.shape[1]
    below = canvas.y >= street.horizon
    t = np.clip((canvas.y - street.horizon) / (street.bottom - street.horizon), 0, 1)
    away = np.abs(canvas.x - street.cx(t))
    road = below & (away < street.road(t))
    canvas.fill(below & (away >= street.side(t)), "terrain")
    canvas.fill(below & (away < street.side(t)), "sidewalk")
    canvas.fill(road, "road")
    dashes = np.sin(2 * np.pi * 1.3 / (t + 0.08)) > 0.2
    lane = road & dashes & (away < np.maximum(0.6, 0.012 * width * t)) & (t > 0.04)
    canvas.fill(lane, "lane marking")
    if rng.random() < 0.5:
        middle, half = rng.uniform(0.45, 0.8), rng.uniform(0.05, 0.1)
        band = road & (t > middle - half) & (t < middle + half)
        offset = canvas.x - street.cx(t) + street.road(t)
        stripes = np.floor(offset / np.maximum(street.road(t) * 0.16, 1.0)) % 2 == 0
        canvas.fill(band & stripes, "crosswalk")
    if rng.random() < 0.5:
        t0 = rng.uniform(0.3, 0.9)
        cx = street.cx(t0) + rng.uniform(-0.6, 0.6) * street.road(t0)
        size = width * (0.01 + 0.04 * t0)
        canvas.fill(
            canvas.ellipse(cx, street.y(t0), size, size * 0.4) & road, "manhole"
        )


def _on_sidewalk(rng: np.random.Generator, street: _Street, t: float) -> float:
    side = 1.0 if rng.random() < 0.5 else -1.0
    road, outer = street.road(t), street.side(t)
    return float(street.cx(t) + side * (road + rng.uniform(0.3, 0.8) * (outer - road)))


def _pole(
    canvas: _Canvas, rng: np.random.Generator, street: _Street, p_gtsdb: float
) -> tuple[float, Callable[[], None]]:
    height, width = canvas.shape
    t = rng.uniform(0.1, 0.75)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    tall = height * (0.18 + 0.5 * t)
    thick = max(1.0, 0.02 * width * t)
    top = max(2.0, base - tall)
    what = rng.random()
    size = max(7, round(width * (0.03 + 0.09 * t)))
    if what < 0.7:
        choice = rng.random()
        cls = int(rng.integers(0, 43))
        kind = (
            f"gtsdb {cls}"
            if choice < p_gtsdb
            else ("sign front" if choice < p_gtsdb + (1 - p_gtsdb) / 2 else "sign back")
        )
        x0, y0 = round(x - size / 2), round(top - size * 0.6)
        wide = size if kind != "sign front" else round(size * 1.3)
        fits = x0 >= 0 and y0 >= 0 and x0 + wide <= width
        clear = all(
            x0 + wide + 1 < a or b + 1 < x0 or y0 + size + 1 < c or d + 1 < y0
            for a, c, b, d, _, _ in canvas.signs
        )
        if fits and clear:
            canvas.signs.append((x0, y0, x0 + wide, y0 + size, kind, cls))
    lamp = rng.integers(0, 3)

    def draw() -> None:
        pole = canvas.new()
        canvas.fill(canvas.rect(x - thick / 2, top, x + thick / 2, base), "pole", pole)
        if 0.7 <= what < 0.9:
            side = max(3.0, size * 0.45)
            canvas.fill(
                canvas.rect(x - side / 2, top - side * 2.4, x + side / 2, top + 1),
                "traffic light",
                canvas.new(),
            )
            centre_y = top - side * 2.4 + side * (0.4 + 0.8 * lamp)
            canvas.lamps.append((x, centre_y, side * 0.3, int(lamp)))
        elif what >= 0.9:
            reach = size * 0.8 * (1 if x < street.cx(t) else -1)
            canvas.fill(
                canvas.rect(min(x, x + reach), top - 2, max(x, x + reach), top + 1)
                | canvas.ellipse(x + reach, top + 1, size * 0.3, size * 0.15),
                "street light",
                canvas.new(),
            )

    return t, draw


def _trash_can(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.2, 0.8)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    wide = canvas.shape[1] * (0.02 + 0.05 * t)

    def draw() -> None:
        shape = canvas.rect(x - wide / 2, base - wide * 1.3, x + wide / 2, base)
        canvas.fill(shape, "trash can", canvas.new())

    return t, draw


def _vehicle(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.1, 0.95)
    x = float(street.cx(t) + rng.uniform(-0.6, 0.6) * street.road(t))
    base, size = street.y(t), canvas.shape[1] * (0.04 + 0.33 * t)
    kind = str(rng.choice(["car", "car", "car", "truck", "bus"]))

    def draw() -> None:
        obj = canvas.new()
        long, tall = {"car": (1.0, 0.6), "truck": (1.1, 1.0), "bus": (1.6, 0.95)}[kind]
        half = size * long / 2
        shape = canvas.rect(x - half, base - size * 0.38, x + half, base - size * 0.08)
        if kind == "car":
            shape |= canvas.rect(
                x - half * 0.6, base - size * tall, x + half * 0.6, base - size * 0.37
            )
        else:
            shape |= canvas.rect(x - half, base - size * tall, x + half, base)
        for wheel in (x - half * 0.65, x + half * 0.65):
            shape |= canvas.ellipse(wheel, base - size * 0.1, size * 0.1, size * 0.1)
        canvas.fill(shape, kind, obj)

    return t, draw


def _person(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.15, 0.9)
    x, base = _on_sidewalk(rng, street, t), street.y(t)
    tall = canvas.shape[0] * (0.08 + 0.4 * t)

    def draw() -> None:
        wide = tall * 0.28
        shape = canvas.ellipse(x, base - tall * 0.42, wide / 2, tall * 0.42)
        shape |= canvas.ellipse(x, base - tall * 0.9, wide * 0.35, wide * 0.35)
        canvas.fill(shape, "person", canvas.new())

    return t, draw


def _rider(
    canvas: _Canvas, rng: np.random.Generator, street: _Street
) -> tuple[float, Callable[[], None]]:
    t = rng.uniform(0.2, 0.9)
    x = float(street.cx(t) + rng.choice([-1.0, 1.0]) * 0.7 * street.road(t))
    base, size = street.y(t), canvas.shape[1] * (0.04 + 0.22 * t)
    motor = rng.random() < 0.4

    def draw() -> None:
        wheel = size * 0.22
        vehicle = np.zeros(canvas.shape, dtype=bool)
        for cx in (x - size * 0.35, x + size * 0.35):
            ring = canvas.ellipse(cx, base - wheel, wheel, wheel)
            if not motor:
                ring &= ~canvas.ellipse(cx, base - wheel, wheel * 0.6, wheel * 0.6)
            vehicle |= ring
        frame = 0.45 if motor else 0.12
        vehicle |= canvas.rect(
            x - size * 0.35,
            base - wheel * (1 + frame * 2),
            x + size * 0.35,
            base - wheel,
        )
        canvas.fill(vehicle, "motorcycle" if motor else "bicycle", canvas.new())
        seat = base - wheel * 2.2
        body = canvas.ellipse(x, seat - size * 0.3, size * 0.14, size * 0.32)
        body |= canvas.ellipse(
            x + size * 0.05, seat - size * 0.72, size * 0.1, size * 0.1
        )
        canvas.fill(body, "motorcyclist" if motor else "bicyclist", canvas.new())

    return t, draw


# -- images ------------------------------------------------------------------------


def _render(
    canvas: _Canvas,
    world: _World,
    rng: np.random.Generator,
    domain: tuple[tuple[float, ...], tuple[float, ...], float],
) -> NDArray[np.uint8]:
    height = canvas.shape[0]
    leaves = canvas.leaves
    image = world.colour[leaves].copy()
    phase = (
        canvas.x * world.frequency[leaves, 0] + canvas.y * world.frequency[leaves, 1]
    )
    image += (world.amplitude[leaves] * np.sin(2 * np.pi * phase))[..., None]
    tint = rng.normal(0.0, 12.0, (canvas.count + 1, 3))
    tint[0] = 0.0
    image += tint[canvas.objects]
    sky = leaves == world.leaf["sky"]
    image[sky] += (canvas.y[sky] / height * 50.0)[:, None]
    for x0, y0, x1, y1, kind, cls in canvas.signs:
        _sign(image, world, rng, (x0, y0, x1, y1), kind, cls)
    lights = np.array([(230, 30, 20), (240, 190, 20), (30, 220, 80)], dtype=float)
    for x, y, radius, lamp in canvas.lamps:
        glow = canvas.ellipse(x, y, radius, radius) & (
            leaves == world.leaf["traffic light"]
        )
        image[glow] = lights[lamp]
    gain, offset, noise = domain
    image = image * np.asarray(gain) + np.asarray(offset)
    image += rng.normal(0.0, noise, image.shape)
    pixels: NDArray[np.uint8] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return pixels


def _sign(
    image: NDArray[np.float64],
    world: _World,
    rng: np.random.Generator,
    box: tuple[int, int, int, int],
    kind: str,
    cls: int,
) -> None:
    x0, y0, x1, y1 = box
    rows, cols = y1 - y0, x1 - x0
    v, u = np.mgrid[0:rows, 0:cols]
    u, v = (u + 0.5) / cols, (v + 0.5) / rows
    if kind == "sign back":
        plate = np.where(np.abs(u - 0.5) < 0.12, 110.0, 155.0)
        image[y0:y1, x0:x1] = plate[..., None]
        return
    if kind == "sign front":
        colours = (_COLOURS["sign front"], _COLOURS["sign front"], (240, 240, 240))
        glyph = rng.random((4, 4)) < 0.5
    else:
        colours = _SIGN_PLATES[world.categories[cls]]
        glyph = world.glyphs[cls]
    plate, border, ink = (np.asarray(c, dtype=float) for c in colours)
    patch = np.broadcast_to(plate, (rows, cols, 3)).copy()
    edge = np.minimum(np.minimum(u, 1 - u), np.minimum(v, 1 - v)) < 0.18
    patch[edge] = border
    inner = (u >= 0.2) & (u < 0.8) & (v >= 0.2) & (v < 0.8)
    cell_u = np.clip(((u - 0.2) / 0.6 * 4).astype(int), 0, 3)
    cell_v = np.clip(((v - 0.2) / 0.6 * 4).astype(int), 0, 3)
    patch[inner & glyph[cell_v, cell_u]] = ink
    image[y0:y1, x0:x1] = patch


# -- writers ---------------------------------------------------------------------------

_Scenes = list[tuple[int, str, _Canvas, NDArray[np.uint8], np.random.Generator]]


def _save_truth(
    demo: Demo,
    dataset: str,
    key: str,
    canvas: _Canvas,
    unlabeled: NDArray[np.bool_] | None = None,
) -> None:
    """Write the ``.npz`` with fixed zip timestamps, so the bytes are reproducible."""
    path = demo.ground_truth / dataset / f"{key}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    if unlabeled is None:
        unlabeled = np.zeros(canvas.shape, dtype=bool)
    arrays = {
        "leaves": canvas.leaves,
        "objects": canvas.objects,
        "unlabeled": unlabeled,
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _save(path: Path, array: NDArray[Any], **options: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)


def _borders(canvas: _Canvas, rng: np.random.Generator) -> NDArray[np.bool_]:
    """About half of the pixels where an object meets something else."""
    leaves, objects = canvas.leaves, canvas.objects
    edge = np.zeros(canvas.shape, dtype=bool)
    for axis in (0, 1):
        differs = np.diff(leaves, axis=axis) != 0
        thing = (np.diff(objects, axis=axis) != 0) & differs
        lower = [slice(None), slice(None)]
        upper = [slice(None), slice(None)]
        lower[axis], upper[axis] = slice(None, -1), slice(1, None)
        edge[tuple(lower)] |= thing & (objects[tuple(lower)] > 0)
        edge[tuple(upper)] |= thing & (objects[tuple(upper)] > 0)
    return edge & (rng.random(canvas.shape) < 0.5)


def _write_cityscapes(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = world.spaces["cityscapes"]
    table = world.project("cityscapes", fallback=space.by_name("static").id)
    root = demo.datasets[name]
    city = "night" if name == "heldout" else "synth"
    for index, split, canvas, image, rng in scenes:
        base = f"{city}_{index:06d}_000019"
        folder = f"{split}/{city}"
        unlabeled = _borders(canvas, rng)
        ids = np.where(unlabeled, 0, table[canvas.leaves]).astype(np.uint8)
        _save(root / "leftImg8bit" / folder / f"{base}_leftImg8bit.png", image)
        _save(root / "gtFine" / folder / f"{base}_gtFine_labelIds.png", ids)
        _save_truth(demo, name, f"{folder}/{base}", canvas, unlabeled)


def _write_vistas(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = world.spaces["vistas-v1.2"]
    table = world.project("vistas-v1.2")
    if (table < 0).any():
        raise AssertionError("every IV2018 leaf should be under a Vistas label")
    root = demo.datasets[name]
    labels = sorted([*space.labels], key=lambda label: label.id)
    config: list[dict[str, Any]] = [
        {
            "name": label.name,
            "readable": label.synonyms[0] if label.synonyms else label.name,
            "color": list(label.color or (0, 0, 0)),
            "instances": label.category in ("human", "object--vehicle"),
            "evaluate": True,
        }
        for label in labels
    ]
    config.append(
        {
            "name": "void--unlabeled",
            "readable": "Unlabeled",
            "color": [0, 0, 0],
            "instances": False,
            "evaluate": False,
        }
    )
    root.mkdir(parents=True)
    (root / "config_v1.2.json").write_text(
        json.dumps({"labels": config}, indent=1) + "\n", encoding="utf-8"
    )
    palette = [c for entry in config for c in entry["color"]]
    for index, split, canvas, image, _ in scenes:
        stem = f"synth{index:05d}"
        _save(root / split / "images" / f"{stem}.jpg", image, quality=90)
        labels_png = Image.fromarray(table[canvas.leaves].astype(np.uint8))
        labels_png.putpalette(palette)  # mode L -> P, the values stay the ids
        path = root / split / "v1.2" / "labels" / f"{stem}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        labels_png.save(path)
        _save_truth(demo, name, f"{split}/{stem}", canvas)


def _write_gtsdb(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = builtin_label_space("gtsdb")
    root = demo.datasets[name]
    samples = []
    for index, split, canvas, image, _ in scenes:
        key = f"{split}/{index:05d}"
        path = root / f"{key}.ppm"
        _save(path, image, format="PPM")
        boxes = []
        for obj in range(1, canvas.count + 1):
            pixels = canvas.objects == obj
            leaf = int(canvas.leaves[pixels][0]) if pixels.any() else -1
            label = _gtsdb_label(world, leaf)
            if label is None:
                continue
            rows, cols = np.nonzero(pixels)
            xyxy = (
                float(cols.min()),
                float(rows.min()),
                float(cols.max() + 1),
                float(rows.max() + 1),
            )
            boxes.append(Box(xyxy, label=label))
        samples.append(Sample(key, path, canvas.shape, tuple(boxes), space.name, split))
        _save_truth(demo, name, key, canvas)
    write_gtsdb(Dataset(space, tuple(samples)), root)


def _gtsdb_label(world: _World, leaf: int) -> int | None:
    for cls in range(43):
        if world.leaf[f"gtsdb {cls}"] == leaf:
            return cls
    return None


def _write_openimages(
    demo: Demo, name: str, scenes: _Scenes, world: _World, seed: int
) -> None:
    space = builtin_label_space("openimages")
    mids = {label.name: label.code for label in space.labels}
    tags = world.tags()
    root = demo.datasets[name]
    rows: dict[str, list[str]] = {}
    for index, split, canvas, image, rng in scenes:
        digest = hashlib.sha256(f"unitax-demo/{seed}/{index}".encode()).hexdigest()
        image_id = digest[:16]
        _save(root / "images" / split / f"{image_id}.jpg", image, quality=90)
        present = 0
        for leaf in np.unique(canvas.leaves):
            present |= 1 << int(leaf)
        verified = rng.random(len(tags)) < 0.7
        if not verified.any():
            verified[0] = True
        lines = rows.setdefault(split, [])
        for (tag, bits), check in zip(tags.items(), verified, strict=True):
            if check:
                confidence = 1 if present & bits else 0
                lines.append(f"{image_id},verification,{mids[tag]},{confidence}")
        _save_truth(demo, name, image_id, canvas)
    folder = root / "annotations"
    folder.mkdir(parents=True)
    for split, lines in rows.items():
        prefix = "oidv6-" if split == "train" else ""
        path = folder / f"{prefix}{split}-annotations-human-imagelabels.csv"
        body = "".join(f"{line}\n" for line in lines)
        path.write_text(
            f"ImageID,Source,LabelName,Confidence\n{body}", encoding="utf-8"
        )


def _write_config(demo: Demo) -> None:
    dense = {"overlap": "specific", "outside": "ignore"}
    datasets: list[dict[str, Any]] = [
        {
            "name": "cityscapes",
            "format": "cityscapes",
            "root": "cityscapes",
            "options": {"source": "labelIds"},
            "policy": dict(dense),
        },
        {
            "name": "vistas",
            "format": "vistas",
            "root": "vistas",
            "options": {"version": "v1.2"},
            "policy": dict(dense),
        },
        {
            "name": "gtsdb",
            "format": "gtsdb",
            "root": "gtsdb",
            "options": {},
            "policy": {"boxes": "fill", "overlap": "specific", "outside": "complement"},
        },
        {
            "name": "openimages",
            "format": "open_images",
            "root": "openimages",
            "options": {},
            "policy": {},
        },
        {
            "name": "heldout",
            "format": "cityscapes",
            "root": "heldout",
            "options": {"source": "labelIds"},
            "policy": dict(dense),
        },
    ]
    write_rules(
        _OPEN_IMAGES_RULES,
        demo.root / "openimages_rules.yaml",
        description="How the demo's Open Images tags relate to the IV2018 nodes.",
    )
    config = {
        "schema_version": 1,
        "rules": ["iv2018", "openimages_rules.yaml"],
        "label_spaces": ["openimages"],
        "datasets": datasets,
    }
    header = (
        "# unitax demo: Cityscapes + Vistas v1.2 + GTSDB under the IV2018 rules, plus\n"
        "# Open Images image-level tags. 'heldout' is another domain: evaluate on it,\n"
        "# do not train on it. Roots are relative to this file.\n"
    )
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=None)
    demo.config.write_text(header + text, encoding="utf-8")
