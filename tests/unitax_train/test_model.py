from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import unitax as ux  # noqa: E402
from unitax_train.backbone import ResNet, resnet  # noqa: E402
from unitax_train.model import FCN, FlatHead, HierarchicalHead  # noqa: E402

TREE = [
    ("vehicle", "car"),
    ("vehicle", "bus"),
    ("ground", "road"),
    ("ground", "sidewalk"),
]
DAG = [  # muffin has three parents, cake two; 'sweet' and 'dessert' are roots too
    ("food", "muffin"),
    ("food", "bread"),
    ("dessert", "muffin"),
    ("dessert", "cake"),
    ("sweet", "cake"),
    ("sweet", "candy"),
    ("sweet", "muffin"),
    ("all", "food"),
    ("all", "vehicle"),
    ("vehicle", "car"),
    ("vehicle", "bike"),
    ("car", "van"),
]


def head_of(edges, **kwargs):
    taxonomy = ux.Taxonomy(edges, **kwargs)
    return taxonomy, HierarchicalHead.from_taxonomy(8, taxonomy, width=4)


@pytest.mark.parametrize("edges", [TREE, DAG], ids=["tree", "dag"])
def test_hierarchical_probabilities_sum_to_one(edges):
    _, head = head_of(edges, nodes=["sky"])
    generator = torch.Generator().manual_seed(0)
    scores = 5 * torch.randn(
        2, head.channels, 3, 4, generator=generator, dtype=torch.float64
    )
    probabilities = head.leaf_logits(scores).exp()
    torch.testing.assert_close(
        probabilities.sum(1), torch.ones(2, 3, 4, dtype=torch.float64)
    )


@given(st.data())
def test_probabilities_sum_to_one_on_random_dags(data):
    nodes = data.draw(st.integers(2, 9))
    edges = data.draw(
        st.lists(
            st.tuples(st.integers(0, nodes - 1), st.integers(0, nodes - 1)).filter(
                lambda e: e[0] < e[1]
            ),
            max_size=14,
            unique=True,
        )
    )
    taxonomy = ux.Taxonomy(
        [(f"n{a}", f"n{b}") for a, b in edges], nodes=[f"n{i}" for i in range(nodes)]
    )
    head = HierarchicalHead.from_taxonomy(3, taxonomy, width=2)
    scores = 3 * torch.randn(1, head.channels, 2, 2, dtype=torch.float64)
    total = head.leaf_logits(scores).exp().sum(1)
    torch.testing.assert_close(total, torch.ones_like(total))


def test_a_tree_leaf_is_the_product_of_its_conditionals():
    taxonomy, head = head_of(TREE)
    scores = torch.randn(1, head.channels, 1, 1, dtype=torch.float64)
    conditionals = head.log_conditionals(scores).exp()[0, :, 0, 0]
    # classifiers: the top one over the roots (ground, vehicle), then ground, vehicle
    assert head.sizes == (2, 2, 2)
    leaves = head.leaf_logits(scores).exp()[0, :, 0, 0]
    car = taxonomy.leaves.index("car")
    # children are in index order: (ground, vehicle); vehicle's (bus, car)
    assert float(leaves[car]) == pytest.approx(float(conditionals[1] * conditionals[5]))


def test_a_node_with_several_parents_collects_mass_from_each():
    taxonomy, head = head_of(DAG)
    scores = torch.randn(1, head.channels, 1, 1, dtype=torch.float64)
    log_c = head.log_conditionals(scores)[0, :, 0, 0]
    leaves = head.leaf_logits(scores).exp()[0, :, 0, 0]
    blocks = dict(
        zip(
            _classifier_nodes(taxonomy),
            torch.split(log_c.exp(), head.sizes),
            strict=True,
        )
    )

    def conditional(parent, child):
        siblings = (
            list(taxonomy.roots())
            if parent is None
            else list(taxonomy.children(parent))
        )
        return blocks[parent][siblings.index(child)]

    p_all = conditional(None, "all")
    p_food = p_all * conditional("all", "food")
    p_dessert = conditional(None, "dessert")
    p_sweet = conditional(None, "sweet")
    p_muffin = (
        p_food * conditional("food", "muffin")
        + p_dessert * conditional("dessert", "muffin")
        + p_sweet * conditional("sweet", "muffin")
    )
    muffin = taxonomy.leaves.index("muffin")
    assert float(leaves[muffin]) == pytest.approx(float(p_muffin))


def _classifier_nodes(taxonomy):
    roots = [None] if len(taxonomy.roots()) > 1 else []
    return roots + [n for n in taxonomy.names if len(taxonomy.children(n)) > 1]


def test_levels_and_edge_leaves():
    taxonomy, head = head_of([*TREE, ("all", "vehicle"), ("all", "ground")])
    assert head.levels.tolist() == [0, 1, 1]
    assert head.edge_leaves.shape == (head.channels, len(taxonomy.leaves))
    assert head.classifier_leaves[0].all()


def test_resnet_has_output_stride_8_and_torchvision_names():
    net = resnet("resnet18", width=8)
    out = net(torch.zeros(1, 3, 64, 48))
    assert out.shape == (1, net.out_channels, 8, 6)
    names = set(net.state_dict())
    assert {
        "conv1.weight",
        "bn1.running_mean",
        "layer1.0.conv1.weight",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.weight",
    } <= names
    bottleneck = ResNet("bottleneck", (1, 1, 1, 1), width=4)
    assert bottleneck(torch.zeros(1, 3, 32, 32)).shape == (1, 128, 4, 4)
    assert "layer1.0.conv3.weight" in bottleneck.state_dict()


def test_user_weights_load():
    source, target = resnet("resnet18", width=8), resnet("resnet18", width=8)
    state = {**source.state_dict(), "fc.weight": torch.zeros(10, 64)}
    result = target.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["fc.weight"]
    assert torch.equal(target.conv1.weight, source.conv1.weight)


@pytest.mark.parametrize("head", ["flat", "hierarchical"])
def test_fcn_gives_leaf_logits_at_the_input_resolution(head):
    taxonomy = ux.Taxonomy(TREE)
    model = FCN.from_taxonomy(taxonomy, head=head, width=4).eval()
    with torch.no_grad():
        logits = model(torch.zeros(2, 3, 20, 28))
    assert logits.shape == (2, len(taxonomy.leaves), 20, 28)


def test_shape_and_option_errors():
    taxonomy = ux.Taxonomy(TREE)
    model = FCN.from_taxonomy(taxonomy, width=4)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\).*\(1, 1, 8, 8\)"):
        model(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="head must be one of"):
        FCN.from_taxonomy(taxonomy, head="tree")
    with pytest.raises(ValueError, match="channels"):
        FCN(resnet("resnet18", width=4), FlatHead(7, 3))
    with pytest.raises(ValueError, match="cycle"):
        HierarchicalHead(
            2, torch.eye(2, dtype=torch.bool), torch.tensor([[0, 1], [1, 0]])
        )
