"""File boundary helpers: read JSON or YAML, report errors with file and line.

Validation errors become `FormatError` messages that name the file and line.

Line numbers come from PyYAML's composer, which parses JSON as well (JSON is
YAML's flow style), so one locator serves both formats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from unitax.errors import FormatError

__all__ = ["load_document", "read_bytes", "read_text", "validate_document"]

Locator = Callable[[Sequence[int | str]], int | None]
Model = TypeVar("Model", bound=pydantic.BaseModel)

_YAML_SUFFIXES = {".yaml", ".yml"}


def read_bytes(path: Path) -> bytes:
    """The bytes of the file ``path``; `FormatError` if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as err:
        raise FormatError(f"{path}: cannot read file: {err.strerror}") from err


def read_text(path: Path) -> str:
    """The text of the UTF-8 file ``path``; a byte-order mark is dropped.

    Raises
    ------
    FormatError
        If the file cannot be read, or is not UTF-8 text (naming the line).

    Examples
    --------
    >>> read_text(Path("/no/such/labels.txt"))
    Traceback (most recent call last):
    ...
    unitax.errors.FormatError: /no/such/labels.txt: cannot read file: No such file or directory
    """  # noqa: E501
    raw = read_bytes(path).removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise FormatError(
            f"{path}:{line}: expected UTF-8 text, got the byte {raw[err.start]:#04x}"
        ) from err


def load_document(path: str | os.PathLike[str]) -> tuple[Any, Locator]:
    """Read a JSON or YAML file (by suffix) and return ``(data, locate)``.

    ``locate(loc)`` maps a key path such as ``("rules", 3, "parent")`` to the
    1-based line where that value starts, or ``None`` when unknown.
    """
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() in _YAML_SUFFIXES:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            problem = getattr(err, "problem", None) or str(err)
            raise FormatError(f"{where}: invalid YAML: {problem}") from err
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise FormatError(
                f"{path}:{err.lineno}: invalid JSON: {err.msg} (column {err.colno})"
            ) from err
    return data, _locator(text)


def validate_document(
    model: type[Model], data: Any, path: str | os.PathLike[str], locate: Locator
) -> Model:
    """Validate ``data`` as ``model``; wrap errors as `FormatError` with lines."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        lines = []
        for error in err.errors()[:5]:
            loc = tuple(error["loc"])
            line = locate(_data_path(loc, data))
            where = f"{path}:{line}" if line is not None else f"{path}"
            field = _format_loc(loc) or "document"
            got = error.get("input")
            got_text = "" if isinstance(got, dict | list) else f", got {got!r}"
            lines.append(f"{where}: {field}: {error['msg']}{got_text}")
        more = err.error_count() - len(lines)
        if more > 0:
            lines.append(f"... and {more} more error(s)")
        raise FormatError(
            f"{path}: not a valid {model.__name__}:\n  " + "\n  ".join(lines)
        ) from err


def _data_path(loc: tuple[int | str, ...], data: Any) -> list[int | str]:
    """Drop the tags pydantic adds for union members from a location."""
    path: list[int | str] = []
    node = data
    for key in loc:
        in_dict = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
        if in_dict or in_list:
            path.append(key)
            node = node[key]
    return path


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else key
    return text


def _locator(text: str) -> Locator:
    root: yaml.Node | None = None
    composed = False

    def locate(path: Sequence[int | str]) -> int | None:
        nonlocal root, composed
        if not composed:
            composed = True
            try:
                root = yaml.compose(text, Loader=yaml.SafeLoader)
            except yaml.YAMLError:
                root = None
        node = root
        for key in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if key < len(node.value) else None
            else:
                node = None
            if node is None:
                return None
        return None if node is None else node.start_mark.line + 1

    return locate
