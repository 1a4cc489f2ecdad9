"""Helpers shared by the importers: text files, label references, rule origins."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from unitax.errors import FormatError, did_you_mean
from unitax.labels import LabelSpace
from unitax.rules import Concept, Ignore, IsA, Overlap, Same, Split

_R = TypeVar("_R", bound=Same | IsA | Split | Overlap | Ignore | Concept)


def label_reference(space: LabelSpace, name: str, where: str) -> str:
    """The reference ``space/name``, or a `FormatError` with a suggestion."""
    if name not in space._by_name():
        raise FormatError(
            f"{where}: expected a label of {space.name!r}, got {name!r}"
            + did_you_mean(name, space.names)
        )
    return f"{space.name}/{name}"


def at(rule: _R, path: Path, line: int | None) -> _R:
    """Remember where ``rule`` comes from, for `unify`'s error messages."""
    rule._where = f"{path.name}:{line}" if line else path.name
    return rule
