"""MSeg-style master tables and two-column reduction tables."""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from unitax._files import read_text
from unitax.errors import FormatError, did_you_mean
from unitax.imports._common import at, label_reference
from unitax.labels import LabelSpace
from unitax.rules import Concept, Ignore, Rule, Same, Split

__all__ = ["master_table_order", "read_master_table", "read_reduction_table"]


def read_master_table(
    path: str | os.PathLike[str],
    label_spaces: Iterable[LabelSpace],
    *,
    test_columns: Iterable[str] = (),
    unlabeled: str = "unlabeled",
) -> tuple[Rule, ...]:
    r"""Read an MSeg-style master table as rules.

    The header is ``universal<TAB><space><TAB>...``; each further row names a
    universal class and, per label space, an empty cell, one label, or a
    merge set ``{a, b}``. Each row gives a `Concept` named by its universal
    class. In a training column, one label is the class (`Same`) and a merge
    set splits it (`Split` with the set's labels as parts: unitax keeps the
    finer classes that MSeg merges away). A label is in one row at most.

    In a column of ``test_columns``, a cell names the test label that the
    row's class belongs to; a test label named by several rows is their
    union (`Split` of the test label into those classes), else `Same`.
    The labels in the row named ``unlabeled`` go to `Ignore`, and that row
    declares no concept.

    Parameters
    ----------
    path
        The TSV file.
    label_spaces
        The spaces the columns name (others are allowed and unused).
    test_columns
        Columns that hold test label spaces.
    unlabeled
        The universal name of the row whose labels carry no supervision.

    Returns
    -------
    tuple of Rule
        For ``unitax.unify(label_spaces, rules)``. The taxonomy orders its
        nodes topologically (ties by name), not by row: ``taxonomy.index(u)``
        gives a class's new index, and `master_table_order` the row order,
        i.e. MSeg's universal ids.

    Raises
    ------
    FormatError
        On a wrong header, an unknown column or label, malformed braces, a
        training label in two rows, a test label both ignored and used, a
        merge set in a test column, a duplicate or empty universal name,
        a row with another cell count than the header, or non-UTF-8 text.
        The message starts with ``path:line:`` and names the column.

    Examples
    --------
    >>> import pathlib, tempfile, unitax as ux
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "master.tsv"
    >>> _ = path.write_text("universal\tcity\tvistas\n"
    ...                     "road\troad\t{road, crosswalk}\n")
    >>> city = ux.LabelSpace.from_names("city", ["road"])
    >>> vistas = ux.LabelSpace.from_names("vistas", ["road", "crosswalk"])
    >>> rules = read_master_table(path, [city, vistas])
    >>> rules
    (Concept(name='road') at master.tsv:2, Same(labels=('city/road', 'road')) at master.tsv:2, Split(whole='road', parts=('vistas/road', 'vistas/crosswalk')) at master.tsv:2)
    >>> taxonomy, maps = ux.unify([city, vistas], rules)
    >>> taxonomy.leaves_of("road")
    ('vistas/crosswalk', 'vistas/road')
    """  # noqa: E501
    path = Path(path)
    spaces = {space.name: space for space in label_spaces}
    header, rows = _master_rows(path)
    columns = header[1:]
    for column in columns:
        if column not in spaces:
            raise FormatError(
                f"{path}:1: column {column!r}: expected a label space name, got an "
                f"unknown one{did_you_mean(column, spaces)}; known: {sorted(spaces)}"
            )
    tests = set(test_columns)
    if not tests <= set(columns):
        raise FormatError(
            f"{path}:1: expected the test columns {sorted(tests)} in the header, "
            f"got the columns {columns}"
        )
    rules: list[Rule] = []
    first: dict[str, int] = {}  # training label -> its line
    test_rows: dict[str, list[tuple[str, int]]] = defaultdict(list)
    test_ignored: dict[str, int] = {}
    for line, cells in rows:
        universal = cells[0]
        ignore = universal == unlabeled
        if not ignore:
            rules.append(at(Concept(name=universal), path, line))
        for column, cell in zip(columns, cells[1:], strict=True):
            where = f"{path}:{line}: column {column!r}"
            refs = [
                label_reference(spaces[column], name, where)
                for name in _cell(cell, where)
            ]
            if column in tests:
                if len(refs) > 1:
                    raise FormatError(
                        f"{where}: expected one test label, got the merge set {cell!r}"
                    )
                for ref in refs:
                    if ignore:
                        test_ignored[ref] = line
                    else:
                        test_rows[ref].append((universal, line))
                continue
            for ref in refs:
                if ref in first:
                    raise FormatError(
                        f"{where}: expected each training label in one row, got "
                        f"{ref!r} again (first on line {first[ref]})"
                    )
                first[ref] = line
            if ignore:
                rules.extend(at(Ignore(label=ref), path, line) for ref in refs)
            elif len(refs) == 1:
                rules.append(at(Same(labels=(refs[0], universal)), path, line))
            elif refs:
                rules.append(at(Split(whole=universal, parts=tuple(refs)), path, line))
    for ref, line in test_ignored.items():
        if ref in test_rows:
            raise FormatError(
                f"{path}:{line}: expected the test label {ref!r} either ignored or "
                f"used, got both (used on line {test_rows[ref][0][1]})"
            )
        rules.append(at(Ignore(label=ref), path, line))
    for ref, found in test_rows.items():
        classes = tuple(universal for universal, _ in found)
        if len(classes) == 1:
            rule: Rule = Same(labels=(ref, *classes))
        else:
            rule = Split(whole=ref, parts=classes)
        rules.append(at(rule, path, found[0][1]))
    return tuple(rules)


