"""A throwaway PostgreSQL server from the Debian packages, for tests, benchmarks and the demo.

    with PostgresServer() as pg:
        pg.create_database("shop")
        pg.execute("shop", "CREATE TABLE customers (id int PRIMARY KEY)")
        print(pg.dsn("shop"))   # postgresql://olc_admin:...@127.0.0.1:54321/shop

The server runs `initdb` into a temporary folder, listens on 127.0.0.1 on a free port with password
(scram-sha-256) authentication and TLS (a certificate for localhost/127.0.0.1 signed by a throwaway CA,
`ca_file`/`ca_pem`, so that clients can verify it: the extractor requires TLS by default), and is
stopped and its folder removed on exit. When the caller is root,
the server runs as the `postgres` system account (or `nobody`), since PostgreSQL refuses to run as root.
Durability is switched off (fsync, full page writes): this is a scratch server, not a database.
"""

from __future__ import annotations

import glob
import secrets
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from connector_testbed.certs import make_ca, make_serving_cert
from connector_testbed.local_process import (
    LOOPBACK,
    remove_tree,
    run_checked,
    service_user,
    start_server,
    stop_server,
    wait_until_ready,
)
from connector_testbed.ports import free_port


def postgres_bin_dir() -> Path:
    """The newest `/usr/lib/postgresql/<major>/bin` that has `initdb`."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "run scripts/install-system-deps.sh (or `make system-deps`)"
        )
    return Path(candidates[-1]).parent


class PostgresServer:
    """A private PostgreSQL server on 127.0.0.1; use as a context manager (or call start/stop).

    Attributes: `host`, `port`, `admin_user`, `admin_password` (a superuser), `data_dir`.
    """

    def __init__(self, admin_user: str = "olc_admin", settings: dict[str, str] | None = None) -> None:
        self.host = LOOPBACK
        self.port = 0
        self.admin_user = admin_user
        self.admin_password = secrets.token_urlsafe(16)
        self.settings = {
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "max_connections": "50",
            **(settings or {}),
        }
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        user = service_user(["postgres"])
        self._base = Path(tempfile.mkdtemp(prefix="olc-pg-"))
        data_dir = self._base / "data"
        pwfile = self._base / "pwfile"
        pwfile.write_text(self.admin_password + "\n")
        tls = self._base / "tls"
        tls.mkdir()
        make_ca(tls)
        cert, key = make_serving_cert(tls, "postgres", "DNS:localhost,IP:127.0.0.1")
        key.chmod(0o600)
        user.own(self._base)
        try:
            run_checked(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    self.admin_user,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                user,
                "initdb",
            )
            pwfile.unlink()
            self.port = free_port()
            args = [
                str(bin_dir / "postgres"),
                "-D",
                str(data_dir),
                "-p",
                str(self.port),
                "-k",
                str(self._base),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                "ssl=on",
                "-c",
                f"ssl_cert_file={cert}",
                "-c",
                f"ssl_key_file={key}",
            ]
            for name, value in self.settings.items():
                args += ["-c", f"{name}={value}"]
            self._proc = start_server(args, user, self.log_path)
            wait_until_ready(self._proc, self._accepts_connections, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the data folder. Safe to call twice."""
        stop_server(self._proc, signal.SIGINT)
        self._proc = None
        remove_tree(self._base)
        self._base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        assert self._base is not None, "server not started"
        return self._base / "postgres.log"

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) that signs the server's certificate."""
        assert self._base is not None, "server not started"
        return self._base / "tls" / "ca.crt"

    @property
    def ca_pem(self) -> str:
        return self.ca_file.read_text()

    @property
    def data_dir(self) -> Path:
        assert self._base is not None, "server not started"
        return self._base / "data"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- connecting --------------------------------------------------------------------------------

    def dsn(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        """A libpq connection string (the admin user's unless `user`/`password` are given)."""
        return make_conninfo(
            host=self.host,
            port=str(self.port),
            dbname=database,
            user=user or self.admin_user,
            password=password if user else self.admin_password,
        )

    def connect(self, database: str = "postgres", **kwargs: Any) -> psycopg.Connection[Any]:
        """An autocommit psycopg connection as the admin user."""
        return psycopg.connect(self.dsn(database), autocommit=True, **kwargs)

    def execute(self, database: str, sql: str) -> None:
        """Run one or more SQL statements (no parameters) as the admin user, in autocommit."""
        with self.connect(database) as conn:
            conn.execute(sql.encode())

    def query(self, database: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connect(database) as conn:
            return list(conn.execute(sql.encode(), params).fetchall())

    def create_database(self, name: str) -> None:
        """Create database `name` (dropping an existing one of that name first)."""
        ident = '"' + name.replace('"', '""') + '"'
        with self.connect() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {ident} WITH (FORCE)".encode())
            conn.execute(f"CREATE DATABASE {ident}".encode())

    def create_user(self, name: str, password: str) -> None:
        """Create a login role with `password` and no privileges beyond the default ones."""
        ident = '"' + name.replace('"', '""') + '"'
        literal = "'" + password.replace("'", "''") + "'"
        self.execute("postgres", f"CREATE ROLE {ident} LOGIN PASSWORD {literal}")

    def _accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False
