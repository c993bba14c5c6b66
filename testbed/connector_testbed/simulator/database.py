"""The simulator's state on disk: one SQLite file, so tests and the demo can show what was imported.

One connection guarded by a lock: the HTTP server is threaded, and SQLite serialises writers anyway.
WAL mode lets `simulator show` read the file while `simulator serve` writes it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspaces (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, versioning INTEGER NOT NULL, default_version_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, name TEXT NOT NULL, is_default INTEGER NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY,
    version_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    technical_name TEXT NOT NULL,
    path TEXT NOT NULL,
    type_path TEXT NOT NULL,
    parent_id TEXT,
    source_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL
);
-- Three indexes beside the id's, each one B-tree more to write per object. Files of an older simulator
-- had five: theirs are replaced by these.
DROP INDEX IF EXISTS entities_identity;
DROP INDEX IF EXISTS entities_parent;
DROP INDEX IF EXISTS entities_path;
-- What makes an object the same object (bulktree.py), parent first: it also finds the children of one.
-- A source's parent_id is NULL, which a unique index takes as distinct: bulktree.py checks sources.
CREATE UNIQUE INDEX IF NOT EXISTS entities_family ON entities (parent_id, technical_name, type, version_id);
-- keys.py finds tables by path: only tables are indexed.
CREATE INDEX IF NOT EXISTS entities_table_path ON entities (version_id, path) WHERE kind = 'structures';
-- Listing under a source pages in (path, type) order: the index hands the rows over sorted.
CREATE INDEX IF NOT EXISTS entities_source_order ON entities (source_id, kind, path, type);
CREATE TABLE IF NOT EXISTS primary_keys (
    id TEXT NOT NULL, version_id TEXT NOT NULL, source_id TEXT NOT NULL, table_id TEXT NOT NULL,
    name TEXT NOT NULL, column_id TEXT NOT NULL, pk_order INTEGER NOT NULL,
    PRIMARY KEY (table_id, column_id)
);
CREATE TABLE IF NOT EXISTS foreign_keys (
    id TEXT NOT NULL, version_id TEXT NOT NULL, source_id TEXT NOT NULL, name TEXT NOT NULL,
    display_name TEXT NOT NULL, summary TEXT, pk_name TEXT NOT NULL,
    child_table_id TEXT NOT NULL, parent_table_id TEXT NOT NULL, position INTEGER NOT NULL,
    child_column_id TEXT NOT NULL, parent_column_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS foreign_keys_child ON foreign_keys (child_table_id, name);
"""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.connection.row_factory = sqlite3.Row
        # 16 KiB pages (for a new file; an existing one keeps its own): an import writes 44,000 rows into
        # four B-trees, a fifth less time than with 4 KiB pages.
        self.connection.execute("PRAGMA page_size=16384")
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=OFF")
        # 64 MiB of page cache instead of 2: a 44,000-object import touches five indexes of the entities.
        self.connection.execute("PRAGMA cache_size=-65536")
        self.connection.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.connection

    def close(self) -> None:
        with self.lock:
            self.connection.close()
