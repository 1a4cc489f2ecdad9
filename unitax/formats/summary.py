"""A dataset at a glance: annotation counts per label and kind, as a DataFrame.

Meant for notebooks: ``summarize_dataset(ux.formats.coco.read_coco(path))``
shows one row per label of the space (all of them, in space order, zeros
included), then a row per void id that annotations use, one for dense masks
without segments (their labels are only known after decoding), and a
``(total)`` row.

Counting: boxes, polygons, RLEs and tags count once each; a mask with
``segments`` (panoptic, LabelMe and Open Images masks) counts once per
segment under the segment's label, so a label row counts instances. The
``(total)`` row counts annotations (each mask once). ``samples`` is the
number of samples with at least one annotation of that label (or, in the
total row, with any annotation). ``attrs`` holds ``read`` and ``skipped``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from unitax.annotations import RLE, Annotation, Box, Dataset, Mask, Polygon, Tag

if TYPE_CHECKING:  # imported where used: pandas costs ~80 MiB, not needed to read
    import pandas as pd

__all__ = ["KINDS", "summarize_dataset"]

KINDS = ("box", "polygon", "rle", "mask", "tag", "negative_tag")
"""The count columns, one per annotation kind (negative tags apart)."""

_DENSE = "(dense masks)"
_TOTAL = "(total)"


def summarize_dataset(dataset: Dataset) -> pd.DataFrame:
    """Count a dataset's annotations per label and per annotation kind.

    Parameters
    ----------
    dataset
        What a reader returned.

    Returns
    -------
    pandas.DataFrame
        Columns ``label`` (nullable int), ``name``, one count column per kind
        in `KINDS`, ``total`` and ``samples``; rows as described in the module
        docstring. ``attrs["read"]`` and ``attrs["skipped"]`` are the
        dataset's accounting.

    Examples
    --------
    >>> space = ux.LabelSpace.from_names("toy", ["cat", "dog"])
    >>> Box, Tag = ux.annotations.Box, ux.annotations.Tag
    >>> sample = ux.annotations.Sample(
    ...     "a", "a.jpg", (4, 4), [Box((0, 0, 2, 2), 0), Tag(1, positive=False)], "toy")
    >>> table = summarize_dataset(ux.annotations.Dataset(space, [sample]))
    >>> table[["name", "box", "negative_tag", "total", "samples"]]
          name  box  negative_tag  total  samples
    0      cat    1             0      1        1
    1      dog    0             1      1        1
    2  (total)    1             1      2        1
    """
    import pandas as pd

    per_label: Counter[tuple[int, str]] = Counter()
    totals: Counter[str] = Counter()
    samples_of: Counter[int] = Counter()
    dense = Counter[str]()
    annotated = 0
    for sample in dataset.samples:
        labels_here: set[int] = set()
        for annotation in sample.annotations:
            kind = _kind(annotation)
            totals[kind] += 1
            if isinstance(annotation, Mask):
                if annotation.segments is None:
                    dense[kind] += 1
                    continue
                for label in annotation.segments.values():
                    per_label[label, kind] += 1
                    labels_here.add(label)
                continue
            label = int(annotation.label)
            per_label[label, kind] += 1
            labels_here.add(label)
        samples_of.update(labels_here)
        annotated += bool(sample.annotations)
    space = dataset.label_space
    rows = [(label.id, label.name) for label in space.labels]
    used = {label for label, _ in per_label}
    rows += [(v, f"(void {v})") for v in sorted(space.void & used)]
    rows += [(v, f"(unknown {v})") for v in sorted(used - set(space.ids) - space.void)]
    records = [
        {"label": label_id, "name": name}
        | {kind: per_label[label_id, kind] for kind in KINDS}
        | {"samples": samples_of[label_id]}
        for label_id, name in rows
    ]
    if dense:
        records.append({"label": None, "name": _DENSE, **dense, "samples": 0})
    records.append({"label": None, "name": _TOTAL, **totals, "samples": annotated})
    table = pd.DataFrame.from_records(
        records, columns=["label", "name", *KINDS, "samples"]
    )
    table[list(KINDS)] = table[list(KINDS)].fillna(0).astype("int64")
    table.insert(len(table.columns) - 1, "total", table[list(KINDS)].sum(axis=1))
    table["label"] = table["label"].astype("Int64")
    table.attrs["read"] = dataset.read
    table.attrs["skipped"] = sum(skip.count for skip in dataset.skipped)
    return table


def _kind(annotation: Annotation) -> str:
    if isinstance(annotation, Box):
        return "box"
    if isinstance(annotation, Polygon):
        return "polygon"
    if isinstance(annotation, RLE):
        return "rle"
    if isinstance(annotation, Mask):
        return "mask"
    if isinstance(annotation, Tag):
        return "tag" if annotation.positive else "negative_tag"
    raise TypeError(
        "annotation must be one of Box, Polygon, RLE, Mask, Tag, "
        f"got {type(annotation).__name__}"
    )
