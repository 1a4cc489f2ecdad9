"""`Chunked` reads exactly what `json.loads` reads, or declines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitax._json_chunks import Chunked, UnsplitError

# Strings that look like the places where pieces are cut.
TRICKY = ["}, {", "},{", "}]", '"}, {"', "[", "]", '"annotations": [', "\\", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(TRICKY),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "}]", "id"]), inner, max_size=3),
    ),
    max_leaves=12,
)
elements = st.one_of(
    st.dictionaries(st.sampled_from(["id", "x", "y", "}, {"]), values, max_size=4),
    values,
)
separators = st.sampled_from([(", ", ": "), (",", ":"), (" ,\n ", " :\t")])


def _read(chunked: Chunked) -> list[Any] | None:
    try:
        return [element for piece in chunked.pieces() for element in piece]
    except UnsplitError:
        return None


@given(
    before=st.dictionaries(st.sampled_from(["info", "images", "x"]), values),
    array=st.lists(elements, max_size=12),
    after=st.dictionaries(st.sampled_from(["categories", "y"]), values),
    separators=separators,
    indent=st.sampled_from([None, 0, 2]),
    piece=st.integers(1, 64),
)
def test_pieces_are_the_array_or_nothing(
    before: dict[str, Any],
    array: list[Any],
    after: dict[str, Any],
    separators: tuple[str, str],
    indent: int | None,
    piece: int,
) -> None:
    document = {**before, "annotations": array, **after}
    text = json.dumps(document, separators=separators, indent=indent).encode()
    chunked = Chunked.split(text, "annotations", piece=piece)
    if chunked is None:
        return
    rest = {k: v for k, v in document.items() if k != "annotations"}
    assert chunked.document == rest
    found = _read(chunked)
    assert found is None or found == array
    assert chunked.valid() == (found is not None)


@given(
    array=st.lists(
        st.fixed_dictionaries(
            {"id": st.integers(0, 99), "p": st.lists(st.floats(0, 640), max_size=8)}
        ),
        max_size=20,
    ),
    piece=st.integers(1, 200),
)
def test_plain_coco_like_arrays_are_always_split(
    array: list[dict[str, Any]], piece: int
) -> None:
    text = json.dumps({"images": [{"id": 1}], "annotations": array, "n": 1}).encode()
    chunked = Chunked.split(text, "annotations", piece=piece)
    assert chunked is not None
    assert chunked.document == {"images": [{"id": 1}], "n": 1}
    assert _read(chunked) == array


@pytest.mark.parametrize(
    "text",
    [
        b'{"annotations": [{"a": NaN}]}',  # the standard library reads NaN
        b'{"annotations": [{"a": 1}], "annotations": [{"a": 2}]}',  # the last wins
        b'{"info": "\\"annotations\\": [{}]", "annotations": [{"a": 1}]}',
        b'{"info": {"annotations": [{"a": 1}]}, "annotations": [{"a": 2}]}',
        b'{"annotations": {"a": 1}}',
        b'{"annotations": [1, 2]}',
        b'{"annotations": [{"a": 1}',
        b'["annotations", [{"a": 1}]]',
        b'{"annotations": [{"a": 1}]} trailing',
    ],
)
def test_declines_what_it_cannot_prove(text: bytes) -> None:
    chunked = Chunked.split(text, "annotations", piece=1)
    if chunked is None:
        return
    found = _read(chunked)
    expected = json.loads(text)["annotations"]
    assert found is None or found == expected


def test_a_cut_inside_a_nested_array_is_found_out() -> None:
    # The first "}]" ends the nested list, not the array: the piece fails.
    text = b'{"annotations": [{"a": [{"b": 1}], "c": 2}, {"a": []}], "n": 1}'
    chunked = Chunked.split(text, "annotations", piece=1)
    assert chunked is None or _read(chunked) is None


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        (b'{"annotations": [], "n": 1}', {"n": 1}),
        (b'{"annotations": [ \n ]}', {}),
        (b'\xef\xbb\xbf{"annotations": [{"a": 1}]}', {}),
    ],
)
def test_edges(text: bytes, rest: dict[str, Any]) -> None:
    chunked = Chunked.split(text, "annotations")
    assert chunked is not None and chunked.document == rest
    assert (
        _read(chunked) == json.loads(text.removeprefix(b"\xef\xbb\xbf"))["annotations"]
    )


def test_integers_beyond_64_bits_become_floats() -> None:
    # The one documented difference from json.loads.
    text = b'{"annotations": [{"id": 18446744073709551616}]}'
    chunked = Chunked.split(text, "annotations")
    assert chunked is not None
    assert _read(chunked) == [{"id": float(1 << 64)}]
    assert json.loads(text)["annotations"] == [{"id": 1 << 64}]
