from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import unitax as ux
from unitax import _export_work
from unitax.errors import ExportError
from unitax.export import Policy, export, read_export, read_target
from unitax.rasterize import rasterize

SCRIPT = """
import sys
import numpy as np
import unitax as ux
from unitax.annotations import Box, Dataset, Mask, Sample, Tag
from unitax.export import Policy, export

def world(count=24, size=48):
    city = ux.LabelSpace.from_names("city", ["road", "sign", "car"], void=[255])
    signs = ux.LabelSpace(name="signs", labels=(
        ux.Label(id=0, name="stop"), ux.Label(id=1, name="yield")))
    rules = [ux.rules.IsA(child="signs/stop", parent="city/sign"),
             ux.rules.IsA(child="signs/yield", parent="city/sign")]
    taxonomy, maps = ux.unify([city, signs], rules)
    rng = np.random.default_rng(0)
    dense, boxes = [], []
    for i in range(count):
        mask = rng.integers(0, 3, size=(size, size)).astype(np.uint8)
        mask[:2] = 255
        dense.append(Sample(key=f"c{i:03d}", image=f"c{i}.png", shape=(size, size),
                            annotations=(Mask(mask),), source="city", split="train"))
        x, y = rng.integers(0, size - 10, size=2)
        boxes.append(Sample(key=f"s/{i:03d}", image=f"s{i}.png", shape=(size, size),
            annotations=(Box((x, y, x + 9, y + 9), int(i % 2)),
                         Box((x + 4, y + 4, x + 14, y + 14), int((i + 1) % 2)),
                         Tag(0, positive=bool(i % 3))),
            source="signs", split="val"))
    datasets = {"city": Dataset(city, dense), "signs": Dataset(signs, boxes)}
    policies = {"signs": Policy(boxes="distribution", outside="complement")}
    return datasets, maps, taxonomy, policies

if __name__ == "__main__":
    datasets, maps, taxonomy, policies = world()
    export(datasets, maps, taxonomy, sys.argv[1], policies=policies,
           engine=sys.argv[2], workers=int(sys.argv[3]), flat=True)
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("script") / "make_export.py"
    path.write_text(SCRIPT)
    return path


def _world(script: Path):
    namespace: dict[str, object] = {"__name__": "world"}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    return namespace["world"]()


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def clean(script, tmp_path_factory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("clean") / "out"
    datasets, maps, taxonomy, policies = _world(script)
    export(
        datasets,
        maps,
        taxonomy,
        dest,
        policies=policies,
        engine="sequential",
        flat=True,
    )
    return dest, tree_hash(dest)


def test_export_layout_and_round_trip(clean):
    dest, _ = clean
    exported = read_export(dest)
    assert len(exported.manifest) == 48
    assert set(exported.manifest["dataset"]) == {"city", "signs"}
    assert exported.manifest["target"].iloc[0] == "targets/city/c000.png"
    assert (dest / "flat" / "classes.txt").read_text().splitlines() == list(
        exported.taxonomy.leaves
    )
    sets = exported.sets
    assert list(sets["kind"].iloc[: len(exported.taxonomy)]) == ["node"] * len(
        exported.taxonomy
    )
    assert {"set", "mixture"} <= set(sets["kind"])  # complement and box mixtures
    assert exported.membership.shape == (len(sets), len(exported.taxonomy.leaves))
    # every target value is a set index or ignore
    for row in range(len(exported.manifest)):
        target = read_target(exported, row)
        values = set(np.unique(target).tolist())
        assert values <= set(range(len(sets))) | {int(np.iinfo(target.dtype).max)}


def test_export_matches_rasterize(clean, script):
    dest, _ = clean
    datasets, maps, _, _ = _world(script)
    exported = read_export(dest)
    sample = datasets["city"].samples[3]
    expected = rasterize(sample.annotations, maps["city"], shape=sample.shape)
    assert np.array_equal(read_target(exported, 3), expected.array)


def test_report_accounts_for_every_annotation(clean):
    report = read_export(clean[0]).report
    assert report["city"] == {
        "samples": 24,
        "annotations_read": 24,
        "exported": 24,
        "skipped": 0,
        "skipped_by_reason": {},
    }
    assert report["signs"]["annotations_read"] == 72
    assert report["signs"]["exported"] + report["signs"]["skipped"] == 72


@pytest.mark.parametrize(
    ("engine", "workers"),
    [("process", 2), ("dask", 2), ("sequential", 1)],
    ids=["pool-2", "dask-2", "sequential"],
)
def test_byte_identical_whatever_the_engine(clean, script, tmp_path, engine, workers):
    dest = tmp_path / "out"
    datasets, maps, taxonomy, policies = _world(script)
    export(datasets, maps, taxonomy, dest, policies=policies, engine=engine,
           workers=workers, flat=True)  # fmt: skip
    assert tree_hash(dest) == clean[1]


def test_refuses_a_folder_with_something_else(clean, script, tmp_path):
    datasets, maps, taxonomy, _ = _world(script)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="holds other files"):
        export(datasets, maps, taxonomy, other, engine="sequential")
    with pytest.raises(ExportError, match="different export"):
        export(datasets, maps, taxonomy, clean[0], engine="sequential")  # no policies


def test_rerun_of_a_finished_export_changes_nothing(clean, script, tmp_path):
    dest = tmp_path / "out"
    datasets, maps, taxonomy, policies = _world(script)
    export(
        datasets,
        maps,
        taxonomy,
        dest,
        policies=policies,
        engine="sequential",
        flat=True,
    )
    calls = []
    export(
        datasets, maps, taxonomy, dest, policies=policies, engine="sequential",
        flat=True, progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    assert calls == [(48, 48)]  # nothing left to do
    assert tree_hash(dest) == clean[1]


def test_changed_input_is_redone(clean, script, tmp_path):
    dest = tmp_path / "out"
    datasets, maps, taxonomy, policies = _world(script)
    export(
        datasets,
        maps,
        taxonomy,
        dest,
        policies=policies,
        engine="sequential",
        flat=True,
    )
    (dest / "targets" / "city" / "c001.png").write_bytes(b"corrupt")
    calls = []
    export(datasets, maps, taxonomy, dest, policies=policies, engine="sequential",
           flat=True, progress=lambda done, total: calls.append(done))  # fmt: skip
    assert calls[0] == 47
    assert tree_hash(dest) == clean[1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores read-only permissions")
def test_read_only_folder_stops_cleanly(script, tmp_path):  # pragma: no cover
    dest = tmp_path / "ro"
    dest.mkdir()
    dest.chmod(0o500)
    datasets, maps, taxonomy, _ = _world(script)
    with pytest.raises(ExportError, match="cannot write"):
        export(datasets, maps, taxonomy, dest, engine="sequential")


def test_write_failure_leaves_no_partial_file(script, tmp_path, monkeypatch):
    datasets, maps, taxonomy, policies = _world(script)
    dest = tmp_path / "out"
    real_replace = os.replace
    calls = {"n": 0}

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ExportError, match="No space left"):
        export(datasets, maps, taxonomy, dest, policies=policies, engine="sequential")
    assert not list(dest.rglob("*.tmp-unitax"))
    assert not (dest / "manifest.parquet").exists()


def test_kill_9_then_resume_is_identical(clean, script, tmp_path):
    """20 exports killed at random moments, each resumed: same tree as a clean run."""
    rng = np.random.default_rng(7)
    datasets, maps, taxonomy, policies = _world(script)
    env = {**os.environ, "PYTHONPATH": str(Path(ux.__file__).parents[1])}
    for trial in range(20):
        dest = tmp_path / f"trial{trial}"
        process = subprocess.Popen(
            [sys.executable, str(script), str(dest), "sequential", "1"], env=env
        )
        time.sleep(float(rng.uniform(0.3, 1.6)))
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path in dest.rglob("*"):
            if path.suffix == ".png":  # never a partial file under a final name
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                assert path.read_bytes()[-8:-4] == b"IEND"
        export(datasets, maps, taxonomy, dest, policies=policies, engine="sequential",
               flat=True)  # fmt: skip
        assert tree_hash(dest) == clean[1], f"trial {trial}"
        assert json.loads((dest / ".unitax" / "export.json").read_text())


@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks this process")
def test_a_dying_pool_worker_stops_the_export_cleanly(
    clean, script, tmp_path, monkeypatch
):
    datasets, maps, taxonomy, policies = _world(script)
    dest = tmp_path / "out"
    real = _export_work._export_one

    def dies_on_one_sample(state, job):
        if job.sample.key.endswith("05"):
            os._exit(1)  # as a worker killed by the OOM killer
        return real(state, job)

    # Forked pool workers inherit the patch.
    monkeypatch.setattr(_export_work, "_export_one", dies_on_one_sample)
    with pytest.raises(ExportError, match="worker process of the pool died"):
        export(datasets, maps, taxonomy, dest, policies=policies,
               engine="process", workers=2, flat=True)  # fmt: skip
    assert not (dest / "manifest.parquet").exists()
    monkeypatch.undo()
    export(datasets, maps, taxonomy, dest, policies=policies, engine="process",
           workers=2, flat=True)  # fmt: skip
    assert tree_hash(dest) == clean[1]


@pytest.mark.parametrize(
    "left", [(), ("export.json.tmp-unitax",)], ids=["folder", "temporary-marker"]
)
def test_resumes_a_claim_killed_before_its_rename(clean, script, tmp_path, left):
    dest = tmp_path / "out"
    (dest / ".unitax").mkdir(parents=True)
    for name in left:
        (dest / ".unitax" / name).write_bytes(b'{"finger')
    datasets, maps, taxonomy, policies = _world(script)
    export(datasets, maps, taxonomy, dest, policies=policies, engine="sequential",
           flat=True)  # fmt: skip
    assert tree_hash(dest) == clean[1]


def test_policy_validation():
    with pytest.raises(ValueError, match="box_core"):
        Policy(box_core=0)
    with pytest.raises(ValueError, match="overlap"):
        Policy(overlap="first")
