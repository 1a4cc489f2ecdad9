from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402, N812

from unitax_train.losses import (  # noqa: E402
    IGNORE,
    SetTable,
    gate_weak,
    marginal_nll,
    per_path_nll,
    tag_nll,
)
from unitax_train.model import HierarchicalHead  # noqa: E402

LEAVES = 6
# sets: the 6 leaves, {0,1}, {2,3,4}, {1..5} (large: 5 of 6), all, then a
# mixture 0.25 * set 6 + 0.75 * set 2
ROWS = [[i] for i in range(LEAVES)] + [
    [0, 1],
    [2, 3, 4],
    [1, 2, 3, 4, 5],
    list(range(6)),
]


def table() -> SetTable:
    membership = torch.zeros(len(ROWS) + 1, LEAVES, dtype=torch.bool)
    for index, row in enumerate(ROWS):
        membership[index, row] = True
    membership[-1] = membership[6] | membership[2]
    components = torch.full((len(ROWS) + 1, 2), -1)
    components[: len(ROWS), 0] = torch.arange(len(ROWS))
    components[-1] = torch.tensor([6, 2])
    weights = torch.zeros(len(ROWS) + 1, 2)
    weights[: len(ROWS), 0] = 1.0
    weights[-1] = torch.tensor([0.25, 0.75])
    return SetTable(membership, components, weights, torch.ones_like(membership))


def naive(logits, target, sets: SetTable):
    """Reference: plain autograd over a masked logsumexp, one slot at a time."""
    valid = target != IGNORE
    safe = torch.where(valid, target, 0)
    log_p = torch.log_softmax(logits, 1)
    loss = torch.zeros(target.shape, dtype=logits.dtype)
    for slot in range(sets.components.shape[1]):
        chosen = sets.components[safe, slot].clamp_min(0)
        weight = sets.weights[safe, slot].to(logits.dtype)
        mask = sets.membership[chosen].permute(0, 3, 1, 2)
        log_ps = torch.logsumexp(log_p.masked_fill(~mask, -torch.inf), 1)
        loss = loss - torch.where(weight > 0, weight * log_ps, 0.0)
    return torch.where(valid, loss, 0.0)


def problem(seed: int, *, scale: float = 1.0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, LEAVES, 5, 7, generator=generator, dtype=torch.float64)
    target = torch.randint(-1, len(ROWS) + 1, (3, 5, 7), generator=generator)
    return (logits * scale).requires_grad_(), target


