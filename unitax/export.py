"""Export unified datasets: the folder any trainer reads.

Layout of an export ``dest/``::

    taxonomy.json              the taxonomy (schemas/taxonomy.schema.json)
    sets.parquet               the set table: index, kind, nodes, weights
    membership.npy             bool (sets, leaves): which leaves each set holds
    manifest.parquet           one row per sample (written last: its presence
                               means the export is complete)
    report.json                every input annotation: exported, or skipped
                               with its reason
    targets/<dataset>/<key>.png    uint8/uint16 targets
    flat/<dataset>/<key>.png   (optional) leaf ids, 255 elsewhere, and
    flat/classes.txt           the leaf names: for mmseg/detectron2 trainers
    .unitax/                   fingerprint and per-sample records (resume)

Target values: ``v < len(taxonomy)`` is node ``v`` (= set ``v``); a larger
``v`` is the sample's extra set ``row.extra_sets[v - len(taxonomy)]``, an
index into the set table; the maximum of the dtype is ignore.
`read_target` applies this, giving set indices directly.

Guarantees
----------
* **Deterministic**: the same inputs give byte-identical files whatever the
  engine or worker count (PNG settings are fixed; rows are sorted; the set
  table is ordered canonically).
* **Atomic and resumable**: each file is written under a temporary name and
  renamed; a sample counts as done only once its record is written after its
  PNG. A re-run skips finished samples (same inputs, same PNG hash), redoes
  the rest, and ends byte-identical to an uninterrupted run. The manifest is
  written last.
* **Safe**: a folder holding a different export is refused; output paths
  never leave ``dest``; I/O errors (disk full, read-only) stop the export
  with `ExportError`, leaving no partial file under a final name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from unitax._export_work import (
    DASK_CONFIG,
    KEY,
    Job,
    State,
    input_hash,
    record_path,
    run,
    safe_key,
    write,
)
from unitax.annotations import Dataset
from unitax.errors import ExportError
from unitax.exported import Export, read_export, read_target
from unitax.rasterize import Policy
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = ["DASK_CONFIG", "Export", "Policy", "export", "read_export", "read_target"]

Engine = Literal["sequential", "process", "dask"]
Progress = Callable[[int, int], None]

PNG = {"compress_level": 1, "compress_type": 3}  # zlib level 1, Z_RLE strategy


def export(
    datasets: Mapping[str, Dataset],
    label_maps: Mapping[str, LabelMap],
    taxonomy: Taxonomy,
    dest: str | os.PathLike[str],
    *,
    policies: Mapping[str, Policy] | None = None,
    engine: Engine = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    flat: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write a unified dataset into ``dest`` and return the manifest's path.

    Parameters
    ----------
    datasets
        ``{name: Dataset}``; names become folders under ``targets/``.
    label_maps
        ``{label space name: LabelMap}`` from `unitax.unify`.
    taxonomy
        The taxonomy of the label maps.
    dest
        The export folder: new, empty, or an unfinished or finished export of
        the same inputs (which is then resumed or left as it is).
    policies
        ``{dataset name: Policy}``; datasets not named use ``Policy()``.
    engine
        ``"process"`` (a process pool, the default), ``"sequential"`` or
        ``"dask"`` (``dask.distributed``: ``scheduler`` address, or a
        ``LocalCluster`` when none is given).
    workers
        Processes (or Dask workers) to use; default: all cores.
    scheduler
        A Dask scheduler address, for ``engine="dask"``. Start that cluster
        with ``unitax.export.DASK_CONFIG`` set (``dask.config.set``), as the
        ``LocalCluster`` started when none is given is: Dask's defaults
        hold queued chunks back (each worker waits a round trip per chunk)
        and make glibc map every image-sized array afresh in spawned workers
        (``MALLOC_TRIM_THRESHOLD_``); each costs 10-40 % here.
    flat
        Also write the flat layout (leaf ids, 255 elsewhere).
    progress
        Called as ``progress(done, total)`` after each finished sample.

    Returns
    -------
    pathlib.Path
        ``dest / "manifest.parquet"``.

    Raises
    ------
    ExportError
        If ``dest`` holds something else, or writing fails (disk full,
        read-only); what was finished stays resumable.
    FormatError
        For a bad annotation of a dataset whose policy is ``"strict"``.

    Examples
    --------
    >>> import tempfile
    >>> space = ux.LabelSpace.from_names("toy", ["road", "car"], void=[255])
    >>> taxonomy, maps = ux.unify([space])
    >>> sample = ux.annotations.Sample(
    ...     key="a", image="a.jpg", shape=(2, 2), source="toy",
    ...     annotations=(ux.annotations.Mask(np.array([[0, 1], [1, 255]])),))
    >>> dest = Path(tempfile.mkdtemp()) / "out"
    >>> datasets = {"toy": ux.annotations.Dataset(space, (sample,))}
    >>> export(datasets, maps, taxonomy, dest, engine="sequential").name
    'manifest.parquet'
    >>> read_target(read_export(dest), 0)
    array([[  1,   0],
           [  0, 255]], dtype=uint8)
    """
    if engine not in get_args(Engine):
        raise ValueError(f"engine must be one of {get_args(Engine)}, got {engine!r}")
    dest = Path(dest)
    policies = dict(policies or {})
    unknown = sorted(set(policies) - set(datasets))
    if unknown:
        raise ValueError(
            f"policies name unknown datasets {unknown}; have {sorted(datasets)}"
        )
    jobs = _jobs(datasets, label_maps)
    state = State(dest, taxonomy, dict(label_maps), policies, flat)
    _claim(dest, state.fingerprint(datasets))
    done, todo = _resume(state, jobs)
    total = len(jobs)
    if progress is not None:
        progress(len(done), total)
    for rows in run(state, todo, engine=engine, workers=workers, scheduler=scheduler):
        for row in rows:
            done[row["dataset"], row["key"]] = row
        if progress is not None:
            progress(len(done), total)
    ordered = [done[job.dataset, job.sample.key] for job in jobs]
    return _finish(state, datasets, ordered)


