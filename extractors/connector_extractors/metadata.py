"""The technical metadata model: what an extraction produces and what is pushed to DataGalaxy.

Plain slotted dataclasses (not pydantic) because a large catalog holds hundreds of thousands of
columns: construction must be cheap and memory small. Ordering is deterministic: schemas by name,
tables by name, columns by ordinal position.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

TypeFamily = Literal[
    "string",
    "integer",
    "decimal",
    "float",
    "boolean",
    "date",
    "time",
    "timestamp",
    "interval",
    "binary",
    "json",
    "uuid",
    "array",
    "geometry",
    "other",
]
TableKind = Literal["table", "view"]


@dataclass(slots=True, frozen=True)
class Column:
    name: str
    position: int
    sql_type: str
    type_family: TypeFamily
    nullable: bool
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    default: str | None = None
    comment: str | None = None
    # The allowed values of an enumerated type (PostgreSQL enum, MySQL ENUM or SET), in declared order;
    # None for every other type, and then left out of `to_dict` (documents without enums are unchanged).
    enum_values: tuple[str, ...] | None = None


@dataclass(slots=True, frozen=True)
class PrimaryKey:
    name: str | None
    columns: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    referred_schema: str
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class UniqueConstraint:
    name: str | None
    columns: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(slots=True)
class Table:
    name: str
    kind: TableKind
    columns: list[Column] = field(default_factory=list)
    comment: str | None = None
    primary_key: PrimaryKey | None = None
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    unique_constraints: list[UniqueConstraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    view_definition: str | None = None
    materialized: bool = False
    foreign: bool = False
    partitions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Schema:
    name: str
    tables: list[Table] = field(default_factory=list)


@dataclass(slots=True)
class SourceMetadata:
    technology: str
    database: str | None
    schemas: list[Schema] = field(default_factory=list)

    def sort(self) -> None:
        """Put everything in the deterministic order."""
        self.schemas.sort(key=lambda s: s.name)
        for schema in self.schemas:
            schema.tables.sort(key=lambda t: t.name)
            for table in schema.tables:
                table.columns.sort(key=lambda c: c.position)
                table.foreign_keys.sort(key=lambda f: (f.name or "", f.columns))
                table.unique_constraints.sort(key=lambda u: (u.name or "", u.columns))
                table.indexes.sort(key=lambda i: i.name)
                table.partitions.sort()

    def counts(self) -> dict[str, int]:
        tables = [t for s in self.schemas for t in s.tables]
        return {
            "schemas": len(self.schemas),
            "tables": sum(1 for t in tables if t.kind == "table"),
            "views": sum(1 for t in tables if t.kind == "view"),
            "columns": sum(len(t.columns) for t in tables),
            "primaryKeys": sum(1 for t in tables if t.primary_key is not None),
            "foreignKeys": sum(len(t.foreign_keys) for t in tables),
        }

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain dicts and lists (slow on large models: tests and tools only)."""
        document = asdict(self)
        for schema in document["schemas"]:
            for table in schema["tables"]:
                for column in table["columns"]:
                    for name in ABSENT_WHEN_NONE:
                        if column[name] is None:
                            del column[name]  # only enum columns carry the key
        return document

    def content_hash(self) -> str:
        """A stable hash of the whole model (same catalog, same hash); see `metadata_json`."""
        from connector_extractors.metadata_json import content_hash  # noqa: PLC0415 - import cycle

        return content_hash(self)


# A column's fields left out of the JSON when they are None (metadata_json cuts them from its bytes too).
ABSENT_WHEN_NONE = ("enum_values",)
