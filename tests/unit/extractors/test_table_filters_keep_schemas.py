"""Table patterns select tables only: a schema is removed by schema patterns, never by table patterns.

An in-process DuckDB file stands in for a server (the rule is in the extraction, not in a reader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from connector_extractors.extract import extract
from connector_extractors.run_config import RunConfig

CATALOG = """
CREATE TABLE main.orders (id integer);
CREATE TABLE main.orders_tmp (id integer);
CREATE SCHEMA empty_schema;
CREATE SCHEMA scratch;
CREATE TABLE scratch.tmp_load (id integer);
"""


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "filters.duckdb"
    connection = duckdb.connect(str(path))
    connection.execute(CATALOG)
    connection.close()
    return path


def schemas(path: Path, filters: dict[str, Any]) -> dict[str, list[str]]:
    config = RunConfig.model_validate(
        {"source": {"technology": "duckdb", "path": str(path)}, "filters": filters}
    )
    metadata = extract(config, None).metadata
    return {s.name: [t.name for t in s.tables] for s in metadata.schemas}


def test_a_table_exclude_keeps_every_schema(catalog: Path) -> None:
    found = schemas(catalog, {"tables": {"exclude": [".*tmp.*"]}})
    assert found == {"main": ["orders"], "empty_schema": [], "scratch": []}


def test_a_table_include_keeps_every_schema(catalog: Path) -> None:
    found = schemas(catalog, {"tables": {"include": ["main\\.orders"]}})
    assert found == {"main": ["orders"], "empty_schema": [], "scratch": []}


def test_schema_patterns_still_remove_schemas(catalog: Path) -> None:
    found = schemas(catalog, {"schemas": {"exclude": ["scratch"]}, "tables": {"exclude": [".*tmp.*"]}})
    assert found == {"main": ["orders"], "empty_schema": []}
