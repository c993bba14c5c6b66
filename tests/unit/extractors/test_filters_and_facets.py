"""Name filters, system schemas, and the per-dialect facet decoding of the catalog readers."""

from __future__ import annotations

import pytest

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.filters import NameFilter, is_system_schema
from connector_extractors.inspection.duckdb import referenced_schema
from connector_extractors.inspection.mysql import column_default, column_facets
from connector_extractors.inspection.postgresql import typmod_facets
from connector_extractors.run_config import Filters


def name_filter(technology: str = "postgresql", **filters: object) -> NameFilter:
    return NameFilter.from_config(technology, Filters.model_validate(filters))


def test_system_schemas_are_excluded_by_default() -> None:
    flt = name_filter()
    assert not flt.schema_ok("pg_catalog")
    assert not flt.schema_ok("information_schema")
    assert not flt.schema_ok("pg_temp_3")
    assert flt.schema_ok("public")
    assert name_filter(includeSystemSchemas=True).schema_ok("pg_catalog")
    assert is_system_schema("sqlserver", "INFORMATION_SCHEMA")
    assert is_system_schema("oracle", "SYS")
    assert is_system_schema("oracle", "APEX_230100")
    assert not is_system_schema("sqlite", "main")


def test_schema_patterns_match_whole_names_and_exclude_wins() -> None:
    flt = name_filter(schemas={"include": ["sales.*", "hr"], "exclude": ["sales_tmp"]})
    assert flt.schema_ok("sales")
    assert flt.schema_ok("sales_eu")
    assert not flt.schema_ok("sales_tmp")
    assert flt.schema_ok("hr")
    assert not flt.schema_ok("hr2")


def test_table_patterns_match_bare_or_qualified_names() -> None:
    flt = name_filter(tables={"include": ["orders", "sales\\.cust.*"], "exclude": [".*_bak"]})
    assert flt.table_ok("any", "orders")
    assert flt.table_ok("sales", "customers")
    assert not flt.table_ok("hr", "customers")
    assert not flt.table_ok("sales", "customers_bak")
    assert name_filter().table_ok("x", "anything")
    assert not name_filter().filters_tables


def test_invalid_pattern_is_invalid_configuration() -> None:
    with pytest.raises(ConnectorError) as error:
        name_filter(tables={"include": ["orders("]})
    assert error.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert "orders(" in error.value.message


@pytest.mark.parametrize(
    ("type_oid", "typmod", "expected"),
    [
        (1043, 204, (200, None, None)),  # varchar(200)
        (1043, -1, (None, None, None)),  # varchar
        (1042, 6, (2, None, None)),  # char(2)
        (1700, (12 << 16 | 2) + 4, (None, 12, 2)),  # numeric(12,2)
        (1700, -1, (None, None, None)),  # numeric
        (1184, 3, (None, 3, None)),  # timestamptz(3)
        (1184, -1, (None, None, None)),
        (1186, 0x7FFF0000 | 2, (None, 2, None)),  # interval(2)
        (1560, 8, (8, None, None)),  # bit(8)
        (701, -1, (None, 53, None)),  # double precision
        (700, -1, (None, 24, None)),  # real
        (23, -1, (None, None, None)),  # integer
    ],
)
def test_postgres_typmod_facets(type_oid: int, typmod: int, expected: tuple[int | None, ...]) -> None:
    assert typmod_facets(type_oid, typmod) == expected


@pytest.mark.parametrize(
    ("column_type", "expected"),
    [
        ("varchar(200)", (200, None, None)),
        ("char(2)", (2, None, None)),
        ("text", (None, None, None)),
        ("decimal(12,2) unsigned", (None, 12, 2)),
        ("decimal(10,0)", (None, 10, 0)),
        ("int(11)", (None, None, None)),
        ("datetime(3)", (None, 3, None)),
        ("datetime", (None, None, None)),
        ("enum('a','b')", (None, None, None)),
        ("bit(8)", (8, None, None)),
    ],
)
def test_mysql_column_facets(column_type: str, expected: tuple[int | None, ...]) -> None:
    assert column_facets(column_type) == expected


def test_mariadb_null_default_text_is_no_default() -> None:
    assert column_default("NULL", nullable=True) is None
    assert column_default("NULL", nullable=False) == "NULL"
    assert column_default("'FR'", nullable=True) == "'FR'"
    assert column_default(None, nullable=True) is None


def test_duckdb_referenced_schema() -> None:
    assert referenced_schema("FOREIGN KEY (a) REFERENCES sales.customers(id)", "main") == "sales"
    assert (
        referenced_schema('FOREIGN KEY (a) REFERENCES "My ""Schema""".customers(id)', "main") == 'My "Schema"'
    )
    assert referenced_schema("FOREIGN KEY (a) REFERENCES customers(id)", "main") == "main"


def test_mysql_database_is_the_default_schema_include() -> None:
    flt = NameFilter.from_config("mysql", Filters(), only_schema="shop")
    assert flt.schema_ok("shop")
    assert not flt.schema_ok("shop2")
    assert not flt.schema_ok("other")
    patterns = NameFilter.from_config(
        "mysql", Filters.model_validate({"schemas": {"include": ["a.*"]}}), "shop"
    )
    assert patterns.schema_ok("analytics")
    assert not patterns.schema_ok("shop")
