"""Benchmark: export of dense label PNGs against the codec floor, and engines.

Input (deterministic from ``--seed``): ``--samples`` Cityscapes-like
``labelIds`` PNGs of ``--size`` (default 200 of 2048x1024), written first with
PIL's default settings so that the export decodes them: sky, a blocky
skyline of building and wall, vegetation blobs, a road in perspective with
sidewalks and terrain, the ego vehicle, 4-12 poles with a traffic sign or
light, 3-15 vehicles and people with an unlabeled (void) edge, and 20-80
small clutter blobs (static, dynamic, fence, void). They are samples of the
built-in ``cityscapes`` label space (`Mask` of the PNG file), unified under
the built-in IV2018 rules (113 nodes), exported with the default policy.

A  Per-sample time of ``export(engine="sequential")`` (everything: plan,
   resume check, rasterise, encode, write PNG and record, manifest) against
   the codec floor on the same files in the same process: PIL decode
   (``np.asarray(Image.open(path))``) + ``np.take`` of the label map's LUT +
   PIL encode with the export's settings (``compress_level=1,
   compress_type=3``), no file written. The floor's targets are checked equal
   to the exported ones. Goal <= 1.25x. ``--profile`` (or a miss) prints
   where the export's time goes (cProfile of one export).
B  Throughput of ``engine="process"`` with 2 workers against 1 worker (which
   runs in the calling process). Goal >= 1.8x.
   The floor split over 2 forked processes shows the speed-up the machine
   gives right now; CPU time per sample (this process and its finished
   children) shows whether running two at once costs CPU (shared caches,
   other load) for the floor as for the export.
C  ``engine="dask"`` with 2 workers against the 2-worker process pool: with
   the ``LocalCluster`` that ``export`` starts itself (startup included; its
   workers are forked on Linux before Python 3.12, spawned elsewhere, and
   then import unitax again), and on a warm cluster (started and unitax
   imported beforehand, not timed; ``scheduler=`` its address; started with
   ``unitax.export.DASK_CONFIG``, as advised).
   Goal within 15 %. All engines' trees are checked identical.
D  Peak RSS (``VmHWM``) of each pool worker, exporting ``--memory-samples``
   (100 and 400, ``--memory-size`` 1024x512) in a fresh interpreter each;
   the parent's peak for ``engine="sequential"`` too. Goal: per-worker peak
   independent of dataset size (ratio ~1.0).

A, B and C are interleaved over ``--repeat`` rounds (5; the cases compared
run next to each other, in alternating order); a ratio is the median over
the rounds of its per-round ratio, printed with its range. The load average
before and after is printed: other processes on the machine slow the
parallel cases. Takes about 6 minutes on 2 cores. Exits 0 either way (a
report).

Run:  python benchmarks/bench_export.py [--samples N] [--size WxH]
      [--repeat R] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import importlib
import io
import json
import multiprocessing
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout
import unitax as ux
from unitax.annotations import Dataset, Mask, Sample
from unitax.builtin import collection
from unitax.export import DASK_CONFIG, export, read_export

try:
    import cv2
except ImportError:  # information only
    cv2 = None

PNG = {"compress_level": 1, "compress_type": 3}  # unitax.export's settings


# -- synthetic Cityscapes-like label maps ------------------------------------------


def cityscapes_like(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A street scene as Cityscapes ``labelIds`` (uint8, 0 = unlabeled)."""
    height, width = shape
    image = Image.new("L", (width, height), 23)  # sky
    draw = ImageDraw.Draw(image)
    columns = np.arange(width + 1, dtype=np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    horizon = height * (0.42 + 0.02 * np.sin(columns / width * 2 * np.pi + phase))
    x = 0
    while x < width:  # skyline: buildings, some walls
        step = int(rng.integers(max(2, width // 20), max(3, width // 6)))
        top = rng.uniform(0.05, 0.35) * height
        label = int(rng.choice([11, 11, 11, 12]))
        draw.rectangle((x, top, x + step, horizon[min(x, width)]), fill=label)
        x += step
    for _ in range(int(rng.integers(2, 6))):  # vegetation
        cx, cy = rng.uniform(0, width), rng.uniform(0.15, 0.45) * height
        radius = rng.uniform(0.05, 0.15) * width
        angle = np.sort(rng.uniform(0, 2 * np.pi, 24))
        r = radius * rng.uniform(0.6, 1.0, 24)
        points = zip(cx + r * np.cos(angle), cy + 0.6 * r * np.sin(angle), strict=True)
        draw.polygon(list(points), fill=21)
    vanish, y = rng.uniform(0.35, 0.65) * width, float(horizon.mean())
    draw.polygon([(0, y), (width, y), (width, height), (0, height)], fill=8)
    draw.polygon(
        [
            (vanish - 10, y),
            (vanish + 10, y),
            (1.1 * width, height),
            (-0.1 * width, height),
        ],
        fill=7,
    )
    draw.polygon([(0, y), (vanish - 40, y), (0, y + 0.15 * height)], fill=22)
    for _ in range(int(rng.integers(4, 12))):  # poles with a sign or a light
        px, top = rng.uniform(0, width), rng.uniform(0.1, 0.35) * height
        bottom = y + rng.uniform(0.02, 0.2) * height
        draw.rectangle(
            (px, top, px + rng.uniform(3, 12) * width / 2048, bottom), fill=17
        )
        side = rng.uniform(10, 40) * width / 2048
        plate = (px - side / 2, top - side, px + side / 2, top)
        draw.rectangle(plate, fill=int(rng.choice([19, 20])))
    for _ in range(int(rng.integers(3, 15))):  # vehicles and people
        base = rng.uniform(y + 5, 0.85 * height)
        w = (0.05 + 0.25 * (base - y) / (height - y)) * width
        h = w * rng.uniform(0.4, 0.7)
        x0 = rng.uniform(-0.1, 1.0) * width
        label = int(rng.choice([26, 26, 26, 27, 28, 24, 25, 33, 32]))
        if label in (24, 25):
            w, h = 0.2 * w, 0.6 * w
        box = (x0, base - h, x0 + w, base)
        draw.rounded_rectangle(box, radius=max(1.0, 0.1 * w), fill=label)
        draw.line((x0, base - h, x0 + w, base - h), fill=0, width=2)
    for _ in range(int(rng.integers(20, 80))):  # clutter
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(2, 12) * width / 2048
        label = int(rng.choice([4, 5, 0, 20, 19, 13]))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=label)
    hood = [
        (0, 0.92 * height),
        (width, 0.92 * height),
        (width, 0.88 * height),
        (0.5 * width, 0.86 * height),
        (0, 0.88 * height),
    ]
    draw.polygon(hood, fill=1)
    draw.rectangle((0, int(0.92 * height), width, height), fill=1)  # ego vehicle
    return np.asarray(image)


def write_maps(
    folder: Path, count: int, shape: tuple[int, int], seed: int
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"synth_{index:06d}_gtFine_labelIds.png"
        rng = np.random.default_rng([seed, index])
        Image.fromarray(cityscapes_like(rng, shape)).save(path)  # PIL defaults
        paths.append(path)
    return paths


def world() -> tuple[ux.Taxonomy, dict[str, Any], ux.LabelSpace]:
    spaces, rules = collection("iv2018")
    taxonomy, maps = ux.unify(spaces, rules)
    (space,) = (s for s in spaces if s.name == "cityscapes")
    return taxonomy, maps, space


def datasets_of(space: ux.LabelSpace, paths: list[Path], shape: tuple[int, int]):
    samples = tuple(
        Sample(
            key=f"train/synth/{path.stem.removesuffix('_gtFine_labelIds')}",
            image=path.with_name(path.name.replace("gtFine_labelIds", "leftImg8bit")),
            shape=shape,
            annotations=(Mask(path),),
            source=space.name,
            split="train",
        )
        for path in paths
    )
    return {"cityscapes": Dataset(space, samples)}


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# -- the codec floor ------------------------------------------------------------------


def lut_of(label_map: Any, ignore: int) -> np.ndarray:
    table = label_map.lut()
    full = np.full(256, ignore, dtype=np.uint8)
    full[: min(256, len(table))] = table[:256]
    return full


def floor_pass(paths: list[Path], lut: np.ndarray) -> tuple[float, list[float]]:
    """Decode + remap + encode each file; total seconds and [decode, remap, encode]."""
    parts = [0.0, 0.0, 0.0]
    start = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        with Image.open(path) as image:
            ids = np.asarray(image)
        t1 = time.perf_counter()
        target = np.take(lut, ids)
        t2 = time.perf_counter()
        buffer = io.BytesIO()
        Image.fromarray(target).save(buffer, format="PNG", **PNG)
        t3 = time.perf_counter()
        parts[0] += t1 - t0
        parts[1] += t2 - t1
        parts[2] += t3 - t2
    return time.perf_counter() - start, parts


def floor_target(path: Path, lut: np.ndarray) -> bytes:
    with Image.open(path) as image:
        target = np.take(lut, np.asarray(image))
    buffer = io.BytesIO()
    Image.fromarray(target).save(buffer, format="PNG", **PNG)
    return buffer.getvalue()


def floor_parallel(paths: list[Path], lut: np.ndarray, processes: int) -> float:
    """The floor split over ``processes`` forked processes: the machine's scaling."""
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    workers = [
        context.Process(target=floor_pass, args=(paths[i::processes], lut))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def floor_cv2(paths: list[Path], lut: np.ndarray) -> float:
    """The same work with OpenCV (information: another library's codec)."""
    options = [
        cv2.IMWRITE_PNG_COMPRESSION,
        1,
        cv2.IMWRITE_PNG_STRATEGY,
        cv2.IMWRITE_PNG_STRATEGY_RLE,
    ]
    start = time.perf_counter()
    for path in paths:
        ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        cv2.imencode(".png", cv2.LUT(ids, lut), options)
    return time.perf_counter() - start


# -- runs ---------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_export(datasets, maps, taxonomy, dest: Path, **options: Any) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    start = time.perf_counter()
    export(datasets, maps, taxonomy, dest, **options)
    return time.perf_counter() - start


def _import_export_module() -> None:
    importlib.import_module("unitax._export_work")


def dask_prestarted(datasets, maps, taxonomy, dest: Path, workers: int) -> float:
    """``engine="dask"`` on a warm LocalCluster (started, unitax imported)."""
    import dask
    from dask.distributed import Client, LocalCluster

    shutil.rmtree(dest, ignore_errors=True)
    with (
        dask.config.set(DASK_CONFIG),  # as the export's docs advise
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
    ):
        with Client(cluster) as client:
            client.run(_import_export_module)
        start = time.perf_counter()
        export(
            datasets,
            maps,
            taxonomy,
            dest,
            engine="dask",
            scheduler=cluster.scheduler_address,
        )
        return time.perf_counter() - start


def profile_export(datasets, maps, taxonomy, dest: Path, top: int = 14) -> str:
    shutil.rmtree(dest, ignore_errors=True)
    profiler = cProfile.Profile()
    profiler.enable()
    export(datasets, maps, taxonomy, dest, engine="sequential")
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(lines[start:])


# -- D: memory, in a fresh interpreter ---------------------------------------------


def _vm_hwm_kib(pid: int | str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def memory_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Export ``spec`` in this (fresh) interpreter; report peak RSS per process."""
    taxonomy, maps, space = world()
    paths = [Path(p) for p in spec["paths"]]
    datasets = datasets_of(space, paths, tuple(spec["shape"]))
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for child in _children(os.getpid()):
                peaks[child] = max(peaks.get(child, 0), _vm_hwm_kib(child))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    if spec["engine"] == "process":
        watcher.start()
    export(
        datasets,
        maps,
        taxonomy,
        Path(spec["dest"]),
        engine=spec["engine"],
        workers=spec["workers"],
    )
    stop.set()
    if watcher.is_alive():
        watcher.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "workers_kib": sorted(peaks.values()),
        "children_max_kib": children,
        "main_kib": _vm_hwm_kib("self"),
    }


def run_memory(
    paths: list[Path], shape: tuple[int, int], engine: str, folder: Path
) -> dict[str, Any]:
    dest = folder / f"mem-{engine}-{len(paths)}"
    shutil.rmtree(dest, ignore_errors=True)
    spec = {
        "paths": [str(p) for p in paths],
        "shape": list(shape),
        "engine": engine,
        "workers": 2,
        "dest": str(dest),
    }
    result = subprocess.run(
        [sys.executable, __file__, "--memory-child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(dest, ignore_errors=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- main ----------------------------------------------------------------------------


def size(text: str) -> tuple[int, int]:
    """``WxH`` -> shape ``(H, W)``."""
    width, height = (int(v) for v in text.lower().split("x"))
    return height, width


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--size", type=size, default=(1024, 2048), help="WxH")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--memory-samples", type=int, nargs=2, default=(100, 400))
    parser.add_argument("--memory-size", type=size, default=(512, 1024), help="WxH")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small, one round")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return
    if args.quick:
        args.samples, args.size, args.repeat = 40, (512, 1024), 1
        args.memory_samples, args.memory_size = (40, 160), (256, 512)
    shape = args.size
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} (before)")
    taxonomy, maps, space = world()
    lut = lut_of(maps[space.name], taxonomy.ignore_index)
    with tempfile.TemporaryDirectory(prefix="bench_export-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        paths = write_maps(folder / "maps", args.samples, shape, args.seed)
        size_kib = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(
            f"wrote {len(paths)} label PNGs of {shape[1]}x{shape[0]} "
            f"({size_kib:.0f} KiB each) in {time.perf_counter() - start:.1f} s"
        )
        datasets = datasets_of(space, paths, shape)
        runs = folder / "runs"
        runs.mkdir()
        count = len(paths)

        folders = {
            "sequential": "seq",
            "process-1": "p1",
            "process-2": "p2",
            "dask-2": "d2",
            "dask-2 started": "d2s",
        }
        cases: dict[str, Callable[[], float]] = {  # pairs compared are neighbours
            "floor 2 processes": lambda: floor_parallel(paths, lut, 2),
            "floor": lambda: floor_pass(paths, lut)[0],
            "sequential": lambda: timed_export(
                datasets, maps, taxonomy, runs / "seq", engine="sequential"
            ),
            "process-1": lambda: timed_export(
                datasets, maps, taxonomy, runs / "p1", engine="process", workers=1
            ),
            "process-2": lambda: timed_export(
                datasets, maps, taxonomy, runs / "p2", engine="process", workers=2
            ),
            "dask-2": lambda: timed_export(
                datasets, maps, taxonomy, runs / "d2", engine="dask", workers=2
            ),
            "dask-2 started": lambda: dask_prestarted(
                datasets, maps, taxonomy, runs / "d2s", 2
            ),
        }
        if cv2 is not None:
            cases["floor cv2"] = lambda: floor_cv2(paths, lut)
        times: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        parts: list[list[float]] = []
        names = list(cases)
        for round_ in range(args.repeat):
            for name in names if round_ % 2 == 0 else names[::-1]:
                before = cpu_seconds()
                if name == "floor":
                    seconds, split = floor_pass(paths, lut)
                    parts.append(split)
                else:
                    seconds = cases[name]()
                cpu[name].append(cpu_seconds() - before)
                times[name].append(seconds)
                print(f"  round {round_ + 1}: {name:<18} {seconds:7.2f} s", flush=True)
            if round_ == 0:  # every engine wrote the same bytes, as the floor
                hashes = {tree_hash(runs / folder) for folder in folders.values()}
                first = read_first_target(runs / "seq", paths[0])
                equal = first == floor_target(paths[0], lut)
                print(
                    f"  trees identical across engines: {len(hashes) == 1}; "
                    f"target == floor's bytes: {equal}"
                )
        load_after = os.getloadavg()[0]

        per = {name: median(values) / count * 1e3 for name, values in times.items()}
        cpu_ms = {name: median(values) / count * 1e3 for name, values in cpu.items()}
        split_ms = [median([p[i] for p in parts]) / count * 1e3 for i in range(3)]
        rate = {name: 1e3 / value for name, value in per.items()}

        def ratio(slow: str, fast: str) -> tuple[float, str]:
            """Median over rounds of ``time(slow) / time(fast)``, and its range."""
            each = [a / b for a, b in zip(times[slow], times[fast], strict=True)]
            middle = median(each)
            return middle, f"{middle:.2f}x ({min(each):.2f}-{max(each):.2f})"

        ratio_a, text_a = ratio("sequential", "floor")
        ratio_b, text_b = ratio("process-1", "process-2")
        _, text_control = ratio("floor", "floor 2 processes")
        codec = split_ms[0] + split_ms[2]
        rows: list[tuple[Any, ...]] = [
            ("A floor: decode + remap + encode, ms/sample", f"{per['floor']:.1f}"),
            (
                "    decode / remap (np.take) / encode, ms",
                " / ".join(f"{v:.1f}" for v in split_ms),
            ),
            ("A export sequential, ms/sample", f"{per['sequential']:.1f}"),
            ("A export / floor (range over rounds)", text_a, "<= 1.25x",
             ratio_a <= 1.25),
            (
                "  export / (decode + encode only), info",
                f"{per['sequential'] / codec:.2f}x",
            ),
        ]  # fmt: skip
        if "floor cv2" in per:
            rows.append(
                (
                    "  floor with OpenCV instead, ms/sample, info",
                    f"{per['floor cv2']:.1f}",
                )
            )
        rows += [
            ("B process 1 worker, samples/s", f"{rate['process-1']:.1f}"),
            ("B process 2 workers, samples/s", f"{rate['process-2']:.1f}"),
            ("B speed-up 2 vs 1 worker", text_b, ">= 1.8x", ratio_b >= 1.8),
            ("  machine's speed-up now: floor, 2 processes", text_control),
            (
                "  CPU ms/sample, 1 -> 2 processes: export",
                f"{cpu_ms['process-1']:.1f} -> {cpu_ms['process-2']:.1f}",
            ),
            (
                "                                   floor",
                f"{cpu_ms['floor']:.1f} -> {cpu_ms['floor 2 processes']:.1f}",
            ),
        ]
        for name, what in (
            ("dask-2", "own LocalCluster"),
            ("dask-2 started", "warm cluster"),
        ):
            ratio_c, text_c = ratio(name, "process-2")
            rows += [
                (f"C dask 2 ({what}), samples/s", f"{rate[name]:.1f}"),
                ("    its time / process-2's", text_c, "<= 1.15x", ratio_c <= 1.15),
                ("    its CPU ms/sample, all processes", f"{cpu_ms[name]:.1f}"),
            ]
        print()
        print(f"{'case':<46}{'value':>18}{'goal':>10}  result")
        for row in rows:
            goal = row[2] if len(row) > 2 else ""
            verdict = "" if len(row) < 4 else ("PASS" if row[3] else "FAIL")
            print(f"{row[0]:<46}{row[1]:>18}{goal:>10}  {verdict}")
        print(
            f"(medians of {args.repeat} rounds, {count} samples of "
            f"{shape[1]}x{shape[0]}; load average after {load_after:.2f} on "
            f"{os.cpu_count()} cores)"
        )

        small, large = args.memory_samples
        mshape = args.memory_size
        mpaths = write_maps(folder / "mem", large, mshape, args.seed + 1)
        print()
        print(
            f"D peak RSS (VmHWM), {mshape[1]}x{mshape[0]} maps, fresh interpreter each"
        )
        results = {}
        for n in (small, large):
            pool = run_memory(mpaths[:n], mshape, "process", runs)
            sequential = run_memory(mpaths[:n], mshape, "sequential", runs)
            results[n] = (pool, sequential)
            workers = ", ".join(f"{k / 1024:.0f}" for k in pool["workers_kib"])
            print(
                f"  {n:>4} samples: pool workers [{workers}] MiB (max over "
                f"children {pool['children_max_kib'] / 1024:.0f} MiB); parent "
                f"{pool['main_kib'] / 1024:.0f} MiB; sequential process "
                f"{sequential['main_kib'] / 1024:.0f} MiB"
            )
        worker_ratio = (
            results[large][0]["children_max_kib"]
            / results[small][0]["children_max_kib"]
        )
        seq_ratio = results[large][1]["main_kib"] / results[small][1]["main_kib"]
        verdict = "PASS" if worker_ratio <= 1.10 else "FAIL"
        print(
            f"  per-worker peak, {large} / {small} samples: {worker_ratio:.2f}x "
            f"(goal ~1.0, <= 1.10x) {verdict}; sequential process "
            f"{seq_ratio:.2f}x"
        )

        if args.profile or ratio_a > 1.25:
            print()
            print("Where a sequential export's time goes (cProfile, tottime):")
            subset = datasets_of(space, paths[: min(40, count)], shape)
            print(profile_export(subset, maps, taxonomy, runs / "profile"))


def read_first_target(dest: Path, path: Path) -> bytes:
    exported = read_export(dest)
    stem = path.stem.removesuffix("_gtFine_labelIds")
    row = exported.manifest[exported.manifest["key"] == f"train/synth/{stem}"]
    return (dest / row["target"].iloc[0]).read_bytes()


if __name__ == "__main__":
    main()
