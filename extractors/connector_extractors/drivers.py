"""Which SQLAlchemy dialect and Python driver each technology uses, and whether the driver is installed.

A missing driver is a `DriverMissing` failure with the pip extra that brings it, found before any
connection attempt so that the message is about the image, not about the network.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from connector_extractors.errors import ConnectorError, ErrorCategory


@dataclass(frozen=True)
class Driver:
    technology: str
    label: str
    drivername: str
    modules: tuple[str, ...]
    extra: str
    default_port: int | None


DRIVERS: dict[str, Driver] = {
    "postgresql": Driver("postgresql", "PostgreSQL", "postgresql+psycopg", ("psycopg",), "postgresql", 5432),
    # MariaDB goes through the MySQL dialect too: it recognises a MariaDB server by itself.
    "mysql": Driver("mysql", "MySQL", "mysql+pymysql", ("pymysql",), "mysql", 3306),
    "mariadb": Driver("mariadb", "MariaDB", "mysql+pymysql", ("pymysql",), "mariadb", 3306),
    "sqlserver": Driver("sqlserver", "SQL Server", "mssql+pymssql", ("pymssql",), "sqlserver", 1433),
    "oracle": Driver("oracle", "Oracle", "oracle+oracledb", ("oracledb",), "oracle", 1521),
    "snowflake": Driver(
        "snowflake",
        "Snowflake",
        "snowflake",
        ("snowflake.sqlalchemy", "snowflake.connector"),
        "snowflake",
        None,
    ),
    "redshift": Driver(
        "redshift", "Redshift", "redshift+psycopg2", ("sqlalchemy_redshift", "psycopg2"), "redshift", 5439
    ),
    "sqlite": Driver("sqlite", "SQLite", "sqlite", ("sqlite3",), "", None),
    "duckdb": Driver("duckdb", "DuckDB", "duckdb", ("duckdb", "duckdb_engine"), "duckdb", None),
}


def driver_for(technology: str) -> Driver:
    try:
        return DRIVERS[technology]
    except KeyError:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION, f"Unknown source technology {technology!r}"
        ) from None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(driver: Driver) -> list[str]:
    return [m for m in driver.modules if not _installed(m)]


def require_driver(technology: str) -> Driver:
    """The driver of `technology`, or `DriverMissing` naming the modules and the extra to install."""
    driver = driver_for(technology)
    missing = missing_modules(driver)
    if missing:
        hint = (
            f"Use an extractor image built with the '{driver.extra}' extra "
            f"(pip install 'online-connector[{driver.extra}]')."
            if driver.extra
            else None
        )
        raise ConnectorError(
            ErrorCategory.DRIVER_MISSING,
            f"The {driver.label} driver is not installed in this image (missing: {', '.join(missing)}).",
            hint,
        )
    return driver
