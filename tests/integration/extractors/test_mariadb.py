"""MariaDB extraction against a real server: golden file, catalog queries vs SQLAlchemy, read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymysql
import pytest

from connector_extractors.extract import extract, open_session
from connector_extractors.run_config import RunConfig
from connector_testbed.mariadb import MariaDBServer
from tests.integration.extractors.catalogs import MARIADB_DATABASES, MARIADB_LONG, MARIADB_SQL
from tests.integration.extractors.runner import golden_compare, run_extractor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(mariadb_server: MariaDBServer) -> MariaDBServer:
    for name in MARIADB_DATABASES:
        mariadb_server.create_database(name)
    mariadb_server.execute(None, MARIADB_SQL)
    return mariadb_server


def config(server: MariaDBServer, **overrides: Any) -> RunConfig:
    data: dict[str, Any] = {
        "source": {
            "technology": "mariadb",
            "host": server.host,
            "port": server.port,
            "username": server.admin_user,
        },
        "filters": {"schemas": {"include": [*MARIADB_DATABASES]}},
    }
    data.update(overrides)
    return RunConfig.model_validate(data)


def test_matches_golden_file(catalog: MariaDBServer) -> None:
    result = extract(config(catalog), catalog.admin_password)
    assert result.warnings == []
    golden_compare("mariadb", result.metadata)


def test_covers_the_awkward_catalog(catalog: MariaDBServer) -> None:
    metadata = extract(config(catalog), catalog.admin_password).metadata
    tables = {(s.name, t.name): t for s in metadata.schemas for t in s.tables}
    assert [s.name for s in metadata.schemas] == sorted(MARIADB_DATABASES)
    assert ("ünïcødé", MARIADB_LONG) in tables
    archive = tables[("Mixed Case", "Order Archive")]
    assert archive.comment == "Quoted, spaced, mixed case"
    assert archive.foreign_keys[0].referred_schema == "sales"
    lines = tables[("sales", "order_lines")]
    assert lines.foreign_keys[0].columns == ("customer_id", "order_no")
    assert lines.unique_constraints[0].columns == ("customer_id", "order_no", "select")
    customers = tables[("sales", "customers")]
    by_name = {c.name: c for c in customers.columns}
    assert (by_name["email"].length, by_name["email"].comment) == (200, "Login e-mail, unique")
    assert (by_name["balance"].precision, by_name["balance"].scale) == (12, 2)
    assert by_name["Display Name"].default is None
    assert by_name["country"].default == "'FR'"
    assert tables[("sales", "big_customers")].kind == "view"


def _length(column: Any) -> int | None:
    # SQLAlchemy gives an ENUM the length of its longest label; the server declares none.
    return None if column.sql_type.lower().startswith("enum") else column.length


def test_catalog_queries_agree_with_sqlalchemy(catalog: MariaDBServer) -> None:
    """Same tables, columns, nullability of tables, keys and comments as SQLAlchemy's reflection."""
    fast = extract(config(catalog), catalog.admin_password).metadata
    general = extract(config(catalog), catalog.admin_password, fast=False).metadata

    def shape(metadata: Any) -> Any:
        return [
            (
                s.name,
                t.name,
                t.kind,
                t.comment,
                t.primary_key.columns if t.primary_key else None,
                [
                    (f.columns, f.referred_schema, f.referred_table, f.referred_columns)
                    for f in t.foreign_keys
                ],
                [u.columns for u in t.unique_constraints],
                [(c.name, c.position, c.type_family, _length(c), c.scale) for c in t.columns],
                [c.nullable for c in t.columns] if t.kind == "table" else None,
            )
            for s in metadata.schemas
            for t in s.tables
        ]

    assert shape(fast) == shape(general)


