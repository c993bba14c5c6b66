"""DuckDB's reader: DuckDB's own catalog functions, one query per kind for the whole file.

`duckdb_tables()`, `duckdb_views()`, `duckdb_columns()` and `duckdb_constraints()` of the opened
database only (not the attached `system` and `temp` catalogs). The PostgreSQL-flavoured reflection
that duckdb-engine inherits does not work on current DuckDB versions (no `pg_collation`, no `regclass`),
so this reader replaces it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from connector_extractors.inspection.base import Progress, ReadRequest, ReadResult, TypeStrings
from connector_extractors.metadata import Column, ForeignKey, PrimaryKey, Schema, Table, UniqueConstraint
from connector_extractors.type_family import type_family

SCHEMAS_SQL = "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
TABLES_SQL = """
SELECT schema_name, table_name, comment, 'table', NULL FROM duckdb_tables()
WHERE database_name = current_database()
UNION ALL
SELECT schema_name, view_name, comment, 'view', sql FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal
"""
COLUMNS_SQL = """
SELECT schema_name, table_name, column_name, data_type, is_nullable, column_default, comment,
       numeric_precision, numeric_scale
FROM duckdb_columns() WHERE database_name = current_database()
ORDER BY schema_name, table_name, column_index
"""
CONSTRAINTS_SQL = """
SELECT schema_name, table_name, constraint_type, constraint_name, constraint_column_names,
       referenced_table, referenced_column_names, constraint_text
FROM duckdb_constraints()
WHERE database_name = current_database() AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE')
ORDER BY schema_name, table_name, constraint_index
"""
_REFERENCED_SCHEMA = re.compile(r'REFERENCES\s+("(?:[^"]|"")+"|[^\s."(]+)\.', re.IGNORECASE)


def referenced_schema(constraint_text: str, default: str) -> str:
    found = _REFERENCED_SCHEMA.search(constraint_text or "")
    if not found:
        return default
    name = found.group(1)
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


class DuckDBReader:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._types = TypeStrings()

    def _rows(self, sql: str) -> list[Any]:
        return list(self.connection.exec_driver_sql(sql).fetchall())

    def schema_names(self) -> list[str]:
        return sorted(row[0] for row in self._rows(SCHEMAS_SQL))

    def _tables(self, schemas: list[str], request: ReadRequest) -> dict[tuple[str, str], Table]:
        wanted = set(schemas)
        tables: dict[tuple[str, str], Table] = {}
        for schema, name, comment, kind, definition in self._rows(TABLES_SQL):
            if schema not in wanted or (kind == "view" and not request.include.views):
                continue
            if not request.filter.table_ok(schema, name):
                continue
            table = Table(name=name, kind=kind)
            if request.include.comments:
                table.comment = comment or None
            if kind == "view" and request.include.view_definitions:
                table.view_definition = definition
            tables[(schema, name)] = table
        return tables

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        return len(self._tables(schemas, request))

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        include = request.include
        tables = self._tables(schemas, request)
        progress.phase(f"listed {len(tables)} tables and views in {len(schemas)} schemas")
        position = 0
        current: tuple[str, str] | None = None
        for schema, table_name, name, data_type, nullable, default, comment, precision, scale in self._rows(
            COLUMNS_SQL
        ):
            key = (schema, table_name)
            table = tables.get(key)
            if table is None:
                continue
            position = position + 1 if key == current else 1
            current = key
            sql_type = self._types(data_type)
            decimal = data_type.upper().startswith(("DECIMAL", "NUMERIC"))
            table.columns.append(
                Column(
                    name,
                    position,
                    sql_type,
                    type_family(sql_type),
                    bool(nullable),
                    None,
                    precision if decimal else None,
                    scale if decimal else None,
                    default,
                    (comment or None) if include.comments else None,
                )
            )
        progress.phase("read the columns")
        for schema, table_name, kind, name, columns, ref_table, ref_columns, text in self._rows(
            CONSTRAINTS_SQL
        ):
            table = tables.get((schema, table_name))
            if table is None:
                continue
            if kind == "PRIMARY KEY" and include.primary_keys:
                table.primary_key = PrimaryKey(name, tuple(columns))
            elif kind == "FOREIGN KEY" and include.foreign_keys:
                table.foreign_keys.append(
                    ForeignKey(
                        name, tuple(columns), referenced_schema(text, schema), ref_table, tuple(ref_columns)
                    )
                )
            elif kind == "UNIQUE" and include.unique_constraints:
                table.unique_constraints.append(UniqueConstraint(name, tuple(columns)))
        by_schema = {name: Schema(name=name) for name in schemas}
        for (schema, _name), table in tables.items():
            by_schema[schema].tables.append(table)
        for name in schemas:
            progress.schema_done(name, len(by_schema[name].tables))
        return ReadResult(schemas=list(by_schema.values()))
