"""A throwaway MariaDB server from the Debian packages, for tests and benchmarks.

    with MariaDBServer() as db:
        db.create_database("shop")
        db.execute("shop", "CREATE TABLE customers (id int PRIMARY KEY)")
        print(db.host, db.port, db.admin_user)

`mariadb-install-db` fills a temporary folder, `mariadbd` listens on 127.0.0.1 on a free port (and on
a Unix socket inside that folder), and everything is stopped and removed on exit. The admin account
(`admin_user`/`admin_password`, all privileges) is created over the socket as root, which has no
password there. When the caller is root, the server runs as the `mysql` system account (or `nobody`).
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import pymysql

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


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if found:
            return found
    raise RuntimeError(
        f"MariaDB binary not found ({' or '.join(names)}): run scripts/install-system-deps.sh "
        "(or `make system-deps`)"
    )


class MariaDBServer:
    """A private MariaDB server on 127.0.0.1; use as a context manager (or call start/stop).

    Attributes: `host`, `port`, `admin_user`, `admin_password`, `socket_path`.
    """

    def __init__(self, admin_user: str = "olc_admin", extra_args: list[str] | None = None) -> None:
        """`extra_args` are added to the `mariadbd` command line (e.g. `--innodb-file-per-table=0`)."""
        self.extra_args = list(extra_args or [])
        self.host = LOOPBACK
        self.port = 0
        self.admin_user = admin_user
        self.admin_password = secrets.token_urlsafe(16)
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> MariaDBServer:
        install_db = _binary("mariadb-install-db", "mysql_install_db")
        server = _binary("mariadbd", "mysqld")
        user = service_user(["mysql"])
        self._base = Path(tempfile.mkdtemp(prefix="olc-mariadb-"))
        (self._base / "data").mkdir()
        (self._base / "tmp").mkdir()
        tls = self._base / "tls"
        tls.mkdir()
        make_ca(tls)
        cert, key = make_serving_cert(tls, "mariadb", "DNS:localhost,IP:127.0.0.1")
        key.chmod(0o600)
        user.own(self._base)
        try:
            run_checked(
                [
                    install_db,
                    "--no-defaults",
                    f"--datadir={self.data_dir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                    f"--user={user.name}",
                ],
                user,
                "mariadb-install-db",
                timeout=180,
            )
            self.port = free_port()
            args = [
                server,
                "--no-defaults",
                f"--datadir={self.data_dir}",
                f"--port={self.port}",
                f"--bind-address={LOOPBACK}",
                f"--socket={self.socket_path}",
                f"--pid-file={self._base / 'mariadbd.pid'}",
                f"--tmpdir={self._base / 'tmp'}",
                f"--log-error={self._base / 'error.log'}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=0",
                "--table-open-cache=4000",
                "--open-files-limit=20000",
                f"--user={user.name}",
                # TLS with a throwaway CA (`ca_file`): the extractor requires TLS by default.
                f"--ssl-ca={tls / 'ca.crt'}",
                f"--ssl-cert={cert}",
                f"--ssl-key={key}",
                *self.extra_args,
            ]
            self._proc = start_server(args, user, self._base / "stdout.log")
            wait_until_ready(self._proc, self._socket_accepts, self._base / "error.log", timeout=90)
            self._create_admin()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Normal shutdown (SIGTERM), then remove the data folder. Safe to call twice."""
        stop_server(self._proc, signal.SIGTERM, timeout=60)
        self._proc = None
        remove_tree(self._base)
        self._base = None

    def __enter__(self) -> MariaDBServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def data_dir(self) -> Path:
        assert self._base is not None, "server not started"
        return self._base / "data"

    @property
    def socket_path(self) -> Path:
        assert self._base is not None, "server not started"
        return self._base / "mariadb.sock"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) that signs the server's certificate."""
        assert self._base is not None, "server not started"
        return self._base / "tls" / "ca.crt"

    @property
    def ca_pem(self) -> str:
        return self.ca_file.read_text()

    # -- connecting --------------------------------------------------------------------------------

    def dsn(self, database: str = "", user: str | None = None, password: str | None = None) -> str:
        """A SQLAlchemy-style URL string `mariadb+pymysql://user:password@127.0.0.1:port/database`."""
        name = user or self.admin_user
        secret = password if user else self.admin_password
        return (
            f"mariadb+pymysql://{quote(name, safe='')}:{quote(secret or '', safe='')}"
            f"@{self.host}:{self.port}/{quote(database, safe='')}"
        )

    def connect(self, database: str | None = None, **kwargs: Any) -> pymysql.connections.Connection[Any]:
        """An autocommit PyMySQL connection over TCP as the admin user."""
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=self.admin_password,
            database=database,
            autocommit=True,
            charset="utf8mb4",
            **kwargs,
        )

    def execute(self, database: str | None, sql: str) -> None:
        """Run one or more `;`-separated SQL statements as the admin user (no `;` inside literals)."""
        flags = pymysql.constants.CLIENT.MULTI_STATEMENTS
        with self.connect(database, client_flag=flags) as conn, conn.cursor() as cur:
            cur.execute(sql)
            while cur.nextset():
                pass

    def query(self, database: str | None, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connect(database) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def create_database(self, name: str) -> None:
        """Create database `name` (utf8mb4), dropping an existing one of that name first."""
        ident = "`" + name.replace("`", "``") + "`"
        self.execute(None, f"DROP DATABASE IF EXISTS {ident}; CREATE DATABASE {ident} CHARACTER SET utf8mb4")

    def create_user(self, name: str, password: str) -> None:
        """Create an account `name`@`%` with `password` and no privileges."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))

    def _socket_connect(self) -> pymysql.connections.Connection[Any]:
        return pymysql.connect(unix_socket=str(self.socket_path), user="root", autocommit=True)

    def _socket_accepts(self) -> bool:
        try:
            with self._socket_connect():
                return True
        except pymysql.err.OperationalError:
            return False

    def _create_admin(self) -> None:
        with self._socket_connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (self.admin_user, self.admin_password))
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (self.admin_user,))
