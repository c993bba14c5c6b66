"""PostgreSQL extraction against a real server: golden file, fast path = SQLAlchemy, options, safety."""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
import pytest

from connector_extractors.errors import ErrorCategory
from connector_extractors.extract import extract, open_session
from connector_extractors.run_config import RunConfig
from connector_testbed.postgres import PostgresServer
from tests.integration.extractors.catalogs import PG_LONG, POSTGRES_SQL
from tests.integration.extractors.runner import golden_compare, run_extractor, without_sql_types

pytestmark = pytest.mark.integration
DB = "olc_extract_pg"


@pytest.fixture(scope="module")
def catalog(postgres_server: PostgresServer) -> PostgresServer:
    postgres_server.create_database(DB)
    postgres_server.execute(DB, POSTGRES_SQL)
    return postgres_server


def config(server: PostgresServer, **overrides: Any) -> RunConfig:
    data: dict[str, Any] = {
        "source": {
            "technology": "postgresql",
            "host": server.host,
            "port": server.port,
            "database": DB,
            "username": server.admin_user,
        }
    }
    data.update(overrides)
    return RunConfig.model_validate(data)


def names(metadata: Any) -> dict[str, list[str]]:
    return {s.name: [t.name for t in s.tables] for s in metadata.schemas}


def test_matches_golden_file(catalog: PostgresServer) -> None:
    result = extract(config(catalog), catalog.admin_password)
    assert result.warnings == []
    golden_compare("postgresql", result.metadata)


def test_covers_the_awkward_catalog(catalog: PostgresServer) -> None:
    metadata = extract(config(catalog), catalog.admin_password).metadata
    found = names(metadata)
    assert found["empty_schema"] == []
    assert "Order Archive" in found["Mixed Case"]
    assert set(found["ünïcødé"]) == {"tåble ñame", PG_LONG}
    assert "pg_catalog" not in found
    assert "information_schema" not in found
    tables = {(s.name, t.name): t for s in metadata.schemas for t in s.tables}
    events = tables[("sales", "events")]
    assert events.partitions == ["events_2024", "events_2025"]
    assert ("sales", "events_2024") not in tables
    assert tables[("sales", "order_totals")].materialized
    assert tables[("sales", "order_totals")].kind == "view"
    assert tables[("sales", "remote_stock")].foreign
    lines = tables[("sales", "order_lines")]
    assert [(fk.columns, fk.referred_columns) for fk in lines.foreign_keys] == [
        (("customer_id", "order_no"), ("customer_id", "order_no"))
    ]
    archive = tables[("Mixed Case", "Order Archive")]
    assert archive.foreign_keys[0].referred_schema == "sales"  # cross-schema
    assert archive.comment == "Quoted, spaced, mixed case"
    customers = tables[("sales", "customers")]
    email = next(c for c in customers.columns if c.name == "email")
    assert (email.sql_type, email.type_family, email.length, email.nullable) == (
        "character varying(200)",
        "string",
        200,
        False,
    )
    assert email.comment == "Login e-mail, unique"
    assert [c.type_family for c in customers.columns] == [
        "integer", "string", "string", "string", "timestamp", "array", "decimal", "json", "uuid",
    ]  # fmt: skip
    balance = next(c for c in customers.columns if c.name == "balance")  # a domain over numeric(12, 2)
    assert (balance.sql_type, balance.precision, balance.scale) == ("sales.positive_amount", 12, 2)
    assert tables[("sales", "big_customers")].comment == "Customers worth a look"


def test_fast_path_equals_sqlalchemy_multi_reflection(catalog: PostgresServer) -> None:
    """The catalog queries give what SQLAlchemy's inspector gives (type spelling aside; SQLAlchemy drops
    the type modifier of a domain's base type, so the domain column's facets are compared apart)."""
    cfg = config(catalog, include={"partitions": True, "indexes": False})
    fast = extract(cfg, catalog.admin_password).metadata.to_dict()
    general = extract(cfg, catalog.admin_password, fast=False).metadata.to_dict()
    for document in (fast, general):
        for schema in document["schemas"]:
            for table in schema["tables"]:
                table["partitions"] = []
                for column in table["columns"]:
                    if column["sql_type"] == "sales.positive_amount":
                        column.update(precision=None, scale=None)
    assert without_sql_types(fast) == without_sql_types(general)


