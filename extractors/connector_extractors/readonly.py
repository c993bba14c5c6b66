"""Read-only database sessions: every connection the extractor opens refuses writes at the database level.

- PostgreSQL: `default_transaction_read_only=on` and `statement_timeout` as startup options.
- MySQL/MariaDB: `SET SESSION TRANSACTION READ ONLY` and a statement time limit on connect, the only
  login-time SQL (no `init_command` from options, `local_infile` off: see `urls` and `profiles`).
- SQLite: the file opened with `mode=ro` (see `urls`) and `PRAGMA query_only`.
- DuckDB: the file opened with `read_only=True` (see `urls`).
- Oracle: every transaction starts with `SET TRANSACTION READ ONLY`; call timeout on the connection.
- Redshift: `default_transaction_read_only` and `statement_timeout` set on connect.
- SQL Server and Snowflake have no read-only session: use a login/role with read (catalog) rights only.
On top of that the extractor only ever issues catalog reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.pool import NullPool

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.run_config import Timeouts
from connector_extractors.urls import ConnectionSpec


def _postgres_options(timeouts: Timeouts, existing: str | None = None) -> str:
    """libpq's start-up `options`: the session is read-only before its first statement.

    `existing` is kept for callers; `spec.source.options` can no longer carry `options` (profiles)."""
    options = [
        "-c default_transaction_read_only=on",
        f"-c statement_timeout={timeouts.statement_seconds * 1000}",
        f"-c lock_timeout={min(timeouts.statement_seconds, 30) * 1000}",
    ]
    return " ".join([*([existing] if existing else []), *options])


def mysql_session_statements(server_version: str, statement_seconds: int) -> list[str]:
    """Read-only transactions and a statement time limit, in MariaDB's or MySQL's own words."""
    if "mariadb" in server_version.lower():
        limit = f"SET SESSION max_statement_time={statement_seconds}"  # seconds
    else:
        limit = f"SET SESSION max_execution_time={statement_seconds * 1000}"  # milliseconds, SELECTs only
    return ["SET SESSION TRANSACTION READ ONLY", limit]


def _run(dbapi_connection: Any, *statements: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()


def start_every_transaction_with(engine: Engine, statement: str) -> None:
    """Run `statement` first in every transaction (Oracle's read-only mode lasts one transaction).

    It goes through the DBAPI cursor, not the SQLAlchemy connection, so as not to re-enter the
    transaction machinery from inside its own `begin` event.
    """

    @event.listens_for(engine, "begin")
    def _first_statement(connection: Connection) -> None:
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None:
            _run(dbapi, statement)


def create_readonly_engine(spec: ConnectionSpec, timeouts: Timeouts) -> Engine:
    """An engine (no pool: one connection per run) whose sessions are read-only at the database level."""
    connect_args = dict(spec.connect_args)
    if spec.technology == "postgresql":
        connect_args["options"] = _postgres_options(timeouts)
    url = spec.url.difference_update_query(["options"]) if spec.technology == "postgresql" else spec.url
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConnectorError(
            ErrorCategory.DRIVER_MISSING,
            f"The SQLAlchemy dialect for {spec.technology} is not available: {type(exc).__name__}.",
        ) from None

    statement_seconds = timeouts.statement_seconds

    if spec.technology in {"mysql", "mariadb"}:

        @event.listens_for(engine, "connect")
        def _mysql_readonly(dbapi_connection: Any, _record: Any) -> None:
            server = str(dbapi_connection.get_server_info())
            _run(dbapi_connection, *mysql_session_statements(server, statement_seconds))
            # Logged in: from now on reads may take as long as a statement may (see urls).
            dbapi_connection._read_timeout = statement_seconds

    elif spec.technology == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_readonly(dbapi_connection: Any, _record: Any) -> None:
            _run(dbapi_connection, "PRAGMA query_only = ON")

    elif spec.technology == "redshift":

        @event.listens_for(engine, "connect")
        def _redshift_readonly(dbapi_connection: Any, _record: Any) -> None:
            _run(
                dbapi_connection,
                "SET default_transaction_read_only TO on",
                f"SET statement_timeout TO {statement_seconds * 1000}",
            )
            dbapi_connection.commit()

    elif spec.technology == "oracle":

        @event.listens_for(engine, "connect")
        def _oracle_timeout(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.call_timeout = statement_seconds * 1000

        start_every_transaction_with(engine, "SET TRANSACTION READ ONLY")

    return engine
