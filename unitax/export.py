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

import contextlib
import hashlib
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from unitax.annotations import Dataset, Mask, Sample
from unitax.errors import ExportError
from unitax.rasterize import Boxes, Order, Outside, Overlap, Target, rasterize
from unitax.taxonomy import LabelMap, Taxonomy

__all__ = ["Export", "Policy", "export", "read_export", "read_target"]

Engine = Literal["sequential", "process", "dask"]
Progress = Callable[[int, int], None]

_PNG = {"compress_level": 1, "compress_type": 3}  # zlib level 1, Z_RLE strategy
_KEY = re.compile(r"^[A-Za-z0-9._\-/]+$")


class Policy(BaseModel):
    """How one dataset's annotations become targets (see `unitax.rasterize`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    overlap: Overlap = "specific"
    order: Order = "file"
    boxes: Boxes = "fill"
    box_core: float = Field(default=0.5, gt=0.0, le=1.0)
    outside: Outside = "ignore"
    errors: Literal["strict", "lenient"] = "strict"


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
        A Dask scheduler address, for ``engine="dask"``.
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
    state = _State(dest, taxonomy, dict(label_maps), policies, flat)
    _claim(dest, state.fingerprint(datasets))
    done, todo = _resume(state, jobs)
    total = len(jobs)
    if progress is not None:
        progress(len(done), total)
    for rows in _run(state, todo, engine=engine, workers=workers, scheduler=scheduler):
        for row in rows:
            done[row["dataset"], row["key"]] = row
        if progress is not None:
            progress(len(done), total)
    ordered = [done[job.dataset, job.sample.key] for job in jobs]
    return _finish(state, datasets, ordered)


# -- planning ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    dataset: str
    sample: Sample
    target: str  # path relative to dest


def _jobs(
    datasets: Mapping[str, Dataset], label_maps: Mapping[str, LabelMap]
) -> list[_Job]:
    jobs = []
    for name in sorted(datasets):
        if not _KEY.match(name) or "/" in name:
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
            jobs.append(
                _Job(name, sample, f"targets/{name}/{_safe_key(sample.key)}.png")
            )
    return jobs


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not _KEY.match(key) or any(part in ("", ".", "..") for part in parts):
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        cleaned = re.sub(r"[^A-Za-z0-9._\-]+", "_", key).strip("._")[:80]
        return f"{cleaned or 'sample'}-{digest}"
    return key


class _State:
    """What every worker needs: sent once per worker, not per sample."""

    def __init__(
        self,
        dest: Path,
        taxonomy: Taxonomy,
        label_maps: dict[str, LabelMap],
        policies: dict[str, Policy],
        flat: bool,
    ) -> None:
        self.dest = dest
        self.taxonomy = taxonomy
        self.label_maps = label_maps
        self.policies = policies
        self.flat = flat

    def fingerprint(self, datasets: Mapping[str, Dataset]) -> str:
        """Hash of everything that decides the output, except sample contents."""
        text = json.dumps(
            {
                "taxonomy": self.taxonomy.to_json(),
                "maps": {
                    name: sorted((str(k), v) for k, v in m.nodes.items())
                    for name, m in sorted(self.label_maps.items())
                },
                "policies": {
                    k: p.model_dump() for k, p in sorted(self.policies.items())
                },
                "datasets": sorted(datasets),
                "flat": self.flat,
                "png": _PNG,
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _claim(dest: Path, fingerprint: str) -> None:
    """Make ``dest`` ours: new, empty, or an export with the same fingerprint."""
    marker = dest / ".unitax" / "export.json"
    if dest.exists() and any(dest.iterdir()):
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
    _write(marker, json.dumps({"fingerprint": fingerprint}, indent=1).encode())


def _record_path(state: _State, job: _Job) -> Path:
    digest = hashlib.sha1(f"{job.dataset}\0{job.sample.key}".encode()).hexdigest()
    return state.dest / ".unitax" / "records" / digest[:2] / f"{digest}.json"


def _input_hash(sample: Sample) -> str:
    """Hash of a sample's inputs: annotations, and size and time of mask files."""
    digest = hashlib.sha256(
        repr((sample.key, sample.shape, str(sample.image))).encode()
    )
    for annotation in sample.annotations:
        if isinstance(annotation, Mask) and isinstance(annotation.source, Path):
            try:
                stat = annotation.source.stat()
                digest.update(
                    f"{annotation.source}:{stat.st_size}:{stat.st_mtime_ns}".encode()
                )
            except OSError:
                digest.update(str(annotation.source).encode())
            segments = sorted((annotation.segments or {}).items())
            spec = (annotation.encoding, annotation.divisor, segments)
            digest.update(repr(spec).encode())
        elif isinstance(annotation, Mask):
            digest.update(np.ascontiguousarray(annotation.source).tobytes())
        else:
            digest.update(repr(annotation).encode())
    return digest.hexdigest()


