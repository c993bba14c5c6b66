"""What every catalog reader takes and returns, and the progress log they share."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from connector_extractors.filters import NameFilter
from connector_extractors.metadata import Column, Schema, TypeFamily
from connector_extractors.run_config import IncludeOptions
from connector_extractors.type_family import type_family

log = logging.getLogger("connector_extractors.extract")


@dataclass(frozen=True)
class ReadRequest:
    filter: NameFilter
    include: IncludeOptions


@dataclass
class ReadResult:
    schemas: list[Schema]
    warnings: list[str] = field(default_factory=list)


class CatalogReader(Protocol):
    def schema_names(self) -> list[str]:
        """Every schema the connection can see (unfiltered)."""
        ...

    def count_objects(self, schemas: list[str], request: ReadRequest) -> int:
        """How many tables and views of `schemas` pass the filters (for --check)."""
        ...

    def read(self, schemas: list[str], request: ReadRequest, progress: Progress) -> ReadResult:
        """The metadata of `schemas` (already filtered by name), tables filtered by `request`."""
        ...


class Progress:
    """Logs progress as the extraction goes: schemas done, tables so far, phase timings."""

    def __init__(self, total_schemas: int, every_seconds: float = 5.0) -> None:
        self.total_schemas = total_schemas
        self.schemas_done = 0
        self.tables = 0
        self.every_seconds = every_seconds
        self._started = time.monotonic()
        self._last = 0.0

    def phase(self, message: str) -> None:
        log.info("%s (%.2fs)", message, time.monotonic() - self._started)

    def schema_done(self, name: str, tables: int) -> None:
        self.schemas_done += 1
        self.tables += tables
        now = time.monotonic()
        if now - self._last >= self.every_seconds or self.schemas_done == self.total_schemas:
            self._last = now
            log.info(
                "schemas done %d/%d (last: %s), tables and views so far: %d",
                self.schemas_done,
                self.total_schemas,
                name,
                self.tables,
            )


class TypeStrings:
    """Interns SQL type strings (a catalog has few distinct ones), with their family."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, sql_type: str) -> str:
        return self._seen.setdefault(sql_type, sql_type)


def make_column(
    *,
    name: str,
    position: int,
    sql_type: str,
    nullable: bool,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    default: str | None = None,
    comment: str | None = None,
    family: TypeFamily | None = None,
    enum_values: tuple[str, ...] | None = None,
) -> Column:
    return Column(
        name=name,
        position=position,
        sql_type=sql_type,
        type_family=family or type_family(sql_type),
        nullable=nullable,
        length=length,
        precision=precision,
        scale=scale,
        default=default,
        comment=comment or None,
        enum_values=enum_values,
    )
