"""SQLAlchemy URLs and driver connect arguments per technology, built with `URL.create`.

The password is passed in from the environment or a file by the caller, never from a command line, and
`URL.create` escapes it: no string formatting of credentials. `ConnectionSpec.display` is the
secret-free form used in logs and messages. Driver connect timeouts and TLS are set here; read-only
sessions and statement timeouts are set in `readonly`.

`spec.source.options` reach the driver only after the technology's allowlist (`profiles`) accepted
them, and they are applied first so that nothing we set (host, port, user, database, TLS, timeouts,
read-only mode) can be overridden by them. TLS is required by default (`source.tls.mode`); for
PostgreSQL a libpq that knows `require_auth` (16+) also refuses to send a clear-text password.
"""

from __future__ import annotations

import importlib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL

from connector_extractors.credentials import source_ca_file
from connector_extractors.drivers import Driver, require_driver
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.profiles import option_problems
from connector_extractors.run_config import FILE_TECHNOLOGIES, SourceConfig, Timeouts, TlsMode


@dataclass(frozen=True)
class ConnectionSpec:
    technology: str
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    host: str | None = None
    port: int | None = None

    @property
    def display(self) -> str:
        """Where we connect, without any secret (the URL with the password hidden)."""
        return self.url.render_as_string(hide_password=True)

    @property
    def address(self) -> str:
        if self.host is None:
            return str(self.url.database)
        return f"{self.host}:{self.port}" if self.port else self.host


def _invalid(message: str, hint: str | None = None) -> ConnectorError:
    return ConnectorError(ErrorCategory.INVALID_CONFIGURATION, message, hint)


def _file_url(source: SourceConfig) -> tuple[URL, dict[str, Any]]:
    if not source.path:
        raise _invalid(f"A {source.technology} source needs `path` (the database file).")
    path = Path(source.path)
    if not path.is_file():
        raise _invalid(
            f"The {source.technology} database file {source.path} does not exist or is not a file.",
            "Mount the file into the extractor's pod (a volume) and give its path inside the container.",
        )
    if source.technology == "sqlite":
        # A file: URI lets SQLite open the file read-only (mode=ro) and never create it.
        database = "file:" + quote(str(path.resolve()))
        query = {**source.options, "mode": "ro", "uri": "true"}
        return URL.create("sqlite", database=database, query=query), {}
    return URL.create("duckdb", database=str(path), query=dict(source.options)), {"read_only": True}


def libpq_version(technology: str) -> int:
    """The version of the libpq that the technology's driver is linked with (0 when unknown)."""
    try:
        if technology == "redshift":
            return int(importlib.import_module("psycopg2.extensions").libpq_version())
        return int(importlib.import_module("psycopg").pq.version())
    except (ImportError, AttributeError):
        return 0


def _mysql_ssl_context(mode: TlsMode, ca_file: str | None) -> ssl.SSLContext:
    """TLS required; the certificate checked against the CA (or the system's) in the verify modes."""
    context = ssl.create_default_context(cafile=ca_file)
    if mode == "require" and ca_file is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode in {"require", "verify-ca"}:
        context.check_hostname = False
    return context


def tls_connect_args(technology: str, mode: TlsMode, ca_file: str | None) -> dict[str, Any]:
    """The driver arguments that make TLS mandatory (or, with `disable`, leave it to the driver)."""
    if technology in {"postgresql", "redshift"}:
        args: dict[str, Any] = {"sslmode": "prefer" if mode == "disable" else mode}
        if ca_file is not None:
            args["sslrootcert"] = ca_file
        elif mode in {"verify-ca", "verify-full"}:
            args["sslrootcert"] = "system"
        if libpq_version(technology) >= 160000:
            # Never answer a request for a clear-text password, whatever the TLS mode.
            args["require_auth"] = "!password"
        return args
    if technology in {"mysql", "mariadb"}:
        return {} if mode == "disable" else {"ssl": _mysql_ssl_context(mode, ca_file)}
    if technology == "sqlserver":
        if mode in {"verify-ca", "verify-full"}:
            raise _invalid(
                f"source.tls.mode: {mode} is not available for sqlserver (pymssql cannot check the "
                "certificate); use require."
            )
        return {"encryption": "off" if mode == "disable" else "require"}
    if technology == "oracle":
        if mode == "disable":
            return {}
        # python-oracledb (thin) checks the certificate chain against the system's CAs over TCPS.
        return {"protocol": "tcps", "ssl_server_dn_match": mode == "verify-full"}
    return {}  # Snowflake speaks HTTPS with verification only; files have no network.


