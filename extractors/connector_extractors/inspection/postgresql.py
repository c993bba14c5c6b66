"""PostgreSQL's fast path: a handful of catalog queries per run, whatever the number of schemas.

One query lists the tables, views, materialised views and foreign tables of all selected schemas with
their comments; one reads all their columns (types via `format_type`, defaults, comments); one reads all
primary, foreign and unique keys (composite and cross-schema); partitions, indexes and view definitions
add one query each only when asked. Rows stream straight from the driver's cursor into the model.
The result matches SQLAlchemy's reflection of the same catalog (tests compare them), except that SQL
types are written the way PostgreSQL writes them (`character varying(20)`, not `VARCHAR(20)`) and
partitions are folded into their parent table. User-defined types are resolved once per run by one
more small query: a domain (nested ones too) takes the family and facets of its base type, an enum is a
string with its labels; the SQL type text stays the name the column was declared with.
"""

from __future__ import annotations

from dataclasses import replace
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
from connector_extractors.run_config import IncludeOptions
from connector_extractors.type_family import type_family

# The catalog shows every schema and table, whatever the login may use: schemas without USAGE and
# tables and views without SELECT (on the table or on any of its columns) are flagged here and skipped
# with a warning that names them (importing what the login cannot read would be misleading).
SCHEMAS_SQL = """
SELECT nspname, pg_catalog.has_schema_privilege(oid, 'USAGE')
FROM pg_catalog.pg_namespace ORDER BY nspname
"""

RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, d.description,
       CASE WHEN %(view_definitions)s AND c.relkind IN ('v', 'm')
            THEN pg_catalog.pg_get_viewdef(c.oid, true) END,
       c.relnamespace, pg_catalog.has_any_column_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind = ANY(%(kinds)s)
"""

PARTITIONS_SQL = """
SELECT i.inhparent, c.relname
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE c.relispartition AND c.relnamespace = ANY(%(namespaces)s)
"""

# The relations of the selected schemas are picked by namespace (a short array) rather than by a long
# list of oids: on large catalogs that is the cheaper plan. Rows of tables left out by the table filters
# are skipped on the client; when the filters keep few tables, the oid list is used instead.
_BY_NAMESPACE = "c.relnamespace = ANY(%(namespaces)s) AND c.relkind = ANY(%(kinds)s)"
_BY_OID = "c.oid = ANY(%(oids)s)"

COLUMNS_SQL = """
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod,
       a.attnotnull,
       CASE WHEN a.atthasdef AND a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) END,
       d.description, a.attnum
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
WHERE {relations} AND (%(partitions)s OR NOT c.relispartition) AND a.attnum > 0 AND NOT a.attisdropped
"""

# Key columns come back as attribute numbers and are named on the client from the columns already read
# (one cheap scan instead of a sub-select per constraint); see `_name_keys`.
CONSTRAINTS_SQL = """
SELECT con.conrelid, con.conname, con.contype, con.conkey, con.confrelid, con.confkey
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
WHERE {relations} AND con.contype = ANY(%(types)s)
"""

# Names for keys that refer to tables outside the extraction (another schema, or filtered out).
REFERRED_SQL = """
SELECT c.oid, n.nspname, c.relname, a.attnum, a.attname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.oid = ANY(%(oids)s)
"""

# Every domain with its final base type (domains over domains followed to the end; the type modifier
# is the outermost one set) and the labels when that base is an enum; then every enum with its labels.
USER_TYPES_SQL = """
WITH RECURSIVE chain(domain, base, typmod) AS (
    SELECT t.oid, t.typbasetype, t.typtypmod FROM pg_catalog.pg_type t WHERE t.typtype = 'd'
  UNION ALL
    SELECT c.domain, b.typbasetype, CASE WHEN c.typmod >= 0 THEN c.typmod ELSE b.typtypmod END
    FROM chain c JOIN pg_catalog.pg_type b ON b.oid = c.base AND b.typtype = 'd'
), labels(oid, labels) AS (
    SELECT e.enumtypid, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
    FROM pg_catalog.pg_enum e GROUP BY e.enumtypid
)
SELECT c.domain, c.base, c.typmod, pg_catalog.format_type(c.base, c.typmod), l.labels
FROM chain c
JOIN pg_catalog.pg_type b ON b.oid = c.base
LEFT JOIN labels l ON l.oid = c.base
WHERE b.typtype <> 'd'
UNION ALL
SELECT l.oid, NULL, NULL, NULL, l.labels FROM labels l
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


# (family, length, precision, scale, enum labels) of a user-defined type, by type oid.
UserType = tuple[TypeFamily, int | None, int | None, int | None, tuple[str, ...] | None]