# -- planning ---------------------------------------------------------------------


def _jobs(
    datasets: Mapping[str, Dataset], label_maps: Mapping[str, LabelMap]
) -> list[Job]:
    jobs = []
    for name in sorted(datasets):
        if not KEY.match(name) or "/" in name:
            raise ValueError(f"dataset names must be plain folder names, got {name!r}")
        seen: set[str] = set()
        for sample in datasets[name].samples:
            if sample.source not in label_maps:
                raise ValueError(
                    f"dataset {name!r}: sample {sample.key!r} uses label space "
                    f"{sample.source!r}, which no label map covers"
                )
            if sample.key in seen:
                raise ValueError(f"dataset {name!r}: sample key {sample.key!r} repeats")
            seen.add(sample.key)
            jobs.append(Job(name, sample, f"targets/{name}/{safe_key(sample.key)}.png"))
    return jobs


def _claim(dest: Path, fingerprint: str) -> None:
    """Make ``dest`` ours: new, empty, or an export with the same fingerprint."""
    marker = dest / ".unitax" / "export.json"
    if dest.exists() and any(dest.iterdir()) and not _interrupted_claim(dest):
        if not marker.is_file():
            raise ExportError(
                f"{dest}: expected a new or empty folder, or a unitax export to "
                "resume; it holds other files"
            )
        stored = json.loads(marker.read_text()).get("fingerprint")
        if stored != fingerprint:
            raise ExportError(
                f"{dest}: holds a different export (other taxonomy, rules, datasets "
                "or policies); choose another folder or remove it"
            )
        return
    write(marker, json.dumps({"fingerprint": fingerprint}, indent=1).encode())


def _interrupted_claim(dest: Path) -> bool:
    """Whether ``dest`` holds only what a claim killed before its rename leaves.

    That is ``.unitax/`` holding nothing, or only the marker's temporary file:
    the folder is then as good as empty.
    """
    entries = list(dest.iterdir())
    if [entry.name for entry in entries] != [".unitax"] or not entries[0].is_dir():
        return False
    return all(path.name == "export.json.tmp-unitax" for path in entries[0].iterdir())


def _resume(
    state: State, jobs: Sequence[Job]
) -> tuple[dict[tuple[str, str], Any], list[Job]]:
    """Split jobs into finished (a valid record, same inputs, PNG intact) and not."""
    done: dict[tuple[str, str], Any] = {}
    todo = []
    for tmp in (state.dest).rglob("*.tmp-unitax"):
        tmp.unlink(missing_ok=True)  # left by an interrupted run
    for job in jobs:
        record = record_path(state, job)
        try:
            row = json.loads(record.read_text())
            png = (state.dest / row["target"]).read_bytes()
        except (OSError, ValueError, KeyError):
            todo.append(job)
            continue
        valid = row.get("input") == input_hash(job.sample) and hashlib.sha256(
            png
        ).hexdigest() == row.get("sha256")
        if valid:
            done[job.dataset, job.sample.key] = row
        else:
            todo.append(job)
    return done, todo


