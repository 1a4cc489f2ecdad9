"""The ``unitax`` command line.

``unitax unify`` unifies label spaces under rules and prints the taxonomy's
size and a summary of the conflict report; ``unitax conflicts`` prints the
findings themselves. Without arguments both use the built-in street-scene
collection (Cityscapes, Mapillary Vistas v1.2, GTSDB with the IV2018 rules).
Label spaces and rules are given by built-in name or by file path.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import unitax as ux
from unitax import builtin
from unitax.errors import UnitaxError

app = typer.Typer(
    help="unitax: one universal taxonomy for many segmentation datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_SPACES = typer.Option(
    "--space", "-s", help="A built-in label space name or a label-space file; repeat."
)
_RULES = typer.Option(
    "--rules", "-r", help="A built-in rules name or a rules file (JSON/YAML); repeat."
)
_COLLECTION = typer.Option(
    "--collection", "-c", help=f"A built-in collection: {sorted(builtin.COLLECTIONS)}."
)


def _load(
    collection: str | None, spaces: list[str] | None, rules: list[str] | None
) -> tuple[ux.Taxonomy, dict[str, ux.LabelMap]]:
    if collection is None and not spaces and not rules:
        collection = "street"
    label_spaces: list[ux.LabelSpace] = []
    rule_list: list[ux.rules.Rule] = []
    if collection is not None:
        found_spaces, found_rules = builtin.collection(collection)
        label_spaces.extend(found_spaces)
        rule_list.extend(found_rules)
    for item in spaces or []:
        is_file = Path(item).suffix in {".json", ".yaml", ".yml"}
        label_spaces.append(
            ux.read_label_space(item) if is_file else ux.builtin_label_space(item)
        )
    for item in rules or []:
        is_file = Path(item).suffix in {".json", ".yaml", ".yml"}
        rule_list.extend(ux.read_rules(item) if is_file else ux.builtin_rules(item))
    return ux.unify(label_spaces, rule_list)


@app.command()
def unify(
    collection: Annotated[str | None, _COLLECTION] = None,
    space: Annotated[list[str] | None, _SPACES] = None,
    rules: Annotated[list[str] | None, _RULES] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write taxonomy.json here.")
    ] = None,
) -> None:
    """Unify label spaces and print the taxonomy size and conflict summary."""
    console = Console()
    taxonomy, maps = _load(collection, space, rules)
    depth = max((taxonomy.depth(leaf) for leaf in taxonomy.leaves), default=0)
    console.print(
        f"[bold]taxonomy[/bold]: {len(taxonomy)} nodes, {len(taxonomy.leaves)} "
        f"leaves, depth {depth}, from {len(maps)} label spaces"
    )
    table = Table(title="label spaces")
    for column in (
        "space",
        "labels",
        "mapped",
        "ignored",
        "leaves exact",
        "leaves below",
    ):
        table.add_column(column, justify="left" if column == "space" else "right")
    cover = ux.coverage(taxonomy, maps)
    for name, label_map in maps.items():
        mapped = sum(node is not None for node in label_map.nodes.values())
        counts = cover[name].value_counts()
        table.add_row(
            name,
            str(len(label_map.space)),
            str(mapped),
            str(len(label_map.space) - mapped),
            str(counts.get("exact", 0)),
            str(counts.get("ancestor", 0)),
        )
    console.print(table)
    findings = ux.find_conflicts(taxonomy, maps)
    summary = Table(title="conflict report (unitax conflicts lists them)")
    for column in ("kind", "severity", "findings"):
        summary.add_column(column)
    tally = Counter(zip(findings["kind"], findings["severity"], strict=True))
    for (kind, severity), count in sorted(tally.items()):
        summary.add_row(str(kind), str(severity), str(count))
    console.print(summary)
    if output is not None:
        output.write_text(taxonomy.to_json(), encoding="utf-8")
        console.print(f"wrote {output}")


@app.command()
def conflicts(
    collection: Annotated[str | None, _COLLECTION] = None,
    space: Annotated[list[str] | None, _SPACES] = None,
    rules: Annotated[list[str] | None, _RULES] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="Only these kinds; repeat.")
    ] = None,
) -> None:
    """Print the conflict report: one line per finding."""
    console = Console()
    taxonomy, maps = _load(collection, space, rules)
    findings = ux.find_conflicts(taxonomy, maps)
    if kind:
        findings = findings[findings["kind"].isin(kind)]
    table = Table(title=f"{len(findings)} findings")
    for column in ("kind", "severity", "space", "label", "detail", "suggestion"):
        table.add_column(column, overflow="fold")
    columns = ["kind", "severity", "space", "label", "detail", "suggestion"]
    for row in findings[columns].itertuples(index=False):
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)


def main() -> None:
    """Entry point of the ``unitax`` command; unitax errors exit with status 2."""
    try:
        app()
    except UnitaxError as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}")
        raise SystemExit(2) from None
