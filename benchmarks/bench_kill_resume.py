"""Benchmark: kill -9 an export at a random moment, resume, compare with a clean run.

World (deterministic from ``--seed``), unified under the built-in IV2018 rules:

* ``city``: ``--samples`` Cityscapes ``labelIds`` PNG files of ``--size``
  (the street scenes of ``bench_export.py``), every third one with a
  Cityscapes ``car`` polygon (``"pil"``) on top;
* ``signs``: as many GTSDB samples with two overlapping boxes each
  (``boxes="distribution"``: mixtures in the set table) and a GTSDB tag
  (verified positive or negative);

exported with ``flat=True``. A clean run gives the reference tree hash.

Each trial forks the benchmark process (imports and datasets already loaded,
so the kill lands in the export and not in the interpreter's start), starts
the export in the child, and after a delay drawn uniformly from [0,
the slowest of 3 clean runs of that engine] sends SIGKILL:

* ``sequential``: ``engine="sequential"``; the child is killed;
* ``process``: ``engine="process", workers=2``; the child and its pool
  workers are killed together (its process group);
* ``worker``: ``engine="process", workers=2``; one pool worker only is killed
  (the export should stop with ``BrokenProcessPool``). An export still
  running 10 s later is counted as *hung* (a finding, not a failure of the
  files), killed with its group, and resumed like the others.

Then, with every killed process gone: each file under a final name (anything
not ``*.tmp-unitax``) must be byte-identical to the clean run's file of that
path: no partial or stray file. The export is resumed with the same engine
and its tree hash must equal the clean one. Prints trials, failures, how far
the killed exports had got, and mean times. Exits 1 if any trial failed.

Run:  python benchmarks/bench_kill_resume.py [--trials N] [--samples N]
      [--size WxH] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas  # noqa: F401 - the export imports these lazily: loaded before forking,
import pyarrow.parquet  # noqa: F401 - so that kills land in the export's own work
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_export import size, write_maps

import unitax as ux
from unitax.annotations import Box, Dataset, Mask, Polygon, Sample, Tag
from unitax.builtin import collection
from unitax.errors import ExportError
from unitax.export import Policy, export

MODES = {  # mode -> (engine, workers, what is killed)
    "sequential": ("sequential", 1, "export"),
    "process": ("process", 2, "group"),
    "worker": ("process", 2, "worker"),
}
CYCLE = ("sequential", "process", "sequential", "process", "worker")
HANG_S = 10.0  # an export still running this long after a worker was killed hangs


def world(folder: Path, samples: int, shape: tuple[int, int], seed: int):
    spaces, rules = collection("iv2018")
    taxonomy, maps = ux.unify(spaces, rules)
    by_name = {space.name: space for space in spaces}
    height, width = shape
    paths = write_maps(folder, samples, shape, seed)
    rng = np.random.default_rng(seed)
    city, signs = [], []
    for index, path in enumerate(paths):
        annotations: list = [Mask(path)]
        if index % 3 == 0:
            x, y = rng.uniform(0, 0.7 * width), rng.uniform(0.5 * height, 0.8 * height)
            car = shapely.box(x, y, x + 0.3 * width, y + 0.15 * height)
            annotations.append(Polygon(car, label=26, convention="pil", key=0))
        city.append(
            Sample(
                key=f"train/synth/{index:04d}",
                image=f"c{index}.png",
                shape=shape,
                annotations=tuple(annotations),
                source="cityscapes",
                split="train",
            )
        )
        x, y = rng.uniform(0, width - 30), rng.uniform(0, height - 30)
        first, second = (int(v) for v in rng.choice(43, size=2, replace=False))
        signs.append(
            Sample(
                key=f"{index:05d}",
                image=f"{index:05d}.ppm",
                shape=shape,
                annotations=(
                    Box((x, y, x + 20, y + 20), first, key=0),
                    Box((x + 8, y + 8, x + 28, y + 28), second, key=1),
                    Tag(first, positive=bool(index % 2)),
                ),
                source="gtsdb",
                split="val",
            )
        )
    datasets = {
        "city": Dataset(by_name["cityscapes"], city),
        "signs": Dataset(by_name["gtsdb"], signs),
    }
    policies = {"signs": Policy(boxes="distribution")}
    return datasets, maps, taxonomy, policies


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for name, data in files(root).items():
        digest.update(name.encode())
        digest.update(data)
    return digest.hexdigest()


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(c) for c in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def gone(pid: int) -> bool:
    """No process ``pid``, or only its zombie (it can do nothing more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def start(world_, dest: Path, engine: str, workers: int) -> tuple[int, float]:
    """Fork a child that exports into ``dest``; return its pid once it starts."""
    datasets, maps, taxonomy, policies = world_
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, so the pool dies with it
        code = 1
        try:
            os.setpgid(0, 0)
            os.close(read)
            os.write(write, b"go")
            os.close(write)
            export(
                datasets,
                maps,
                taxonomy,
                dest,
                policies=policies,
                engine=engine,
                workers=workers,
                flat=True,
            )
            code = 0
        except BaseException:  # a broken pool ends the child
            code = 2
        finally:
            os._exit(code)
    os.close(write)
    with contextlib.suppress(OSError):  # the child did it first, or already left
        os.setpgid(pid, pid)
    os.read(read, 2)
    os.close(read)
    return pid, time.perf_counter()


def clean_run(world_, dest: Path, engine: str, workers: int) -> float:
    pid, began = start(world_, dest, engine, workers)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"a clean {engine} export failed")
    return time.perf_counter() - began


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of process group ``pgid`` remains."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def trial(world_, dest: Path, mode: str, delay: float, rng: random.Random) -> dict:
    engine, workers, target = MODES[mode]
    pid, began = start(world_, dest, engine, workers)
    time.sleep(max(0.0, began + delay - time.perf_counter()))
    killed = "finished"
    if target == "worker":
        pool = children(pid)
        if pool:
            os.kill(rng.choice(pool), signal.SIGKILL)
            killed = "worker"
        deadline = time.perf_counter() + HANG_S
        while os.waitpid(pid, os.WNOHANG)[0] != pid:  # the export stops, with an error
            if time.perf_counter() > deadline:
                killed = "hung"  # see the docstring
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.005)
    elif os.waitpid(pid, os.WNOHANG)[0] != pid:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        killed = target
    while group_alive(pid):  # nothing writes while we check
        time.sleep(0.001)
    return {"killed": killed}


