"""Driver exceptions to the error taxonomy, with messages that name the address but never a secret.

The mapping looks at what drivers report in a stable form (PostgreSQL SQLSTATE, MySQL error numbers,
SQL Server and Oracle error codes), then at a few well-known message fragments. A connection failure
that is not about credentials or rights is probed (`reachability`) to say whether DNS failed, the
connection was refused or it timed out. Any driver text that reaches a message is scrubbed of the
password first.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.reachability import probe
from connector_extractors.urls import ConnectionSpec

Phase = Literal["connect", "extract"]

NETWORK_HINT = (
    "Check that pods in this namespace can reach the database (NetworkPolicy, egress firewall, "
    "private endpoint or VPN), and that the database's IP filtering or allow-list accepts the "
    "cluster's egress address."
)
AUTH_HINT = "Check the user name in the connection and the password in its Secret."
PERMISSION_HINT = "Grant the extractor's user read access to the catalog (CONNECT/USAGE and SELECT rights)."

_PG_AUTH = {"28P01", "28000"}
_PG_PERMISSION = {"42501"}
_PG_CONFIG = {"3D000"}  # database does not exist
_MYSQL_AUTH = {1045, 1698, 1251}
_MYSQL_PERMISSION = {1044, 1142, 1143, 1227, 1370}
_MYSQL_CONFIG = {1049}  # unknown database
_MYSQL_NETWORK = {2002, 2003, 2005, 2006, 2013}
_MSSQL_AUTH = {18456, 18452, 18486, 18487, 18488}
_MSSQL_PERMISSION = {229, 230, 262, 297, 300, 916, 4060}
_ORACLE_AUTH = {1017, 1005, 28000, 28001}
_ORACLE_PERMISSION = {1031, 1045, 942}
_ORACLE_NETWORK = {12154, 12170, 12514, 12537, 12541, 12543, 12545}
_SNOWFLAKE_AUTH = {250001, 390100, 390144}
_AUTH_TEXT = re.compile(
    r"password authentication failed|access denied for user|login failed|invalid username/password|"
    r"incorrect username or password|authentication failed",
    re.IGNORECASE,
)
_CONFIG_TEXT = re.compile(
    r"database \S+ does not exist|unknown database|no credentials specified|no password supplied",
    re.IGNORECASE,
)
_PERMISSION_TEXT = re.compile(r"permission denied|insufficient privilege|command denied", re.IGNORECASE)
_NETWORK_TEXT = re.compile(
    r"could not translate host name|failed to resolve host|name or service not known|nodename nor servname|"
    r"connection refused|timeout expired|timed out|could not connect|can't connect|no route to host|"
    r"network is unreachable|server closed the connection|connection reset|temporary failure in name",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(://[^:/@\s]+):[^@\s]+@")


def scrub(text: str, *secrets: str | None, limit: int = 400) -> str:
    """`text` without the secrets (or URL credentials), on one line, at most `limit` characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(r"\1:***@", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _codes(orig: BaseException) -> tuple[str | None, int | None]:
    """(SQLSTATE, numeric driver code) as far as the driver exposes them."""
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    number: int | None = None
    first = orig.args[0] if orig.args else None
    if isinstance(first, int):
        number = first
    elif isinstance(first, tuple) and first and isinstance(first[0], int):  # pymssql: ((code, msg), ...)
        number = first[0]
    elif isinstance(getattr(first, "code", None), int):  # oracledb _Error
        number = getattr(first, "code")  # noqa: B009
    errno = getattr(orig, "errno", None)
    if number is None and isinstance(errno, int) and errno > 0:
        number = errno
    return (str(sqlstate) if sqlstate else None), number


def _category_from_codes(technology: str, sqlstate: str | None, number: int | None) -> ErrorCategory | None:
    if sqlstate in _PG_AUTH:
        return ErrorCategory.AUTHENTICATION_FAILED
    if sqlstate in _PG_PERMISSION:
        return ErrorCategory.PERMISSION_DENIED
    if sqlstate in _PG_CONFIG:
        return ErrorCategory.INVALID_CONFIGURATION
    if number is None:
        return None
    tables: dict[str, list[tuple[set[int], ErrorCategory]]] = {
        "mysql": [
            (_MYSQL_AUTH, ErrorCategory.AUTHENTICATION_FAILED),
            (_MYSQL_PERMISSION, ErrorCategory.PERMISSION_DENIED),
            (_MYSQL_CONFIG, ErrorCategory.INVALID_CONFIGURATION),
            (_MYSQL_NETWORK, ErrorCategory.SOURCE_UNREACHABLE),
        ],
        "sqlserver": [
            (_MSSQL_AUTH, ErrorCategory.AUTHENTICATION_FAILED),
            (_MSSQL_PERMISSION, ErrorCategory.PERMISSION_DENIED),
        ],
        "oracle": [
            (_ORACLE_AUTH, ErrorCategory.AUTHENTICATION_FAILED),
            (_ORACLE_PERMISSION, ErrorCategory.PERMISSION_DENIED),
            (_ORACLE_NETWORK, ErrorCategory.SOURCE_UNREACHABLE),
        ],
        "snowflake": [(_SNOWFLAKE_AUTH, ErrorCategory.AUTHENTICATION_FAILED)],
    }
    family = "mysql" if technology == "mariadb" else technology
    for numbers, category in tables.get(family, []):
        if number in numbers:
            return category
    return None


def _unreachable(spec: ConnectionSpec, connect_seconds: float, driver_text: str) -> ConnectorError:
    if spec.host is None or spec.port is None:
        return ConnectorError(
            ErrorCategory.SOURCE_UNREACHABLE,
            f"Cannot reach the {spec.technology} source {spec.address}: {driver_text}",
            NETWORK_HINT,
        )
    seen = probe(spec.host, spec.port, connect_seconds)
    if seen.outcome == "open":
        message = (
            f"Cannot connect to the {spec.technology} source at {spec.host}:{spec.port}: the port accepts "
            f"TCP connections but the database connection failed ({driver_text})"
        )
    else:
        message = f"Cannot reach the {spec.technology} source at {spec.host}:{spec.port}: {seen.detail}."
    return ConnectorError(ErrorCategory.SOURCE_UNREACHABLE, message, NETWORK_HINT)


def classify(
    exc: BaseException,
    spec: ConnectionSpec,
    password: str | None,
    phase: Phase,
    connect_seconds: float = 5,
) -> ConnectorError:
    """The `ConnectorError` for `exc`, raised while connecting to or reading from `spec`'s source."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, NoSuchModuleError | ModuleNotFoundError):
        return ConnectorError(
            ErrorCategory.DRIVER_MISSING, f"The {spec.technology} driver is not installed in this image."
        )
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = scrub(str(orig) or type(orig).__name__, password)
    sqlstate, number = _codes(orig)
    category = _category_from_codes(spec.technology, sqlstate, number)
    if category is None and _AUTH_TEXT.search(text):
        category = ErrorCategory.AUTHENTICATION_FAILED
    if category is None and _PERMISSION_TEXT.search(text):
        category = ErrorCategory.PERMISSION_DENIED
    if category is None and _CONFIG_TEXT.search(text):
        category = ErrorCategory.INVALID_CONFIGURATION
    user = spec.url.username or "(no user)"
    where = f"the {spec.technology} source at {spec.address}"
    if category is ErrorCategory.AUTHENTICATION_FAILED:
        return ConnectorError(category, f"Authentication failed for user {user!r} on {where}.", AUTH_HINT)
    if category is ErrorCategory.PERMISSION_DENIED:
        return ConnectorError(
            category, f"Permission denied for user {user!r} on {where}: {text}", PERMISSION_HINT
        )
    if category is ErrorCategory.INVALID_CONFIGURATION:
        hint = (
            None
            if password
            else "No password was given: set OLC_SOURCE_PASSWORD or OLC_SOURCE_PASSWORD_FILE."
        )
        return ConnectorError(category, f"The connection settings for {where} are wrong: {text}", hint)
    if category is ErrorCategory.SOURCE_UNREACHABLE or (
        phase == "connect" and (_NETWORK_TEXT.search(text) or _is_operational(exc))
    ):
        return _unreachable(spec, connect_seconds, text)
    if phase == "connect" and spec.host is None:
        return ConnectorError(ErrorCategory.INVALID_CONFIGURATION, f"Cannot open {where}: {text}")
    return ConnectorError(ErrorCategory.EXTRACTION_FAILED, f"Reading the catalog of {where} failed: {text}")


def _is_operational(exc: BaseException) -> bool:
    return type(exc).__name__ == "OperationalError" or type(getattr(exc, "orig", None)).__name__ == (
        "OperationalError"
    )
