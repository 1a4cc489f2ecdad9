"""What every reader shares: the error policy, accounting, and safe paths.

Error policy
------------
``errors="strict"`` (the default) raises `FormatError` at the first problem,
naming the file and the location (line, annotation id or image id).
``errors="lenient"`` skips what it cannot use and records a `Skip` with the
reason; `Dataset.read` then equals usable plus skipped annotations, exactly.

Paths
-----
File names found inside annotation files are resolved under the dataset
root and must stay there: absolute names, ``..`` and symbolic links that
lead out of the root are errors (or skips). Inputs are only ever read.

Text files are read with `unitax._files.read_text`: UTF-8, a `FormatError`
naming the file (and the line) if it cannot be read or decoded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from unitax.annotations import Skip
from unitax.errors import FormatError

__all__ = ["Errors", "Ledger", "inside"]

Errors = Literal["strict", "lenient"]


class Ledger:
    """Counts annotations as a reader meets them, and records what it skips.

    Examples
    --------
    >>> ledger = Ledger("lenient")
    >>> ledger.found(3)
    >>> ledger.skip("a.json: annotation 7", "box has negative width")
    >>> ledger.read, [s.reason for s in ledger.skipped]
    (3, ['box has negative width'])
    """

    def __init__(self, errors: Errors) -> None:
        if errors not in ("strict", "lenient"):
            raise ValueError(f"errors must be 'strict' or 'lenient', got {errors!r}")
        self.errors = errors
        self.read = 0
        self.skipped: list[Skip] = []

    def found(self, count: int = 1) -> None:
        """Count ``count`` annotations read from the files."""
        self.read += count

    def skip(self, where: str, reason: str, *, count: int = 1) -> None:
        """Skip ``count`` annotations; in strict mode raise `FormatError` instead."""
        if self.errors == "strict":
            raise FormatError(f"{where}: {reason}")
        self.skipped.append(Skip(where=where, reason=reason, count=count))


def inside(root: str | os.PathLike[str], name: str, *, where: str) -> Path:
    """Resolve ``name`` (from an annotation file) under ``root``, refusing escapes.

    Raises
    ------
    FormatError
        If ``name`` is absolute, or it (or a symbolic link on the way) leads
        outside ``root``.

    Examples
    --------
    >>> inside("/data/coco", "images/a.jpg", where="x.json").as_posix()
    '/data/coco/images/a.jpg'
    >>> inside("/data/coco", "../secret", where="x.json: image 3")
    Traceback (most recent call last):
    ...
    unitax.errors.FormatError: x.json: image 3: file name '../secret' leads outside the dataset root /data/coco
    """  # noqa: E501
    root = Path(root)
    if not name or Path(name).is_absolute() or name.startswith(("/", "\\")):
        raise FormatError(f"{where}: file name {name!r} must be relative to the root")
    path = root / name
    resolved_root = root.resolve()
    if not path.resolve().is_relative_to(resolved_root):
        raise FormatError(
            f"{where}: file name {name!r} leads outside the dataset root {root}"
        )
    return path
