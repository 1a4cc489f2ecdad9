from __future__ import annotations

import json

import pytest

import unitax as ux
from unitax.errors import FormatError, LabelSpaceError
from unitax.labels import write_label_space


def test_from_names_assigns_positions_as_ids():
    space = ux.LabelSpace.from_names("toy", ["road", "car"], void=[255])
    assert space.ids == (0, 1)
    assert space.names == ("road", "car")
    assert space.void == frozenset({255})
    assert space.by_id(1).name == "car"
    assert space.by_name("road").id == 0


def test_label_space_is_frozen_and_hashable():
    space = ux.LabelSpace.from_names("toy", ["road"])
    with pytest.raises(ValueError, match="frozen"):
        space.name = "other"  # type: ignore[misc]
    assert hash(space) == hash(ux.LabelSpace.from_names("toy", ["road"]))


def _labels(*pairs):
    return tuple(ux.Label(id=i, name=n) for i, n in pairs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"labels": _labels((0, "a"), (0, "b"))}, r"ids must be unique.*\[0\]"),
        ({"labels": _labels((0, "a"), (1, "a"))}, r"names must be unique.*'a'"),
        ({"labels": _labels((0, "a")), "void": {0}}, r"void ids must not be label ids"),
        (
            {"labels": (ux.Label(id=0, name="car", parents=("vehicel",)),)},
            r"parent 'vehicel'.*not a label",
        ),
        (
            {
                "labels": (
                    ux.Label(id=0, name="a", parents=("b",)),
                    ux.Label(id=1, name="b", parents=("a",)),
                )
            },
            r"parents must form a DAG.*cycle",
        ),
    ],
    ids=["duplicate-id", "duplicate-name", "void-is-label", "unknown-parent", "cycle"],
)
def test_invalid_label_space(kwargs, match):
    with pytest.raises(LabelSpaceError, match=match):
        ux.LabelSpace(name="toy", **kwargs)


@pytest.mark.parametrize(
    ("name", "match"),
    [("Cityscapes", "lowercase"), ("a/b", "lowercase"), ("", "lowercase")],
    ids=["upper", "slash", "empty"],
)
def test_invalid_space_name(name, match):
    with pytest.raises(LabelSpaceError, match=match):
        ux.LabelSpace(name=name, labels=())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"id": 0, "name": " road"}, LabelSpaceError, "white space"),
        ({"id": 0, "name": "road", "color": (0, 0, 300)}, LabelSpaceError, "0..255"),
        ({"id": 0, "name": ""}, ValueError, "at least 1 character"),
        ({"id": "x", "name": "road"}, ValueError, "valid integer"),
    ],
    ids=["whitespace", "color-range", "empty-name", "id-type"],
)
def test_invalid_label(kwargs, error, match):
    with pytest.raises(error, match=match):
        ux.Label(**kwargs)


def test_lookup_errors_suggest():
    space = ux.LabelSpace.from_names("toy", ["person", "rider"], void=[255])
    with pytest.raises(LabelSpaceError, match="did you mean 'person'"):
        space.by_name("persn")
    with pytest.raises(LabelSpaceError, match="void id"):
        space.by_id(255)
    with pytest.raises(LabelSpaceError, match="not a label id"):
        space.by_id(7)


def test_write_read_round_trip(tmp_path):
    space = ux.LabelSpace(
        name="toy",
        labels=(
            ux.Label(id=1, name="vehicle", color=(1, 2, 3), category="things"),
            ux.Label(id=2, name="car", parents=("vehicle",), synonyms=("auto",)),
            ux.Label(id=3, name="Car", code="/m/0k4j"),
        ),
        void=frozenset({0}),
        exhaustive=False,
    )
    path = write_label_space(space, tmp_path / "toy.json", origin="made up")
    assert ux.read_label_space(path) == space
    assert json.loads(path.read_text())["origin"] == "made up"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"name": "toy", "labels": [', r"toy\.json:1: invalid JSON"),
        ('{"name": "toy",\n "labels": [{"id": 1}]}', r"toy\.json:2: labels\[0\]\.name"),
        ('{"name": "toy", "labels": [], "colour": 1}', r"colour: Extra inputs"),
        (
            (
                '{"name": "toy",\n "labels": [{"id": 1, "name": "a"},\n'
                ' {"id": 1, "name": "b"}]}'
            ),
            r"toy\.json.*ids must be unique",
        ),
    ],
    ids=["truncated", "missing-name", "unknown-key", "duplicate-id"],
)
def test_read_label_space_errors(tmp_path, text, match):
    path = tmp_path / "toy.json"
    path.write_text(text)
    with pytest.raises(FormatError, match=match):
        ux.read_label_space(path)


def test_read_label_space_yaml_and_non_utf8(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text("name: toy\nlabels:\n  - {id: 1, name: road}\nvoid: [0]\n")
    assert ux.read_label_space(path).by_id(1).name == "road"
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"name": "t\xff"}')
    with pytest.raises(FormatError, match="UTF-8"):
        ux.read_label_space(bad)
