"""The work of an export: one sample to files, and the engines that run it.

Private to `unitax.export`, which documents the layout and the guarantees.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from unitax.annotations import Dataset, Mask, Sample
from unitax.errors import ExportError
from unitax.rasterize import Policy, rasterize
from unitax.targets import Target
from unitax.taxonomy import LabelMap, Taxonomy

KEY = re.compile(r"^[A-Za-z0-9._\-/]+$")
"""Sample keys and dataset names that are used as file names unchanged."""

PNG = {"compress_level": 1, "compress_type": 3}  # zlib level 1, Z_RLE strategy
"""PIL's PNG settings for targets: fast, and fixed so outputs are identical."""


def safe_key(key: str) -> str:
    parts = key.split("/")
    if not KEY.match(key) or any(part in ("", ".", "..") for part in parts):
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        cleaned = re.sub(r"[^A-Za-z0-9._\-]+", "_", key).strip("._")[:80]
        return f"{cleaned or 'sample'}-{digest}"
    return key


@dataclass(frozen=True, slots=True)
class Job:
    dataset: str
    sample: Sample
    target: str  # path relative to dest


class State:
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
                "png": PNG,
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def record_path(state: State, job: Job) -> Path:
    digest = hashlib.sha1(f"{job.dataset}\0{job.sample.key}".encode()).hexdigest()
    return state.dest / ".unitax" / "records" / digest[:2] / f"{digest}.json"


def input_hash(sample: Sample) -> str:
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


def _chunks(jobs: Sequence[Job], workers: int) -> Iterator[list[Job]]:
    """Chunks of at most 8 jobs that shrink towards the end (guided scheduling).

    Big chunks early cost less to send; small ones at the end keep every
    worker busy until the last job, instead of one finishing a big chunk alone.
    """
    start = 0
    while start < len(jobs):
        size = max(1, min(8, (len(jobs) - start) // (workers * 4)))
        yield list(jobs[start : start + size])
        start += size


def run(
    state: State,
    jobs: list[Job],
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
    chunks = list(_chunks(jobs, workers))
    if engine == "process":
        yield from _run_pool(state, chunks, workers)
    else:
        yield from _run_dask(state, chunks, workers, scheduler)


_WORKER_STATE: list[State] = []


def _init_worker(state: State) -> None:
    _WORKER_STATE[:] = [state]


def _work(chunk: list[Job]) -> list[dict[str, Any]]:
    return [_export_one(_WORKER_STATE[0], job) for job in chunk]


def _run_pool(
    state: State, chunks: list[list[Job]], workers: int
) -> Iterator[list[dict[str, Any]]]:
    pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(state,))
    try:
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
    except BrokenProcessPool as err:
        raise ExportError(
            "a worker process of the pool died (killed, or out of memory?); "
            "finished samples are kept: run the export again to resume"
        ) from err
    finally:  # on an error, the chunks not yet started are dropped
        pool.shutdown(wait=True, cancel_futures=True)


def _work_with(state: State, chunk: list[Job]) -> list[dict[str, Any]]:
    return [_export_one(state, job) for job in chunk]


_START_METHOD = "distributed.worker.multiprocessing-method"

DASK_CONFIG = {
    # Queued chunks go to the workers at once (the scheduler would hold them
    # back, and each worker wait a round trip per chunk); at most 4 per
    # worker are in flight anyway.
    "distributed.scheduler.worker-saturation": float("inf"),
    # Dask sets MALLOC_TRIM_THRESHOLD_=65536 for spawned workers; glibc then
    # maps and unmaps every image-sized array afresh: 10-40 % slower here.
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # Each worker samples its task thread's stack every 10 ms by default.
    "distributed.worker.profile.enabled": False,
    # Every process checks its event loop every 20 ms and polls CPU, memory,
    # network and disk counters every 500 ms: a third of the scheduler's CPU
    # (with its client and nannies) in an export. The check still warns of a
    # loop blocked for 3 s; the dashboard's plots get coarser.
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
}
"""Dask settings for an export's cluster: our own `LocalCluster` uses them."""


def _fork_or_spawn() -> str:
    """How our own LocalCluster starts its workers.

    Forked workers start in ~0.1 s; spawned ones import unitax again (2-3 s
    each, which is most of a short export). Python 3.12 deprecates fork in
    a process with threads (the cluster's event loop is one), so spawn there.
    """
    linux = sys.platform.startswith("linux")
    return "fork" if linux and sys.version_info < (3, 12) else "spawn"


def _run_dask(
    state: State, chunks: list[list[Job]], workers: int, scheduler: str | None
) -> Iterator[list[dict[str, Any]]]:
    try:
        import dask
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as err:  # pragma: no cover - dask is a declared dependency
        raise ImportError(
            "engine='dask' needs 'pip install \"dask[distributed]\"'"
        ) from err
    cluster = None
    if scheduler is None:
        with dask.config.set({_START_METHOD: _fork_or_spawn(), **DASK_CONFIG}):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=":0",  # any free port: never clash with others
            )  # fmt: skip
    # Results from our own workers come straight to us, not through the
    # scheduler; with a given scheduler, Dask's configuration decides (None).
    direct = True if cluster is not None else None
    client = Client(scheduler or cluster, direct_to_workers=direct)
    try:
        shared = client.scatter(state, broadcast=True)
        slots = sum(client.nthreads().values()) or workers
        queue = iter(chunks)
        # Bounded in flight, as the pool: the cluster never holds the dataset.
        pending = as_completed(
            (
                client.submit(_work_with, shared, chunk, pure=False)
                for chunk in itertools.islice(queue, 4 * slots)
            ),
            with_results=True,  # gathered as they finish, not one round trip each
        )
        for _, rows in pending:
            yield rows
            for chunk in itertools.islice(queue, 1):
                pending.add(client.submit(_work_with, shared, chunk, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _export_one(state: State, job: Job) -> dict[str, Any]:
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
    write(state.dest / job.target, png)
    flat_path = None
    if state.flat:
        flat_path = f"flat/{job.dataset}/{safe_key(sample.key)}.png"
        write(state.dest / flat_path, _encode(_flatten(target, state.taxonomy)))
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
        "input": input_hash(sample),
    }
    write(record_path(state, job), json.dumps(row, sort_keys=True).encode())
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
    image.save(buffer, format="PNG", **PNG)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> None:
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
