"""The ``unitax`` command line.

* ``unitax unify`` unifies label spaces under rules and prints the taxonomy's
  size and a summary of the conflict report; ``unitax conflicts`` prints the
  findings. Without arguments both use the built-in street-scene collection.
  Label spaces and rules are given by built-in name or by file path.
* ``unitax export CONFIG OUT`` reads, unifies and exports the datasets an
  export configuration names, with a progress bar; ``unitax inspect OUT``
  shows what an export holds; ``unitax demo OUT`` generates a small collection
  in real formats and exports it; ``unitax train CONFIG`` trains on an
  export (with ``unitax_train`` and torch installed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import unitax as ux
from unitax import builtin
from unitax.config import run_export
from unitax.errors import UnitaxError
from unitax.export import read_export, read_target

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
    cover = ux.conflicts.coverage(taxonomy, maps)
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


_ENGINE = typer.Option("--engine", "-e", help="process (default), sequential or dask.")
_WORKERS = typer.Option(
    "--workers", "-w", help="Worker processes (default: all cores)."
)
_SCHEDULER = typer.Option("--scheduler", help="A Dask scheduler address (engine dask).")


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
    )


def _run_with_progress(console: Console, description: str, call: Any) -> Any:
    with _progress_bar(console) as bar:
        task = bar.add_task(description, total=None, rate="")
        start = time.perf_counter()

        def update(done: int, total: int) -> None:
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.update(
                task, completed=done, total=total, rate=f"{done / elapsed:.1f}/s"
            )

        return call(update)


def _print_report(console: Console, dest: Path) -> None:
    report = json.loads((dest / "report.json").read_text(encoding="utf-8"))
    table = Table(title=f"exported to {dest}")
    for column in ("dataset", "samples", "annotations read", "exported", "skipped"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    reasons: list[tuple[str, str, int]] = []
    for name, entry in report.items():
        table.add_row(
            name, str(entry["samples"]), str(entry["annotations_read"]),
            str(entry["exported"]), str(entry["skipped"]),
        )  # fmt: skip
        reasons.extend((name, why, n) for why, n in entry["skipped_by_reason"].items())
    console.print(table)
    if reasons:
        skips = Table(title="skipped annotations, by reason")
        for column in ("dataset", "reason", "count"):
            skips.add_column(column, overflow="fold")
        for name, why, count in sorted(reasons, key=lambda r: -r[2])[:20]:
            skips.add_row(name, why, str(count))
        console.print(skips)


@app.command("export")
def export_command(
    config: Annotated[
        Path, typer.Argument(help="The export configuration (YAML/JSON).")
    ],
    out: Annotated[
        Path, typer.Argument(help="The export folder (resumed if unfinished).")
    ],
    engine: Annotated[str, _ENGINE] = "process",
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHEDULER] = None,
) -> None:
    """Read, unify and export the datasets a configuration names."""
    console = Console()
    _run_with_progress(
        console,
        "exporting",
        lambda update: run_export(
            config, out, engine=engine, workers=workers,  # type: ignore[arg-type]
            scheduler=scheduler, progress=update,
        ),
    )  # fmt: skip
    _print_report(console, out)


@app.command()
def inspect(
    out: Annotated[Path, typer.Argument(help="A finished export folder.")],
    top: Annotated[int, typer.Option(help="Classes to list per dataset.")] = 10,
) -> None:
    """Show what an export holds: samples per dataset and split, pixels per class."""
    console = Console()
    exported = read_export(out)
    manifest = exported.manifest
    console.print(
        f"[bold]{out}[/bold]: {len(manifest)} samples, taxonomy of "
        f"{len(exported.taxonomy)} nodes ({len(exported.taxonomy.leaves)} leaves), "
        f"{len(exported.sets) - len(exported.taxonomy)} extra sets"
    )
    splits = Table(title="samples")
    for column in ("dataset", "split", "samples", "kinds"):
        splits.add_column(column)
    for (name, split), group in manifest.groupby(["dataset", "split"], sort=True):
        kinds = sorted({k for row in group["kinds"] for k in row})
        splits.add_row(str(name), str(split) or "-", str(len(group)), ", ".join(kinds))
    console.print(splits)
    names = [_set_name(list(nodes)) for nodes in exported.sets["nodes"]]
    counts: dict[str, Counter[int]] = {}

    def count(update: Any) -> None:
        for row in range(len(manifest)):
            target = read_target(exported, row)
            values, numbers = np.unique(target, return_counts=True)
            tally = counts.setdefault(str(manifest["dataset"].iloc[row]), Counter())
            tally.update(dict(zip(values.tolist(), numbers.tolist(), strict=True)))
            update(row + 1, len(manifest))

    _run_with_progress(console, "reading targets", count)
    for name, tally in sorted(counts.items()):
        total = sum(tally.values())
        table = Table(title=f"{name}: pixels per class (top {top})")
        for column in ("set", "pixels", "share"):
            table.add_column(column, justify="left" if column == "set" else "right")
        for value, pixels in tally.most_common(top):
            label = names[value] if value < len(names) else "ignore"
            table.add_row(label, str(pixels), f"{pixels / total:.1%}")
        console.print(table)


def _set_name(nodes: list[str]) -> str:
    if len(nodes) <= 3:
        return " | ".join(nodes)
    return f"one of {len(nodes)}: " + " | ".join(nodes[:3]) + " | ..."


@app.command()
def demo(
    out: Annotated[
        Path, typer.Argument(help="Where to write the demo data and export.")
    ],
    samples: Annotated[int, typer.Option(help="Images per dataset.")] = 12,
    engine: Annotated[str, _ENGINE] = "process",
    workers: Annotated[int | None, _WORKERS] = None,
) -> None:
    """Generate a small heterogeneous collection in real formats, unify, export."""
    from unitax.demo import make_demo

    console = Console()
    made = make_demo(out / "data", samples=samples)
    console.print(
        f"wrote demo datasets to {out / 'data'} (configuration {made.config})"
    )
    _run_with_progress(
        console,
        "exporting",
        lambda update: run_export(
            made.config, out / "export", engine=engine,  # type: ignore[arg-type]
            workers=workers, progress=update,
        ),
    )  # fmt: skip
    _print_report(console, out / "export")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="A training configuration (YAML).")],
) -> None:
    """Train an FCN with hierarchical heads on an export (needs unitax_train)."""
    import logging

    from unitax_train import require_torch

    require_torch()
    from unitax_train.train import main as train_main

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train_main(config)


def main() -> None:
    """Entry point of the ``unitax`` command; unitax errors exit with status 2."""
    try:
        app()
    except UnitaxError as err:
        Console(stderr=True).print(f"[red]error:[/red] {err}")
        raise SystemExit(2) from None