def test_partitions_listed_on_request(catalog: PostgresServer) -> None:
    metadata = extract(config(catalog, include={"partitions": True}), catalog.admin_password).metadata
    assert {"events", "events_2024", "events_2025"} <= set(names(metadata)["sales"])


def test_filters_views_definitions_and_indexes(catalog: PostgresServer) -> None:
    cfg = config(
        catalog,
        filters={"schemas": {"include": ["sales", "Mixed.*"]}, "tables": {"exclude": ["sales\\.order_.*"]}},
        include={"viewDefinitions": True, "indexes": True},
    )
    metadata = extract(cfg, catalog.admin_password).metadata
    found = names(metadata)
    assert set(found) == {"sales", "Mixed Case"}
    assert "order_lines" not in found["sales"]
    assert "order_totals" not in found["sales"]
    tables = {t.name: t for s in metadata.schemas for t in s.tables}
    assert "SELECT" in (tables["big_customers"].view_definition or "").upper()
    assert any(ix.unique and ix.columns == ("email",) for ix in tables["customers"].indexes)
    no_views = extract(config(catalog, include={"views": False}), catalog.admin_password).metadata
    assert all(t.kind == "table" for s in no_views.schemas for t in s.tables)


def test_writes_through_the_extractor_connection_fail(catalog: PostgresServer) -> None:
    with open_session(config(catalog), catalog.admin_password) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            cursor.execute("CREATE TABLE sales.intruder (id int)")
        raw.rollback()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            cursor.execute("INSERT INTO sales.customers (id, email) VALUES (1, 'x')")
        raw.rollback()
    assert catalog.query(DB, "SELECT count(*) FROM sales.customers") == [(0,)]


def test_session_settings(catalog: PostgresServer) -> None:
    cfg = config(catalog, timeouts={"statementSeconds": 42})
    with open_session(cfg, catalog.admin_password) as session:
        raw = session.connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute("SHOW default_transaction_read_only")
        assert cursor.fetchone() == ("on",)
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("42s",)
        cursor.execute("SELECT current_setting('application_name')")
        assert cursor.fetchone() == ("online-connector",)


def test_wrong_password_is_authentication_failed_without_the_password(
    catalog: PostgresServer, tmp_path: Any
) -> None:
    secret = "Not-The-Password-3f9a!"
    run = run_extractor(
        tmp_path, config(catalog).model_dump(by_alias=True), "--dry-run", env={"OLC_SOURCE_PASSWORD": secret}
    )
    assert run.returncode == 5, run.stderr
    assert run.summary is not None
    assert run.summary.error_category == ErrorCategory.AUTHENTICATION_FAILED.value
    assert catalog.admin_user in run.summary.message
    for text in (run.stdout, run.stderr, run.termination_text):
        assert secret not in text


def test_user_without_connect_right_is_permission_denied(catalog: PostgresServer, tmp_path: Any) -> None:
    catalog.execute("postgres", "DROP ROLE IF EXISTS olc_nobody")
    catalog.create_user("olc_nobody", "nobody-pw")
    catalog.execute("postgres", f"REVOKE CONNECT ON DATABASE {DB} FROM PUBLIC")
    try:
        data = config(catalog).model_dump(by_alias=True)
        data["source"]["username"] = "olc_nobody"
        run = run_extractor(tmp_path, data, "--check", env={"OLC_SOURCE_PASSWORD": "nobody-pw"})
    finally:
        catalog.execute("postgres", f"GRANT CONNECT ON DATABASE {DB} TO PUBLIC")
    assert run.returncode == 6, run.stdout + run.stderr
    assert run.summary is not None
    assert run.summary.error_category == "PermissionDenied"
    assert "nobody-pw" not in run.stdout + run.stderr + run.termination_text


