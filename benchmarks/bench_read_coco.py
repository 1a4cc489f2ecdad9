"""Benchmark: ``read_coco`` against ``pycocotools.coco.COCO`` on 100,000 annotations.

The synthetic COCO instances file (deterministic from ``--seed``) has
``--images`` images of 640 x 480 and ``--annotations`` annotations in the mix
of COCO train2017: 97% polygons (4 to 40 points; 10% of them in 2 to 4
parts), 1% compressed RLE, 1% crowd uncompressed RLE, 1% box-only.

Each reader runs in its own fresh subprocess, so that peak memory
(``ru_maxrss``) is its own: the child imports its reader, notes its resident
size, reads the file once, and reports the time of the call alone and its
peak. Runs are interleaved, order alternating; medians are printed, with
memory both as the whole peak and as the growth over the post-import size.

Goal (issue): read_coco within 1.0x of COCO's time and 1.5x of its peak
memory. Prints PASS/FAIL; exits 0 either way (a report).

Run:  python benchmarks/bench_read_coco.py [--repeat N] [--annotations N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]

WORKER = """
import contextlib, gc, io, json, resource, sys, time
sys.path.insert(0, {checkout!r})
kind, path = sys.argv[1], sys.argv[2]
if kind == "coco":
    from pycocotools.coco import COCO
    def run():
        with contextlib.redirect_stdout(io.StringIO()):  # COCO prints
            return COCO(path)
else:
    from unitax.formats.coco import read_coco
    def run():
        return read_coco(path, images=".")
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = run()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_kib": peak, "base_kib": before}}))
"""


def make_file(path: Path, *, n_images: int, n_annotations: int, seed: int) -> None:
    """Write the synthetic instances file."""
    import numpy as np
    from pycocotools import mask as mask_utils

    rng = random.Random(seed)
    height, width = 480, 640
    square = np.zeros((height, width), dtype=np.uint8, order="F")
    square[100:200, 100:300] = 1
    compressed = mask_utils.encode(square)["counts"].decode()
    crowd = [48100, 100, 380, 100, 380, 100]
    crowd.append(height * width - sum(crowd))
    images = [
        {"id": i, "file_name": f"{i:012d}.jpg", "height": height, "width": width}
        for i in range(1, n_images + 1)
    ]
    annotations = []
    for key in range(1, n_annotations + 1):
        record: dict[str, Any] = {
            "id": key,
            "image_id": rng.randint(1, n_images),
            "category_id": rng.randint(1, 80),
            "iscrowd": 0,
            "area": 1000.0,
        }
        draw = rng.random()
        if draw < 0.97:
            parts = 1 if rng.random() < 0.9 else rng.randint(2, 4)
            rings = []
            for _ in range(parts):
                cx, cy = rng.uniform(50, 590), rng.uniform(50, 430)
                ring = []
                for _ in range(rng.randint(4, 40)):
                    ring += [
                        round(cx + rng.uniform(-50, 50), 2),
                        round(cy + rng.uniform(-50, 50), 2),
                    ]
                rings.append(ring)
            record["segmentation"] = rings
        elif draw < 0.98:
            record["segmentation"] = {"counts": compressed, "size": [height, width]}
        elif draw < 0.99:
            record["segmentation"] = {"counts": crowd, "size": [height, width]}
            record["iscrowd"] = 1
        else:
            record["segmentation"] = []
        record["bbox"] = [10.0, 10.0, 20.0, 30.0]
        annotations.append(record)
    categories = [{"id": i, "name": f"label {i}"} for i in range(1, 81)]
    document = {"images": images, "annotations": annotations, "categories": categories}
    path.write_text(json.dumps(document), encoding="utf-8")


def run_once(kind: str, path: Path) -> dict[str, float]:
    """One reading in a fresh interpreter."""
    code = WORKER.format(checkout=str(CHECKOUT))
    done = subprocess.run(
        [sys.executable, "-c", code, kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=path.parent,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--annotations", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make is not None:
        make_file(
            args.make,
            n_images=args.images,
            n_annotations=args.annotations,
            seed=args.seed,
        )
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instances.json"
        # In a child: ru_maxrss survives fork and exec, so the parent stays small.
        subprocess.run(
            [sys.executable, __file__, "--make", str(path), "--seed", str(args.seed),
             "--images", str(args.images), "--annotations", str(args.annotations)],
            check=True,
        )  # fmt: skip
        size = path.stat().st_size / 2**20
        print(f"{args.annotations} annotations, {args.images} images, {size:.1f} MiB")
        results: dict[str, list[dict[str, float]]] = {"coco": [], "unitax": []}
        for i in range(args.repeat):
            order = ("coco", "unitax") if i % 2 == 0 else ("unitax", "coco")
            for kind in order:
                results[kind].append(run_once(kind, path))
    medians = {}
    for kind, runs in results.items():
        medians[kind] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak": statistics.median(r["peak_kib"] for r in runs) / 1024,
            "growth": statistics.median(r["peak_kib"] - r["base_kib"] for r in runs)
            / 1024,
        }
        m = medians[kind]
        print(
            f"{kind:>7}: {m['seconds']:.3f} s  peak {m['peak']:.0f} MiB  "
            f"(growth over imports {m['growth']:.0f} MiB)  runs={len(runs)}"
        )
        print(
            "         seconds per run: " + " ".join(f"{r['seconds']:.2f}" for r in runs)
        )
    pairs = [
        u["seconds"] / c["seconds"]
        for u, c in zip(results["unitax"], results["coco"], strict=True)
    ]
    print("per-round time ratios: " + " ".join(f"{r:.2f}" for r in pairs))
    time_ratio = medians["unitax"]["seconds"] / medians["coco"]["seconds"]
    peak_ratio = medians["unitax"]["peak"] / medians["coco"]["peak"]
    growth_ratio = medians["unitax"]["growth"] / medians["coco"]["growth"]
    print(f"time ratio   {time_ratio:.2f}x (goal <= 1.0x)")
    print(f"peak ratio   {peak_ratio:.2f}x (goal <= 1.5x)")
    print(f"growth ratio {growth_ratio:.2f}x")
    verdict = "PASS" if time_ratio <= 1.0 and peak_ratio <= 1.5 else "FAIL"
    print(verdict)


if __name__ == "__main__":
    main()
