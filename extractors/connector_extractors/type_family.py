"""The normalised type family of a column, from its SQL type as the database writes it.

One string-based classifier for every dialect, so that a `character varying(20)` from PostgreSQL's
catalog, a `varchar(20)` from MySQL's and a `VARCHAR(20)` compiled by SQLAlchemy land in the same family.
Results are cached: a catalog has few distinct type strings and many columns.
"""

from __future__ import annotations

import re
from functools import lru_cache

from connector_extractors.metadata import TypeFamily

_FAMILIES: dict[TypeFamily, tuple[str, ...]] = {
    "string": (
        "char",
        "character",
        "varchar",
        "character varying",
        "nchar",
        "nvarchar",
        "national char",
        "national character",
        "national character varying",
        "national varchar",
        "text",
        "tinytext",
        "mediumtext",
        "longtext",
        "ntext",
        "string",
        "clob",
        "nclob",
        "varchar2",
        "nvarchar2",
        "name",
        "citext",
        "bpchar",
        "enum",
        "set",
        "long",
        "xml",
        "sysname",
        "rowid",
        "urowid",
    ),
    "integer": (
        "int",
        "integer",
        "smallint",
        "bigint",
        "tinyint",
        "mediumint",
        "int1",
        "int2",
        "int4",
        "int8",
        "serial",
        "smallserial",
        "bigserial",
        "serial4",
        "serial8",
        "hugeint",
        "uhugeint",
        "ubigint",
        "uinteger",
        "usmallint",
        "utinyint",
        "oid",
        "byteint",
        "year",
    ),
    "decimal": ("numeric", "decimal", "number", "money", "smallmoney", "dec", "fixed"),
    "float": (
        "real",
        "float",
        "double",
        "double precision",
        "float4",
        "float8",
        "binary_float",
        "binary_double",
        "float64",
        "float32",
    ),
    "boolean": ("bool", "boolean", "bit"),
    "date": ("date",),
    "time": ("time", "time without time zone", "time with time zone", "timetz"),
    "timestamp": (
        "timestamp",
        "timestamp without time zone",
        "timestamp with time zone",
        "timestamptz",
        "datetime",
        "datetime2",
        "smalldatetime",
        "datetimeoffset",
        "timestamp_ntz",
        "timestamp_ltz",
        "timestamp_tz",
        "timestamp with local time zone",
        "timestamp_s",
        "timestamp_ms",
        "timestamp_ns",
    ),
    "interval": ("interval",),
    "binary": (
        "bytea",
        "blob",
        "tinyblob",
        "mediumblob",
        "longblob",
        "binary",
        "varbinary",
        "raw",
        "long raw",
        "image",
        "bit varying",
        "varbit",
        "bfile",
        "bytes",
    ),
    "json": ("json", "jsonb", "variant", "object", "super"),
    "uuid": ("uuid", "uniqueidentifier"),
    "geometry": (
        "geometry",
        "geography",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
        "box",
        "circle",
        "path",
        "lseg",
        "line",
        "sdo_geometry",
    ),
}
_BY_NAME: dict[str, TypeFamily] = {name: family for family, names in _FAMILIES.items() for name in names}
_PARENS = re.compile(r"\([^)]*\)")
_SPACES = re.compile(r"\s+")
_MODIFIERS = (" unsigned", " signed", " zerofill", " identity", " not null")


@lru_cache(maxsize=4096)
def type_family(sql_type: str) -> TypeFamily:
    """The family of `sql_type` ("other" when unknown). `integer[]` and `ARRAY(...)` are arrays."""
    text = sql_type.strip().lower()
    if text.endswith("]") or text.startswith(("array", "_")) or text.endswith(" array"):
        return "array"
    base = _SPACES.sub(" ", _PARENS.sub("", text)).strip()
    # Qualified user types ("public.my_type") keep only their last part.
    if "." in base and '"' not in base:
        base = base.rsplit(".", 1)[-1]
    for modifier in _MODIFIERS:
        base = base.replace(modifier, "")
    base = base.strip().strip('"')
    if base.startswith("interval"):
        return "interval"
    if base.startswith(("timestamp", "datetime")):
        return "timestamp"
    found = _BY_NAME.get(base)
    if found is None and " " in base:
        found = _BY_NAME.get(base.split(" ", 1)[0])
    return found or "other"
