from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import unitax as ux  # noqa: E402
from unitax_train.evaluate import (  # noqa: E402
    class_of_sets,
    confusion,
    decode,
    decode_cascade,
    frontier,
    iou,
    label_matrix,
    project,
)

EDGES = [
    ("vehicle", "car"),
    ("vehicle", "bus"),
    ("vehicle", "bike"),
    ("all", "vehicle"),
    ("all", "road"),
]


def logits_for(taxonomy, probabilities):
    """Leaf logits (1, L, 1, 1) with the given leaf probabilities."""
    p = torch.tensor(
        [probabilities[leaf] for leaf in taxonomy.leaves], dtype=torch.float64
    )
    return p.log().view(1, -1, 1, 1)


def test_cascade_and_product_decoding_can_disagree():
    taxonomy = ux.Taxonomy(EDGES)
    # vehicle 0.6 spread thin; road 0.4 is the single most likely leaf
    logits = logits_for(taxonomy, {"car": 0.2, "bus": 0.2, "bike": 0.2, "road": 0.4})
    cascade = decode_cascade(logits, taxonomy)
    assert taxonomy.names[int(cascade)] in {"car", "bus", "bike"}
    leaves, classes = frontier(taxonomy, 2)
    assert leaves[int(decode(logits, torch.from_numpy(classes)))] == "road"
    assert taxonomy.names[int(decode_cascade(logits, taxonomy, depth=1))] == "vehicle"
    assert taxonomy.names[int(decode_cascade(logits, taxonomy, depth=0))] == "all"


def test_frontier_stops_at_a_depth():
    taxonomy = ux.Taxonomy(EDGES)
    assert frontier(taxonomy, 0)[0] == ("all",)
    assert frontier(taxonomy, 1)[0] == ("road", "vehicle")
    names, classes = frontier(taxonomy, 2)
    assert sorted(names) == ["bike", "bus", "car", "road"]
    assert classes.sum(0).tolist() == [1] * len(taxonomy.leaves)  # a partition


def test_miou_per_level():
    taxonomy = ux.Taxonomy(EDGES)
    membership = torch.from_numpy(taxonomy.leaf_matrix())  # the sets: the nodes
    road, car, vehicle = (taxonomy.index(n) for n in ("road", "car", "vehicle"))
    target = torch.tensor([[[road, car, vehicle]]])
    logits = torch.full((1, len(taxonomy.leaves), 1, 3), -5.0)
    logits[0, taxonomy.leaves.index("road"), 0, 0] = 5.0
    logits[0, taxonomy.leaves.index("bus"), 0, 1:] = 5.0  # right vehicle, wrong leaf
    scores = {}
    for depth in (1, 2):
        _, classes = frontier(taxonomy, depth)
        classes = torch.from_numpy(classes)
        truth = class_of_sets(membership, classes)[target]
        counts = confusion(decode(logits, classes), truth, len(classes))
        scores[depth] = float(np.nanmean(iou(counts)))
    assert scores == {1: 1.0, 2: 0.5}  # level 2: road right, car (as bus) wrong


def test_projection_into_a_dataset_label_space_sums_leaves():
    space = ux.LabelSpace.from_names("coarse", ["vehicle", "road", "blur"])
    taxonomy = ux.Taxonomy(EDGES)
    label_map = ux.LabelMap(space, taxonomy, {0: "vehicle", 1: "road", 2: None})
    ids, matrix = label_matrix(label_map)
    assert ids == (0, 1)
    logits = logits_for(taxonomy, {"car": 0.2, "bus": 0.1, "bike": 0.1, "road": 0.6})
    projected = project(logits, torch.from_numpy(matrix))[0, :, 0, 0]
    torch.testing.assert_close(projected, torch.tensor([0.4, 0.6], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(1, 4, 1, 1\).*\(2, 3\)"):
        project(logits, torch.zeros(2, 3, dtype=torch.bool))


def test_class_of_sets_ignores_what_no_single_class_holds():
    classes = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 0]]).bool()
    sets = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]]).bool()
    assert class_of_sets(sets, classes).tolist() == [0, 0, -1, -1]


def test_confusion_and_iou():
    predicted = torch.tensor([0, 0, 1, 1, 2])
    truth = torch.tensor([0, 1, 1, -1, 1])
    counts = confusion(predicted, truth, 3)
    assert counts.tolist() == [[1, 0, 0], [1, 1, 1], [0, 0, 0]]
    result = iou(counts)
    np.testing.assert_allclose(result[:2], [0.5, 1 / 3])
    assert np.isnan(result[2])
    with pytest.raises(ValueError, match=r"\(5,\).*\(4,\)"):
        confusion(predicted, truth[:4], 3)
