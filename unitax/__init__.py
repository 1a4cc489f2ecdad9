"""unitax: one universal taxonomy for many segmentation datasets.

Use it as ``import unitax as ux``. The top level holds the core types and
verbs; the rest is reachable by module: `unitax.rules` (rule types),
`unitax.annotations`, `unitax.formats` (readers), `unitax.conflicts`,
`unitax.suggest`, `unitax.imports` (taxonomy tables), `unitax.builtin`,
`unitax.config` (export configurations), `unitax.errors`.
"""

from unitax import annotations as annotations
from unitax import conflicts as conflicts
from unitax import formats as formats
from unitax import imports as imports
from unitax import rules as rules
from unitax import suggest as suggest
from unitax.annotations import RLE, Box, Dataset, Mask, Polygon, Sample, Tag
from unitax.builtin import builtin_label_space, builtin_rules
from unitax.conflicts import find_conflicts
from unitax.errors import UnitaxError
from unitax.export import export
from unitax.labels import Label, LabelSpace, read_label_space
from unitax.rasterize import rasterize
from unitax.rules import read_rules
from unitax.taxonomy import LabelMap, Taxonomy
from unitax.unify import unify

__version__ = "0.1.0"

__all__ = [
    "RLE",
    "Box",
    "Dataset",
    "Label",
    "LabelMap",
    "LabelSpace",
    "Mask",
    "Polygon",
    "Sample",
    "Tag",
    "Taxonomy",
    "UnitaxError",
    "builtin_label_space",
    "builtin_rules",
    "export",
    "find_conflicts",
    "rasterize",
    "read_label_space",
    "read_rules",
    "unify",
]
