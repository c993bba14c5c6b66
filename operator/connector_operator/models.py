"""The OnlineConnection API: pydantic models of its spec and status.

These models are the single source of truth for the CRD: `crd_generate` renders
crds/onlineconnections.yaml (OpenAPI schema, descriptions, CEL rules) from them, and the operator
validates every spec with them before it acts. A rule that the API server enforces with CEL is
mirrored by a model validator here, so an object admitted by an older CRD is still caught.

Secrets never appear in a spec: only references to a key of a Secret in the connection's own
namespace (there is no namespace field on purpose).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from connector_extractors.profiles import PROFILES, option_problems
from connector_extractors.run_config import FILE_TECHNOLOGIES, Technology, TlsMode
from connector_extractors.run_summary import PushCounts, RunResult
from connector_operator import quantities

GROUP = "connectors.datagalaxy.com"
VERSION = "v1alpha1"
KIND = "OnlineConnection"
PLURAL = "onlineconnections"
SINGULAR = "onlineconnection"
SHORT_NAMES = ("olc",)
CATEGORIES = ("datagalaxy",)


_CRON_RE = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$")
# scheme://host[:port][/path]: no user info, query or fragment; host a DNS name or an IPv4 address.
API_URL_PATTERN = (
    r"^https?://[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[-A-Za-z0-9._~%!$&'()*+,;=:/]*)?$"
)
_LOCAL_HTTP_RE = re.compile(r"^http://(localhost|127\.0\.0\.1)(:[0-9]+)?(/.*)?$")
CEL_FILE_TECHNOLOGIES = "['sqlite', 'duckdb']"


_QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


def _rules(*rules: dict[str, str]) -> dict[str, Any]:
    """The `x-kubernetes-validations` extension (CEL) for a model's JSON schema."""
    return {"x-kubernetes-validations": list(rules)}


def _cel_list(items: Any) -> str:
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def _option_rules() -> list[dict[str, str]]:
    """CEL rules of `source.options`, generated from the technology profiles (the extractor's allowlists)."""
    rules = []
    for technology, profile in PROFILES.items():
        allowed = profile.option_names
        check = f"self.options.all(k, k in {_cel_list(allowed)})" if allowed else "size(self.options) == 0"
        rules.append(
            {
                "rule": f"self.technology != '{technology}' || !has(self.options) || {check}",
                "message": f"source.options: {technology} allows only "
                + (", ".join(allowed) if allowed else "no options")
                + " (host, port, database, user, credentials and TLS have their own fields)",
                "fieldPath": ".options",
                "reason": "FieldValueForbidden",
            }
        )
    by_value: dict[tuple[str, str], list[str]] = {}
    for technology, profile in PROFILES.items():
        for option in profile.options:
            by_value.setdefault((option.name, option.pattern), []).append(technology)
    for (name, pattern), technologies in sorted(by_value.items()):
        escaped = pattern.replace("\\", "\\\\")
        rules.append(
            {
                "rule": f"!(self.technology in {_cel_list(technologies)}) || !has(self.options) || "
                f"!('{name}' in self.options) || self.options['{name}'].matches('{escaped}')",
                "message": f"source.options.{name} must match {pattern}",
                "fieldPath": ".options",
                "reason": "FieldValueInvalid",
            }
        )
    for technology, profile in PROFILES.items():
        if not profile.file_based and set(profile.tls_modes) != {
            "verify-full",
            "verify-ca",
            "require",
            "disable",
        }:
            rules.append(
                {
                    "rule": f"self.technology != '{technology}' || !has(self.tls) || !has(self.tls.mode) || "
                    f"self.tls.mode in {_cel_list(profile.tls_modes)}",
                    "message": f"source.tls.mode for {technology} must be one of "
                    + ", ".join(profile.tls_modes),
                    "fieldPath": ".tls.mode",
                    "reason": "FieldValueInvalid",
                }
            )
    return rules


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


