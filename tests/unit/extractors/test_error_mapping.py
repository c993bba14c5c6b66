"""Driver exceptions to the error taxonomy; messages never carry the password."""

# ruff: noqa: E501 - the table of driver errors reads best one error per line

from __future__ import annotations

import socket

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from connector_extractors import error_mapping, reachability
from connector_extractors.error_mapping import classify, scrub
from connector_extractors.errors import ErrorCategory
from connector_extractors.run_config import SourceConfig, Timeouts
from connector_extractors.urls import ConnectionSpec, build_connection

PASSWORD = "s3cr3t-Pa55"


def spec(technology: str = "postgresql", host: str = "db.example.com", port: int = 5432) -> ConnectionSpec:
    source = SourceConfig(technology="postgresql", host=host, port=port, database="shop", username="reader")
    built = build_connection(source, PASSWORD, Timeouts())
    return ConnectionSpec(technology, built.url, built.connect_args, host, port)


class DriverError(Exception):
    """Stands for a DBAPI exception: `sqlstate` like psycopg, `args[0]` numbers like PyMySQL."""

    def __init__(self, *args: object, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


class OracleErrorObject:
    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


def wrap(orig: Exception, cls: type[Exception] = OperationalError) -> Exception:
    return cls("SELECT 1", {}, orig)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never probe a real address: the probe answers 'refused'."""
    monkeypatch.setattr(
        error_mapping,
        "probe",
        lambda host, port, timeout: reachability.Probe("refused", f"{host}:{port} refused"),
    )


@pytest.mark.parametrize(
    ("technology", "orig", "category"),
    [
        ("postgresql", DriverError("password authentication failed for user", sqlstate="28P01"), "AuthenticationFailed"),
        ("postgresql", DriverError("connection failed: FATAL: password authentication failed for user \"reader\""), "AuthenticationFailed"),
        ("postgresql", DriverError("permission denied for schema sales", sqlstate="42501"), "PermissionDenied"),
        ("postgresql", DriverError("FATAL: permission denied for database \"shop\""), "PermissionDenied"),
        ("postgresql", DriverError('FATAL: database "shop" does not exist'), "InvalidConfiguration"),
        ("postgresql", DriverError("connection to server failed: Connection refused"), "SourceUnreachable"),
        ("mysql", DriverError(1045, "Access denied for user 'reader'@'10.0.0.1' (using password: YES)"), "AuthenticationFailed"),
        ("mariadb", DriverError(1044, "Access denied for user 'reader' to database 'shop'"), "PermissionDenied"),
        ("mysql", DriverError(1142, "SELECT command denied to user"), "PermissionDenied"),
        ("mysql", DriverError(1049, "Unknown database 'shop'"), "InvalidConfiguration"),
        ("mysql", DriverError(2003, "Can't connect to MySQL server on 'db' (timed out)"), "SourceUnreachable"),
        ("sqlserver", DriverError((18456, b"Login failed for user 'reader'."), "DB-Lib error"), "AuthenticationFailed"),
        ("sqlserver", DriverError((916, b"The server principal is not able to access the database"), "x"), "PermissionDenied"),
        ("oracle", DriverError(OracleErrorObject(1017, "ORA-01017: invalid username/password; logon denied")), "AuthenticationFailed"),
        ("oracle", DriverError(OracleErrorObject(1031, "ORA-01031: insufficient privileges")), "PermissionDenied"),
        ("oracle", DriverError(OracleErrorObject(12541, "ORA-12541: TNS:no listener")), "SourceUnreachable"),
        ("oracle", DriverError(OracleErrorObject(4001, "DPY-4001: no credentials specified")), "InvalidConfiguration"),
        ("snowflake", DriverError("250001: Incorrect username or password was specified."), "AuthenticationFailed"),
    ],
)  # fmt: skip
def test_categories(technology: str, orig: Exception, category: str) -> None:
    error = classify(wrap(orig), spec(technology), PASSWORD, "connect")
    assert error.category.value == category
    assert PASSWORD not in str(error)


def test_authentication_message_names_user_and_address_not_password() -> None:
    orig = DriverError(f"password authentication failed (tried {PASSWORD})", sqlstate="28P01")
    error = classify(wrap(orig), spec(), PASSWORD, "connect")
    assert error.exit_code == 5
    assert "'reader'" in error.message
    assert "db.example.com:5432" in error.message
    assert PASSWORD not in str(error)


def test_unreachable_message_says_what_the_probe_saw_and_hints_at_ip_filtering() -> None:
    error = classify(wrap(DriverError("timeout expired")), spec(), PASSWORD, "connect")
    assert error.category is ErrorCategory.SOURCE_UNREACHABLE
    assert "db.example.com:5432" in error.message
    assert "refused" in error.message
    assert error.hint is not None
    assert "IP filtering" in error.hint


def test_errors_while_reading_are_extraction_failed() -> None:
    orig = DriverError("canceling statement due to statement timeout", sqlstate="57014")
    error = classify(wrap(orig, ProgrammingError), spec(), PASSWORD, "extract")
    assert error.category is ErrorCategory.EXTRACTION_FAILED
    assert error.exit_code == 7


def test_scrub_removes_passwords_and_url_credentials() -> None:
    text = f"failed postgresql://reader:{PASSWORD}@db/shop and mysql://u:other@h/x with {PASSWORD}\n twice"
    cleaned = scrub(text, PASSWORD)
    assert PASSWORD not in cleaned
    assert "other" not in cleaned
    assert "\n" not in cleaned
    assert len(scrub("x" * 1000, None, limit=50)) == 50


class TestProbe:
    def test_refused_on_a_free_loopback_port(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        seen = reachability.probe("127.0.0.1", port, 2)
        assert seen.outcome == "refused"
        assert f"127.0.0.1:{port}" in seen.detail

    def test_open_port(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen(1)
            assert reachability.probe("127.0.0.1", sock.getsockname()[1], 2).outcome == "open"

    def test_dns_failure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def fail(*args: object, **kwargs: object) -> object:
            raise socket.gaierror(-2, "Name or service not known")

        monkeypatch.setattr(socket, "getaddrinfo", fail)
        seen = reachability.probe("db.nowhere.example", 5432, 2)
        assert seen.outcome == "dns"
        assert "db.nowhere.example" in seen.detail

    def test_timeout(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def slow(self: socket.socket, address: object) -> None:
            raise TimeoutError

        monkeypatch.setattr(socket.socket, "connect", slow)
        seen = reachability.probe("127.0.0.1", 5432, 3)
        assert seen.outcome == "timeout"
        assert "3s" in seen.detail