def resolve_user_type(
    base_oid: int | None, typmod: int | None, base_text: str | None, labels: list[str] | None
) -> UserType:
    """What a column of a domain (over `base_oid`) or of an enum (no base) is made of."""
    enum_values = tuple(labels) if labels is not None else None
    if base_oid is None or base_text is None:
        return "string", None, None, None, enum_values
    family: TypeFamily = "string" if enum_values is not None else type_family(base_text)
    length, precision, scale = typmod_facets(base_oid, typmod if typmod is not None else -1)
    return family, length, precision, scale, enum_values


class _Relation:
    __slots__ = ("attnames", "namespace", "schema", "table")

    def __init__(self, schema: str, namespace: int, table: Table) -> None:
        self.schema = schema
        self.namespace = namespace
        self.table = table
        self.attnames: dict[int, str] | None = None  # only when attribute numbers have gaps


class PostgresReader:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._types: dict[str, tuple[str, TypeFamily]] = {}
        self._without_usage: set[str] | None = None

    def _cursor(self) -> Any:
        # The raw psycopg cursor: tuples straight from libpq (binary format), no Row objects in between.
        dbapi = self.connection.connection.dbapi_connection
        assert dbapi is not None
        return dbapi.cursor(binary=True)

    def _fetch(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def schema_names(self) -> list[str]:
        rows = self._fetch(SCHEMAS_SQL)
        self._without_usage = {name for name, usable in rows if not usable}
        return [row[0] for row in rows]

    def _usable(self, schemas: list[str], warnings: list[str] | None) -> list[str]:
        """`schemas` less those the login has no USAGE on (each named in `warnings`)."""
        if self._without_usage is None:
            self.schema_names()
        assert self._without_usage is not None
        kept = []
        for name in schemas:
            if name not in self._without_usage:
                kept.append(name)
            elif warnings is not None:
                warnings.append(
                    f"schema {name}: skipped, the login has no USAGE privilege on it "
                    "(grant USAGE on the schema, or leave it out with filters.schemas.exclude)"
                )
        return kept

    def _relations(
        self, schemas: list[str], request: ReadRequest, warnings: list[str] | None = None
    ) -> tuple[dict[int, _Relation], int]:
        """({oid: relation} of the objects that pass the filters and that the login may SELECT from,
        how many objects the schemas hold); objects without SELECT are named in `warnings`."""
        include = request.include
        kinds = self._kinds(include)
        params = {"schemas": schemas, "kinds": kinds, "view_definitions": include.view_definitions}
        relations: dict[int, _Relation] = {}
        unreadable: dict[str, list[str]] = {}
        rows = self._fetch(RELATIONS_SQL, params)
        for oid, schema, name, kind, is_partition, comment, definition, namespace, readable in rows:
            if is_partition and not include.partitions:
                continue
            if not request.filter.table_ok(schema, name):
                continue
            if not readable:
                unreadable.setdefault(schema, []).append(name)
                continue
            table = Table(
                name=name,
                kind="view" if kind in ("v", "m") else "table",
                materialized=kind == "m",
                foreign=kind == "f",
                view_definition=definition,
            )
            if include.comments:
                table.comment = comment or None
            relations[oid] = _Relation(schema, namespace, table)
        if warnings is not None:
            warnings.extend(
                _unreadable_warning(schema, names) for schema, names in sorted(unreadable.items())
            )
        return relations, len(rows)

    @staticmethod
    def _kinds(include: IncludeOptions) -> list[str]:
        return ["r", "p", "f"] + (["v", "m"] if include.views else [])

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        return len(self._relations(self._usable(schemas, None), request)[0])

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        include = request.include
        warnings: list[str] = []
        usable = self._usable(schemas, warnings)
        for name in set(schemas).difference(usable):
            progress.schema_done(name, 0)
        schemas = usable
        relations, total = self._relations(schemas, request, warnings)
        progress.phase(f"listed {len(relations)} tables and views in {len(schemas)} schemas")
        by_schema: dict[str, Schema] = {name: Schema(name=name) for name in schemas}
        if relations:
            few = len(relations) * 2 < total
            where = _BY_OID if few else _BY_NAMESPACE
            params: dict[str, Any] = {
                "oids": list(relations),
                "namespaces": sorted({r.namespace for r in relations.values()}),
                "kinds": self._kinds(include),
                "partitions": include.partitions,
            }
            self._read_columns(COLUMNS_SQL.format(relations=where), params, relations, include.comments)
            progress.phase("read the columns")
            types = (["p"] if include.primary_keys else []) + (["f"] if include.foreign_keys else [])
            types += ["u"] if include.unique_constraints else []
            if types:
                params["types"] = types
                self._read_constraints(CONSTRAINTS_SQL.format(relations=where), params, relations)
                progress.phase("read the keys")
            self._read_partitions(params, relations)
            if include.indexes:
                self._read_indexes(list(relations), relations)
        for relation in relations.values():
            by_schema[relation.schema].tables.append(relation.table)
        for schema_name in schemas:
            progress.schema_done(schema_name, len(by_schema[schema_name].tables))
        return ReadResult(schemas=list(by_schema.values()), warnings=warnings)

    def _type(self, raw: str) -> tuple[str, TypeFamily]:
        found = self._types.get(raw)
        if found is None:
            found = self._types[raw] = (raw, type_family(raw))
        return found

    def _user_types(self) -> dict[int, UserType]:
        return {
            oid: resolve_user_type(base, typmod, text, labels)
            for oid, base, typmod, text, labels in self._fetch(USER_TYPES_SQL)
        }

    def _read_columns(
        self, sql: str, params: dict[str, Any], relations: dict[int, _Relation], comments: bool
    ) -> None:
        types = self._types
        user_types = self._user_types()
        tables = {oid: r.table.columns for oid, r in relations.items()}
        float_precision = _FLOAT_PRECISION
        last_oid = None
        columns: list[Column] | None = None
        # The hot loop of the whole extractor: one pass, no per-row function calls beyond Column().
        for oid, name, raw_type, type_oid, typmod, notnull, default, comment, attnum in self._fetch(
            sql, params
        ):
            if oid != last_oid:
                last_oid = oid
                columns = tables.get(oid)
            if columns is None:
                continue  # a table left out by the filters
            sql_type, family = types.get(raw_type) or self._type(raw_type)
            if typmod >= 0 or type_oid in float_precision:
                length, precision, scale = typmod_facets(type_oid, typmod)
            else:
                length = precision = scale = None
            enum_values = None
            if user_types and type_oid in user_types:
                family, length, precision, scale, enum_values = user_types[type_oid]
            columns.append(
                Column(
                    name,
                    attnum,
                    sql_type,
                    family,
                    not notnull,
                    length,
                    precision,
                    scale,
                    default,
                    comment if comments else None,
                    enum_values,
                )
            )
        for relation in relations.values():
            columns = relation.table.columns
            columns.sort(key=_position)
            if columns and columns[-1].position != len(columns):
                # Dropped columns leave gaps in attribute numbers: positions are made dense again.
                relation.attnames = {c.position: c.name for c in columns}
                columns[:] = [replace(c, position=i) for i, c in enumerate(columns, start=1)]

    def _read_constraints(self, sql: str, params: dict[str, Any], relations: dict[int, _Relation]) -> None:
        rows = [row for row in self._fetch(sql, params) if row[0] in relations]
        outside = sorted({row[4] for row in rows if row[2] == "f" and row[4] not in relations})
        referred: dict[int, tuple[str, str, dict[int, str]]] = {}
        if outside:
            for oid, schema, table, attnum, attname in self._fetch(REFERRED_SQL, {"oids": outside}):
                referred.setdefault(oid, (schema, table, {}))[2][attnum] = attname
        for oid, name, kind, keys, ref_oid, ref_keys in rows:
            relation = relations[oid]
            table = relation.table
            columns = _name_keys(relation, keys)
            if kind == "p":
                table.primary_key = PrimaryKey(name, columns)
            elif kind == "u":
                table.unique_constraints.append(UniqueConstraint(name, columns))
            else:
                target = relations.get(ref_oid)
                if target is not None:
                    ref_schema, ref_table, ref_columns = (
                        target.schema,
                        target.table.name,
                        _name_keys(target, ref_keys),
                    )
                else:
                    ref_schema, ref_table, names = referred[ref_oid]
                    ref_columns = tuple(names[k] for k in ref_keys)
                table.foreign_keys.append(ForeignKey(name, columns, ref_schema, ref_table, ref_columns))

    def _read_partitions(self, params: dict[str, Any], relations: dict[int, _Relation]) -> None:
        for parent, name in self._fetch(PARTITIONS_SQL, params):
            relation = relations.get(parent)
            if relation is not None:
                relation.table.partitions.append(name)

    def _read_indexes(self, oids: list[int], relations: dict[int, _Relation]) -> None:
        for oid, name, unique, columns in self._fetch(INDEXES_SQL, {"oids": oids}):
            relations[oid].table.indexes.append(Index(name, tuple(columns), bool(unique)))


def _unreadable_warning(schema: str, names: list[str], shown: int = 5) -> str:
    """One warning per schema for its tables and views without SELECT (the first `shown` named).

    Warnings are cut at 300 characters: the advice comes first, the names last.
    """
    names = sorted(names)
    listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
    return (
        f"schema {schema}: {len(names)} tables or views skipped, no SELECT privilege (grant it, or leave "
        f"them out with filters.tables.exclude): {listed}"
    )


def _position(column: Column) -> int:
    return column.position


def _name_keys(relation: _Relation, keys: list[int]) -> tuple[str, ...]:
    """Column names of attribute numbers `keys` of `relation` (whose columns are already read)."""
    if relation.attnames is not None:
        return tuple(relation.attnames[k] for k in keys)
    columns = relation.table.columns
    return tuple(columns[k - 1].name for k in keys)
