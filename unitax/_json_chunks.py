"""A JSON document whose one big array is parsed piece by piece.

A COCO file is mostly its ``annotations`` array. Parsed whole by orjson, the
parser's own tree of the document lives beside the Python objects it
becomes (1.5x the memory of the standard library's parser); parsed by the
standard library, it takes twice as long. `Chunked` parses the rest of the
document (the *skeleton*) once, and the big array in pieces of about
``piece`` bytes, each as a document of its own, so that the parser's tree
never holds more than one piece and a reader can use and drop each piece's
objects before the next is made.

Pieces are cut where the text looks like the end of one object and the start
of the next (``}``, a comma, ``{``). Nothing is assumed about the text: the
array's extent is verified by parsing the skeleton, in which a random marker
stands for the array and must come back as the document's value for the
key, and each cut by parsing its piece. If every piece parses as an array,
the pieces' elements are exactly the array's: a cut inside a string or a
nested value leaves a piece that does not parse. Anything unexpected (no such
key, a cut in the wrong place, text that orjson refuses but the standard
library accepts, such as ``NaN``) makes `Chunked.split` return ``None`` or
`Chunked.pieces` raise `UnsplitError`, and the caller parses the document the
slow way, which also gives the best error messages.

One difference remains: an integer beyond 64 bits, which the standard
library reads as an int, orjson reads as the nearest float. Readers that
accept ids only of 64 bits, and numbers as floats, see no difference but the
way a refused value is printed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import orjson

__all__ = ["Chunked", "UnsplitError"]

_CUT = re.compile(rb"\}\s*,\s*\{")  # between two objects of an array
_END = re.compile(rb"\}\s*\]")  # the last object, then the array's end
_EMPTY = re.compile(rb"\s*\]")  # an array with nothing in it
_BOM = b"\xef\xbb\xbf"


class UnsplitError(Exception):
    """The document cannot be read piece by piece; read it whole."""


class Chunked:
    """``document`` without ``document[key]``, whose array is read by `pieces`.

    Examples
    --------
    >>> text = b'{"a": [{"x": 1}, {"x": 2}, {"x": 3}], "b": 4}'
    >>> chunked = Chunked.split(text, "a", piece=1)
    >>> chunked.document
    {'b': 4}
    >>> list(chunked.pieces())
    [[{'x': 1}], [{'x': 2}], [{'x': 3}]]
    >>> Chunked.split(b'{"a": [NaN]}', "a") is None  # not for orjson
    True
    """

    def __init__(
        self, document: dict[str, Any], data: bytes, spans: list[tuple[int, int]]
    ) -> None:
        self.document = document
        self._data = memoryview(data)
        self._spans = spans  # (start, stop) of each piece in data

    @classmethod
    def split(cls, data: bytes, key: str, *, piece: int = 1 << 20) -> Chunked | None:
        """Find the array ``document[key]`` in ``data`` and cut it into pieces.

        Returns ``None`` where the document does not have the expected shape;
        the pieces themselves are parsed, and checked, by `pieces`.
        """
        start = 3 if data.startswith(_BOM) else 0
        found = re.compile(rb'"%s"\s*:\s*\[' % re.escape(key.encode())).search(
            data, start
        )
        if found is None:
            return None
        first = found.end()  # the array's content starts here
        end = _EMPTY.match(data, first) or _END.search(data, first)
        if end is None:
            return None
        stop, after = end.end() - 1, end.end()  # the array's "]", and past it
        marker = secrets.token_hex(16)
        skeleton = b"".join(
            (data[start : found.end() - 1], b'"%s"' % marker.encode(), data[after:])
        )
        try:
            document = orjson.loads(skeleton)
        except orjson.JSONDecodeError:
            return None
        if type(document) is not dict or document.get(key) != marker:
            return None
        del document[key]
        spans, begin = [], first
        while begin + piece < stop:
            cut = _CUT.search(data, begin + piece, stop)
            if cut is None:
                break
            comma = data.index(b",", cut.start())
            spans.append((begin, comma))
            begin = comma + 1
        spans.append((begin, stop))
        return cls(document, data, spans)

    def pieces(self) -> Iterator[list[Any]]:
        """The array's elements, one piece at a time.

        Raises
        ------
        UnsplitError
            If a piece does not parse: the cuts were wrong, or the array is
            not valid JSON for orjson. Read the whole document instead.
        """
        data = self._data
        for a, b in self._spans:
            try:
                yield orjson.loads(b"".join((b"[", data[a:b], b"]")))
            except orjson.JSONDecodeError as err:
                raise UnsplitError(str(err)) from err

    def valid(self) -> bool:
        """Whether every piece parses (what `pieces` would find, without keeping it)."""
        try:
            for _ in self.pieces():
                pass
        except UnsplitError:
            return False
        return True
