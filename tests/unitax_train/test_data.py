from __future__ import annotations

from collections import Counter

import pytest

torch = pytest.importorskip("torch")

from unitax_train.data import Crop, DatasetBatchSampler, ManifestDataset  # noqa: E402
from unitax_train.losses import IGNORE  # noqa: E402


def test_items_hold_normalised_images_and_set_targets(tiny_export):
    dataset = ManifestDataset(tiny_export, splits=["train"])
    assert len(dataset) == 6
    assert sorted(Counter(dataset.dataset_names).items()) == [
        ("coarse", 2),
        ("fine", 2),
        ("tags", 2),
    ]
    taxonomy = tiny_export.taxonomy
    by_name = {
        name: dataset[dataset.dataset_names.index(name)] for name in ("fine", "coarse")
    }
    fine, coarse = by_name["fine"], by_name["coarse"]
    assert fine.image.shape == (3, 32, 32) and fine.image.dtype == torch.float32
    assert fine.target.dtype == torch.int64
    assert float(fine.image.mean().abs()) < 3
    assert set(fine.target.unique().tolist()) <= {
        taxonomy.index(n) for n in ("road", "sidewalk", "car", "bus", "sky")
    }
    assert torch.all(coarse.target[:, :2] == IGNORE)
    assert taxonomy.index("vehicle") in coarse.target.unique().tolist()


def test_tags_become_a_vector_over_the_sets(tiny_export):
    dataset = ManifestDataset(tiny_export, datasets=["tags"])
    item = dataset[0]
    taxonomy = tiny_export.taxonomy
    assert torch.all(item.target == IGNORE)
    assert item.tags[taxonomy.index("car")] == 1
    assert item.tags[taxonomy.index("bus")] == -1
    assert int(item.tags.abs().sum()) == 2


def test_crops_are_seeded_and_keep_the_aspect(tiny_export):
    crop = Crop((16, 24), scale=(0.5, 1.5))
    dataset = ManifestDataset(tiny_export, datasets=["fine"], crops={"fine": crop})
    first, again, other = dataset[0, 7], dataset[0, 7], dataset[0, 8]
    assert first.image.shape == (3, 16, 24) and first.target.shape == (16, 24)
    assert torch.equal(first.image, again.image)
    assert not torch.equal(first.image, other.image) or not torch.equal(
        first.target, other.target
    )
    with pytest.raises(ValueError, match="scale"):
        Crop((16, 16), scale=(2.0, 1.0))


def test_unknown_datasets_are_refused(tiny_export):
    with pytest.raises(ValueError, match="unknown"):
        ManifestDataset(tiny_export, datasets=["fine", "finr"])


def test_set_counts_mark_the_labelled_sets(tiny_export):
    dataset = ManifestDataset(tiny_export, splits=["train"])
    counts = dataset.set_counts()
    taxonomy = tiny_export.taxonomy
    labelled = {taxonomy.names[i] for i in counts.nonzero().squeeze(1).tolist()}
    assert labelled == {"road", "sidewalk", "car", "bus", "sky", "ground", "vehicle"}


def test_batches_fix_the_count_of_each_dataset():
    names = ["a"] * 5 + ["b"] * 2 + ["c"] * 3
    sampler = DatasetBatchSampler(
        names, {"a": 2, "b": 1, "c": 1}, generator=torch.Generator().manual_seed(0)
    )
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2  # an epoch: 5 // 2 reference batches
    for batch in batches:
        counts = Counter(names[index] for index, _ in batch)
        assert counts == {"a": 2, "b": 1, "c": 1}
    reference = [
        index for batch in batches for index, _ in batch if names[index] == "a"
    ]
    assert len(set(reference)) == 4
    again = list(
        DatasetBatchSampler(
            names, {"a": 2, "b": 1, "c": 1}, generator=torch.Generator().manual_seed(0)
        )
    )
    assert again == batches


def test_batch_sampler_errors():
    generator = torch.Generator()
    with pytest.raises(ValueError, match="reference"):
        DatasetBatchSampler(["a"], {"a": 1}, reference="b", generator=generator)
    with pytest.raises(ValueError, match="without items"):
        DatasetBatchSampler(["a"], {"a": 1, "z": 1}, generator=generator)
    with pytest.raises(ValueError, match="positive"):
        DatasetBatchSampler(["a"], {"a": 0}, generator=generator)
