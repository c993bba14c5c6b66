"""URLs, connect options and read-only settings per technology, without any server.

SQL Server, Oracle, Snowflake and Redshift drivers are optional extras: when one is not installed the
expected answer is `DriverMissing` (naming the extra); the URL logic is still tested with the driver
check stubbed out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_extractors import drivers, urls
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.readonly import _postgres_options, create_readonly_engine
from connector_extractors.run_config import SourceConfig, Timeouts

TIMEOUTS = Timeouts(connectSeconds=7, statementSeconds=60)
SECRET = "p@ss:w/rd#?&%"  # characters that break hand-made URLs


def source(technology: str, **fields: object) -> SourceConfig:
    return SourceConfig.model_validate({"technology": technology, **fields})


@pytest.fixture
def any_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend every driver is installed (URL building does not need them)."""
    monkeypatch.setattr(drivers, "missing_modules", lambda driver: [])


def test_postgresql_url_escapes_the_password_and_hides_it() -> None:
    spec = urls.build_connection(
        source("postgresql", host="db.example.com", database="shop", username="reader"), SECRET, TIMEOUTS
    )
    assert spec.url.drivername == "postgresql+psycopg"
    assert spec.url.password == SECRET
    assert spec.url.port == 5432
    assert SECRET not in spec.display
    assert spec.address == "db.example.com:5432"
    assert spec.connect_args["connect_timeout"] == 7


def test_postgresql_session_is_read_only_with_timeouts() -> None:
    options = _postgres_options(TIMEOUTS, None)
    assert "-c default_transaction_read_only=on" in options
    assert "-c statement_timeout=60000" in options
    spec = urls.build_connection(source("postgresql", host="h", options={"keepalives": "1"}), "x", TIMEOUTS)
    engine = create_readonly_engine(spec, TIMEOUTS)
    assert engine.url.query["keepalives"] == "1"
    assert spec.connect_args["sslmode"] == "require"  # TLS by default, from source.tls, never options
    engine.dispose()


@pytest.mark.parametrize("technology", ["mysql", "mariadb"])
def test_mysql_family_uses_pymysql_with_timeouts(technology: str) -> None:
    spec = urls.build_connection(source(technology, host="h", username="u"), SECRET, TIMEOUTS)
    assert spec.url.drivername == "mysql+pymysql"
    assert spec.url.port == 3306
    assert spec.connect_args["read_timeout"] == 7  # the greeting; raised to 60 once logged in
    assert spec.connect_args["write_timeout"] == 60
    assert spec.connect_args["connect_timeout"] == 7


def test_sqlite_opens_the_file_read_only_by_uri(tmp_path: Path) -> None:
    path = tmp_path / "a file with spaces #1.db"
    path.write_bytes(b"")
    spec = urls.build_connection(source("sqlite", path=str(path)), None, TIMEOUTS)
    assert spec.url.query["mode"] == "ro"
    assert spec.url.query["uri"] == "true"
    assert spec.url.database is not None
    assert spec.url.database.startswith("file:")
    assert "%20" in spec.url.database
    assert "%23" in spec.url.database


def test_duckdb_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    path.write_bytes(b"")
    spec = urls.build_connection(source("duckdb", path=str(path)), None, TIMEOUTS)
    assert spec.connect_args == {"read_only": True}


@pytest.mark.parametrize("technology", ["sqlite", "duckdb"])
def test_file_sources_need_an_existing_file(technology: str, tmp_path: Path) -> None:
    with pytest.raises(ConnectorError) as error:
        urls.build_connection(source(technology, path=str(tmp_path / "absent")), None, TIMEOUTS)
    assert error.value.category is ErrorCategory.INVALID_CONFIGURATION
    with pytest.raises(ConnectorError):
        urls.build_connection(source(technology), None, TIMEOUTS)


def test_server_sources_need_a_host() -> None:
    with pytest.raises(ConnectorError) as error:
        urls.build_connection(source("postgresql"), None, TIMEOUTS)
    assert error.value.category is ErrorCategory.INVALID_CONFIGURATION


@pytest.mark.usefixtures("any_driver")
def test_sqlserver_url() -> None:
    spec = urls.build_connection(
        source("sqlserver", host="sql.example.com", database="dwh", username="r"), SECRET, TIMEOUTS
    )
    assert spec.url.drivername == "mssql+pymssql"
    assert spec.url.port == 1433
    assert spec.connect_args == {
        "login_timeout": 7,
        "timeout": 60,
        "appname": "online-connector",
        "encryption": "require",
    }


