"""The simulator's SQLite schema: each query of the import and listing paths has an index to use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connector_testbed.simulator.database import Database

ENTITY_INDEXES = {"entities_family", "entities_table_path", "entities_source_order"}

# (query, index it must search); none may scan the entities.
QUERIES = [
    # bulktree.py: the source, then the children of each parent the batch touches
    (
        "SELECT id, name, attributes FROM entities "
        "WHERE version_id=? AND parent_id IS NULL AND technical_name=? AND type=?",
        "entities_family",
    ),
    ("SELECT technical_name, type, id, name, attributes FROM entities WHERE parent_id=?", "entities_family"),
    # store.py: listing under a source (count, then a page), the sources of a version by name
    ("SELECT COUNT(*) FROM entities WHERE kind=? AND source_id=?", "entities_source_order"),
    (
        "SELECT id FROM entities WHERE kind=? AND source_id=? ORDER BY path, type LIMIT 9 OFFSET 9",
        "entities_source_order",
    ),
    (
        "SELECT id FROM entities WHERE kind=? AND version_id=? AND parent_id IS NULL "
        "AND technical_name=? AND type=? ORDER BY path, type LIMIT 9 OFFSET 0",
        "entities_family",
    ),
    # deletion and listing under a container: children by parent links
    (
        "WITH RECURSIVE sub(id) AS (SELECT id FROM entities WHERE parent_id=? UNION "
        "SELECT e.id FROM entities e JOIN sub ON e.parent_id = sub.id) SELECT id FROM sub",
        "entities_family",
    ),
    # keys.py: a table by path, a column by name
    ("SELECT id FROM entities WHERE version_id=? AND path=? AND kind='structures'", "entities_table_path"),
    ("SELECT id FROM entities WHERE parent_id=? AND technical_name=? AND kind='fields'", "entities_family"),
]


def _entity_indexes(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='entities' AND sql IS NOT NULL"
    )
    return {name for (name,) in rows}


@pytest.mark.parametrize(("query", "index"), QUERIES)
def test_each_query_searches_an_index(tmp_path: Path, query: str, index: str) -> None:
    db = Database(tmp_path / "state.sqlite")
    plan = [row[3] for row in db.connection.execute("EXPLAIN QUERY PLAN " + query, [None] * query.count("?"))]
    db.close()
    assert any(f"INDEX {index} " in step for step in plan), plan
    assert not any(step.startswith("SCAN entities") or step.startswith("SCAN e ") for step in plan), plan


def test_a_file_of_an_older_simulator_gets_the_new_indexes(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE entities (id TEXT PRIMARY KEY, version_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "type TEXT NOT NULL, name TEXT NOT NULL, technical_name TEXT NOT NULL, path TEXT NOT NULL, "
        "type_path TEXT NOT NULL, parent_id TEXT, source_id TEXT NOT NULL, attributes TEXT NOT NULL, "
        "created TEXT NOT NULL, modified TEXT NOT NULL);"
        "CREATE UNIQUE INDEX entities_identity ON entities (version_id, parent_id, technical_name, type);"
        "CREATE INDEX entities_parent ON entities (parent_id);"
        "CREATE INDEX entities_path ON entities (version_id, path);"
        "CREATE INDEX entities_source_order ON entities (source_id, kind, path, type);"
    )
    old.close()
    db = Database(path)
    assert _entity_indexes(db.connection) == ENTITY_INDEXES
    db.close()


def test_the_same_object_cannot_be_written_twice(tmp_path: Path) -> None:
    db = Database(tmp_path / "state.sqlite")
    row = ("v", "fields", "Column", "c", "c", "\\s\\t\\c", "\\R\\T\\C", "parent", "s", "{}", "t", "t")
    db.connection.execute("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ("a", *row))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.connection.execute("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ("b", *row))
    other_version = ("v2", *row[1:])
    db.connection.execute("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", ("b", *other_version))
    assert _entity_indexes(db.connection) == ENTITY_INDEXES
    db.close()


def test_a_new_file_has_16_kib_pages(tmp_path: Path) -> None:
    db = Database(tmp_path / "state.sqlite")
    assert db.connection.execute("PRAGMA page_size").fetchone()[0] == 16384
    assert db.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