def _server_connect_args(driver: Driver, timeouts: Timeouts) -> dict[str, Any]:
    seconds = timeouts.connect_seconds
    if driver.technology == "postgresql":
        return {"connect_timeout": seconds, "application_name": "online-connector"}
    if driver.technology == "redshift":
        return {"connect_timeout": seconds, "application_name": "online-connector"}
    if driver.technology in {"mysql", "mariadb"}:
        # PyMySQL's connect_timeout covers the TCP connect only: the server's greeting is read with
        # read_timeout, so that starts at the connect timeout too; `readonly` raises it to the
        # statement timeout once the session is up.
        return {
            "connect_timeout": seconds,
            "read_timeout": seconds,
            "write_timeout": timeouts.statement_seconds,
            "charset": "utf8mb4",
            # Login-time SQL is ours alone (readonly), and the server may never read our files.
            "init_command": None,
            "local_infile": False,
        }
    if driver.technology == "sqlserver":
        return {
            "login_timeout": seconds,
            "timeout": timeouts.statement_seconds,
            "appname": "online-connector",
        }
    if driver.technology == "oracle":
        return {"tcp_connect_timeout": float(seconds)}
    if driver.technology == "snowflake":
        return {
            "login_timeout": seconds,
            "network_timeout": timeouts.statement_seconds,
            "session_parameters": {"STATEMENT_TIMEOUT_IN_SECONDS": timeouts.statement_seconds},
            "application": "online-connector",
        }
    return {}


def build_connection(source: SourceConfig, password: str | None, timeouts: Timeouts) -> ConnectionSpec:
    """The URL and connect arguments for `source`; `DriverMissing` if its driver is not installed."""
    driver = require_driver(source.technology)
    problems = option_problems(source.technology, source.options)
    if problems:
        raise _invalid(
            "; ".join(problems),
            "Remove the option: connection target, credentials and TLS have their own fields.",
        )
    if source.technology in FILE_TECHNOLOGIES:
        url, connect_args = _file_url(source)
        return ConnectionSpec(source.technology, url, connect_args)
    if not source.host:
        raise _invalid(f"A {driver.label} source needs `host`.")
    if source.technology == "snowflake":
        # Snowflake's "host" is the account identifier; database and optional /schema form the path.
        url = URL.create(
            "snowflake",
            username=source.username,
            password=password,
            host=source.host,
            database=source.database,
            query=dict(source.options),
        )
        # Our arguments win over anything in the URL's query.
        return ConnectionSpec("snowflake", url, _server_connect_args(driver, timeouts), source.host, None)
    port = source.port or driver.default_port
    query = dict(source.options)
    database = source.database
    if source.technology == "oracle" and database and "service_name" not in query:
        # Oracle's "database" is a service name (the modern form), not a SID.
        query["service_name"] = database
        database = None
    url = URL.create(
        driver.drivername,
        username=source.username,
        password=password,
        host=source.host,
        port=port,
        database=database,
        query=query,
    )
    # connect_args are merged over the URL's query by SQLAlchemy: what we set here always wins.
    connect_args = {
        **_server_connect_args(driver, timeouts),
        **tls_connect_args(source.technology, source.tls.mode, source_ca_file()),
    }
    if source.technology in {"mysql", "mariadb"} and password:
        # PyMySQL encodes a str password as Latin-1 and, for any other character, raises an error that
        # names the character and its position; MySQL/MariaDB compare the UTF-8 bytes (utf8mb4).
        connect_args["password"] = password.encode("utf-8")
    return ConnectionSpec(source.technology, url, connect_args, source.host, port)