def test_unknown_database_is_invalid_configuration(catalog: PostgresServer, tmp_path: Any) -> None:
    data = config(catalog).model_dump(by_alias=True)
    data["source"]["database"] = "no_such_db"
    run = run_extractor(tmp_path, data, "--check", env={"OLC_SOURCE_PASSWORD": catalog.admin_password})
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.summary is not None
    assert run.summary.error_category == "InvalidConfiguration"


def test_dry_run_output_and_check(catalog: PostgresServer, tmp_path: Any) -> None:
    import json

    output = tmp_path / "metadata.json"
    env = {"OLC_SOURCE_PASSWORD": catalog.admin_password}
    run = run_extractor(
        tmp_path, config(catalog).model_dump(by_alias=True), "--dry-run", "--output", str(output), env=env
    )
    assert run.returncode == 0, run.stderr
    assert run.summary is not None
    assert run.summary.result == "Succeeded"
    document = json.loads(output.read_text())
    assert document["contentHash"] == run.summary.content_hash
    assert run.summary.counts["schemas"] == 5
    assert run.summary.counts["views"] == 2
    assert "schemas done" in run.stderr
    assert "Succeeded" in run.stdout
    check = run_extractor(tmp_path, config(catalog).model_dump(by_alias=True), "--check", env=env)
    assert check.returncode == 0, check.stderr
    assert check.summary is not None
    assert check.summary.mode == "check"
    assert check.summary.counts == {"schemas": 5, "tables": 11}
    assert catalog.admin_password not in check.stdout + check.stderr + check.termination_text


def test_dropped_columns_and_keys_to_tables_outside_the_selection(catalog: PostgresServer) -> None:
    """Attribute numbers with gaps, and foreign keys whose target is filtered out or in another schema."""
    catalog.execute(
        DB,
        """
        CREATE SCHEMA hr;
        CREATE TABLE hr.people (gone int, id int PRIMARY KEY, also_gone text, name text);
        ALTER TABLE hr.people DROP COLUMN gone, DROP COLUMN also_gone;
        ALTER TABLE hr.people ADD COLUMN email text;
        CREATE TABLE hr.badges (dropped int, badge_no int, person_id int REFERENCES hr.people (id),
                                customer_id int REFERENCES sales.customers (id), PRIMARY KEY (badge_no));
        ALTER TABLE hr.badges DROP COLUMN dropped;
        """,
    )
    try:
        only_badges = config(
            catalog, filters={"schemas": {"include": ["hr"]}, "tables": {"include": ["badges"]}}
        )
        for cfg in (only_badges, config(catalog, filters={"schemas": {"include": ["hr"]}})):
            fast = extract(cfg, catalog.admin_password).metadata
            general = extract(cfg, catalog.admin_password, fast=False).metadata
            assert without_sql_types(fast.to_dict()) == without_sql_types(general.to_dict())
        tables = {
            t.name: t for s in extract(only_badges, catalog.admin_password).metadata.schemas for t in s.tables
        }
        assert set(tables) == {"badges"}
        badges = tables["badges"]
        assert [(c.name, c.position) for c in badges.columns] == [
            ("badge_no", 1),
            ("person_id", 2),
            ("customer_id", 3),
        ]
        assert badges.primary_key is not None
        assert badges.primary_key.columns == ("badge_no",)
        assert sorted(
            (fk.referred_schema, fk.referred_table, fk.columns, fk.referred_columns)
            for fk in badges.foreign_keys
        ) == [
            ("hr", "people", ("person_id",), ("id",)),
            ("sales", "customers", ("customer_id",), ("id",)),
        ]
        people = extract(config(catalog, filters={"schemas": {"include": ["hr"]}}), catalog.admin_password)
        columns = next(t for s in people.metadata.schemas for t in s.tables if t.name == "people").columns
        assert [(c.name, c.position) for c in columns] == [("id", 1), ("name", 2), ("email", 3)]
    finally:
        catalog.execute(DB, "DROP SCHEMA hr CASCADE")


