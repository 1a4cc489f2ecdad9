"""The universe of the demo's scenes: the IV2018 leaves of the street elements.

`_World` unifies the built-in IV2018 collection once and knows, for every kind
of scene element and every GTSDB sign class, its leaf, its looks (a colour, a
texture, a glyph per sign class), the label of each dataset's space that
covers it, and the Open Images tags it makes present. Private to
`unitax.demo`, which documents the scenes and what each dataset says.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from unitax.builtin import collection
from unitax.taxonomy import Taxonomy
from unitax.unify import unify

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
