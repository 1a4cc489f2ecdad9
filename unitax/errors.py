"""The exception types of unitax, and its warning category.

Every error subclasses `ValueError` too, so that ``except ValueError`` keeps
working. Messages follow one template: what was expected, what was found, and
where (file, line, rule or annotation), with the valid choices or a "did you
mean" suggestion where one helps.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ExportError",
    "FormatError",
    "LabelSpaceError",
    "TaxonomyError",
    "UnitaxError",
    "UnitaxWarning",
]


class UnitaxError(Exception):
    """Base class for all unitax errors."""


class TaxonomyError(UnitaxError, ValueError):
    """Cycle, unknown or duplicate node, or a rule that cannot be satisfied."""


class LabelSpaceError(UnitaxError, ValueError):
    """Duplicate ids or names, void overlapping labels, unknown label reference."""


class FormatError(UnitaxError, ValueError):
    """A file could not be read as the expected format.

    The message starts with the location: ``path:line: ...`` where the line is
    known, else ``path: ...``.
    """


class ExportError(UnitaxError, RuntimeError):
    """An export cannot proceed: the folder holds something else, or I/O failed.

    What was finished before the error stays valid and the export resumes.
    """


class UnitaxWarning(UserWarning):
    """Something suspicious that does not stop the computation."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``.

    >>> did_you_mean("persn", ["person", "rider"])
    "; did you mean 'person'?"
    >>> did_you_mean("zzz", ["person"])
    ''
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