def test_catalog_statements_per_run_do_not_grow_with_schemas(
    catalog: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One statement per kind per run: the count is the same for one schema as for all of them."""
    from connector_extractors.inspection.postgresql import PostgresReader

    counted: list[str] = []
    real = PostgresReader._fetch

    def counting(self: PostgresReader, sql: str, params: Any = None) -> Any:
        counted.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(PostgresReader, "_fetch", counting)
    extract(config(catalog, filters={"schemas": {"include": ["sales"]}}), catalog.admin_password)
    one = len(counted)
    counted.clear()
    extract(config(catalog), catalog.admin_password)
    assert len(counted) == one <= 6


def test_few_tables_kept_by_the_filters_are_read_by_oid(catalog: PostgresServer) -> None:
    """When table patterns keep few of the relations, columns and keys are selected by oid."""
    cfg = config(catalog, filters={"tables": {"include": ["sales\\.order_lines", "Order Archive"]}})
    fast = extract(cfg, catalog.admin_password).metadata
    general = extract(cfg, catalog.admin_password, fast=False).metadata
    assert [(s.name, [t.name for t in s.tables]) for s in fast.schemas] == [
        ("Mixed Case", ["Order Archive"]),
        ("empty_schema", []),
        ("public", []),
        ("sales", ["order_lines"]),
        ("ünïcødé", []),
    ]  # table patterns never remove a schema
    assert without_sql_types(fast.to_dict()) == without_sql_types(general.to_dict())


def test_a_table_exclude_never_removes_a_schema(catalog: PostgresServer) -> None:
    everything = set(names(extract(config(catalog), catalog.admin_password).metadata))
    cfg = config(catalog, filters={"tables": {"exclude": [".*tmp.*", "user"]}})
    found = names(extract(cfg, catalog.admin_password).metadata)
    assert set(found) == everything
    assert found["public"] == []  # its only table is excluded: the schema stays, empty
    assert found["empty_schema"] == []


def test_schemas_without_usage_and_tables_without_select_are_skipped_and_named(
    catalog: PostgresServer, tmp_path: Any
) -> None:
    role = f"olc_partial_{secrets.token_hex(3)}"
    catalog.create_user(role, "partial-pw")
    catalog.execute(
        DB,
        f'GRANT USAGE ON SCHEMA sales, "Mixed Case" TO {role};'
        f" GRANT SELECT ON ALL TABLES IN SCHEMA sales TO {role};"
        f" REVOKE SELECT ON sales.orders, sales.order_lines FROM {role};"
        f' GRANT SELECT ("select") ON sales.order_lines TO {role}',  # a column grant is enough
    )
    data = config(catalog).model_dump(by_alias=True)
    data["source"]["username"] = role
    result = extract(RunConfig.model_validate(data), "partial-pw")
    found = names(result.metadata)
    admin = names(extract(config(catalog), catalog.admin_password).metadata)
    assert found == {
        "Mixed Case": [],
        "public": [],  # USAGE for PUBLIC, but no SELECT on its only table
        "sales": [t for t in admin["sales"] if t != "orders"],
    }
    assert "order_lines" in found["sales"]
    no_usage = "skipped, the login has no USAGE privilege on it"
    assert sorted(result.warnings) == sorted(
        [
            f"schema empty_schema: {no_usage} "
            "(grant USAGE on the schema, or leave it out with filters.schemas.exclude)",
            f"schema ünïcødé: {no_usage} "
            "(grant USAGE on the schema, or leave it out with filters.schemas.exclude)",
            "schema Mixed Case: 1 tables or views skipped, no SELECT privilege (grant it, or leave them "
            "out with filters.tables.exclude): Order Archive",
            "schema public: 1 tables or views skipped, no SELECT privilege (grant it, or leave them out "
            "with filters.tables.exclude): user",
            "schema sales: 1 tables or views skipped, no SELECT privilege (grant it, or leave them out "
            "with filters.tables.exclude): orders",
        ]
    )
    # --check counts only what the login may read; the run itself ends PartialSuccess with the warnings
    run = run_extractor(tmp_path, data, "--dry-run", env={"OLC_SOURCE_PASSWORD": "partial-pw"})
    assert run.summary is not None, run.stderr
    assert run.summary.result == "PartialSuccess"
    assert len(run.summary.warnings) == 5
    with open_session(RunConfig.model_validate(data), "partial-pw") as session:
        visible = session.visible_schemas()
        assert session.reader.count_objects(visible, session.request) == len(found["sales"])
