"""The normalised type family, across the spellings of every supported database."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql, sqlite
from sqlalchemy.types import TypeEngine

from connector_extractors.inspection.base import TypeStrings
from connector_extractors.inspection.generic import describe_type
from connector_extractors.type_family import type_family


@pytest.mark.parametrize(
    ("sql_type", "family"),
    [
        # PostgreSQL, as format_type writes them
        ("character varying(200)", "string"),
        ("character(2)", "string"),
        ("text", "string"),
        ("integer", "integer"),
        ("bigint", "integer"),
        ("numeric(12,2)", "decimal"),
        ("double precision", "float"),
        ("real", "float"),
        ("boolean", "boolean"),
        ("timestamp(3) with time zone", "timestamp"),
        ("timestamp without time zone", "timestamp"),
        ("time(0) without time zone", "time"),
        ("date", "date"),
        ("interval day to second", "interval"),
        ("bytea", "binary"),
        ("bit varying(5)", "binary"),
        ("jsonb", "json"),
        ("uuid", "uuid"),
        ("text[]", "array"),
        ("integer[][]", "array"),
        ("point", "geometry"),
        ("public.geometry(Point,4326)", "geometry"),
        ("sales.positive_amount", "other"),
        ("tsvector", "other"),
        # MySQL / MariaDB COLUMN_TYPE
        ("int(11)", "integer"),
        ("int(10) unsigned", "integer"),
        ("decimal(12,2) unsigned zerofill", "decimal"),
        ("tinyint(1)", "integer"),
        ("varchar(50)", "string"),
        ("longtext", "string"),
        ("enum('new','gold')", "string"),
        ("datetime(3)", "timestamp"),
        ("year", "integer"),
        ("mediumblob", "binary"),
        ("json", "json"),
        # SQL Server
        ("NVARCHAR(50)", "string"),
        ("UNIQUEIDENTIFIER", "uuid"),
        ("DATETIME2", "timestamp"),
        ("DATETIMEOFFSET", "timestamp"),
        ("BIT", "boolean"),
        ("MONEY", "decimal"),
        ("VARBINARY(max)", "binary"),
        # Oracle
        ("VARCHAR2(30 CHAR)", "string"),
        ("NUMBER(10, 2)", "decimal"),
        ("BINARY_DOUBLE", "float"),
        ("TIMESTAMP(6) WITH LOCAL TIME ZONE", "timestamp"),
        ("RAW(16)", "binary"),
        ("CLOB", "string"),
        # Snowflake / DuckDB / Redshift
        ("VARIANT", "json"),
        ("TIMESTAMP_NTZ(9)", "timestamp"),
        ("NUMBER(38,0)", "decimal"),
        ("HUGEINT", "integer"),
        ("SUPER", "json"),
        ("INTEGER", "integer"),
        ("", "other"),
    ],
)
def test_type_family(sql_type: str, family: str) -> None:
    assert type_family(sql_type) == family


@pytest.mark.parametrize(
    ("type_", "dialect", "expected"),
    [
        (mssql.NVARCHAR(50), mssql.dialect(), ("NVARCHAR(50)", "string", 50, None, None)),
        (mssql.UNIQUEIDENTIFIER(), mssql.dialect(), ("UNIQUEIDENTIFIER", "uuid", None, None, None)),
        (mssql.DATETIME2(precision=3), mssql.dialect(), ("DATETIME2(3)", "timestamp", None, 3, None)),
        (mssql.MONEY(), mssql.dialect(), ("MONEY", "decimal", None, None, None)),
        (oracle.NUMBER(10, 2), oracle.dialect(), ("NUMBER(10, 2)", "decimal", None, 10, 2)),
        (oracle.VARCHAR2(30), oracle.dialect(), ("VARCHAR2(30 CHAR)", "string", 30, None, None)),
        (oracle.RAW(16), oracle.dialect(), ("RAW(16)", "binary", 16, None, None)),
        (postgresql.TIMESTAMP(timezone=True, precision=3), postgresql.dialect(), None),
        (mysql.DATETIME(fsp=3), mysql.dialect(), ("DATETIME(3)", "timestamp", None, 3, None)),
        (sqlite.NUMERIC(12, 2), sqlite.dialect(), ("NUMERIC(12, 2)", "decimal", None, 12, 2)),
    ],
)
def test_reflected_types_of_sqlalchemy_dialects(
    type_: TypeEngine[object], dialect: object, expected: object
) -> None:
    """What the generic reader makes of types reflected by SQLAlchemy's dialects (no server needed)."""
    sql_type, length, precision, scale = describe_type(type_, dialect, TypeStrings())
    if expected is None:
        assert type_family(sql_type) == "timestamp"
        assert precision == 3
        return
    assert (sql_type, type_family(sql_type), length, precision, scale) == expected


@pytest.mark.parametrize(
    ("technology", "type_", "family"),
    [
        ("oracle", oracle.DATE(), "timestamp"),
        ("postgresql", postgresql.DATE(), "date"),
        ("sqlserver", mssql.TIMESTAMP(), "binary"),
        ("sqlserver", mssql.DATETIME2(), "timestamp"),
    ],
)
def test_dialect_specific_meanings(technology: str, type_: TypeEngine[object], family: str) -> None:
    from sqlalchemy import create_engine

    from connector_extractors.inspection.generic import GenericReader

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        reader = GenericReader(connection, technology)
        reader.dialect = {"oracle": oracle, "postgresql": postgresql, "sqlserver": mssql}[
            technology
        ].dialect()
        (column,) = reader._columns([{"name": "c", "type": type_, "nullable": True, "default": None}])
    assert column.type_family == family
