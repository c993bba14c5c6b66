"""SQLite and DuckDB files: golden files, read-only opening, missing files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest

from connector_extractors.extract import extract, open_session
from connector_extractors.run_config import RunConfig
from tests.integration.extractors.catalogs import DUCKDB_SQL, SQLITE_SQL
from tests.integration.extractors.runner import golden_compare, run_extractor

pytestmark = pytest.mark.integration


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop data.sqlite"  # a space in the path, too
    with sqlite3.connect(path) as conn:
        conn.executescript(SQLITE_SQL)
    return path


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(DUCKDB_SQL)
    conn.close()
    return path


def config(technology: str, path: Path, **overrides: Any) -> RunConfig:
    return RunConfig.model_validate({"source": {"technology": technology, "path": str(path)}, **overrides})


def test_sqlite_matches_golden_file(sqlite_file: Path) -> None:
    result = extract(config("sqlite", sqlite_file), None)
    assert result.warnings == []
    golden_compare("sqlite", result.metadata)
    lines = next(t for t in result.metadata.schemas[0].tables if t.name == "order lines")
    assert lines.foreign_keys[0].columns == ("customer_id", "order_no")


def test_duckdb_matches_golden_file(duckdb_file: Path) -> None:
    result = extract(config("duckdb", duckdb_file), None)
    assert result.warnings == []
    golden_compare("duckdb", result.metadata)
    tables = {t.name: t for s in result.metadata.schemas for t in s.tables}
    assert tables["customers"].comment == "People who buy things"
    assert tables["orders"].primary_key is not None
    assert tables["orders"].primary_key.columns == ("customer_id", "order_no")
    assert "empty_schema" in [s.name for s in result.metadata.schemas]


def test_sqlite_writes_fail_and_the_file_is_unchanged(sqlite_file: Path) -> None:
    before = sqlite_file.read_bytes()
    with open_session(config("sqlite", sqlite_file), None) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            raw.execute("INSERT INTO customers (id, email) VALUES (1, 'x')")
        with pytest.raises(sqlite3.OperationalError):
            raw.execute("CREATE TABLE intruder (id int)")
    assert sqlite_file.read_bytes() == before


def test_duckdb_writes_fail(duckdb_file: Path) -> None:
    with open_session(config("duckdb", duckdb_file), None) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        with pytest.raises(duckdb.Error, match=r"read-only|read only"):
            raw.execute("CREATE TABLE sales.intruder (id int)")
        with pytest.raises(duckdb.Error, match=r"read-only|read only"):
            raw.execute("INSERT INTO sales.customers (id, email) VALUES (1, 'x')")


@pytest.mark.parametrize("technology", ["sqlite", "duckdb"])
def test_missing_file_is_invalid_configuration(technology: str, tmp_path: Path) -> None:
    run = run_extractor(
        tmp_path, {"source": {"technology": technology, "path": str(tmp_path / "absent.db")}}, "--dry-run"
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.summary is not None
    assert run.summary.error_category == "InvalidConfiguration"
    assert not (tmp_path / "absent.db").exists()


def test_dry_run_with_filters_through_the_entry_point(sqlite_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.json"
    cfg = {
        "source": {"technology": "sqlite", "path": str(sqlite_file)},
        "filters": {"tables": {"include": ["orders"]}},
    }
    run = run_extractor(tmp_path, cfg, "--dry-run", "--output", str(output))
    assert run.returncode == 0, run.stderr
    assert run.summary is not None
    assert run.summary.counts["tables"] == 1
    assert '"orders"' in output.read_text()


def test_sqlite_reader_agrees_with_sqlalchemy(sqlite_file: Path) -> None:
    """The pragma reader and SQLAlchemy's inspector see the same catalog (the generic path, tested here
    on a dialect other than PostgreSQL's); SQLAlchemy misses column-level UNIQUE constraints."""
    fast = extract(config("sqlite", sqlite_file), None).metadata.to_dict()
    general = extract(config("sqlite", sqlite_file), None, fast=False).metadata.to_dict()
    for document in (fast, general):
        for table in document["schemas"][0]["tables"]:
            table["unique_constraints"] = []
    assert fast == general
