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
from connector_extractors.profiles import profile_for
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
# Python's codec errors name the character and its position ("can't encode character '\xe9' in
# position 3"): about a password, that is a fragment of it.
_CODEC_DETAIL = re.compile(
    r"codec can't (en|de)code (character|byte|bytes|characters)? ?\S* "
    r"in position [0-9]+(-[0-9]+)?(: [^;\n]*)?",
    re.IGNORECASE,
)
_FRAGMENT = 4  # shortest run of a secret's characters that counts as a fragment of it


def _without_fragments(text: str, secret: str) -> str:
    """`text` with every run of at least `_FRAGMENT` characters that also occurs in `secret` masked."""
    if len(secret) < _FRAGMENT:
        return text.replace(secret, "***")
    out: list[str] = []
    i = 0
    while i < len(text):
        length = 0
        while i + length < len(text) and text[i : i + length + 1] in secret:
            length += 1
        if length >= _FRAGMENT:
            out.append("***")
            i += length
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def printable(text: str) -> str:
    """`text` without control or format characters (escape sequences, NULs, bidi marks) from servers."""
    return "".join(c if c.isprintable() else " " for c in text)


def scrub(text: str, *secrets: str | None, limit: int = 400) -> str:
    """`text` without any fragment of the secrets (or URL credentials, or codec errors' characters), on
    one printable line, at most `limit` characters."""
    for secret in secrets:
        if secret:
            text = _without_fragments(text, secret)
    text = _URL_CREDENTIALS.sub(r"\1:***@", text)
    text = _CODEC_DETAIL.sub(r"codec can't \1code a character (withheld)", text)
    text = " ".join(printable(text).split())
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
    profile = profile_for(technology)
    if number is None or profile is None:
        return None
    for category, numbers in profile.error_codes.items():
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
