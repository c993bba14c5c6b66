"""Issue 10 against real engines: read-only from the first statement, TLS by default, no clear-text password.

- A write through the extractor's session is refused on PostgreSQL, MariaDB, SQLite and DuckDB, and the
  hostile options that used to get around it (`init_command`, `options=-c ...read_only=off`, SQLite's
  `mode=rw`) are refused before any connection, by the real entry point, naming the field.
- The extractor's sessions to the testbed's PostgreSQL and MariaDB are encrypted by default, and
  `verify-full` with the test CA (`OLC_SOURCE_CA`) works.
- A rogue PostgreSQL server (a small asyncio script speaking the start-up and authentication messages)
  that asks for a clear-text password never receives it under the default settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.extract import open_session
from connector_extractors.run_config import RunConfig
from connector_testbed.mariadb import MariaDBServer
from connector_testbed.ports import free_port
from connector_testbed.postgres import PostgresServer
from tests.integration.extractors.runner import run_extractor

pytestmark = pytest.mark.integration
DB = "olc_security"


@pytest.fixture(scope="module")
def pg(postgres_server: PostgresServer) -> PostgresServer:
    postgres_server.create_database(DB)
    postgres_server.execute(DB, "CREATE TABLE guarded (id int PRIMARY KEY); INSERT INTO guarded VALUES (1)")
    return postgres_server


@pytest.fixture(scope="module")
def maria(mariadb_server: MariaDBServer) -> MariaDBServer:
    mariadb_server.create_database(DB)
    mariadb_server.execute(DB, "CREATE TABLE guarded (id int PRIMARY KEY); INSERT INTO guarded VALUES (1)")
    return mariadb_server


def server_source(technology: str, server: PostgresServer | MariaDBServer, **extra: Any) -> dict[str, Any]:
    return {
        "technology": technology,
        "host": server.host,
        "port": server.port,
        "database": DB,
        "username": server.admin_user,
        **extra,
    }


def first_row(session: Any, sql: str) -> tuple[Any, ...]:
    raw = session.connection.connection.dbapi_connection
    cursor = raw.cursor()
    cursor.execute(sql)
    row = cursor.fetchone()
    cursor.close()
    return tuple(row)


def write_is_refused(session: Any, sql: str) -> bool:
    raw = session.connection.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
    except Exception as exc:  # each driver its own class: the text says why
        with contextlib.suppress(Exception):  # DuckDB has no transaction open to roll back
            raw.rollback()
        return (
            "read" in str(exc).lower() or "query_only" in str(exc).lower() or "readonly" in str(exc).lower()
        )
    return False


def test_postgresql_session_is_read_only_and_encrypted(pg: PostgresServer) -> None:
    config = RunConfig.model_validate({"source": server_source("postgresql", pg)})
    with open_session(config, pg.admin_password) as session:
        assert first_row(session, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == (True,)
        assert write_is_refused(session, "DELETE FROM guarded")
    assert pg.query(DB, "SELECT count(*) FROM guarded") == [(1,)]


def test_mariadb_session_is_read_only_and_encrypted(maria: MariaDBServer) -> None:
    config = RunConfig.model_validate({"source": server_source("mariadb", maria)})
    with open_session(config, maria.admin_password) as session:
        cipher = first_row(session, "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cipher[1], "the session is not encrypted"
        assert write_is_refused(session, "DELETE FROM guarded")
    assert maria.query(DB, "SELECT count(*) FROM guarded") == [(1,)]


@pytest.mark.parametrize("technology", ["postgresql", "mariadb"])
def test_verify_full_with_the_test_ca(
    technology: str, pg: PostgresServer, maria: MariaDBServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server: PostgresServer | MariaDBServer = pg if technology == "postgresql" else maria
    monkeypatch.setenv("OLC_SOURCE_CA", server.ca_pem)
    source = server_source(technology, server, host="localhost", tls={"mode": "verify-full"})
    with open_session(RunConfig.model_validate({"source": source}), server.admin_password) as session:
        assert session.visible_schemas() is not None
    monkeypatch.delenv("OLC_SOURCE_CA")
    # Without the CA, the system's roots do not know the test CA: the certificate is refused.
    with (
        pytest.raises(ConnectorError),
        open_session(RunConfig.model_validate({"source": source}), server.admin_password),
    ):
        pass


def test_file_engines_refuse_writes(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    sqlite_path = tmp_path / "guarded.db"
    with sqlite3.connect(sqlite_path) as conn:
        conn.executescript("CREATE TABLE guarded (id int); INSERT INTO guarded VALUES (1);")
    duck_path = tmp_path / "guarded.duckdb"
    duck = duckdb.connect(str(duck_path))
    duck.execute("CREATE TABLE guarded (id int); INSERT INTO guarded VALUES (1)")
    duck.close()
    for technology, path in (("sqlite", sqlite_path), ("duckdb", duck_path)):
        config = RunConfig.model_validate({"source": {"technology": technology, "path": str(path)}})
        with open_session(config, None) as session:
            assert write_is_refused(session, "DELETE FROM guarded"), technology
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("SELECT count(*) FROM guarded").fetchone() == (1,)


def hostile_cases(pg: PostgresServer, maria: MariaDBServer, tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    sqlite_path = tmp_path / "hostile.db"
    with sqlite3.connect(sqlite_path) as conn:
        conn.executescript("CREATE TABLE guarded (id int); INSERT INTO guarded VALUES (1);")
    yield (
        server_source("mariadb", maria, options={"init_command": "DELETE FROM guarded"}),
        maria.admin_password,
        "init_command",
    )
    yield (
        server_source("mariadb", maria, options={"local_infile": "1"}),
        maria.admin_password,
        "local_infile",
    )
    yield (
        server_source("postgresql", pg, options={"options": "-c default_transaction_read_only=off"}),
        pg.admin_password,
        "options",
    )
    yield (server_source("postgresql", pg, options={"host": "decoy.invalid"}), pg.admin_password, "host")
    yield (server_source("postgresql", pg, options={"sslmode": "disable"}), pg.admin_password, "sslmode")
    yield ({"technology": "sqlite", "path": str(sqlite_path), "options": {"mode": "rw"}}, None, "mode")


def test_hostile_options_are_refused_by_the_entry_point_and_nothing_is_written(
    pg: PostgresServer, maria: MariaDBServer, tmp_path: Path
) -> None:
    for index, (source, password, option) in enumerate(hostile_cases(pg, maria, tmp_path)):
        folder = tmp_path / str(index)
        folder.mkdir()
        run = run_extractor(
            folder, {"source": source}, "--dry-run", env={"OLC_SOURCE_PASSWORD": password or ""}
        )
        assert run.returncode == 2, (option, run.stderr)
        assert run.summary is not None
        assert run.summary.error_category == ErrorCategory.INVALID_CONFIGURATION.value
        assert f"source.options.{option}" in run.summary.message
    assert maria.query(DB, "SELECT count(*) FROM guarded") == [(1,)]
    assert pg.query(DB, "SELECT count(*) FROM guarded") == [(1,)]


class RoguePostgres:
    """Answers SSLRequest with 'N' (or accepts nothing else), then asks for a clear-text password."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received_password = False
        self.saw_startup = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RoguePostgres:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length = struct.unpack("!i", await reader.readexactly(4))[0]
                body = await reader.readexactly(length - 4)
                code = struct.unpack("!i", body[:4])[0]
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break  # a StartupMessage
            self.saw_startup.set()
            writer.write(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            await writer.drain()
            kind = await reader.readexactly(1)
            if kind == b"p":
                self.received_password = True
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("tls", [{}, {"mode": "disable"}])
def test_a_rogue_postgresql_server_never_receives_the_password(tls: dict[str, str], tmp_path: Path) -> None:
    secret = "Rogue-Bait-Password-81c2"
    with RoguePostgres() as rogue:
        source = {
            "technology": "postgresql",
            "host": "127.0.0.1",
            "port": rogue.port,
            "database": "x",
            "username": "reader",
            "tls": tls,
        }
        run = run_extractor(tmp_path, {"source": source}, "--check", env={"OLC_SOURCE_PASSWORD": secret})
        assert run.returncode != 0
        if tls:
            # TLS explicitly off: libpq 16+'s require_auth still refuses the clear-text request.
            assert rogue.saw_startup.is_set()
    assert not rogue.received_password
    assert run.summary is not None
    assert secret not in run.termination_text + run.stdout + run.stderr


def test_a_non_latin1_mariadb_password_works_and_is_never_named(maria: MariaDBServer, tmp_path: Path) -> None:
    """Issue 10: PyMySQL's Latin-1 encoding error used to put one character and its position in the status."""
    password = "Pässwörd-€-密码-9"
    maria.execute(None, "DROP USER IF EXISTS 'olc_unicode'@'%'")
    maria.create_user("olc_unicode", password)
    maria.execute(None, f"GRANT SELECT ON {DB}.* TO 'olc_unicode'@'%'")
    source = server_source("mariadb", maria, username="olc_unicode")
    good = run_extractor(tmp_path, {"source": source}, "--check", env={"OLC_SOURCE_PASSWORD": password})
    assert good.returncode == 0, good.stderr
    wrong = "Wröng-€-密码"
    (tmp_path / "wrong").mkdir()
    bad = run_extractor(tmp_path / "wrong", {"source": source}, "--check", env={"OLC_SOURCE_PASSWORD": wrong})
    assert bad.summary is not None
    assert bad.summary.error_category == ErrorCategory.AUTHENTICATION_FAILED.value
    for text in (bad.termination_text, bad.stdout, bad.stderr):
        assert "€" not in text
        assert "密" not in text
        assert "position" not in text