@pytest.mark.parametrize("scale", [1.0, 8.0, 40.0], ids=["calm", "sharp", "extreme"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_marginal_nll_and_its_gradient_equal_the_reference(seed, scale):
    logits, target = problem(seed, scale=scale)
    sets = table()
    ours = marginal_nll(logits, target, sets, reduction="none")
    reference = naive(logits, target, sets)
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    weights = torch.rand(target.shape, dtype=torch.float64)
    (ours_grad,) = torch.autograd.grad((ours * weights).sum(), logits)
    (reference_grad,) = torch.autograd.grad((reference * weights).sum(), logits)
    torch.testing.assert_close(ours_grad, reference_grad, rtol=0, atol=1e-6)


def test_gradcheck_on_every_kind_of_set():
    logits, target = problem(3)
    assert torch.autograd.gradcheck(
        lambda x: marginal_nll(x, target, table()), (logits,)
    )


def test_large_set_falls_back_where_its_complement_is_likely():
    # set 8 = leaves 1..5; make leaf 0 (the complement) near certain
    logits = torch.zeros(1, LEAVES, 1, 2, dtype=torch.float64)
    logits[0, 0, 0, 0] = 30.0  # p(not S) ~ 1: the fallback path
    logits[0, 0, 0, 1] = -30.0  # p(not S) ~ 0: the complement path
    logits.requires_grad_()
    target = torch.full((1, 1, 2), 8)
    ours = marginal_nll(logits, target, table(), reduction="none")
    reference = naive(logits, target, table())
    torch.testing.assert_close(ours, reference, rtol=1e-9, atol=1e-9)
    # -log(5 / (e^30 + 5)) = 30 - log 5 (+ a negligible term)
    assert float(ours.detach()[0, 0, 0]) == pytest.approx(30.0 - math.log(5), abs=1e-9)
    (grad,) = torch.autograd.grad(ours.sum(), logits)
    (expected,) = torch.autograd.grad(reference.sum(), logits)
    torch.testing.assert_close(grad, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equals_cross_entropy_on_leaf_targets(dtype):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, LEAVES, 4, 4, generator=generator, dtype=dtype)
    target = torch.randint(-1, LEAVES, (2, 4, 4), generator=generator)
    ours = logits.clone().requires_grad_()
    theirs = logits.clone().requires_grad_()
    loss = marginal_nll(ours, target, table())
    expected = F.cross_entropy(theirs, target, ignore_index=IGNORE)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(ours.grad, theirs.grad)


def test_reductions_and_the_all_leaves_set():
    logits, target = problem(4)
    per_pixel = marginal_nll(logits, target, table(), reduction="none")
    assert torch.all(per_pixel[target == IGNORE] == 0)
    assert torch.all(per_pixel[target == 9].abs() < 1e-12)  # all leaves: sure
    valid = int((target != IGNORE).sum())
    total = marginal_nll(logits, target, table(), reduction="sum")
    mean = marginal_nll(logits, target, table())
    torch.testing.assert_close(total, per_pixel.sum())
    torch.testing.assert_close(mean, per_pixel.sum() / valid)


def test_all_ignored_gives_zero_and_no_gradient():
    logits = torch.randn(1, LEAVES, 2, 2, requires_grad=True)
    loss = marginal_nll(logits, torch.full((1, 2, 2), IGNORE), table())
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.all(logits.grad == 0)


@pytest.mark.parametrize(
    ("logits_shape", "target_shape"),
    [
        ((2, LEAVES, 4, 4), (2, 4, 5)),
        ((2, LEAVES, 4, 4), (4, 4)),
        ((1, 5, 4, 4), (1, 4, 4)),
    ],
    ids=["width", "no-batch", "leaves"],
)
def test_shape_errors_name_both_shapes(logits_shape, target_shape):
    logits = torch.zeros(logits_shape)
    target = torch.zeros(target_shape, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"\(.*\).*\(.*\)") as info:
        marginal_nll(logits, target, table())
    message = str(info.value)
    assert str(tuple(logits_shape)) in message


def test_target_errors():
    logits = torch.zeros(1, LEAVES, 2, 2)
    with pytest.raises(ValueError, match="int64"):
        marginal_nll(logits, torch.zeros(1, 2, 2, dtype=torch.int32), table())
    with pytest.raises(ValueError, match="set indices"):
        marginal_nll(logits, torch.full((1, 2, 2), 99), table())
    with pytest.raises(ValueError, match="reduction"):
        marginal_nll(
            logits, torch.zeros(1, 2, 2, dtype=torch.int64), table(), reduction="avg"
        )


def test_set_table_checks_its_shapes():
    membership = torch.eye(3, dtype=torch.bool)
    with pytest.raises(ValueError, match="gates"):
        SetTable(
            membership,
            torch.zeros(3, 1, dtype=torch.int64),
            torch.ones(3, 1),
            torch.ones(2, 3, dtype=torch.bool),
        )
    with pytest.raises(ValueError, match="components and weights"):
        SetTable(
            membership,
            torch.zeros(3, 1, dtype=torch.int64),
            torch.ones(3, 2),
            membership,
        )


def tree_head():
    # root -> {a, b}; a -> {a1, a2}; b -> {b1, b2, b3}; leaves a1 a2 b1 b2 b3
    names = ["root", "a", "b", "a1", "a2", "b1", "b2", "b3"]
    edges = [
        ("root", "a"),
        ("root", "b"),
        ("a", "a1"),
        ("a", "a2"),
        ("b", "b1"),
        ("b", "b2"),
        ("b", "b3"),
    ]
    index = {name: i for i, name in enumerate(names)}
    leaves = ["a1", "a2", "b1", "b2", "b3"]
    matrix = torch.zeros(len(names), len(leaves), dtype=torch.bool)
    below = {"root": leaves, "a": ["a1", "a2"], "b": ["b1", "b2", "b3"]}
    for name in names:
        for leaf in below.get(name, [name]):
            matrix[index[name], leaves.index(leaf)] = True
    edge_tensor = torch.tensor([[index[p], index[c]] for p, c in edges]).T
    return HierarchicalHead(4, matrix, edge_tensor, width=2), matrix


def test_per_path_loss_trains_the_classifiers_on_the_path():
    head, matrix = tree_head()
    sets = SetTable.from_membership(matrix)
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(
        1, head.channels, 1, 3, generator=generator, dtype=torch.float64
    )
    # pixels: leaf b2 (index 6), node a (1), the root (0: trains nothing)
    target = torch.tensor([[[6, 1, 0]]])
    loss = per_path_nll(scores, target, head, sets, level_weights=(1.0, 0.1))
    root, _, b = torch.split(scores, list(head.sizes), 1)
    expected = 1.0 * F.cross_entropy(
        root[..., :2], torch.tensor([[[1, 0]]])
    ) + 0.1 * F.cross_entropy(b[..., :1], torch.tensor([[[1]]]))
    assert head.sizes == (2, 2, 3)
    torch.testing.assert_close(loss, expected)


def test_trainable_keeps_out_a_classifier_with_one_labelled_child():
    head, matrix = tree_head()
    labelled = matrix[[3, 4, 5, 6]]  # a1, a2, b1, b2: b3 never labelled
    assert head.trainable(labelled).tolist() == [True, True, True]
    labelled = matrix[[3, 5, 6]]  # a2 never labelled: classifier a has one child
    assert head.trainable(labelled).tolist() == [True, False, True]
    head_loss = per_path_nll(
        torch.zeros(1, head.channels, 1, 1),
        torch.tensor([[[3]]]),
        head,
        SetTable.from_membership(matrix),
        classifiers=head.trainable(labelled),
    )
    root_only = F.cross_entropy(torch.zeros(1, 2, 1, 1), torch.tensor([[[0]]]))
    torch.testing.assert_close(head_loss, root_only)


def test_per_path_loss_rejects_leaf_logits():
    head, matrix = tree_head()
    with pytest.raises(ValueError, match="channels"):
        per_path_nll(
            torch.zeros(1, 5, 2, 2),
            torch.zeros(1, 2, 2, dtype=torch.int64),
            head,
            SetTable.from_membership(matrix),
        )


def test_tag_loss():
    sets = table()
    logits = torch.zeros(1, LEAVES, 2, 2, dtype=torch.float64)
    logits[0, 0, 0, 0] = 5.0  # leaf 0 likely at one pixel
    tags = torch.zeros(1, len(ROWS) + 1, dtype=torch.int8)
    tags[0, 0] = 1
    positive = tag_nll(logits, tags, sets)
    expected = -torch.log_softmax(logits, 1)[0, 0, 0, 0]
    torch.testing.assert_close(positive, expected)
    tags[0, 0] = -1
    negative = tag_nll(logits, tags, sets)
    p = torch.softmax(logits, 1)[0, 0]
    torch.testing.assert_close(negative, -torch.log1p(-p).mean())
    assert float(tag_nll(logits, torch.zeros_like(tags), sets)) == 0.0
    with pytest.raises(ValueError, match="tags"):
        tag_nll(logits, tags[:, :3], sets)


def test_gate_weak_keeps_weak_pixels_where_the_parent_is_predicted():
    membership = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]).bool()
    gates = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 0], [1, 1, 1]]).bool()
    sets = SetTable(membership, torch.arange(4)[:, None], torch.ones(4, 1), gates)
    logits = torch.zeros(2, 3, 1, 2)
    logits[:, 0, 0, 0] = 1.0  # predicts leaf 0 (inside the parent of set 1)
    logits[:, 2, 0, 1] = 1.0  # predicts leaf 2 (outside it)
    target = torch.tensor([[[1, 1]], [[1, 1]]])
    gated = gate_weak(logits, target, sets, weak=torch.tensor([True, False]))
    assert gated.tolist() == [[[1, IGNORE]], [[1, 1]]]
    with pytest.raises(ValueError, match="weak"):
        gate_weak(logits, target, sets, weak=torch.tensor([True]))


def test_set_table_from_export(tiny_export):
    sets = SetTable.from_export(tiny_export)
    taxonomy = tiny_export.taxonomy
    assert sets.membership.shape == (len(taxonomy), len(taxonomy.leaves))
    car = taxonomy.index("car")
    vehicle = taxonomy.index("vehicle")
    assert sets.leaf[car] == taxonomy.leaves.index("car")
    assert sets.leaf[vehicle] == -1
    assert torch.equal(sets.gates[car], sets.membership[vehicle])
    assert torch.all(sets.gates[vehicle])  # a root: every leaf


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_marginal_nll_on_cuda_matches_cpu():
    logits, target = problem(5)
    cpu = marginal_nll(logits, target, table())
    (cpu_grad,) = torch.autograd.grad(cpu, logits)
    on_device = logits.detach().cuda().requires_grad_()
    gpu = marginal_nll(on_device, target.cuda(), table().to("cuda"))
    (gpu_grad,) = torch.autograd.grad(gpu, on_device)
    torch.testing.assert_close(gpu.cpu(), cpu)
    torch.testing.assert_close(gpu_grad.cpu(), cpu_grad)
