"""Readers (and writers) of annotation formats: one module per format.

Each ``read_<format>(root, *, errors="strict", ...)`` turns a dataset on disk
into a `unitax.annotations.Dataset`: its label space and its samples, in the
annotation types of `unitax.annotations`, with every annotation it read
accounted for. ``READERS`` and ``WRITERS`` map format names to functions;
they are read-only dict literals, not a plugin registry (export
configurations name these keys).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from unitax.annotations import Dataset
from unitax.formats.ade20k import read_ade20k
from unitax.formats.bdd100k import read_bdd100k
from unitax.formats.cityscapes import read_cityscapes
from unitax.formats.coco import read_coco, write_coco
from unitax.formats.coco_panoptic import read_coco_panoptic
from unitax.formats.gtsdb import read_gtsdb, write_gtsdb
from unitax.formats.idd import read_idd
from unitax.formats.labelme import read_labelme
from unitax.formats.open_images import read_open_images
from unitax.formats.summary import summarize_dataset
from unitax.formats.vistas import read_vistas
from unitax.formats.voc import read_voc
from unitax.formats.yolo import read_yolo, write_yolo

__all__ = [
    "READERS",
    "WRITERS",
    "read_ade20k",
    "read_bdd100k",
    "read_cityscapes",
    "read_coco",
    "read_coco_panoptic",
    "read_gtsdb",
    "read_idd",
    "read_labelme",
    "read_open_images",
    "read_vistas",
    "read_voc",
    "read_yolo",
    "summarize_dataset",
    "write_coco",
    "write_gtsdb",
    "write_yolo",
]

READERS: MappingProxyType[str, Callable[..., Dataset]] = MappingProxyType(
    {
        "ade20k": read_ade20k,
        "bdd100k": read_bdd100k,
        "cityscapes": read_cityscapes,
        "coco": read_coco,
        "coco_panoptic": read_coco_panoptic,
        "gtsdb": read_gtsdb,
        "idd": read_idd,
        "labelme": read_labelme,
        "open_images": read_open_images,
        "vistas": read_vistas,
        "voc": read_voc,
        "yolo": read_yolo,
    }
)
"""Format name -> reader. Read-only."""

WRITERS: MappingProxyType[str, Callable[..., Path]] = MappingProxyType(
    {"coco": write_coco, "gtsdb": write_gtsdb, "yolo": write_yolo}
)
"""Format name -> writer, for formats trainers consume. Read-only."""
