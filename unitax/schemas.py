"""JSON Schemas of the files unitax reads and writes.

The committed ``schemas/*.schema.json`` are generated from the pydantic models
by ``python -m unitax.schemas schemas/``; a test keeps them in step.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

from unitax.config import ExportConfig
from unitax.labels import LabelSpaceFile
from unitax.rules import RulesFile
from unitax.taxonomy import TaxonomyFile

__all__ = ["MODELS", "schema_texts", "write_schemas"]

MODELS: dict[str, type[BaseModel]] = {
    "export": ExportConfig,
    "label_space": LabelSpaceFile,
    "rules": RulesFile,
    "taxonomy": TaxonomyFile,
}
"""File name stem -> the model whose schema it holds."""


def schema_texts() -> dict[str, str]:
    """Return ``{file name: schema JSON text}`` for every model in `MODELS`.

    >>> sorted(schema_texts())  # doctest: +NORMALIZE_WHITESPACE
    ['export.schema.json', 'label_space.schema.json',
     'rules.schema.json', 'taxonomy.schema.json']
    """
    texts = {}
    for stem, model in MODELS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{stem}.schema.json"
        texts[f"{stem}.schema.json"] = (
            json.dumps(schema, indent=2, sort_keys=True) + "\n"
        )
    return texts


def write_schemas(folder: str | os.PathLike[str]) -> tuple[Path, ...]:
    """Write every schema into ``folder``; return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in schema_texts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return tuple(paths)


if __name__ == "__main__":
    write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas")
