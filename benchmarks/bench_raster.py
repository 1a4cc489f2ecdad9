"""Benchmark: exact polygon and RLE raster kernels against their references.

Scene (deterministic from ``--seed``) on a 2048x1024 uint8 target: 100
polygons of 8-64 vertices (radius 20-250 px) and 1,000 small ones of 3-12
vertices (radius 2-10 px). Each is star-shaped around a uniform random centre
(sorted angles, vertex radii uniform in [0.5, 1] x radius), so some stick out
of the image. Polygon ``i`` is painted with value ``1 + i % 250``, in order.

A  COCO-exact fill: ``coco_polygons_runs`` (one batched call) + ``paint`` per
   polygon, against pycocotools called once per polygon at its bounding-box
   size (translate, ``frPyObjects``, ``decode``, paint the bbox slice).
   cv2.fillPoly (integer vertices, not COCO-exact) for information.
B  PIL-exact fill: ``rasterize(..., overlap="last")`` on PIL-convention
   polygons (Pillow's own fill; the goal), and the kernels
   ``pil_polygons_runs`` + ``paint`` (for overlap policies that need each
   polygon's pixels), against
   ``ImageDraw.Draw(img).polygon(xy, fill=v)`` on the full image (``Image.new``
   + draws; ``np.asarray`` of the result is timed separately).
C  COCO RLE: 100 compressed RLEs (the 100 large polygons, full size);
   ``rle_runs`` + ``paint`` against ``pycocotools.mask.decode`` + paint.
D  Painting A's runs: one slice assignment per run, the flat-index trick
   (``np.cumsum`` of index steps, one fancy assignment per polygon), and
   ``paint`` (slices, or a bounding-box mask from one ``np.repeat``).

Every target is checked equal to its reference's. Runs are interleaved, order
alternating; medians are printed, and for our kernels the peak of
Python-traced memory (numpy's allocations included; C libraries' are not).

Goals (issue): A <= 1.0x, B <= 1.25x, C <= 0.25x. Exits 0 either way.

Run:  python benchmarks/bench_raster.py [--repeat N] [--seed S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import shapely
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout
import unitax as ux
from unitax import _raster as raster
from unitax.annotations import Polygon
from unitax.rasterize import rasterize, remap

try:
    import cv2
except ImportError:  # information only
    cv2 = None

HEIGHT, WIDTH = 1024, 2048


def make_polygons(rng: np.random.Generator) -> list[np.ndarray]:
    def star(count: int, radius: float) -> np.ndarray:
        angle = np.sort(rng.uniform(0, 2 * np.pi, count))
        r = radius * rng.uniform(0.5, 1.0, count)
        centre = rng.uniform([0, 0], [WIDTH, HEIGHT])
        return (np.c_[np.cos(angle) * r, np.sin(angle) * r] + centre).ravel()

    big = [star(rng.integers(8, 65), rng.uniform(20, 250)) for _ in range(100)]
    small = [star(rng.integers(3, 13), rng.uniform(2, 10)) for _ in range(1000)]
    return big + small


def values(count: int) -> list[int]:
    return [1 + i % 250 for i in range(count)]


# -- A: COCO polygons ------------------------------------------------------------


def coco_ours(polygons: list[np.ndarray]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    runs = raster.coco_polygons_runs(polygons, HEIGHT, WIDTH)
    for each, value in zip(runs, values(len(polygons)), strict=True):
        raster.paint(target, each, value)
    return target


def coco_reference(polygons: list[np.ndarray]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for coords, value in zip(polygons, values(len(polygons)), strict=True):
        x, y = coords[0::2], coords[1::2]
        x0, y0 = max(int(np.floor(x.min())), 0), max(int(np.floor(y.min())), 0)
        x1 = min(int(np.ceil(x.max())) + 1, WIDTH)
        y1 = min(int(np.ceil(y.max())) + 1, HEIGHT)
        if x1 <= x0 or y1 <= y0:
            continue
        local = coords.copy()
        local[0::2] -= x0
        local[1::2] -= y0
        rle = coco_mask.frPyObjects([local.tolist()], y1 - y0, x1 - x0)
        mask = coco_mask.decode(rle)[:, :, 0]
        target[y0:y1, x0:x1][mask > 0] = value
    return target


def cv2_fill(polygons: list[np.ndarray]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for coords, value in zip(polygons, values(len(polygons)), strict=True):
        points = np.round(coords.reshape(-1, 2)).astype(np.int32)
        cv2.fillPoly(target, [points], value)
    return target


# -- B: PIL polygons -------------------------------------------------------------


def pil_ours(polygons: list[np.ndarray]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    runs = raster.pil_polygons_runs(polygons, HEIGHT, WIDTH)
    for each, value in zip(runs, values(len(polygons)), strict=True):
        raster.paint(target, each, value)
    return target


def pil_draw(polygons: list[np.ndarray]) -> Image.Image:
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(image)
    for coords, value in zip(polygons, values(len(polygons)), strict=True):
        draw.polygon(coords.tolist(), fill=value)
    return image


def pil_reference(polygons: list[np.ndarray]) -> np.ndarray:
    return np.asarray(pil_draw(polygons))


_SPACE = ux.LabelSpace.from_names("bench", [f"c{i:03d}" for i in range(254)])
_MAP = ux.unify([_SPACE])[1]["bench"]


def pil_annotations(polygons: list[np.ndarray]) -> list[Polygon]:
    return [
        Polygon(shapely.Polygon(coords.reshape(-1, 2)), value % 254, convention="pil")
        for coords, value in zip(polygons, values(len(polygons)), strict=True)
    ]


def pil_rasterize(annotations: list[Polygon]) -> np.ndarray:
    """The public path: `rasterize` with later polygons on top (Pillow's fill)."""
    return rasterize(annotations, _MAP, shape=(HEIGHT, WIDTH), overlap="last").array


def pil_rasterize_reference(polygons: list[np.ndarray]) -> np.ndarray:
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    for coords, value in zip(polygons, values(len(polygons)), strict=True):
        draw.polygon(coords.tolist(), fill=value % 254)
    return remap(np.asarray(image), _MAP)


# -- C: COCO RLE -----------------------------------------------------------------


def make_rles(polygons: list[np.ndarray]) -> list[dict]:
    return [
        coco_mask.merge(coco_mask.frPyObjects([p.tolist()], HEIGHT, WIDTH))
        for p in polygons
    ]


def rle_ours(rles: list[dict]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for rle, value in zip(rles, values(len(rles)), strict=True):
        raster.paint(target, raster.rle_runs(rle["counts"], HEIGHT, WIDTH), value)
    return target


def rle_reference(rles: list[dict]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for rle, value in zip(rles, values(len(rles)), strict=True):
        np.copyto(target, value, where=coco_mask.decode(rle).view(bool))
    return target


# -- D: painting the runs of A ---------------------------------------------------


def paint_loop(runs: list[raster.Runs]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for each, value in zip(runs, values(len(runs)), strict=True):
        for row, start, stop in zip(*(a.tolist() for a in each), strict=True):
            target[row, start:stop] = value
    return target


def paint_flat_index(runs: list[raster.Runs]) -> np.ndarray:
    """The np.repeat/cumsum flat-index trick, one fancy assignment a polygon."""
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    flat = target.reshape(-1)
    for (rows, starts, stops), value in zip(runs, values(len(runs)), strict=True):
        lengths = stops - starts
        step = np.ones(int(lengths.sum()), np.int64)
        firsts = np.cumsum(lengths) - lengths
        begin = rows * WIDTH + starts
        step[firsts[1:]] = begin[1:] - (begin[:-1] + lengths[:-1] - 1)
        if step.size:
            step[0] = begin[0]
            flat[np.cumsum(step)] = value
    return target


def paint_each(runs: list[raster.Runs]) -> np.ndarray:
    target = np.zeros((HEIGHT, WIDTH), np.uint8)
    for each, value in zip(runs, values(len(runs)), strict=True):
        raster.paint(target, each, value)
    return target


# -- driver ----------------------------------------------------------------------


def timed(cases: dict, repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for rep in range(repeat):
        for name in names if rep % 2 == 0 else names[::-1]:
            func, arg = cases[name]
            start = time.perf_counter()
            func(arg)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) * 1e3 for name, ts in times.items()}


def peak_mib(func, arg) -> float:
    tracemalloc.start()
    func(arg)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    polygons = make_polygons(np.random.default_rng(args.seed))
    rles = make_rles(polygons[:100])
    runs = list(raster.coco_polygons_runs(polygons, HEIGHT, WIDTH))

    exact = {
        "A": np.array_equal(coco_ours(polygons), coco_reference(polygons)),
        "B": np.array_equal(pil_ours(polygons), pil_reference(polygons))
        and np.array_equal(
            pil_rasterize(pil_annotations(polygons)), pil_rasterize_reference(polygons)
        ),
        "C": np.array_equal(rle_ours(rles), rle_reference(rles)),
        "D": all(
            np.array_equal(paint(runs), paint_loop(runs))
            for paint in (paint_flat_index, paint_each)
        ),
    }
    # name: (function, argument, reference for the ratio, goal)
    cases = {
        "A ours": (coco_ours, polygons, "A pycocotools bbox", 1.0),
        "A pycocotools bbox": (coco_reference, polygons, None, None),
        "A cv2.fillPoly": (cv2_fill, polygons, "A pycocotools bbox", None),
        "B ours": (pil_ours, polygons, "B PIL draw", None),
        "B rasterize last": (
            pil_rasterize,
            pil_annotations(polygons),
            "B PIL draw",
            1.25,
        ),
        "B PIL draw": (pil_draw, polygons, None, None),
        "B PIL draw+asarray": (pil_reference, polygons, "B PIL draw", None),
        "C ours": (rle_ours, rles, "C pycocotools", 0.25),
        "C pycocotools": (rle_reference, rles, None, None),
        "D slice per run": (paint_loop, runs, None, None),
        "D flat index": (paint_flat_index, runs, "D slice per run", None),
        "D paint": (paint_each, runs, "D slice per run", None),
    }
    if cv2 is None:
        del cases["A cv2.fillPoly"]
    ms = timed({name: case[:2] for name, case in cases.items()}, args.repeat)
    count = sum(each.rows.size for each in runs)
    print(f"{len(polygons)} polygons ({count} runs), {len(rles)} RLEs, ", end="")
    print(f"{WIDTH}x{HEIGHT} uint8; median of {args.repeat} interleaved runs")
    print(f"{'case':<20}{'ms':>8}{'ratio':>8}  {'goal':<12}{'exact':<7}peak MiB")
    for name, (func, arg, ref, goal) in cases.items():
        ratio = ms[name] / ms[ref] if ref else None
        text = f"{ratio:.2f}x" if ratio else ""
        verdict = "info" if ref else ""
        if goal is not None and ratio is not None:
            verdict = f"<={goal:g} " + ("PASS" if ratio <= goal else "FAIL")
        check = str(exact[name[0]]) if goal is not None or name[0] == "D" else ""
        peak = f"{peak_mib(func, arg):.1f}" if name.endswith("ours") else ""
        print(f"{name:<20}{ms[name]:>8.1f}{text:>8}  {verdict:<12}{check:<7}{peak}")
    print("peak: Python-traced allocations, numpy's included, the 2 MiB target too")


if __name__ == "__main__":
    main()
