"""One profile per source technology: everything that differs between databases, as plain data.

A technology's rules used to be spread over eight modules; the profile gathers the ones that matter
for safety in one place: its SQLAlchemy driver and pip extra, its default port, whether it is a file,
its system schemas (left out of an extraction unless asked for), where its type names mean something
else than the common reading, the error codes its driver reports, how its session is made read-only,
how TLS is enforced, and the **allowlist of connection options** (`spec.source.options`) with the type
of each value.

This module imports neither SQLAlchemy nor a driver, so that the operator's CRD generator can read the
allowlists (it renders them as CEL rules) and the operator can enforce them as well. Options can never
name where to connect (host, port, database, user), a credential (password, passwd, pwd, ...), a TLS
setting (TLS has its own field, `spec.source.tls`) or anything that runs SQL at login or changes the
read-only session: those are not in any allowlist, and `RESERVED_OPTION_WORDS` is checked by a test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import TypeFamily

OptionKind = Literal["integer", "boolean", "identifier", "enum"]
TlsStyle = Literal["libpq", "mysql", "tds", "oracle", "https", "file"]
TLS_MODES: tuple[str, ...] = ("verify-full", "verify-ca", "require", "disable")
ReadOnlyStyle = Literal["startup-options", "session-init", "file-mode", "transaction", "none"]

OPTION_PATTERNS: dict[OptionKind, str] = {
    "integer": r"^[0-9]{1,6}$",
    "boolean": r"^(0|1|true|false)$",
    "identifier": r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$",
}

_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")

# No allowlist may contain a key with one of these words: connection target, credentials, TLS, login SQL.
RESERVED_OPTION_WORDS: tuple[str, ...] = (
    "host",
    "port",
    "user",
    "database",
    "dbname",
    "db",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "ssl",
    "tls",
    "cert",
    "init",
    "infile",
    "options",
    "read_only",
    "readonly",
    "mode",
    "uri",
    "service",
    "conn_properties",
    "authenticator",
)


@dataclass(frozen=True)
class OptionRule:
    """One allowed connection option and the values it takes."""

    name: str
    kind: OptionKind
    description: str
    choices: tuple[str, ...] = ()

    @property
    def pattern(self) -> str:
        if self.kind == "enum":
            return "^(" + "|".join(_REGEX_SPECIAL.sub(r"\\\1", c) for c in self.choices) + ")$"
        return OPTION_PATTERNS[self.kind]

    def accepts(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None

    def describe_values(self) -> str:
        if self.kind == "enum":
            return "one of " + ", ".join(self.choices)
        return {"integer": "an integer", "boolean": "0, 1, true or false", "identifier": "an identifier"}[
            self.kind
        ]


@dataclass(frozen=True)
class Profile:
    technology: str
    label: str
    drivername: str
    modules: tuple[str, ...]
    extra: str
    default_port: int | None
    file_based: bool
    readonly: ReadOnlyStyle
    tls: TlsStyle
    options: tuple[OptionRule, ...] = ()
    tls_modes: tuple[str, ...] = TLS_MODES
    error_codes: Mapping[ErrorCategory, frozenset[int]] = field(default_factory=dict)
    # The catalog's own schemas (compared without case) and name prefixes of its temporary ones.
    system_schemas: frozenset[str] = frozenset()
    system_schema_prefixes: tuple[str, ...] = ()
    # Upper-case SQL type name -> family, where the dialect's name means something else than usual.
    type_family_overrides: Mapping[str, TypeFamily] = field(default_factory=dict)

    def option(self, name: str) -> OptionRule | None:
        return next((rule for rule in self.options if rule.name == name), None)

    @cached_property
    def system_schemas_lower(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.system_schemas)

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.options)


_KEEPALIVES = (
    OptionRule("keepalives", "enum", "TCP keepalives on (1) or off (0).", ("0", "1")),
    OptionRule("keepalives_idle", "integer", "Seconds of inactivity before a TCP keepalive."),
    OptionRule("keepalives_interval", "integer", "Seconds between TCP keepalives."),
    OptionRule("keepalives_count", "integer", "Lost keepalives before the connection is dropped."),
)
_MYSQL_ERRORS: Mapping[ErrorCategory, frozenset[int]] = {
    ErrorCategory.AUTHENTICATION_FAILED: frozenset({1045, 1698, 1251}),
    ErrorCategory.PERMISSION_DENIED: frozenset({1044, 1142, 1143, 1227, 1370}),
    ErrorCategory.INVALID_CONFIGURATION: frozenset({1049}),  # unknown database
    ErrorCategory.SOURCE_UNREACHABLE: frozenset({2002, 2003, 2005, 2006, 2013}),
}
_MYSQL_SYSTEM_SCHEMAS = frozenset({"information_schema", "mysql", "performance_schema", "sys"})
_PG_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast"})
_PG_TEMP_PREFIXES = ("pg_temp_", "pg_toast_temp_")
_MYSQL_OPTIONS = (
    OptionRule("charset", "enum", "Connection character set.", ("utf8mb4", "utf8mb3", "utf8", "latin1")),
)

PROFILES: dict[str, Profile] = {
    "postgresql": Profile(
        "postgresql",
        "PostgreSQL",
        "postgresql+psycopg",
        ("psycopg",),
        "postgresql",
        5432,
        file_based=False,
        readonly="startup-options",
        tls="libpq",
        system_schemas=_PG_SYSTEM_SCHEMAS,
        system_schema_prefixes=_PG_TEMP_PREFIXES,
        options=(
            *_KEEPALIVES,
            OptionRule(
                "target_session_attrs",
                "enum",
                "Which server of a multi-host setup to accept.",
                ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
            ),
        ),
    ),
    "mysql": Profile(
        "mysql",
        "MySQL",
        "mysql+pymysql",
        ("pymysql",),
        "mysql",
        3306,
        file_based=False,
        readonly="session-init",
        tls="mysql",
        options=_MYSQL_OPTIONS,
        error_codes=_MYSQL_ERRORS,
        system_schemas=_MYSQL_SYSTEM_SCHEMAS,
    ),
    # MariaDB goes through the MySQL dialect too: it recognises a MariaDB server by itself.
    "mariadb": Profile(
        "mariadb",
        "MariaDB",
        "mysql+pymysql",
        ("pymysql",),
        "mariadb",
        3306,
        file_based=False,
        readonly="session-init",
        tls="mysql",
        options=_MYSQL_OPTIONS,
        error_codes=_MYSQL_ERRORS,
        system_schemas=_MYSQL_SYSTEM_SCHEMAS,
    ),
    "sqlserver": Profile(
        "sqlserver",
        "SQL Server",
        "mssql+pymssql",
        ("pymssql",),
        "sqlserver",
        1433,
        file_based=False,
        readonly="none",
        tls="tds",
        tls_modes=("require", "disable"),  # pymssql (FreeTDS) cannot be given a CA to check against
        options=(
            OptionRule("tds_version", "enum", "TDS protocol version.", ("7.0", "7.1", "7.2", "7.3", "7.4")),
        ),
        error_codes={
            ErrorCategory.AUTHENTICATION_FAILED: frozenset({18456, 18452, 18486, 18487, 18488}),
            ErrorCategory.PERMISSION_DENIED: frozenset({229, 230, 262, 297, 300, 916, 4060}),
        },
        system_schemas=frozenset(
            {
                "sys",
                "INFORMATION_SCHEMA",
                "guest",
                "db_owner",
                "db_accessadmin",
                "db_securityadmin",
                "db_ddladmin",
                "db_backupoperator",
                "db_datareader",
                "db_datawriter",
                "db_denydatareader",
                "db_denydatawriter",
            }
        ),
        type_family_overrides={"TIMESTAMP": "binary", "ROWVERSION": "binary"},  # a row version, not a time
    ),
    "oracle": Profile(
        "oracle",
        "Oracle",
        "oracle+oracledb",
        ("oracledb",),
        "oracle",
        1521,
        file_based=False,
        readonly="transaction",
        tls="oracle",
        options=(
            OptionRule("expire_time", "integer", "Minutes between keepalive probes."),
            OptionRule("retry_count", "integer", "Connection attempts before giving up."),
            OptionRule("retry_delay", "integer", "Seconds between connection attempts."),
        ),
        error_codes={
            ErrorCategory.AUTHENTICATION_FAILED: frozenset({1017, 1005, 28000, 28001}),
            ErrorCategory.PERMISSION_DENIED: frozenset({1031, 1045, 942}),
            ErrorCategory.SOURCE_UNREACHABLE: frozenset({12154, 12170, 12514, 12537, 12541, 12543, 12545}),
        },
        system_schemas=frozenset(
            {
                "sys",
                "system",
                "xdb",
                "ctxsys",
                "mdsys",
                "olapsys",
                "ordsys",
                "outln",
                "wmsys",
                "dbsnmp",
                "appqossys",
                "audsys",
                "gsmadmin_internal",
                "lbacsys",
                "dvsys",
                "dvf",
                "ojvmsys",
                "orddata",
                "ordplugins",
                "si_informtn_schema",
                "remote_scheduler_agent",
                "dbsfwuser",
                "ggsys",
                "anonymous",
                "xs$null",
                "mddata",
                "sysbackup",
                "sysdg",
                "syskm",
                "sysrac",
                "dip",
                "oracle_ocm",
                "gsmcatuser",
                "gsmuser",
                "sys$umf",
                "pdbadmin",
                "gsmrootuser",
                "opsg_admin",
            }
        ),
        system_schema_prefixes=("apex_", "flows_"),
        type_family_overrides={"DATE": "timestamp"},  # an Oracle DATE holds a time of day too
    ),
    "snowflake": Profile(
        "snowflake",
        "Snowflake",
        "snowflake",
        ("snowflake.sqlalchemy", "snowflake.connector"),
        "snowflake",
        None,
        file_based=False,
        readonly="none",
        tls="https",
        options=(
            OptionRule("warehouse", "identifier", "Virtual warehouse that runs the catalog queries."),
            OptionRule("role", "identifier", "Role to use (give it catalog read rights only)."),
        ),
        error_codes={ErrorCategory.AUTHENTICATION_FAILED: frozenset({250001, 390100, 390144})},
        system_schemas=frozenset({"information_schema"}),
    ),
    "redshift": Profile(
        "redshift",
        "Redshift",
        "redshift+psycopg2",
        ("sqlalchemy_redshift", "psycopg2"),
        "redshift",
        5439,
        file_based=False,
        readonly="session-init",
        tls="libpq",
        options=_KEEPALIVES,
        system_schemas=_PG_SYSTEM_SCHEMAS | {"pg_internal", "pg_auto_copy", "pg_automv"},
        system_schema_prefixes=_PG_TEMP_PREFIXES,
    ),
    "sqlite": Profile(
        "sqlite",
        "SQLite",
        "sqlite",
        ("sqlite3",),
        "",
        None,
        file_based=True,
        readonly="file-mode",
        tls="file",
    ),
    "duckdb": Profile(
        "duckdb",
        "DuckDB",
        "duckdb",
        ("duckdb", "duckdb_engine"),
        "duckdb",
        None,
        file_based=True,
        readonly="file-mode",
        tls="file",
        system_schemas=frozenset({"information_schema", "pg_catalog"}),
    ),
}

FILE_BASED: frozenset[str] = frozenset(t for t, p in PROFILES.items() if p.file_based)


def profile_for(technology: str) -> Profile | None:
    return PROFILES.get(technology)


def option_problems(technology: str, options: Mapping[str, str]) -> list[str]:
    """What is wrong with `options` for `technology`, each naming the field; empty when all is allowed."""
    profile = PROFILES.get(technology)
    if profile is None:
        return [f"source.technology: unknown technology {technology!r}"]
    problems = []
    for name, value in options.items():
        rule = profile.option(name)
        if rule is None:
            allowed = ", ".join(profile.option_names) or "none"
            extra = " (TLS is set with source.tls)" if "ssl" in name.lower() or "tls" in name.lower() else ""
            problems.append(
                f"source.options.{name}: not an allowed option for {technology}{extra}; allowed: {allowed}"
            )
        elif not rule.accepts(value):
            problems.append(f"source.options.{name}: must be {rule.describe_values()}")
    return problems
