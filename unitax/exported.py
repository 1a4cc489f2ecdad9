"""Read a finished export back: its tables, and targets as set indices."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from unitax.errors import ExportError
from unitax.taxonomy import Taxonomy

if TYPE_CHECKING:  # imported where used: pandas costs ~80 MiB, not needed to read
    import pandas as pd

__all__ = ["Export", "read_export", "read_target"]


@dataclass(frozen=True, slots=True)
class Export:
    """What `read_export` returns: an export's tables, loaded.

    ``manifest`` has one row per sample; ``sets`` one row per set (nodes
    first, in taxonomy order); ``membership[i]`` marks the leaves of set
    ``i``.
    """

    root: Path
    taxonomy: Taxonomy
    manifest: pd.DataFrame
    sets: pd.DataFrame
    membership: NDArray[np.bool_]
    report: dict[str, Any]


def read_export(path: str | os.PathLike[str]) -> Export:
    """Load an export's taxonomy, manifest, set table and report.

    Raises
    ------
    ExportError
        If ``path`` holds no finished export (no manifest).
    """
    import pyarrow.parquet as pq

    root = Path(path)
    if not (root / "manifest.parquet").is_file():
        raise ExportError(
            f"{root}: expected a finished unitax export (manifest.parquet)"
        )
    taxonomy = Taxonomy.from_json((root / "taxonomy.json").read_text(encoding="utf-8"))
    return Export(
        root=root,
        taxonomy=taxonomy,
        manifest=pq.read_table(root / "manifest.parquet").to_pandas(),
        sets=pq.read_table(root / "sets.parquet").to_pandas(),
        membership=np.load(root / "membership.npy"),
        report=json.loads((root / "report.json").read_text(encoding="utf-8")),
    )


def read_target(exported: Export, row: int) -> NDArray[np.unsignedinteger[Any]]:
    """Read the target of manifest row ``row`` as set-table indices.

    Values index ``exported.sets`` and ``exported.membership``; ignore stays
    the dtype's maximum.
    """
    record = exported.manifest.iloc[row]
    with Image.open(exported.root / record["target"]) as image:
        array = np.asarray(image)
    array = array.astype(np.uint16) if array.dtype != np.uint8 else array
    extra = list(record["extra_sets"])
    if not extra:
        return array
    nodes = len(exported.taxonomy)
    ignore = int(np.iinfo(array.dtype).max)
    needed = nodes + len(extra)
    dtype = (
        np.uint8
        if max(needed, max(extra) + 1) < 255 and array.dtype == np.uint8
        else np.uint16
    )
    table = np.arange(ignore + 1, dtype=np.int64)
    table[nodes : nodes + len(extra)] = extra
    table[ignore] = np.iinfo(dtype).max
    result: NDArray[np.unsignedinteger[Any]] = table[array].astype(dtype)
    return result