def master_table_order(path: str | os.PathLike[str]) -> tuple[str, ...]:
    r"""Return the universal class names of a master table in row order.

    A name's position is its universal id in the table (MSeg's ids); the
    ``unlabeled`` row is included, though it gets no taxonomy node.

    Raises
    ------
    FormatError
        On a wrong header, ragged rows, duplicate or empty names.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "master.tsv"
    >>> _ = path.write_text("universal\tcity\nsky\tsky\nroad\troad\n")
    >>> master_table_order(path)
    ('sky', 'road')
    """
    return tuple(cells[0] for _, cells in _master_rows(Path(path))[1])


def read_reduction_table(
    path: str | os.PathLike[str], source: LabelSpace, target: LabelSpace
) -> tuple[Rule, ...]:
    r"""Read a ``source,target`` CSV that reduces one label space to another.

    Each row maps one source label name to a target label name, as for
    Cityscapes' 34 labels to its 19 training ids. A target label is the
    union of the source labels that map to it: `Same` if one, else `Split`.
    Source labels the table leaves out are in none of the target's labels
    (the target's void) and get no rule.

    Raises
    ------
    FormatError
        On a header other than ``source,target``, a row without two
        non-empty cells, an unknown source or target label (with a "did you
        mean"), a source listed twice, or non-UTF-8 text; with the line.

    Examples
    --------
    >>> import pathlib, tempfile, unitax as ux
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "reduce.csv"
    >>> _ = path.write_text("source,target\nroad,flat\nsidewalk,flat\n")
    >>> full = ux.LabelSpace.from_names("full", ["road", "sidewalk", "static"])
    >>> coarse = ux.LabelSpace.from_names("coarse", ["flat"])
    >>> read_reduction_table(path, full, coarse)
    (Split(whole='coarse/flat', parts=('full/road', 'full/sidewalk')) at reduce.csv:2,)
    """
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = [cell.strip() for cell in next(reader, [])]
    if header != ["source", "target"]:
        raise FormatError(
            f"{path}:1: expected the header 'source,target', got {header}"
        )
    seen: dict[str, int] = {}
    targets: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != 2 or not all(cells):
            raise FormatError(f"{path}:{line}: expected 'source,target', got {row}")
        ref = label_reference(source, cells[0], f"{path}:{line}: column 'source'")
        if ref in seen:
            raise FormatError(
                f"{path}:{line}: column 'source': expected each source label once, "
                f"got {cells[0]!r} again (first on line {seen[ref]})"
            )
        seen[ref] = line
        whole = label_reference(target, cells[1], f"{path}:{line}: column 'target'")
        targets[whole].append((ref, line))
    rules: list[Rule] = []
    for whole, parts in targets.items():
        refs = tuple(ref for ref, _ in parts)
        if len(refs) == 1:
            rule: Rule = Same(labels=(whole, *refs))
        else:
            rule = Split(whole=whole, parts=refs)
        rules.append(at(rule, path, parts[0][1]))
    return tuple(rules)


def _master_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the ``(line, cells)`` rows of a master table, checked."""
    lines = read_text(path).split("\n")
    header = [cell.strip() for cell in lines[0].rstrip("\r").split("\t")]
    if header[0] != "universal" or len(set(header)) != len(header) or "" in header:
        raise FormatError(
            f"{path}:1: expected a header 'universal<TAB><label space>...' with "
            f"unique names, got {lines[0]!r}"
        )
    rows: list[tuple[int, list[str]]] = []
    seen: dict[str, int] = {}
    for line, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        cells = [cell.strip() for cell in text.rstrip("\r").split("\t")]
        if len(cells) != len(header):
            raise FormatError(
                f"{path}:{line}: expected {len(header)} tab-separated cells as in the "
                f"header, got {len(cells)}"
            )
        name = cells[0]
        if not name or "/" in name or name in seen:
            again = f" (first on line {seen[name]})" if name in seen else ""
            raise FormatError(
                f"{path}:{line}: column 'universal': expected a unique non-empty name "
                f"without '/', got {name!r}{again}"
            )
        seen[name] = line
        rows.append((line, cells))
    return header, rows


def _cell(cell: str, where: str) -> tuple[str, ...]:
    """Parse an empty cell, a label, or a merge set ``{a, b}``."""
    if not cell:
        return ()
    if "{" not in cell and "}" not in cell:
        return (cell,)
    inner = cell[1:-1]
    names = [name.strip() for name in inner.split(",")]
    braces = cell.startswith("{") and cell.endswith("}") and "{" not in inner
    if not braces or "}" in inner or not all(names) or len(set(names)) < len(names):
        raise FormatError(
            f"{where}: expected a label or a merge set '{{a, b}}' of distinct "
            f"names, got {cell!r}"
        )
    return tuple(names)