Name = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
SecretKey = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]
Pattern = Annotated[str, Field(min_length=1, max_length=256)]
Quantity = Annotated[
    int | str,
    Field(
        json_schema_extra={
            "x-kubernetes-int-or-string": True,
            "pattern": _QUANTITY_PATTERN,
        }
    ),
]


class SecretKeyRef(_Model):
    """A key of a Secret in the connection's own namespace."""

    name: Name = Field(description="Name of the Secret, in the same namespace as the OnlineConnection.")
    key: SecretKey = Field(description="Key inside the Secret's data that holds the value.")


class SourceTls(_Model):
    """TLS towards the source database: required by default."""

    mode: TlsMode = Field(
        default="require",
        description=(
            "require (default): encrypted, and PostgreSQL never answers a clear-text password request; "
            "verify-ca / verify-full: the certificate is also checked against caSecretRef (or the system's "
            "CAs), verify-full checks the host name too; disable: the explicit opt-out (not recommended)."
        ),
    )
    ca_secret_ref: SecretKeyRef | None = Field(
        default=None,
        exclude=True,  # reaches the Job as OLC_SOURCE_CA (secretKeyRef), not in the run configuration
        description="Secret key holding the PEM certificates of the CA that signs the source's certificate.",
    )


class Source(_Model):
    """The database to read metadata from."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            {
                "rule": f"self.technology in {CEL_FILE_TECHNOLOGIES} || has(self.host)",
                "message": "source.host is required for a networked technology",
                "fieldPath": ".host",
                "reason": "FieldValueRequired",
            },
            {
                "rule": f"!(self.technology in {CEL_FILE_TECHNOLOGIES}) || has(self.path)",
                "message": "source.path is required for sqlite and duckdb",
                "fieldPath": ".path",
                "reason": "FieldValueRequired",
            },
            {
                "rule": "!has(self.passwordSecretRef) || has(self.username)",
                "message": "source.username is required when source.passwordSecretRef is set",
                "fieldPath": ".username",
                "reason": "FieldValueRequired",
            },
            *_option_rules(),
        )
    )

    technology: Technology = Field(description="Database technology of the source.")
    host: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$",
        description="Host name or IP address of the database server (networked technologies).",
    )
    port: int | None = Field(
        default=None, ge=1, le=65535, description="TCP port; the technology's default port when omitted."
    )
    database: str | None = Field(
        default=None, min_length=1, max_length=256, description="Database (or catalog) to connect to."
    )
    username: str | None = Field(
        default=None, min_length=1, max_length=256, description="User name to authenticate with."
    )
    password_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the source password; never put a password in the spec."
    )
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Database file path inside the extractor container, for sqlite and duckdb.",
    )
    options: dict[str, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict,
        max_length=32,
        description=(
            "Driver options from the technology's allowlist (docs/security.md), for example "
            "keepalives_idle: '30' or, for Snowflake, warehouse and role. Where to connect, credentials, "
            "TLS and anything that runs SQL at login are never options."
        ),
    )
    tls: SourceTls = Field(default_factory=SourceTls, description="TLS to the source (required by default).")

    @model_validator(mode="after")
    def _check_cross_fields(self) -> Source:
        if self.technology in FILE_TECHNOLOGIES:
            if not self.path:
                raise ValueError("source.path is required for sqlite and duckdb")
        elif not self.host:
            raise ValueError("source.host is required for a networked technology")
        if self.password_secret_ref is not None and not self.username:
            raise ValueError("source.username is required when source.passwordSecretRef is set")
        return self

    @model_validator(mode="after")
    def _allowed_options(self) -> Source:
        problems = option_problems(self.technology, self.options)
        if problems:
            raise ValueError("; ".join(problems))
        modes = PROFILES[self.technology].tls_modes
        if self.tls.mode not in modes:
            raise ValueError(f"source.tls.mode for {self.technology} must be one of {', '.join(modes)}")
        return self


class Target(_Model):
    """Where to push the metadata: a DataGalaxy workspace and source."""

    api_url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=API_URL_PATTERN,
        description=(
            "DataGalaxy API base URL, for example https://api.datagalaxy.com/v2. "
            "Must use https (plain http only for localhost and 127.0.0.1), with a valid host and port "
            "and no user info, query or fragment."
        ),
        json_schema_extra=_rules(
            {
                "rule": "self.startsWith('https://') || "
                "self.matches('^http://(localhost|127\\\\.0\\\\.0\\\\.1)(:[0-9]+)?(/.*)?$')",
                "message": "target.apiUrl must use https (http is only allowed for localhost and 127.0.0.1)",
            },
            {
                "rule": "isURL(self) && (url(self).getPort() == '' || "
                "(int(url(self).getPort()) >= 1 && int(url(self).getPort()) <= 65535))",
                "message": "target.apiUrl must be a URL with a valid host and a port between 1 and 65535",
            },
        ),
    )
    token_secret_ref: SecretKeyRef = Field(
        description="Secret key holding the DataGalaxy API token (a personal or integration token)."
    )
    workspace: str = Field(min_length=1, max_length=256, description="DataGalaxy workspace name or id.")
    version: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Workspace version name or id; the workspace's default version when omitted.",
    )
    source_name: str = Field(
        min_length=1, max_length=256, description="Name of the DataGalaxy source that receives the metadata."
    )
    technology_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description=(
            "DataGalaxy technology code of the source, checked against the target's GET /technologies "
            "(an unknown code fails the run before anything is written); when omitted, the target's code "
            "for source.technology, or none."
        ),
    )

    @field_validator("api_url")
    @classmethod
    def _strict_url(cls, value: str) -> str:
        if not (value.startswith("https://") or _LOCAL_HTTP_RE.match(value)):
            raise ValueError(
                "target.apiUrl must use https (http is only allowed for localhost and 127.0.0.1)"
            )
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ValueError("target.apiUrl must not carry user info (user:password@)")
        if not parts.hostname or port in {-1, 0}:
            raise ValueError("target.apiUrl must have a valid host and a port between 1 and 65535")
        return value


class PatternFilter(_Model):
    """Include and exclude regular expressions (Python syntax) that must match the whole name.

    An empty include list keeps everything; exclude wins over include.
    """

    include: list[Pattern] = Field(
        default_factory=list,
        max_length=100,
        description="Keep only names that fully match one of these regular expressions, e.g. sales_.*",
    )
    exclude: list[Pattern] = Field(
        default_factory=list,
        max_length=100,
        description="Drop names that fully match one of these regular expressions, e.g. .*_tmp",
    )

    @field_validator("include", "exclude")
    @classmethod
    def _valid_regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from error
        return patterns


class Filters(_Model):
    """Which schemas and tables to import."""

    schemas: PatternFilter = Field(default_factory=PatternFilter, description="Schema name filter.")
    tables: PatternFilter = Field(
        default_factory=PatternFilter, description="Table and view name filter (bare or schema.table)."
    )
    include_system_schemas: bool = Field(
        default=False, description="Also import system schemas such as information_schema and pg_catalog."
    )


class Include(_Model):
    """Which kinds of metadata to import besides tables and columns."""

    views: bool = Field(default=True, description="Import views.")
    comments: bool = Field(default=True, description="Import table and column comments as descriptions.")
    primary_keys: bool = Field(default=True, description="Import primary keys.")
    foreign_keys: bool = Field(default=True, description="Import foreign keys.")
    unique_constraints: bool = Field(default=True, description="Import unique constraints.")
    view_definitions: bool = Field(default=False, description="Import the SQL text of views.")
    indexes: bool = Field(default=False, description="Import indexes.")
    partitions: bool = Field(
        default=False, description="List partitions as tables instead of folding them into their parent."
    )


class Schedule(_Model):
    """A recurring import, run by an owned CronJob."""

    cron: str = Field(
        min_length=1,
        max_length=128,
        pattern=_CRON_RE.pattern,
        description="Five-field cron expression (minute hour day month weekday) or a macro such as @daily.",
    )
    time_zone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$",
        description="IANA time zone of the cron expression, e.g. Europe/Paris; UTC when omitted.",
    )
    suspend: bool = Field(
        default=False, description="Stop starting scheduled runs; a run already started is left alone."
    )


class Resources(_Model):
    """Compute resources of the extractor container."""

    requests: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = Field(
        default_factory=dict,
        description="Minimum resources the extractor needs (cpu, memory, ephemeral-storage).",
    )
    limits: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = Field(
        default_factory=dict,
        description="Maximum resources the extractor may use (cpu, memory, ephemeral-storage).",
    )

    @model_validator(mode="after")
    def _api_server_would_accept(self) -> Resources:
        # The API server refuses these with a 422 on the Job: say so at the connection instead.
        for kind, values in (("requests", self.requests), ("limits", self.limits)):
            for name, quantity in values.items():
                amount = quantities.value(quantity)
                if amount is None or amount < 0:
                    raise ValueError(f"{kind}.{name}: {quantity!r} is not a non-negative quantity")
        for name, request in self.requests.items():
            limit = self.limits.get(name)
            if limit is not None and (quantities.value(request) or 0) > (quantities.value(limit) or 0):
                raise ValueError(f"requests.{name} ({request}) must not exceed limits.{name} ({limit})")
        return self


class Run(_Model):
    """How each import Job runs."""

    timeout_seconds: int = Field(
        default=3600, ge=30, le=604800, description="Deadline of a whole run (Job activeDeadlineSeconds)."
    )
    backoff_limit: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed run on retryable errors (Job backoffLimit)."
    )
    history_limit: int = Field(
        default=5, ge=1, le=50, description="Finished Jobs to keep, and runs listed in status.history."
    )
    ttl_seconds_after_finished: int = Field(
        default=86400, ge=60, le=2592000, description="Seconds a finished Job is kept before it is deleted."
    )
    connect_timeout_seconds: int = Field(
        default=15, ge=1, le=600, description="Timeout of one connection attempt to the source."
    )
    statement_timeout_seconds: int = Field(
        default=300, ge=1, le=86400, description="Timeout of one catalog query on the source."
    )
    resources: Resources = Field(default_factory=Resources, description="Extractor container resources.")


class OnlineConnectionSpec(_Model):
    """An online connection: a source database whose metadata is imported into DataGalaxy."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            {
                "rule": "!has(self.source.passwordSecretRef) || "
                "self.source.passwordSecretRef.name != self.target.tokenSecretRef.name",
                "message": "target.tokenSecretRef and source.passwordSecretRef must name different Secrets "
                "(a Secret serves one role only)",
                "fieldPath": ".target.tokenSecretRef.name",
                "reason": "FieldValueInvalid",
            }
        )
    )

    source: Source = Field(description="The source database.")
    target: Target = Field(description="The DataGalaxy target.")
    filters: Filters = Field(default_factory=Filters, description="Schema and table filters.")
    include: Include = Field(default_factory=Include, description="Kinds of metadata to import.")
    schedule: Schedule | None = Field(
        default=None, description="Recurring imports; without it the connection only runs on demand."
    )
    run: Run = Field(default_factory=Run, description="Job settings of each run.")
    missing_objects: Literal["ignore", "report", "delete"] = Field(
        default="report",
        description="Objects in DataGalaxy that are gone from the source: ignore, report or delete them.",
    )
    strict: bool = Field(
        default=False,
        description="Fail the run instead of reporting a partial success when some objects fail.",
    )

    @field_validator("target")
    @classmethod
    def _one_role_per_secret(cls, target: Target, info: ValidationInfo) -> Target:
        source = info.data.get("source")
        password = source.password_secret_ref if isinstance(source, Source) else None
        if password is not None and password.name == target.token_secret_ref.name:
            raise ValueError(
                "target.tokenSecretRef and source.passwordSecretRef must name different Secrets "
                "(a Secret serves one role only)"
            )
        return target


