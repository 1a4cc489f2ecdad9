from __future__ import annotations

import pytest

import unitax as ux
from unitax.errors import FormatError
from unitax.rules import (
    Concept,
    Ignore,
    IsA,
    Overlap,
    Same,
    Split,
    describe,
    normalize_name,
    parse_reference,
    read_rules,
    same_names,
    write_rules,
)

ALL_KINDS = (
    Same(labels=("a/x", "b/x"), name="x", reason="same thing"),
    IsA(child="a/x", parent="b/y"),
    Split(whole="a/road", parts=("b/road", "b/crosswalk")),
    Overlap(labels=("a/van", "b/truck"), name="pickup"),
    Ignore(label="a/ego vehicle", reason="not a scene class"),
    Concept(name="driveable"),
)


@pytest.mark.parametrize("suffix", [".yaml", ".json"], ids=["yaml", "json"])
def test_write_read_round_trip(tmp_path, suffix):
    path = write_rules(ALL_KINDS, tmp_path / f"rules{suffix}", description="test")
    rules = read_rules(path)
    assert rules == ALL_KINDS
    assert describe(rules[1]).endswith(f"at rules{suffix}:{_line(path, 'is_a')}")


def _line(path, kind):
    lines = path.read_text().splitlines()
    # the rule starts at the line holding its first key ('- kind: ...' or '{')
    for number, line in enumerate(lines, 1):
        if f'"{kind}"' in line or f"kind: {kind}" in line:
            while not lines[number - 1].lstrip().startswith(("-", "{")):
                number -= 1  # JSON: the object opens on a line above
            return number
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "rules:\n  - kind: is_a\n    child: a/x\n",
            r"rules\.yaml:2: rules\[0\]\.is_a\.parent",
        ),
        ("rules:\n  - kind: merge\n    labels: [a/x]\n", r"rules\.yaml:2:.*'merge'"),
        (
            "rules:\n  - kind: split\n    whole: a/x\n    parts: [b/y]\n",
            r":4:.*at least 2",
        ),
        (
            "rules:\n  - {kind: same, labels: [a/x], colour: red}\n",
            r"colour.*Extra inputs",
        ),
        ("rules: [\n", r"rules\.yaml:2: invalid YAML"),
        ("schema_version: 2\nrules: []\n", r":1: schema_version"),
        ("rules:\n  - kind: concept\n    name: a/b\n", r"without '/'"),
        ("rules:\n  - kind: same\n    labels: [' a/x']\n", r"trimmed"),
    ],
    ids=[
        "missing-field",
        "unknown-kind",
        "split-one-part",
        "unknown-key",
        "bad-yaml",
        "version",
        "concept-slash",
        "untrimmed-ref",
    ],
)
def test_read_rules_errors(tmp_path, text, match):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(FormatError, match=match):
        read_rules(path)


def test_read_rules_json_error_line(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(
        '{"rules": [\n {"kind": "is_a", "child": "a/x"},\n {"kind": "x"}\n]}'
    )
    with pytest.raises(FormatError, match=r"rules\.json:2: rules\[0\]\.is_a\.parent"):
        read_rules(path)
    path.write_text('{"rules": [\n {"kind": "is_a",, }]}')
    with pytest.raises(FormatError, match=r"rules\.json:2: invalid JSON"):
        read_rules(path)


def test_rules_are_frozen_values():
    rule = IsA(child="a/x", parent="b/y")
    assert rule == IsA(child="a/x", parent="b/y")
    assert rule.references == ("a/x", "b/y")
    with pytest.raises(ValueError, match="frozen"):
        rule.child = "c/z"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("construction--flat--road", "road"),
        ("Traffic_Signs", "traffic sign"),
        ("traffic-sign", "traffic sign"),
        ("buses", "bus"),
        ("bus", "bus"),
        ("glasses", "glass"),
        ("bicycles", "bicycle"),
        ("ponies", "pony"),
        ("grass", "grass"),
        ("Person", "person"),
    ],
    ids=lambda value: value,
)
def test_normalize_name(name, expected):
    assert normalize_name(name) == expected


def test_same_names_is_reviewable_and_skips_within_space_pairs():
    a = ux.LabelSpace.from_names("a", ["car", "Car", "road"])
    b = ux.LabelSpace.from_names("b", ["cars", "Road"])
    rules = same_names([b, a])
    assert rules == (
        Same(labels=("a/road", "b/Road"), name="road", reason="same normalised name"),
    )


def test_parse_reference_splits_at_first_slash():
    assert parse_reference("a/b/c") == ("a", "b/c")
    assert parse_reference("x") == (None, "x")