@pytest.mark.usefixtures("any_driver")
def test_oracle_database_is_a_service_name() -> None:
    spec = urls.build_connection(
        source("oracle", host="ora.example.com", database="ORCLPDB1", username="r"), SECRET, TIMEOUTS
    )
    assert spec.url.drivername == "oracle+oracledb"
    assert spec.url.port == 1521
    assert spec.url.database is None
    assert spec.url.query["service_name"] == "ORCLPDB1"
    assert spec.connect_args["tcp_connect_timeout"] == 7.0


@pytest.mark.usefixtures("any_driver")
def test_snowflake_host_is_the_account_and_statement_timeout_is_a_session_parameter() -> None:
    spec = urls.build_connection(
        source("snowflake", host="xy12345.eu-west-1", database="ANALYTICS", username="r",
               options={"warehouse": "WH", "role": "READER"}),
        SECRET,
        TIMEOUTS,
    )  # fmt: skip
    assert spec.url.drivername == "snowflake"
    assert spec.url.host == "xy12345.eu-west-1"
    assert spec.url.query["warehouse"] == "WH"
    assert spec.connect_args["session_parameters"] == {"STATEMENT_TIMEOUT_IN_SECONDS": 60}
    assert spec.address == "xy12345.eu-west-1"


@pytest.mark.usefixtures("any_driver")
def test_redshift_url() -> None:
    spec = urls.build_connection(
        source("redshift", host="c.abc.eu-west-1.redshift.amazonaws.com", database="dev", username="r"),
        SECRET,
        TIMEOUTS,
    )
    assert spec.url.drivername == "redshift+psycopg2"
    assert spec.url.port == 5439


@pytest.mark.parametrize("technology", ["sqlserver", "oracle", "snowflake", "redshift"])
def test_optional_drivers_are_driver_missing_when_absent(technology: str) -> None:
    driver = drivers.DRIVERS[technology]
    missing = drivers.missing_modules(driver)
    config = source(technology, host="h", database="d", username="u")
    if missing:
        with pytest.raises(ConnectorError) as error:
            urls.build_connection(config, "pw", TIMEOUTS)
        assert error.value.category is ErrorCategory.DRIVER_MISSING
        assert error.value.exit_code == 3
        assert f"online-connector[{driver.extra}]" in (error.value.hint or "")
        assert "pw" not in str(error.value)
    else:
        spec = urls.build_connection(config, "pw", TIMEOUTS)
        engine = create_readonly_engine(spec, TIMEOUTS)
        engine.dispose()


@pytest.mark.usefixtures("any_driver")
@pytest.mark.parametrize("technology", ["sqlserver", "oracle"])
def test_sqlalchemy_dialect_without_its_driver_is_driver_missing(
    technology: str,
) -> None:
    """Even past the up-front check, a driver that fails to import maps to DriverMissing."""
    spec = urls.build_connection(source(technology, host="h", database="d"), None, TIMEOUTS)
    if drivers._installed(drivers.DRIVERS[technology].modules[0]):
        create_readonly_engine(spec, TIMEOUTS).dispose()
        return
    with pytest.raises(ConnectorError) as error:
        create_readonly_engine(spec, TIMEOUTS)
    assert error.value.category is ErrorCategory.DRIVER_MISSING


def test_unknown_technology_is_invalid_configuration() -> None:
    with pytest.raises(ConnectorError) as error:
        drivers.driver_for("db2")
    assert error.value.category is ErrorCategory.INVALID_CONFIGURATION


@pytest.mark.parametrize(
    ("server", "limit"),
    [
        ("10.11.19-MariaDB-0+deb12u1", "SET SESSION max_statement_time=60"),
        ("8.0.36", "SET SESSION max_execution_time=60000"),
    ],
)
def test_mysql_and_mariadb_session_statements(server: str, limit: str) -> None:
    from connector_extractors.readonly import mysql_session_statements

    assert mysql_session_statements(server, 60) == ["SET SESSION TRANSACTION READ ONLY", limit]


def test_a_statement_opens_every_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mechanism behind Oracle's per-transaction read-only mode, shown on SQLite."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from connector_extractors import readonly

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id int)"))
    issued: list[str] = []
    real_run = readonly._run

    def spy(dbapi_connection: object, *statements: str) -> None:
        issued.extend(statements)
        real_run(dbapi_connection, *statements)

    monkeypatch.setattr(readonly, "_run", spy)
    readonly.start_every_transaction_with(engine, "PRAGMA query_only = ON")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA query_only")).scalar() == 1
        connection.rollback()
        with pytest.raises(OperationalError, match=r"readonly|read-only"):
            connection.execute(text("INSERT INTO t VALUES (1)"))
    assert issued == ["PRAGMA query_only = ON", "PRAGMA query_only = ON"]  # once per transaction
    engine.dispose()