def check_final_names(dest: Path, clean: dict[str, bytes], jobs: int) -> dict:
    """Files under a final name unlike the clean run's; how far the export got."""
    records = temporary = wrong = 0
    found = files(dest) if dest.exists() else {}
    for name, data in found.items():
        if name.endswith(".tmp-unitax"):
            temporary += 1
        elif clean.get(name) != data:
            wrong += 1
        elif name.startswith(".unitax/records/"):
            records += 1
    if "manifest.parquet" in found:
        phase = "done"
    elif records == jobs:
        phase = "finishing"
    else:
        phase = "samples" if records else "starting"
    return {"done": records / jobs, "tmp": temporary, "wrong": wrong, "phase": phase}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--size", type=size, default=(96, 192), help="WxH")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_kill-") as tmp:
        folder = Path(tmp)
        world_ = world(folder / "maps", args.samples, args.size, args.seed)
        jobs = 2 * args.samples
        durations = {}
        reference: dict[str, bytes] = {}
        for engine, workers in (("sequential", 1), ("process", 2)):
            dest = folder / f"clean-{engine}"
            runs = []
            for _ in range(3):
                shutil.rmtree(dest, ignore_errors=True)
                runs.append(clean_run(world_, dest, engine, workers))
            durations[engine] = max(runs)  # kills spread over slow runs too
            tree = files(dest)
            if reference and tree != reference:
                raise SystemExit("clean runs of the two engines differ")
            reference = tree
        clean_hash = tree_hash(folder / "clean-sequential")
        print(
            f"{jobs} samples ({args.samples} mask+polygon, {args.samples} boxes+tag)"
            f" of {args.size[1]}x{args.size[0]}, flat layout; slowest clean run "
            f"{durations['sequential']:.2f} s sequential, "
            f"{durations['process']:.2f} s process-2"
        )
        stats: dict[str, list[dict]] = {mode: [] for mode in MODES}
        failures: list[str] = []
        began = time.perf_counter()
        for number in range(args.trials):
            mode = CYCLE[number % len(CYCLE)]
            engine, workers, _ = MODES[mode]
            dest = folder / "trial"
            shutil.rmtree(dest, ignore_errors=True)
            t0 = time.perf_counter()
            delay = rng.uniform(0.0, durations[engine])
            result = trial(world_, dest, mode, delay, rng)
            seen = check_final_names(dest, reference, jobs)
            t1 = time.perf_counter()
            left = sorted(files(dest)) if dest.exists() else []
            datasets, maps, taxonomy, policies = world_
            try:
                export(datasets, maps, taxonomy, dest, policies=policies,
                       engine=engine, workers=workers, flat=True)  # fmt: skip
                refused = None
            except ExportError as err:  # the resume refused the folder
                refused = str(err).split(": ", 1)[-1]
            t2 = time.perf_counter()
            same = refused is None and tree_hash(dest) == clean_hash
            leftovers = list(dest.rglob("*.tmp-unitax"))
            if seen["wrong"] or not same or leftovers:
                why = f"resume refused ({refused}); the kill left {left}"
                failures.append(
                    f"trial {number} ({mode}, {delay:.3f} s): {seen['wrong']} "
                    f"files unlike the clean run's, same tree {same}, "
                    f"{len(leftovers)} temporary files left"
                    + (f"; {why}" if refused else "")
                )
            stats[mode].append(
                {
                    **result,
                    **seen,
                    "resume": t2 - t1,
                    "trial": time.perf_counter() - t0,
                }
            )
        elapsed = time.perf_counter() - began

    phases = ("starting", "samples", "finishing", "done")
    hung = 0
    print(
        f"\n{'mode':<11}{'trials':>7}{'killed':>7}{'done q25/50/75':>17}"
        f"{'phase: start/samples/finish/done':>34}{'tmp':>5}{'resume s':>9}"
        f"{'trial s':>8}"
    )
    for mode, rows in stats.items():
        if not rows:
            continue
        done = np.quantile([r["done"] for r in rows], [0.25, 0.5, 0.75])
        killed = sum(r["killed"] != "finished" for r in rows)
        hung += sum(r["killed"] == "hung" for r in rows)
        counts = "/".join(str(sum(r["phase"] == p for r in rows)) for p in phases)
        print(
            f"{mode:<11}{len(rows):>7}{killed:>7}"
            f"{'/'.join(f'{v:.0%}' for v in done):>17}{counts:>34}"
            f"{sum(r['tmp'] > 0 for r in rows):>5}"
            f"{statistics.mean(r['resume'] for r in rows):>9.3f}"
            f"{statistics.mean(r['trial'] for r in rows):>8.3f}"
        )
    print(
        f"\n{args.trials} trials, {len(failures)} failures, mean "
        f"{elapsed / max(1, args.trials):.3f} s per trial ({elapsed:.0f} s); "
        f"{hung} exports hung after a worker was killed (then killed and resumed)"
    )
    for line in failures[:20]:
        print("  FAIL", line)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
