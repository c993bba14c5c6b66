"""Catalog readers: SQLAlchemy multi-reflection for every dialect, catalog queries where faster.
(DuckDB always uses its own catalog functions.)

`reader_for` picks the dialect-specific reader (PostgreSQL, MySQL/MariaDB, SQLite) when there is one and the
generic `Inspector.get_multi_*` reader otherwise.
"""

from __future__ import annotations

from sqlalchemy import Connection

from connector_extractors.inspection.base import CatalogReader, Progress, ReadRequest, ReadResult
from connector_extractors.inspection.duckdb import DuckDBReader
from connector_extractors.inspection.generic import GenericReader
from connector_extractors.inspection.mysql import MySQLReader
from connector_extractors.inspection.postgresql import PostgresReader
from connector_extractors.inspection.sqlite import SQLiteReader

__all__ = ["CatalogReader", "Progress", "ReadRequest", "ReadResult", "reader_for"]


def reader_for(connection: Connection, technology: str, fast: bool = True) -> CatalogReader:
    """The fastest reader for `technology`; `fast=False` forces SQLAlchemy's generic inspector."""
    if fast and technology == "postgresql":
        return PostgresReader(connection)
    if fast and technology in {"mysql", "mariadb"}:
        return MySQLReader(connection)
    if fast and technology == "sqlite":
        return SQLiteReader(connection)
    if technology == "duckdb":
        return DuckDBReader(connection)  # duckdb-engine's reflection does not work on DuckDB 1.x+
    return GenericReader(connection, technology)
