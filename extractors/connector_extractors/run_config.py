"""The run configuration: the JSON contract between the operator (writer) and the extractor (reader).

The operator renders it from an OnlineConnection's spec into the Job's `OLC_RUN_CONFIG` environment
variable. It never holds a secret: the source password and the DataGalaxy token reach the extractor's
process as environment variables from `secretKeyRef` (`OLC_SOURCE_PASSWORD`, `OLC_DATAGALAXY_TOKEN`) or
as files (`OLC_SOURCE_PASSWORD_FILE`, `OLC_DATAGALAXY_TOKEN_FILE`). See docs/run-config.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connector_extractors.profiles import FILE_BASED

Technology = Literal[
    "postgresql",
    "mysql",
    "mariadb",
    "sqlserver",
    "oracle",
    "snowflake",
    "redshift",
    "sqlite",
    "duckdb",
]
FILE_TECHNOLOGIES: frozenset[str] = FILE_BASED

ENV_RUN_CONFIG = "OLC_RUN_CONFIG"
ENV_SOURCE_PASSWORD = "OLC_SOURCE_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_DATAGALAXY_TOKEN = "OLC_DATAGALAXY_TOKEN"  # noqa: S105
ENV_SOURCE_CA = "OLC_SOURCE_CA"  # PEM of the CA that signs the source's certificate (not a secret)
ENV_TERMINATION_MESSAGE_PATH = "OLC_TERMINATION_MESSAGE_PATH"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


TlsMode = Literal["verify-full", "verify-ca", "require", "disable"]


class SourceTls(_Model):
    """TLS to the source: `require` encrypts, `verify-*` check the certificate too, `disable` opts out."""

    mode: TlsMode = "require"


class SourceConfig(_Model):
    technology: Technology
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = None
    username: str | None = None
    path: str | None = Field(default=None, description="File path for SQLite and DuckDB")
    options: dict[str, str] = Field(default_factory=dict, description="Allowed driver options (see profiles)")
    tls: SourceTls = Field(default_factory=SourceTls)


class TargetConfig(_Model):
    api_url: str = Field(alias="apiUrl")
    workspace: str
    version: str | None = None
    source_name: str = Field(alias="sourceName")
    technology_code: str | None = Field(default=None, alias="technologyCode")
    # The connection this run pushes for: cluster id + namespace/name is the owner marker on the
    # DataGalaxy source (datagalaxy/ownership.py); the UID only recognises the previous version's marker.
    # Set by the operator; absent for a run by hand, which claims nothing.
    owner_cluster: str | None = Field(default=None, alias="ownerCluster")
    owner_connection: str | None = Field(default=None, alias="ownerConnection")
    owner_uid: str | None = Field(default=None, alias="ownerUid")


class PatternFilter(_Model):
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class Filters(_Model):
    schemas: PatternFilter = Field(default_factory=PatternFilter)
    tables: PatternFilter = Field(default_factory=PatternFilter)
    include_system_schemas: bool = Field(default=False, alias="includeSystemSchemas")


class IncludeOptions(_Model):
    views: bool = True
    comments: bool = True
    primary_keys: bool = Field(default=True, alias="primaryKeys")
    foreign_keys: bool = Field(default=True, alias="foreignKeys")
    unique_constraints: bool = Field(default=True, alias="uniqueConstraints")
    view_definitions: bool = Field(default=False, alias="viewDefinitions")
    indexes: bool = False
    partitions: bool = Field(default=False, description="List partitions as tables instead of folding them")


class Timeouts(_Model):
    connect_seconds: int = Field(default=15, alias="connectSeconds", ge=1)
    statement_seconds: int = Field(default=300, alias="statementSeconds", ge=1)
    push_budget_seconds: int = Field(default=1800, alias="pushBudgetSeconds", ge=1)


class RunConfig(_Model):
    version: Literal[1] = 1
    mode: Literal["import", "check"] = "import"
    connection: str = Field(default="", description="namespace/name of the OnlineConnection, for logs")
    source: SourceConfig
    target: TargetConfig | None = None
    filters: Filters = Field(default_factory=Filters)
    include: IncludeOptions = Field(default_factory=IncludeOptions)
    strict: bool = False
    missing_objects: Literal["ignore", "report", "delete"] = Field(default="report", alias="missingObjects")
    previous_content_hash: str | None = Field(default=None, alias="previousContentHash")
    timeouts: Timeouts = Field(default_factory=Timeouts)