# --- status -------------------------------------------------------------------------------------

# metav1.Condition's reason rule; run records use the same reasons (clamped by the operator).
Reason = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
]


class Condition(_Model):
    """A metav1.Condition: one aspect of the connection's state."""

    type: str = Field(
        max_length=64, description="Condition type: Ready, Running, LastRunSucceeded or ConnectionTested."
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: Reason = Field(description="CamelCase reason of the last transition or update.")
    message: str = Field(default="", max_length=4096, description="Human-readable details.")
    observed_generation: int | None = Field(
        default=None, description="Spec generation this condition is about."
    )
    last_transition_time: str = Field(description="When status last changed (RFC 3339).")


class RunRecord(_Model):
    """The outcome of one run (an import Job)."""

    job: str = Field(description="Name of the Job.")
    trigger: Literal["manual", "schedule"] = Field(description="What started the run: manual or schedule.")
    request: str | None = Field(
        default=None, description="The run-requested annotation value that started it."
    )
    start_time: str | None = Field(default=None, description="When the Job started (RFC 3339).")
    finish_time: str | None = Field(default=None, description="When the Job finished (RFC 3339).")
    duration_seconds: float | None = Field(default=None, description="Wall-clock duration of the run.")
    result: RunResult = Field(description="Succeeded, PartialSuccess, Unchanged or Failed.")
    reason: Reason = Field(description="CamelCase reason, the error category of a failed run.")
    message: str = Field(default="", max_length=1024, description="Summary of the run, without secrets.")
    objects: int = Field(default=0, ge=0, description="Total number of objects extracted.")
    warnings: int = Field(
        default=0,
        ge=0,
        description="Warnings of the run (objects skipped or failed): how partial a success is.",
    )
    counts: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=32, description="Objects extracted, by kind."
    )
    push: PushCounts | None = Field(default=None, description="What the push to DataGalaxy did.")
    content_hash: str | None = Field(default=None, description="Hash of the extracted metadata.")
    target_key: str | None = Field(default=None, description="Identity of the target the hash applies to.")