def test_writes_through_the_extractor_connection_fail(catalog: MariaDBServer) -> None:
    with open_session(config(catalog), catalog.admin_password) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        with pytest.raises(pymysql.err.OperationalError) as insert_error:
            cursor.execute("INSERT INTO sales.customers (id, email) VALUES (1, 'x')")
        assert insert_error.value.args[0] == 1792  # cannot execute in a READ ONLY transaction
        raw.rollback()
        with pytest.raises(pymysql.err.OperationalError):
            cursor.execute("UPDATE sales.customers SET email = 'y'")
        with pytest.raises(pymysql.err.OperationalError):
            cursor.execute("CREATE TABLE sales.intruder (id int)")
        with pytest.raises(pymysql.err.OperationalError):
            cursor.execute("DROP DATABASE empty_schema")
    assert catalog.query("sales", "SELECT count(*) FROM customers") == [(0,)]


def test_session_settings(catalog: MariaDBServer) -> None:
    cfg = config(catalog, timeouts={"statementSeconds": 42})
    with open_session(cfg, catalog.admin_password) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute("SELECT @@session.tx_read_only, @@session.max_statement_time")
        row = cursor.fetchone()
        assert row is not None
        read_only, limit = row
        assert int(read_only) == 1
        assert float(limit) == 42.0
        assert raw._read_timeout == 42  # the greeting was read with the connect timeout


def test_wrong_password_is_authentication_failed_without_the_password(
    catalog: MariaDBServer, tmp_path: Path
) -> None:
    secret = "Wrong-Maria-Password-77"
    run = run_extractor(
        tmp_path, config(catalog).model_dump(by_alias=True), "--check", env={"OLC_SOURCE_PASSWORD": secret}
    )
    assert run.returncode == 5, run.stdout + run.stderr
    assert run.summary is not None
    assert run.summary.error_category == "AuthenticationFailed"
    assert secret not in run.stdout + run.stderr + run.termination_text


def test_check_counts_what_the_user_can_see(catalog: MariaDBServer, tmp_path: Path) -> None:
    env = {"OLC_SOURCE_PASSWORD": catalog.admin_password}
    run = run_extractor(tmp_path, config(catalog).model_dump(by_alias=True), "--check", env=env)
    assert run.returncode == 0, run.stderr
    assert run.summary is not None
    assert run.summary.counts == {"schemas": 4, "tables": 7}


def test_a_configured_database_is_the_only_schema(catalog: MariaDBServer) -> None:
    cfg = RunConfig.model_validate(
        {
            "source": {
                "technology": "mariadb",
                "host": catalog.host,
                "port": catalog.port,
                "database": "sales",
                "username": catalog.admin_user,
            }
        }
    )
    metadata = extract(cfg, catalog.admin_password).metadata
    assert [s.name for s in metadata.schemas] == ["sales"]


def test_catalog_statements_per_run_do_not_grow_with_schemas(
    catalog: MariaDBServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector_extractors.inspection.mysql import MySQLReader

    counted: list[str] = []
    real = MySQLReader._rows

    def counting(self: MySQLReader, sql: str, params: Any = None) -> Any:
        counted.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(MySQLReader, "_rows", counting)
    extract(config(catalog, filters={"schemas": {"include": ["sales"]}}), catalog.admin_password)
    one = len(counted)
    counted.clear()
    extract(config(catalog), catalog.admin_password)
    assert len(counted) == one <= 4


def test_enum_and_set_are_strings_with_their_members(mariadb_server: MariaDBServer) -> None:
    mariadb_server.create_database("olc_enums")
    mariadb_server.execute(
        "olc_enums",
        "CREATE TABLE choices (id int PRIMARY KEY, mood enum('sad','ok','it''s fine, really') NOT NULL,"
        " flags set('a','b c') NULL)",
    )
    cfg = config(mariadb_server, filters={"schemas": {"include": ["olc_enums"]}})
    for fast in (True, False):
        metadata = extract(cfg, mariadb_server.admin_password, fast=fast).metadata
        by_name = {c.name: c for c in metadata.schemas[0].tables[0].columns}
        mood, flags = by_name["mood"], by_name["flags"]
        assert (mood.type_family, mood.enum_values) == ("string", ("sad", "ok", "it's fine, really"))
        assert (flags.type_family, flags.enum_values) == ("string", ("a", "b c"))
        assert by_name["id"].enum_values is None
