"""Export configurations: which datasets, which rules, which policies.

An export configuration is a YAML or JSON file (``schemas/export.schema.json``)::

    schema_version: 1
    rules: [iv2018]                 # built-in names or rules files
    label_spaces: [openimages]      # extra spaces the rules name (names or files)
    flat: false                     # also write the flat leaf-id layout
    datasets:
      - name: cityscapes            # the folder under targets/
        format: cityscapes          # a key of unitax.formats.READERS
        root: data/cityscapes       # relative to the configuration file
        options: {split: val}       # keyword arguments of the reader
        policy: {overlap: specific} # unitax.export.Policy

`run_export` reads the datasets with their readers, unifies their label
spaces (plus ``label_spaces``) under ``rules``, and exports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from unitax._files import load_document, validate_document
from unitax.annotations import Dataset
from unitax.builtin import builtin_label_space, builtin_rules
from unitax.errors import FormatError, did_you_mean
from unitax.export import Engine, Policy, Progress, export
from unitax.labels import LabelSpace, read_label_space
from unitax.rules import Rule, read_rules
from unitax.taxonomy import LabelMap, Taxonomy
from unitax.unify import unify

__all__ = ["DatasetConfig", "ExportConfig", "read_config", "run_export", "unify_config"]

_FILE_SUFFIXES = {".json", ".yaml", ".yml"}


class DatasetConfig(BaseModel):
    """One dataset of an export: where it is, how to read it, how to rasterise it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9._\-]+$")
    format: str
    root: Path
    options: dict[str, Any] = Field(default_factory=dict)
    policy: Policy = Policy()


class ExportConfig(BaseModel):
    """A whole export configuration (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: Literal[1] = 1
    rules: tuple[str, ...] = ()
    label_spaces: tuple[str, ...] = ()
    flat: bool = False
    datasets: tuple[DatasetConfig, ...] = Field(min_length=1)


def read_config(path: str | os.PathLike[str]) -> ExportConfig:
    """Read an export configuration; relative roots become relative to its folder.

    Raises
    ------
    FormatError
        If the file is not a valid configuration (file and line named), or
        two datasets share a name, or a format is unknown.
    """
    from unitax.formats import READERS

    path = Path(path)
    data, locate = load_document(path)
    config = validate_document(ExportConfig, data, path, locate)
    names = [dataset.name for dataset in config.datasets]
    for position, dataset in enumerate(config.datasets):
        line = locate(["datasets", position])
        where = f"{path}:{line}" if line else str(path)
        if names.count(dataset.name) > 1:
            raise FormatError(
                f"{where}: dataset names must be unique, got {dataset.name!r} twice"
            )
        if dataset.format not in READERS:
            raise FormatError(
                f"{where}: format must be one of {sorted(READERS)}, "
                f"got {dataset.format!r}" + did_you_mean(dataset.format, READERS)
            )
    datasets = tuple(
        d.model_copy(update={"root": (path.parent / d.root)}) for d in config.datasets
    )
    return config.model_copy(update={"datasets": datasets})


def _rules(names: tuple[str, ...], base: Path) -> list[Rule]:
    rules: list[Rule] = []
    for item in names:
        if Path(item).suffix in _FILE_SUFFIXES:
            rules.extend(read_rules(base / item))
        else:
            rules.extend(builtin_rules(item))
    return rules


def _spaces(names: tuple[str, ...], base: Path) -> list[LabelSpace]:
    return [
        read_label_space(base / item)
        if Path(item).suffix in _FILE_SUFFIXES
        else builtin_label_space(item)
        for item in names
    ]


def unify_config(
    config: ExportConfig, *, base: str | os.PathLike[str] = "."
) -> tuple[dict[str, Dataset], Taxonomy, dict[str, LabelMap]]:
    """Read every dataset of ``config`` and unify their label spaces."""
    from unitax.formats import READERS

    base = Path(base)
    datasets = {
        d.name: READERS[d.format](d.root, errors=d.policy.errors, **d.options)
        for d in config.datasets
    }
    spaces: dict[str, LabelSpace] = {}
    for space in [
        *(d.label_space for d in datasets.values()),
        *_spaces(config.label_spaces, base),
    ]:
        if spaces.setdefault(space.name, space) != space:
            raise FormatError(
                f"two different label spaces are both called {space.name!r}; rename one"
            )
    taxonomy, maps = unify(spaces.values(), _rules(config.rules, base))
    return datasets, taxonomy, maps


def run_export(
    config: str | os.PathLike[str] | ExportConfig,
    dest: str | os.PathLike[str],
    *,
    engine: Engine = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Read, unify and export what a configuration names; return the manifest path.

    ``config`` is a file (relative paths inside it are relative to the file)
    or an `ExportConfig` (relative paths relative to the working directory).
    """
    base = Path()
    if not isinstance(config, ExportConfig):
        base = Path(config).parent
        config = read_config(config)
    datasets, taxonomy, maps = unify_config(config, base=base)
    policies = {d.name: d.policy for d in config.datasets}
    return export(
        datasets, maps, taxonomy, dest, policies=policies, engine=engine,
        workers=workers, scheduler=scheduler, flat=config.flat, progress=progress,
    )  # fmt: skip
