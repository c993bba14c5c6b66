"""PostgreSQL's fast path: a handful of catalog queries per run, whatever the number of schemas.

One query lists the tables, views, materialised views and foreign tables of all selected schemas with
their comments; one reads all their columns (types via `format_type`, defaults, comments); one reads all
primary, foreign and unique keys (composite and cross-schema); partitions, indexes and view definitions
add one query each only when asked. Rows stream straight from the driver's cursor into the model.
The result matches SQLAlchemy's reflection of the same catalog (tests compare them), except that SQL
types are written the way PostgreSQL writes them (`character varying(20)`, not `VARCHAR(20)`) and
partitions are folded into their parent table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from connector_extractors.inspection.base import Progress, ReadRequest, ReadResult, TypeStrings
from connector_extractors.metadata import (
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
)
from connector_extractors.type_family import type_family

SCHEMAS_SQL = "SELECT nspname FROM pg_catalog.pg_namespace ORDER BY nspname"

RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, d.description,
       CASE WHEN %(view_definitions)s AND c.relkind IN ('v', 'm')
            THEN pg_catalog.pg_get_viewdef(c.oid, true) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind = ANY(%(kinds)s)
"""

PARTITIONS_SQL = """
SELECT i.inhparent, c.relname
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE c.relispartition AND i.inhparent = ANY(%(oids)s)
"""

COLUMNS_SQL = """
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod,
       a.attnotnull,
       CASE WHEN a.atthasdef AND a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
       d.description
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_KEY_NAMES = """
ARRAY(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY AS k(num, ord)
      JOIN pg_catalog.pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num ORDER BY k.ord)
