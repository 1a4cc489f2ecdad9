from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from unitax_train.data import ManifestDataset  # noqa: E402
from unitax_train.losses import marginal_nll  # noqa: E402
from unitax_train.train import TrainConfig, build_model, fit, main  # noqa: E402

BATCH = {"fine": 1, "coarse": 1, "tags": 1}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run faster (and steadier on busy machines) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config(tmp_path: Path, **options) -> TrainConfig:
    return TrainConfig.from_dict(
        {
            "batch": BATCH,
            "width": 8,
            "adaptation": 8,
            "epochs": 30,
            "learning_rate": 0.05,
            "output": str(tmp_path / "run"),
            "log_every": 1000,
            **options,
        }
    )


@pytest.mark.parametrize(
    ("head", "loss"),
    [("flat", "marginal"), ("hierarchical", "per_path")],
    ids=["flat-marginal", "hierarchical-per-path"],
)
def test_a_tiny_model_overfits_a_tiny_export(tiny_export, tmp_path, head, loss):
    dataset = ManifestDataset(tiny_export, splits=["train"])
    settings = config(tmp_path, head=head, loss=loss)
    model = build_model(tiny_export.taxonomy, settings)
    history = fit(
        model,
        dataset,
        config=settings,
        device="cpu",
        generator=torch.Generator().manual_seed(0),
    )
    assert len(history) == 60
    assert history[-1]["loss"] < 0.25 * history[0]["loss"]
    model.eval()
    table = dataset.set_table
    with torch.no_grad():
        for index, name in enumerate(dataset.dataset_names):
            if name == "tags":
                continue
            item = dataset[index]
            logits = model(item.image[None])
            assert float(marginal_nll(logits, item.target[None], table)) < 0.3
            if name == "fine":
                supervised = item.target >= 0
                predicted = logits.argmax(1)[0][supervised]
                expected = table.leaf[item.target[supervised]]
                assert float((predicted == expected).float().mean()) > 0.95
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_fit_is_deterministic_and_resumes(tiny_export, tmp_path):
    dataset = ManifestDataset(tiny_export, splits=["train"])
    settings = config(tmp_path, epochs=3, checkpoint_every=2)
    runs = []
    for _ in range(2):
        model = build_model(tiny_export.taxonomy, settings)
        runs.append(
            fit(
                model,
                dataset,
                config=settings,
                device="cpu",
                generator=torch.Generator().manual_seed(1),
            )
        )
    assert runs[0] == runs[1]
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert state["iteration"] == 6 and state["config"]["width"] == 8
    more = TrainConfig.from_dict({**state["config"], "epochs": 4, "resume": True})
    model = build_model(tiny_export.taxonomy, more)
    history = fit(
        model,
        dataset,
        config=more,
        device="cpu",
        generator=torch.Generator().manual_seed(1),
    )
    assert [h["iteration"] for h in history] == [7, 8]
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_main_reads_a_yaml_or_json_config(tiny_export, tmp_path, caplog):
    path = tmp_path / "train.json"
    path.write_text(
        json.dumps(
            {
                "export": str(tiny_export.root),
                "output": "out",
                "batch": BATCH,
                "splits": ["train"],
                "width": 4,
                "adaptation": 4,
                "iterations": 2,
                "crop": [24, 24],
                "zoom": {"coarse": [0.8, 1.2]},
                "head": "hierarchical",
                "loss": "marginal",
                "weak": ["coarse"],
                "gate": True,
                "log_every": 1,
            }
        )
    )
    with caplog.at_level(logging.INFO, logger="unitax_train.train"):
        main(path)
    assert (tmp_path / "out" / "checkpoint.pt").is_file()
    assert "iteration 2/2" in caplog.text


def test_config_errors():
    with pytest.raises(ValueError, match="needs head 'hierarchical'"):
        TrainConfig.from_dict({"batch": BATCH, "loss": "per_path"})
    with pytest.raises(ValueError, match="unknown training options"):
        TrainConfig.from_dict({"batch": BATCH, "lerning_rate": 0.1})
    with pytest.raises(ValueError, match="batch"):
        TrainConfig.from_dict({"batch": {}})
    with pytest.raises(ValueError, match="head must be one of"):
        TrainConfig.from_dict({"batch": BATCH, "head": "tree"})