class TestRecord(_Model):
    """The outcome of the last connection test."""

    job: str = Field(description="Name of the Job.")
    request: str | None = Field(default=None, description="The test-requested annotation value.")
    finish_time: str | None = Field(default=None, description="When the test finished (RFC 3339).")
    result: Literal["Succeeded", "Failed"] = Field(description="Succeeded or Failed.")
    reason: Reason = Field(description="CamelCase reason, the error category of a failed test.")
    message: str = Field(default="", max_length=1024, description="Details, without secrets.")


class Requests(_Model):
    """The last handled values of the request annotations (each request is handled exactly once)."""

    run: str | None = Field(default=None, description="Last handled run-requested value.")
    test: str | None = Field(default=None, description="Last handled test-requested value.")


class OnlineConnectionStatus(_Model):
    """Observed state, written by the operator."""

    observed_generation: int | None = Field(
        default=None, description="Last spec generation the operator acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description="Ready, Running, LastRunSucceeded and ConnectionTested conditions.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    active_job: str | None = Field(
        default=None, description="Name of the Job of the run in progress, if any."
    )
    last_run: RunRecord | None = Field(default=None, description="The most recent finished run.")
    last_successful_run: RunRecord | None = Field(
        default=None, description="The most recent run that Succeeded, PartialSuccess or was Unchanged."
    )
    last_test: TestRecord | None = Field(default=None, description="The most recent connection test.")
    next_scheduled_run: str | None = Field(
        default=None, description="When the schedule fires next (RFC 3339)."
    )
    history: list[RunRecord] = Field(
        default_factory=list, max_length=50, description="The last runs, most recent first."
    )
    consecutive_failures: int = Field(default=0, description="Failed runs since the last successful one.")
    handled_requests: Requests = Field(
        default_factory=Requests, description="Request annotations already acted on."
    )
