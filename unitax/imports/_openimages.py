"""Open Images' class hierarchy (``bbox_labels_600_hierarchy.json``)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from unitax._files import Locator, load_document, read_text
from unitax.errors import FormatError
from unitax.labels import Label, LabelSpace

__all__ = ["read_openimages_hierarchy"]

_NODE_KEYS = {"LabelName", "Subcategory", "Part"}


def read_openimages_hierarchy(
    path: str | os.PathLike[str],
    *,
    descriptions: str | os.PathLike[str] | None = None,
    name: str = "openimages",
) -> LabelSpace:
    """Read Open Images' class hierarchy as a label space.

    The JSON nests ``{"LabelName": MID, "Subcategory": [...], "Part":
    [...]}`` under a root (``/m/0bl9f``, "Entity"). Every MID but the root
    is a label with ``code=MID``; ``parents`` come from Subcategory edges
    (several parents are kept; the root is no parent). Part edges are not
    is-a and are left out, though the MIDs under them are labels. The space
    is not exhaustive. ``unitax.unify([space])`` gives the DAG.

    Parameters
    ----------
    path
        The hierarchy JSON. The ``{"name", "children"}`` layout of the V2
        visualisation is not supported.
    descriptions
        ``class-descriptions-boxable.csv`` (``MID,DisplayName`` rows; an
        optional ``LabelName,DisplayName`` header). With it, names are
        display names and a label's id is its row (from 0, header not
        counted; rows of MIDs outside the hierarchy are skipped). Without
        it, names are MIDs and ids follow the first appearance of each MID
        in a depth-first walk (Subcategory before Part, in file order).
    name
        The label space's name.

    Raises
    ------
    FormatError
        On a node that is not an object with a ``LabelName`` string and
        lists of nodes (with the JSON path and line), the root MID below
        the root, a bad descriptions row, a MID described twice or not at
        all, or a display name given to two MIDs.
    LabelSpaceError
        If Subcategory edges form a cycle.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hierarchy.json"
    >>> _ = path.write_text(json.dumps({"LabelName": "/m/root", "Subcategory": [
    ...     {"LabelName": "/m/vehicle", "Subcategory": [{"LabelName": "/m/car"}]}]}))
    >>> space = read_openimages_hierarchy(path)
    >>> space.names, space.by_name("/m/car").parents
    (('/m/vehicle', '/m/car'), ('/m/vehicle',))
    """
    path = Path(path)
    data, locate = load_document(path)
    _check_node(data, (), path, locate)
    root = data["LabelName"]
    parents: dict[str, list[str]] = {}
    stack: list[tuple[dict[str, Any], tuple[str | int, ...], str | None]] = [
        (data, (), None)
    ]
    while stack:
        node, keys, parent = stack.pop()
        mid = node["LabelName"]
        if keys and mid == root:
            raise FormatError(
                f"{path}:{locate(keys)}: {_json_path(keys)}: expected the root MID "
                f"{root!r} at the root only, got it below"
            )
        if keys:
            found = parents.setdefault(mid, [])
            if parent is not None and parent != root and parent not in found:
                found.append(parent)
        children = []
        for kind in ("Subcategory", "Part"):
            for index, child in enumerate(node.get(kind, [])):
                child_keys = (*keys, kind, index)
                _check_node(child, child_keys, path, locate)
                children.append(
                    (child, child_keys, mid if kind == "Subcategory" else None)
                )
        stack.extend(reversed(children))
    if descriptions is None:
        names = {mid: mid for mid in parents}
        ids = {mid: index for index, mid in enumerate(parents)}
    else:
        names, ids = _descriptions(Path(descriptions), parents)
    labels = [
        Label(
            id=ids[mid], name=names[mid], code=mid, parents=tuple(names[p] for p in up)
        )
        for mid, up in parents.items()
    ]
    labels.sort(key=lambda label: label.id)
    return LabelSpace(name=name, labels=tuple(labels), exhaustive=False)


def _descriptions(
    path: Path, mids: Iterable[str]
) -> tuple[dict[str, str], dict[str, int]]:
    wanted = set(mids)
    names: dict[str, str] = {}
    ids: dict[str, int] = {}
    lines: dict[str, int] = {}
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    row_id = 0
    for row in reader:
        line = reader.line_num
        if line == 1 and row == ["LabelName", "DisplayName"]:
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise FormatError(f"{path}:{line}: expected 'MID,DisplayName', got {row}")
        mid, display = row[0].strip(), row[1].strip()
        if mid in lines:
            raise FormatError(
                f"{path}:{line}: expected each MID once, got {mid!r} again "
                f"(first on line {lines[mid]})"
            )
        lines[mid] = line
        if mid in wanted:
            names[mid], ids[mid] = display, row_id
        row_id += 1
    missing = [mid for mid in mids if mid not in names]
    if missing:
        raise FormatError(
            f"{path}: expected a display name for every MID of the hierarchy, got "
            f"none for {len(missing)}: {missing[:5]}"
        )
    owners: dict[str, str] = {}
    for mid, display in names.items():
        if display in owners:
            raise FormatError(
                f"{path}:{lines[mid]}: expected unique display names, got "
                f"{display!r} for {owners[display]!r} and {mid!r}"
            )
        owners[display] = mid
    return names, ids


def _check_node(
    node: Any, keys: tuple[str | int, ...], path: Path, locate: Locator
) -> None:
    """Raise a `FormatError` unless ``node`` is a hierarchy node (not its children)."""
    problem = None
    if not isinstance(node, dict) or not isinstance(node.get("LabelName"), str):
        got = sorted(node) if isinstance(node, dict) else type(node).__name__
        v2 = isinstance(node, dict) and "children" in node
        hint = " (the V2 'name/children' layout is not supported)" if v2 else ""
        problem = f"expected an object with a 'LabelName' string, got {got}{hint}"
    elif not node["LabelName"] or node["LabelName"] != node["LabelName"].strip():
        problem = f"expected a trimmed, non-empty MID, got {node['LabelName']!r}"
    elif not node.keys() <= _NODE_KEYS:
        problem = f"expected keys from {sorted(_NODE_KEYS)}, got {sorted(node)}"
    elif not all(
        isinstance(node.get(kind, []), list) for kind in ("Subcategory", "Part")
    ):
        problem = "expected 'Subcategory' and 'Part' to be lists of nodes"
    if problem is not None:  # locate only on failure: it parses the file again
        raise FormatError(f"{path}:{locate(keys) or 1}: {_json_path(keys)}: {problem}")


def _json_path(keys: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)
