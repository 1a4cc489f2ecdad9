from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import unitax as ux
from unitax._html import taxonomy_html

VOID = {"br", "hr", "img", "input", "meta", "link"}


class _Checker(HTMLParser):
    """Collects tags, checks nesting and gathers the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack[-1:] == [tag], f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


def _items(text: str) -> list[str]:
    """The visible text of each list item, without nested items."""
    return [
        re.sub(r"<[^>]+>", "", item)
        for item in re.findall(r"<li>(.*?)(?:<ul|</li>)", text)
    ]


MULTI = ux.Taxonomy(
    [
        ("vehicle", "car"),
        ("vehicle", "truck"),
        ("car", "pickup"),
        ("truck", "pickup"),
        ("pickup", "pickup (other)"),
        ("pickup", "crew cab"),
    ],
    nodes=["sky"],
    kinds={
        "pickup (other)": "remainder",
        "vehicle": "concept",
        "crew cab": "intersection",
    },
)


def test_summary_line():
    text = "".join(_parse(taxonomy_html(MULTI)).text)
    assert "7 nodes · 3 leaves · depth 3 · 2 roots · 1 multi-parent nodes" in text


def test_repr_html_is_taxonomy_html():
    assert MULTI._repr_html_() == taxonomy_html(MULTI)


def test_no_scripts_and_inline_styles_only():
    checker = _parse(taxonomy_html(MULTI))
    assert "script" not in checker.tags
    assert "style" not in checker.tags
    assert set(checker.tags) <= {"div", "b", "ul", "li", "details", "summary", "span"}


def test_multi_parent_node_is_expanded_once():
    text = taxonomy_html(MULTI)
    items = _items(text)
    pickups = [
        item for item in items if item.startswith("pickup") and "(other)" not in item
    ]
    assert len(pickups) == 2
    assert sum("(see above)" in item for item in pickups) == 1
    assert all("⋔ 2 parents" in item for item in pickups)
    # the children of the multi-parent node appear once
    assert sum(item.startswith("crew cab") for item in items) == 1
    assert text.count("<details") == 4  # vehicle, car, truck, and pickup once


@pytest.mark.parametrize(
    ("node", "badge"),
    [
        ("vehicle", "concept"),
        ("pickup (other)", "remainder"),
        ("crew cab", "intersection"),
    ],
    ids=["concept", "remainder", "intersection"],
)
def test_kind_badges(node, badge):
    (item,) = [item for item in _items(taxonomy_html(MULTI)) if item.startswith(node)]
    assert badge in item


def test_label_nodes_have_no_badge():
    (item,) = [item for item in _items(taxonomy_html(MULTI)) if item.startswith("sky")]
    assert item == "sky"


def test_leaf_counts_on_inner_nodes():
    (item,) = [
        item for item in _items(taxonomy_html(MULTI)) if item.startswith("vehicle")
    ]
    assert "2 leaves" in item


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", 'a "quoted" & <b>bold</b>', "x'y"],
    ids=["script", "quotes-and-tags", "apostrophe"],
)
def test_names_are_escaped(name):
    text = taxonomy_html(ux.Taxonomy([("parent & <co>", name)]))
    checker = _parse(text)
    assert name in "".join(checker.text)
    assert "parent & <co>" in "".join(checker.text)
    assert "<script>" not in text
    assert "<co>" not in text
    assert set(checker.tags) <= {"div", "b", "ul", "li", "details", "summary", "span"}


@pytest.mark.parametrize(
    ("max_items", "items", "more"),
    [(10, 10, "… 41 more nodes not shown"), (0, 0, "… 51 more nodes not shown"),
     (51, 51, None)],
    ids=["capped", "nothing", "exactly-all"],
)  # fmt: skip
def test_cap(max_items, items, more):
    taxonomy = ux.Taxonomy(
        [("root", f"group {i}") for i in range(5)]
        + [(f"group {i}", f"leaf {i}.{j}") for i in range(5) for j in range(9)]
    )
    assert len(taxonomy) == 51
    text = taxonomy_html(taxonomy, max_items=max_items)
    _parse(text)  # still well formed when cut short
    rendered = [item for item in _items(text) if "more nodes not shown" not in item]
    assert len(rendered) == items
    if more is None:
        assert "more nodes" not in text
    else:
        assert more in text


def test_large_taxonomy_renders_collapsed():
    small = taxonomy_html(ux.Taxonomy([("a", "b")]))
    large = taxonomy_html(ux.Taxonomy([("root", f"n{i}") for i in range(200)]))
    assert "<details open>" in small
    assert "<details open>" not in large
    assert "<details>" in large


def test_negative_cap():
    with pytest.raises(ValueError, match="max_items must be >= 0"):
        taxonomy_html(MULTI, max_items=-1)


def test_builtin_iv2018_renders():
    spaces = [ux.builtin_label_space(n) for n in ("cityscapes", "vistas-v1.2", "gtsdb")]
    taxonomy, _ = ux.unify(spaces, ux.builtin_rules("iv2018"))
    text = taxonomy_html(taxonomy)
    _parse(text)
    assert f"{len(taxonomy)} nodes · 108 leaves" in text
    assert "gtsdb/stop" in text
