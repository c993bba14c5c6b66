"""What a fresh simulator holds: its workspaces, versions, tokens and client-space metamodel.

Ids are derived from names (uuid5), so they stay the same across resets and restarts: a test or the
demo can print them, restart the simulator and still find the same objects.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

_NAMESPACE = uuid.UUID("6f1d3a52-8c0e-4b7a-9d55-2f4a6c1e9b30")

VALID_TOKEN = "dgsim-valid-7c1e2f9a4b6d"  # noqa: S105 - simulator's own fake token
REVOKED_TOKEN = "dgsim-revoked-3a8b5c0d2e4f"  # noqa: S105
NO_ACCESS_TOKEN = "dgsim-noaccess-9e7d6c5b4a3f"  # noqa: S105
LEGACY_TOKEN = "dgsim-legacy-1f2e3d4c5b6a"  # noqa: S105

TokenStatus = Literal["valid", "revoked", "legacy"]


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def double_uuid(*parts: str) -> str:
    """DataGalaxy object ids are two UUIDs joined by a colon."""
    return f"{stable_uuid('a', *parts)}:{stable_uuid('b', *parts)}"


@dataclass(frozen=True)
class WorkspaceSeed:
    name: str
    versioning: bool = False
    versions: tuple[str, ...] = ("1",)
    default_version: str | None = None  # defaults to the first version

    @property
    def id(self) -> str:
        return double_uuid("workspace", self.name)

    def version_id(self, version: str) -> str:
        return stable_uuid("version", self.name, version)


@dataclass(frozen=True)
class TokenSeed:
    token: str
    status: TokenStatus = "valid"
    workspaces: tuple[str, ...] | None = None  # None: every workspace


@dataclass(frozen=True)
class CustomAttributeSeed:
    """A custom attribute an administrator created; bulktree nodes key it by its display name."""

    data_type: str  # Common, Source, Container, Structure or Field
    name: str
    format: str = "Text"
    values: tuple[str, ...] = ()


# A client space as an administrator leaves it: a few custom attributes, a tag list, and the technology
# catalogue. The technology codes of a real client space are not published (only `azuresql` and
# `mysql` appear in DataGalaxy's own examples); these are plausible lower-case codes.
DEFAULT_CUSTOM_ATTRIBUTES: tuple[CustomAttributeSeed, ...] = (
    CustomAttributeSeed("Common", "Business domain", "ValueList", ("Sales", "Finance", "Operations")),
    CustomAttributeSeed("Structure", "Retention period", "Text"),
    CustomAttributeSeed("Field", "Data quality score", "Number"),
)
DEFAULT_TAGS: tuple[str, ...] = ("GDPR", "PII", "Certified", "Deprecated")
DEFAULT_TECHNOLOGIES: tuple[tuple[str, str], ...] = (
    ("postgresql", "PostgreSQL"),
    ("mysql", "MySQL"),
    ("mariadb", "MariaDB"),
    ("sqlserver", "Microsoft SQL Server"),
    ("azuresql", "Azure SQL Database"),
    ("oracle", "Oracle"),
    ("snowflake", "Snowflake"),
    ("redshift", "Amazon Redshift"),
    ("bigquery", "Google BigQuery"),
    ("databricks", "Databricks"),
    ("sqlite", "SQLite"),
)


@dataclass(frozen=True)
class Seed:
    workspaces: tuple[WorkspaceSeed, ...] = field(
        default_factory=lambda: (
            WorkspaceSeed("Demo", versioning=False, versions=("1",)),
            WorkspaceSeed("Versioned", versioning=True, versions=("v1", "v2"), default_version="v1"),
        )
    )
    tokens: tuple[TokenSeed, ...] = field(
        default_factory=lambda: (
            TokenSeed(VALID_TOKEN, "valid"),
            TokenSeed(REVOKED_TOKEN, "revoked"),
            TokenSeed(NO_ACCESS_TOKEN, "valid", workspaces=("Versioned",)),
            TokenSeed(LEGACY_TOKEN, "legacy"),
        )
    )
    custom_attributes: tuple[CustomAttributeSeed, ...] = DEFAULT_CUSTOM_ATTRIBUTES
    tags: tuple[str, ...] = DEFAULT_TAGS
    technologies: tuple[tuple[str, str], ...] = DEFAULT_TECHNOLOGIES

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seed:
        workspaces = tuple(
            WorkspaceSeed(
                name=w["name"],
                versioning=bool(w.get("versioning", False)),
                versions=tuple(w.get("versions", ("1",))),
                default_version=w.get("default_version"),
            )
            for w in data.get("workspaces", [])
        )
        tokens = tuple(
            TokenSeed(
                token=t["token"],
                status=t.get("status", "valid"),
                workspaces=tuple(t["workspaces"]) if t.get("workspaces") is not None else None,
            )
            for t in data.get("tokens", [])
        )
        custom = tuple(
            CustomAttributeSeed(
                data_type=a["data_type"],
                name=a["name"],
                format=a.get("format", "Text"),
                values=tuple(a.get("values", ())),
            )
            for a in data.get("custom_attributes", [asdict(a) for a in DEFAULT_CUSTOM_ATTRIBUTES])
        )
        return cls(
            workspaces=workspaces,
            tokens=tokens,
            custom_attributes=custom,
            tags=tuple(data.get("tags", DEFAULT_TAGS)),
            technologies=tuple(
                (str(code), str(name)) for code, name in data.get("technologies", DEFAULT_TECHNOLOGIES)
            ),
        )

    @classmethod
    def from_file(cls, path: Path) -> Seed:
        return cls.from_dict(json.loads(path.read_text()))