# -- finishing ---------------------------------------------------------------------


def _finish(
    state: State, datasets: Mapping[str, Dataset], rows: list[dict[str, Any]]
) -> Path:
    taxonomy = state.taxonomy
    nodes = len(taxonomy)
    extras: dict[tuple[Any, ...], int] = {}
    for row in rows:
        for names, weights in row["extra"]:
            extras.setdefault(
                (tuple(names), None if weights is None else tuple(weights)), 0
            )
    ordered = sorted(extras, key=lambda key: (key[1] is not None, key))
    for position, key in enumerate(ordered):
        extras[key] = nodes + position
    leaf_index = {leaf: i for i, leaf in enumerate(taxonomy.leaves)}
    membership = np.zeros((nodes + len(ordered), len(taxonomy.leaves)), dtype=bool)
    membership[:nodes] = taxonomy.leaf_matrix()
    set_rows = [
        {"index": i, "kind": "node", "nodes": [name], "weights": None}
        for i, name in enumerate(taxonomy.names)
    ]
    for (names, weights), index in ((key, extras[key]) for key in ordered):
        for name in names:
            for leaf in taxonomy.leaves_of(name):
                membership[index, leaf_index[leaf]] = True
        kind = "set" if weights is None else "mixture"
        set_rows.append(
            {
                "index": index,
                "kind": kind,
                "nodes": list(names),
                "weights": None if weights is None else list(weights),
            }
        )
    manifest = []
    for row in rows:
        sets = [
            extras[(tuple(n), None if w is None else tuple(w))] for n, w in row["extra"]
        ]
        fields = {key: row[key] for key in _MANIFEST if key in row}
        manifest.append({**fields, "extra_sets": sets, "skipped": len(row["skipped"])})
    dest = state.dest
    write(dest / "taxonomy.json", taxonomy.to_json().encode())
    write(dest / "sets.parquet", _parquet(set_rows))
    buffer = io.BytesIO()
    np.save(buffer, membership)
    write(dest / "membership.npy", buffer.getvalue())
    if state.flat:
        write(
            dest / "flat" / "classes.txt", ("\n".join(taxonomy.leaves) + "\n").encode()
        )
    write(dest / "report.json", json.dumps(_report(datasets, rows), indent=1).encode())
    path = dest / "manifest.parquet"
    write(path, _parquet(manifest, columns=[*_MANIFEST, "extra_sets"]))
    return path


_MANIFEST = ("dataset", "key", "split", "source", "image", "target", "flat", "height",
             "width", "kinds", "annotations", "skipped", "positive", "negative",
             "sha256")  # fmt: skip


def _parquet(records: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    # Imported here: pandas and pyarrow cost ~85 MiB, which readers don't need.
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame(records, columns=columns)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=False)
    return buffer.getvalue()


def _report(
    datasets: Mapping[str, Dataset], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Account for every input annotation of every dataset."""
    by_dataset: dict[str, list[dict[str, Any]]] = {name: [] for name in datasets}
    for row in rows:
        by_dataset[row["dataset"]].append(row)
    report: dict[str, Any] = {}
    for name in sorted(datasets):
        dataset = datasets[name]
        reasons: dict[str, int] = {}
        for skip in dataset.skipped:
            reasons[f"read: {skip.reason}"] = (
                reasons.get(f"read: {skip.reason}", 0) + skip.count
            )
        rasterize_skips = 0
        for row in by_dataset[name]:
            for _, reason in row["skipped"]:
                reasons[f"rasterize: {reason}"] = (
                    reasons.get(f"rasterize: {reason}", 0) + 1
                )
                rasterize_skips += 1
        used = sum(row["annotations"] for row in by_dataset[name])
        report[name] = {
            "samples": len(by_dataset[name]),
            "annotations_read": dataset.read,
            "exported": used - rasterize_skips,
            "skipped": sum(reasons.values()),
            "skipped_by_reason": dict(sorted(reasons.items())),
        }
        accounted = report[name]["exported"] + report[name]["skipped"]
        if accounted != dataset.read:  # pragma: no cover - Dataset checks this too
            raise ExportError(
                f"dataset {name!r}: {dataset.read} annotations read but {accounted} "
                "accounted for"
            )
    return report