def _resume(
    state: _State, jobs: Sequence[_Job]
) -> tuple[dict[tuple[str, str], Any], list[_Job]]:
    """Split jobs into finished (a valid record, same inputs, PNG intact) and not."""
    done: dict[tuple[str, str], Any] = {}
    todo = []
    for tmp in (state.dest).rglob("*.tmp-unitax"):
        tmp.unlink(missing_ok=True)  # left by an interrupted run
    for job in jobs:
        record = _record_path(state, job)
        try:
            row = json.loads(record.read_text())
            png = (state.dest / row["target"]).read_bytes()
        except (OSError, ValueError, KeyError):
            todo.append(job)
            continue
        valid = row.get("input") == _input_hash(job.sample) and hashlib.sha256(
            png
        ).hexdigest() == row.get("sha256")
        if valid:
            done[job.dataset, job.sample.key] = row
        else:
            todo.append(job)
    return done, todo


# -- running ---------------------------------------------------------------------


def _chunks(jobs: Sequence[_Job], size: int) -> Iterator[list[_Job]]:
    for start in range(0, len(jobs), size):
        yield list(jobs[start : start + size])


def _run(
    state: _State,
    jobs: list[_Job],
    *,
    engine: str,
    workers: int | None,
    scheduler: str | None,
) -> Iterator[list[dict[str, Any]]]:
    if not jobs:
        return
    workers = workers or os.cpu_count() or 1
    if engine == "sequential" or (engine == "process" and workers == 1):
        for job in jobs:
            yield [_export_one(state, job)]
        return
    size = max(1, min(8, len(jobs) // (workers * 4)))
    chunks = list(_chunks(jobs, size))
    if engine == "process":
        yield from _run_pool(state, chunks, workers)
    else:
        yield from _run_dask(state, chunks, workers, scheduler)


_WORKER_STATE: list[_State] = []


def _init_worker(state: _State) -> None:
    _WORKER_STATE[:] = [state]


def _work(chunk: list[_Job]) -> list[dict[str, Any]]:
    return [_export_one(_WORKER_STATE[0], job) for job in chunk]


def _run_pool(
    state: _State, chunks: list[list[_Job]], workers: int
) -> Iterator[list[dict[str, Any]]]:
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(state,)
    ) as pool:
        pending: set[Future[list[dict[str, Any]]]] = set()
        queue = iter(chunks)
        # Bounded in flight: the pool never holds the whole dataset.
        for chunk in queue:
            pending.add(pool.submit(_work, chunk))
            if len(pending) >= 4 * workers:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()
                for chunk in itertools.islice(queue, 1):
                    pending.add(pool.submit(_work, chunk))


def _work_with(state: _State, chunk: list[_Job]) -> list[dict[str, Any]]:
    return [_export_one(state, job) for job in chunk]


def _run_dask(
    state: _State, chunks: list[list[_Job]], workers: int, scheduler: str | None
) -> Iterator[list[dict[str, Any]]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - dask is a declared dependency
        raise ImportError(
            "engine='dask' needs 'pip install \"dask[distributed]\"'"
        ) from err
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True,
            dashboard_address=None,
        )  # fmt: skip
    client = Client(scheduler or cluster)
    try:
        shared = client.scatter(state, broadcast=True)
        futures = [
            client.submit(_work_with, shared, chunk, pure=False) for chunk in chunks
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _export_one(state: _State, job: _Job) -> dict[str, Any]:
    """Rasterise one sample, write its PNG(s) and record; return its row."""
    sample = job.sample
    policy = state.policies.get(job.dataset, Policy())
    target = rasterize(
        sample.annotations,
        state.label_maps[sample.source],
        shape=sample.shape,
        overlap=policy.overlap,
        order=policy.order,
        boxes=policy.boxes,
        box_core=policy.box_core,
        outside=policy.outside,
        errors=policy.errors,
    )
    png = _encode(target.array)
    _write(state.dest / job.target, png)
    flat_path = None
    if state.flat:
        flat_path = f"flat/{job.dataset}/{_safe_key(sample.key)}.png"
        _write(state.dest / flat_path, _encode(_flatten(target, state.taxonomy)))
    kinds = sorted({type(a).__name__.lower() for a in sample.annotations})
    row = {
        "dataset": job.dataset,
        "key": sample.key,
        "split": sample.split,
        "source": sample.source,
        "image": str(sample.image),
        "target": job.target,
        "flat": flat_path,
        "height": sample.shape[0],
        "width": sample.shape[1],
        "kinds": kinds,
        "annotations": len(sample.annotations),
        "skipped": [[s.where, s.reason] for s in target.skipped],
        "positive": list(target.positive),
        "negative": list(target.negative),
        "extra": [
            [list(e.nodes), None if e.weights is None else list(e.weights)]
            for e in target.extra
        ],
        "sha256": hashlib.sha256(png).hexdigest(),
        "input": _input_hash(sample),
    }
    _write(_record_path(state, job), json.dumps(row, sort_keys=True).encode())
    return row


def _flatten(target: Target, taxonomy: Taxonomy) -> NDArray[np.uint8]:
    """Leaf ids where a pixel's value is a leaf; 255 everywhere else."""
    if len(taxonomy.leaves) >= 255:
        raise ExportError(
            f"the flat layout holds at most 254 leaves, the taxonomy has "
            f"{len(taxonomy.leaves)}"
        )
    table = np.full(int(np.iinfo(target.array.dtype).max) + 1, 255, dtype=np.uint8)
    for position, leaf in enumerate(taxonomy.leaves):
        table[taxonomy.index(leaf)] = position
    flat: NDArray[np.uint8] = table[target.array]
    return flat


def _encode(array: NDArray[Any]) -> bytes:
    if array.dtype not in (np.uint8, np.uint16):
        raise ExportError(
            f"targets must be uint8 or uint16 to be PNGs, got {array.dtype}"
        )
    image = Image.fromarray(np.ascontiguousarray(array))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **_PNG)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary name, then a rename."""
    tmp = path.with_name(path.name + ".tmp-unitax")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ExportError(
            f"{path}: cannot write ({err.strerror}); the export can be resumed"
        ) from err


# -- finishing ---------------------------------------------------------------------


def _finish(
    state: _State, datasets: Mapping[str, Dataset], rows: list[dict[str, Any]]
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
    _write(dest / "taxonomy.json", taxonomy.to_json().encode())
    _write(dest / "sets.parquet", _parquet(pd.DataFrame(set_rows)))
    buffer = io.BytesIO()
    np.save(buffer, membership)
    _write(dest / "membership.npy", buffer.getvalue())
    if state.flat:
        _write(
            dest / "flat" / "classes.txt", ("\n".join(taxonomy.leaves) + "\n").encode()
        )
    _write(dest / "report.json", json.dumps(_report(datasets, rows), indent=1).encode())
    path = dest / "manifest.parquet"
    _write(path, _parquet(pd.DataFrame(manifest, columns=[*_MANIFEST, "extra_sets"])))
    return path


_MANIFEST = ("dataset", "key", "split", "source", "image", "target", "flat", "height",
             "width", "kinds", "annotations", "skipped", "positive", "negative",
             "sha256")  # fmt: skip


def _parquet(frame: pd.DataFrame) -> bytes:
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


# -- reading ---------------------------------------------------------------------


def read_export(path: str | os.PathLike[str]) -> Export:
    """Load an export's taxonomy, manifest, set table and report.

    Raises
    ------
    ExportError
        If ``path`` holds no finished export (no manifest).
    """
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
