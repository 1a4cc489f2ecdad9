"""unitax: one universal taxonomy for many segmentation datasets.

Use it as ``import unitax as ux``. The top level holds the core types and
verbs; the rest is reachable by module: `unitax.rules` (rule types),
`unitax.imports` (taxonomy tables), `unitax.conflicts`, `unitax.builtin`,
`unitax.errors`.
"""

from unitax import conflicts, imports, rules
from unitax.builtin import builtin_label_space, builtin_rules
from unitax.conflicts import coverage, find_conflicts
from unitax.errors import UnitaxError
from unitax.labels import Label, LabelSpace, read_label_space
from unitax.rules import read_rules
from unitax.taxonomy import LabelMap, Taxonomy
from unitax.unify import unify

__version__ = "0.1.0"

__all__ = [
    "Label",
    "LabelMap",
    "LabelSpace",
    "Taxonomy",
    "UnitaxError",
    "builtin_label_space",
    "builtin_rules",
    "conflicts",
    "coverage",
    "find_conflicts",
    "imports",
    "read_label_space",
    "read_rules",
    "rules",
    "unify",
]
