from __future__ import annotations

from pathlib import Path

from unitax.schemas import schema_texts, write_schemas

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_committed_schemas_match_the_models():
    committed = {path.name: path.read_text() for path in SCHEMAS.glob("*.schema.json")}
    assert committed == schema_texts(), "run: python -m unitax.schemas schemas/"


def test_write_schemas(tmp_path):
    paths = write_schemas(tmp_path / "out")
    assert sorted(path.name for path in paths) == sorted(schema_texts())
