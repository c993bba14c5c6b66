"""SQLite's reader: the pragma table-valued functions, one query per kind and per attached schema.

`pragma_table_info`, `pragma_foreign_key_list`, `pragma_index_list` and `pragma_index_info` joined to
`sqlite_master` read a whole database file in a handful of statements, where SQLAlchemy's inspector
runs several pragmas per table. SQL types are the declared ones, as SQLite keeps them; column-level
UNIQUE constraints are reported too (SQLAlchemy only sees table-level ones).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from connector_extractors.inspection.base import Progress, ReadRequest, ReadResult
from connector_extractors.metadata import (
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    TypeFamily,
    UniqueConstraint,
)
from connector_extractors.type_family import type_family

_USER_OBJECTS = "m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
OBJECTS_SQL = "SELECT m.name, m.type, m.sql FROM {schema}.sqlite_master m WHERE " + _USER_OBJECTS
COLUMNS_SQL = (
    'SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk FROM {schema}.sqlite_master m '
    "JOIN pragma_table_info(m.name, {literal}) p WHERE " + _USER_OBJECTS
)
FOREIGN_KEYS_SQL = (
    'SELECT m.name, f.id, f.seq, f."table", f."from", f."to" FROM {schema}.sqlite_master m '
    "JOIN pragma_foreign_key_list(m.name, {literal}) f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq"
)
INDEXES_SQL = (
    'SELECT m.name, il.name, il.origin, il."unique", ii.name FROM {schema}.sqlite_master m '
    "JOIN pragma_index_list(m.name, {literal}) il JOIN pragma_index_info(il.name, {literal}) ii "
    "WHERE m.type = 'table' AND il.origin IN ('u', 'c') ORDER BY m.name, il.name, ii.seqno"
)
_DECLARED = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def declared_facets(sql_type: str) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) from a declared type: VARCHAR(200) -> length, NUMERIC(12,2) -> p, s."""
    found = _DECLARED.search(sql_type)
    if not found:
        return None, None, None
    first, second = int(found.group(1)), found.group(2)
    family = type_family(sql_type)
    if family in ("string", "binary"):
        return first, None, None
    if family == "decimal":
        return None, first, int(second) if second is not None else None
    return None, None, None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class SQLiteReader:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _rows(self, template: str, schema: str) -> list[Any]:
        sql = template.format(schema=_ident(schema), literal=_literal(schema))
        dbapi = self.connection.connection.dbapi_connection  # plain tuples from sqlite3, no Row objects
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def schema_names(self) -> list[str]:
        rows = self.connection.exec_driver_sql("PRAGMA database_list").fetchall()
        return [row[1] for row in rows if row[1] != "temp"]

    def _tables(self, schema: str, request: ReadRequest) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        for name, kind, sql in self._rows(OBJECTS_SQL, schema):
            if (kind == "view" and not request.include.views) or not request.filter.table_ok(schema, name):
                continue
            definition = sql if kind == "view" and request.include.view_definitions else None
            tables[name] = Table(
                name=name, kind="view" if kind == "view" else "table", view_definition=definition
            )
        return tables

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        return sum(len(self._tables(schema, request)) for schema in schemas)

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        result = ReadResult(schemas=[])
        for schema in schemas:
            tables = self._read_schema(schema, request)
            result.schemas.append(Schema(name=schema, tables=list(tables.values())))
            progress.schema_done(schema, len(tables))
        return result

    def _read_schema(self, schema: str, request: ReadRequest) -> dict[str, Table]:
        include = request.include
        tables = self._tables(schema, request)
        primary: dict[str, list[tuple[int, str]]] = {}
        types: dict[str, tuple[str, TypeFamily, int | None, int | None, int | None]] = {}
        for table_name, cid, name, declared, notnull, default, pk in self._rows(COLUMNS_SQL, schema):
            table = tables.get(table_name)
            if table is None:
                continue
            described = types.get(declared)
            if described is None:
                sql_type = declared or ""
                described = types[declared] = (sql_type, type_family(sql_type), *declared_facets(sql_type))
            sql_type, family, length, precision, scale = described
            table.columns.append(
                Column(name, cid + 1, sql_type, family, not notnull, length, precision, scale, default)
            )
            if pk and table.kind == "table":
                primary.setdefault(table_name, []).append((pk, name))
        for table in tables.values():
            table.columns.sort(key=lambda c: c.position)
        if include.primary_keys:
            for table_name, keys in primary.items():
                tables[table_name].primary_key = PrimaryKey(None, tuple(name for _, name in sorted(keys)))
        if include.foreign_keys:
            self._read_foreign_keys(schema, tables, primary)
        if include.unique_constraints or include.indexes:
            self._read_indexes(schema, tables, request)
        return tables

    def _read_foreign_keys(
        self, schema: str, tables: dict[str, Table], primary: dict[str, list[tuple[int, str]]]
    ) -> None:
        groups: dict[tuple[str, int], list[Any]] = {}
        for row in self._rows(FOREIGN_KEYS_SQL, schema):
            groups.setdefault((row[0], row[1]), []).append(row)
        for (table_name, _id), rows in groups.items():
            table = tables.get(table_name)
            if table is None:
                continue
            referred = rows[0][3]
            to = [r[5] for r in rows]
            if any(name is None for name in to):  # REFERENCES t without columns: t's primary key
                to = [name for _, name in sorted(primary.get(referred, []))]
            table.foreign_keys.append(
                ForeignKey(None, tuple(r[4] for r in rows), schema, referred, tuple(to))
            )

    def _read_indexes(self, schema: str, tables: dict[str, Table], request: ReadRequest) -> None:
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in self._rows(INDEXES_SQL, schema):
            groups.setdefault((row[0], row[1]), []).append(row)
        for (table_name, index_name), rows in groups.items():
            table = tables.get(table_name)
            if table is None:
                continue
            columns = tuple(r[4] or "" for r in rows)
            if rows[0][2] == "u" and request.include.unique_constraints:
                table.unique_constraints.append(UniqueConstraint(None, columns))
            elif rows[0][2] == "c" and request.include.indexes:
                table.indexes.append(Index(index_name, columns, bool(rows[0][3])))
