"""Import taxonomies published in other shapes, as rules.

Each importer turns a file into `unitax.rules` (and Open Images' hierarchy
into a `LabelSpace`); `unitax.unify` then builds the taxonomy and the label
maps. There is no second taxonomy builder.

=============================== ============================================
function                        reads
=============================== ============================================
`read_master_table`             an MSeg-style master table (TSV)
`master_table_order`            that table's universal names, in row order
`read_set_mapping`              Bevandić-style set-valued mappings (JSON)
`read_reduction_table`          a ``source,target`` CSV (Cityscapes 34 -> 19)
`read_openimages_hierarchy`     Open Images' ``bbox_labels_600_hierarchy.json``
=============================== ============================================

Every rule remembers its file and line, and `unify`'s errors quote them.
Text files are UTF-8 (a byte-order mark is allowed).
"""

from unitax.imports._openimages import read_openimages_hierarchy
from unitax.imports._sets import read_set_mapping
from unitax.imports._tables import (
    master_table_order,
    read_master_table,
    read_reduction_table,
)

__all__ = [
    "master_table_order",
    "read_master_table",
    "read_openimages_hierarchy",
    "read_reduction_table",
    "read_set_mapping",
]