"""

CONSTRAINTS_SQL = f"""
SELECT con.conrelid, con.conname, con.contype,
       {_KEY_NAMES.format(keys="con.conkey", rel="con.conrelid")},
       fn.nspname, fc.relname,
       CASE WHEN con.contype = 'f' THEN {_KEY_NAMES.format(keys="con.confkey", rel="con.confrelid")} END
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY(%(oids)s) AND con.contype = ANY(%(types)s)
"""

INDEXES_SQL = """
SELECT i.indrelid, ic.relname, i.indisunique,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY(%(oids)s) AND NOT i.indisprimary
"""

# Type oids whose typmod carries a length, a precision/scale or a fractional-seconds precision.
_LENGTH_TYPES = {1042, 1043}  # bpchar, varchar
_BIT_TYPES = {1560, 1562}  # bit, varbit
_NUMERIC = 1700
_TIME_TYPES = {1083, 1266, 1114, 1184}  # time, timetz, timestamp, timestamptz
_INTERVAL = 1186
_FLOAT_PRECISION = {700: 24, 701: 53}  # real, double precision


def typmod_facets(type_oid: int, typmod: int) -> tuple[int | None, int | None, int | None]:
    """(length, precision, scale) that PostgreSQL encodes in a column's type modifier.

    Floats have a fixed binary precision (24 and 53 bits), as information_schema reports them.
    """
    if type_oid in _FLOAT_PRECISION:
        return None, _FLOAT_PRECISION[type_oid], None
    if typmod < 0:
        return None, None, None
    if type_oid in _LENGTH_TYPES:
        return (typmod - 4 if typmod >= 4 else None), None, None
    if type_oid == _NUMERIC:
        if typmod < 4:
            return None, None, None
        return None, ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    if type_oid in _BIT_TYPES:
        return typmod, None, None
    if type_oid in _TIME_TYPES:
        return None, typmod, None
    if type_oid == _INTERVAL and (typmod & 0xFFFF) != 0xFFFF:
        return None, typmod & 0xFFFF, None
    return None, None, None


class PostgresReader:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._types = TypeStrings()

    def _cursor(self) -> Any:
        # The raw psycopg cursor: tuples straight from libpq, no Row objects in between.
        return self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def _rows(self, sql: str, params: dict[str, Any]) -> Any:
        cursor = self._cursor()
        cursor.execute(sql, params)
        return cursor

    def schema_names(self) -> list[str]:
        with self._cursor() as cursor:
            cursor.execute(SCHEMAS_SQL)
            return [row[0] for row in cursor]

    def _relations(self, schemas: list[str], request: ReadRequest) -> dict[int, tuple[str, Table, bool]]:
        """{oid: (schema, table, is_partition)} of the objects that pass the filters."""
        kinds = ["r", "p", "f"] + (["v", "m"] if request.include.views else [])
        params = {"schemas": schemas, "kinds": kinds, "view_definitions": request.include.view_definitions}
        relations: dict[int, tuple[str, Table, bool]] = {}
        keep_partitions = request.include.partitions
        with self._rows(RELATIONS_SQL, params) as cursor:
            for oid, schema, name, kind, is_partition, comment, definition in cursor:
                if is_partition and not keep_partitions:
                    continue
                if not request.filter.table_ok(schema, name):
                    continue
                table = Table(
                    name=name,
                    kind="view" if kind in ("v", "m") else "table",
                    materialized=kind == "m",
                    foreign=kind == "f",
                    view_definition=definition,
                )
                if request.include.comments:
                    table.comment = comment or None
                relations[oid] = (schema, table, is_partition)
        return relations

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        return len(self._relations(schemas, request))

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        include = request.include
        relations = self._relations(schemas, request)
        oids = list(relations)
        progress.phase(f"listed {len(oids)} tables and views in {len(schemas)} schemas")
        tables = {oid: entry[1] for oid, entry in relations.items()}
        self._read_columns(oids, tables, include.comments)
        progress.phase("read the columns")
        types = (["p"] if include.primary_keys else []) + (["f"] if include.foreign_keys else [])
        types += ["u"] if include.unique_constraints else []
        if types and oids:
            self._read_constraints(oids, types, tables)
            progress.phase("read the keys")
        if oids:
            self._read_partitions(oids, tables)
        if include.indexes and oids:
            self._read_indexes(oids, tables)
        by_schema: dict[str, Schema] = {name: Schema(name=name) for name in schemas}
        for schema, table, _partition in relations.values():
            by_schema[schema].tables.append(table)
        for schema_name in schemas:
            progress.schema_done(schema_name, len(by_schema[schema_name].tables))
        return ReadResult(schemas=list(by_schema.values()))

    def _read_columns(self, oids: list[int], tables: dict[int, Table], comments: bool) -> None:
        intern = self._types
        current_oid = -1
        columns: list[Column] = []
        position = 0
        with self._rows(COLUMNS_SQL, {"oids": oids}) as cursor:
            for oid, name, raw_type, type_oid, typmod, notnull, default, comment in cursor:
                if oid != current_oid:
                    columns = tables[oid].columns
                    current_oid = oid
                    position = 0
                position += 1
                length, precision, scale = typmod_facets(type_oid, typmod)
                sql_type = intern(raw_type)
                columns.append(
                    Column(
                        name,
                        position,
                        sql_type,
                        type_family(sql_type),
                        not notnull,
                        length,
                        precision,
                        scale,
                        default,
                        (comment or None) if comments else None,
                    )
                )

    def _read_constraints(self, oids: list[int], types: list[str], tables: dict[int, Table]) -> None:
        with self._rows(CONSTRAINTS_SQL, {"oids": oids, "types": types}) as cursor:
            for oid, name, kind, columns, ref_schema, ref_table, ref_columns in cursor:
                table = tables[oid]
                if kind == "p":
                    table.primary_key = PrimaryKey(name, tuple(columns))
                elif kind == "f":
                    table.foreign_keys.append(
                        ForeignKey(name, tuple(columns), ref_schema, ref_table, tuple(ref_columns))
                    )
                else:
                    table.unique_constraints.append(UniqueConstraint(name, tuple(columns)))

    def _read_partitions(self, oids: list[int], tables: dict[int, Table]) -> None:
        with self._rows(PARTITIONS_SQL, {"oids": oids}) as cursor:
            for parent, name in cursor:
                tables[parent].partitions.append(name)

    def _read_indexes(self, oids: list[int], tables: dict[int, Table]) -> None:
        with self._rows(INDEXES_SQL, {"oids": oids}) as cursor:
            for oid, name, unique, columns in cursor:
                tables[oid].indexes.append(Index(name, tuple(columns), bool(unique)))
