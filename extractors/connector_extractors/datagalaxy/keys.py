"""Primary and foreign keys, written with `PUT /sources/{versionId}/{sourceId}/primaryKeys|foreignKeys`.

One row per key column; table paths are relative to the source (`\\schema\\table`). Every field of a
row is required but an FK's `summary` (dg-swagger `primary_key_payload.py`, `foreign_key_payload.py`),
and a DataGalaxy foreign key points at a primary key: an FK is sent only when the columns it refers to
are exactly the referred table's primary key; one to a UNIQUE column or to a table without a primary key
is skipped with a warning that names it and says why. A composite foreign key is sent as several rows
sharing `fkTechnicalName` (DataGalaxy's support for them is not documented; its toolbox skips them).

Keys that cannot be expressed are skipped with a warning: an FK to a table outside the extraction, a key
on a table whose batch was rejected, a key naming a column the table does not have, and a key touching a
table whose DataGalaxy path is ambiguous (a name holds the `\\` separator and another table has the
same joined path): the row would name either table, so it is never sent.

A request refused with a 4xx is split in halves and retried until the refused keys are isolated: the
others land, and each refused key is named in a warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import ForeignKey, SourceMetadata, Table

ROWS_PER_REQUEST = 5000


def table_path(schema: str, table: str) -> str:
    return f"\\{schema}\\{table}"


def pk_name(table: Table) -> str:
    assert table.primary_key is not None
    return table.primary_key.name or f"pk_{table.name}"


def ambiguous_table_paths(metadata: SourceMetadata) -> set[str]:
    """Relative table paths that more than one table of the model joins to."""
    counts = Counter(table_path(s.name, t.name) for s in metadata.schemas for t in s.tables)
    return {path for path, count in counts.items() if count > 1}


@dataclass
class KeyRows:
    primary: list[list[dict[str, Any]]] = field(default_factory=list)  # one list of rows per key
    single_foreign: list[list[dict[str, Any]]] = field(default_factory=list)
    composite_foreign: list[list[dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ambiguous_paths: set[str] = field(default_factory=set)  # relative table paths never matched


def _why_not_sent(fk: ForeignKey, columns: set[str], referred: Table) -> str | None:
    """Why this foreign key cannot be a DataGalaxy foreign key (None when it can)."""
    if len(fk.columns) != len(fk.referred_columns) or not fk.columns:
        return "its columns do not match the referred columns"
    if not set(fk.columns) <= columns:
        return "it names a column its table does not have"
    primary = referred.primary_key
    if primary is None or not primary.columns:
        return (
            f"the table it refers to, {fk.referred_schema}.{fk.referred_table}, has no primary key "
            "(a DataGalaxy foreign key refers to a primary key)"
        )
    if not set(primary.columns) <= {c.name for c in referred.columns}:
        return f"the primary key of {fk.referred_schema}.{fk.referred_table} names a column it does not have"
    if sorted(fk.referred_columns) != sorted(primary.columns):
        return (
            f"it refers to ({', '.join(fk.referred_columns)}), which is not the primary key "
            f"({', '.join(primary.columns)}) of {fk.referred_schema}.{fk.referred_table} "
            "(a DataGalaxy foreign key refers to a primary key)"
        )
    return None


def build_key_rows(metadata: SourceMetadata, excluded_tables: set[tuple[str, str]] | None = None) -> KeyRows:
    excluded = excluded_tables or set()
    tables = {(s.name, t.name): t for s in metadata.schemas for t in s.tables}
    rows = KeyRows(ambiguous_paths=ambiguous_table_paths(metadata))
    ambiguous = rows.ambiguous_paths
    for (schema, name), table in tables.items():
        if (schema, name) in excluded:
            continue
        columns = {c.name for c in table.columns}
        path = table_path(schema, name)
        if table.primary_key is not None and table.primary_key.columns:
            missing = [c for c in table.primary_key.columns if c not in columns]
            if missing:
                rows.warnings.append(f"Primary key of {schema}.{name} skipped: unknown column(s) {missing}")
            elif path in ambiguous:
                rows.warnings.append(
                    f"Primary key of {schema}.{name} skipped: its DataGalaxy path {path} also names another "
                    "table (a name holds a backslash)"
                )
            else:
                key = pk_name(table)
                rows.primary.append(
                    [
                        {"tablePath": path, "columnName": column, "pkName": key, "pkOrder": order}
                        for order, column in enumerate(table.primary_key.columns, start=1)
                    ]
                )
        for fk in table.foreign_keys:
            label = fk.name or f"{schema}.{name}({', '.join(fk.columns)})"
            referred = tables.get((fk.referred_schema, fk.referred_table))
            if referred is None or (fk.referred_schema, fk.referred_table) in excluded:
                rows.warnings.append(
                    f"Foreign key {label} of {schema}.{name} skipped: it refers to "
                    f"{fk.referred_schema}.{fk.referred_table}, which is not part of this push"
                )
                continue
            why = _why_not_sent(fk, columns, referred)
            referred_path = table_path(fk.referred_schema, fk.referred_table)
            if why is None and (path in ambiguous or referred_path in ambiguous):
                why = (
                    "the DataGalaxy path of a table it joins also names another table "
                    "(a name holds a backslash)"
                )
            if why is not None:
                rows.warnings.append(f"Foreign key {label} of {schema}.{name} skipped: {why}")
                continue
            fk_name = fk.name or f"fk_{name}_{'_'.join(fk.columns)}"
            key_rows = [
                {
                    "fkTechnicalName": fk_name,
                    "fkDisplayName": fk_name,
                    "pkTechnicalName": pk_name(referred),
                    "pkTablePath": referred_path,
                    "pkColumnName": referred_column,
                    "fkTablePath": path,
                    "fkColumnName": column,
                }
                for column, referred_column in zip(fk.columns, fk.referred_columns, strict=True)
            ]
            (rows.composite_foreign if len(key_rows) > 1 else rows.single_foreign).append(key_rows)
    return rows


def _chunks(keys: list[list[dict[str, Any]]]) -> Iterator[list[list[dict[str, Any]]]]:
    """Whole keys per request (a key's rows are never split), about ROWS_PER_REQUEST rows each."""
    chunk: list[list[dict[str, Any]]] = []
    rows = 0
    for key in keys:
        if chunk and rows + len(key) > ROWS_PER_REQUEST:
            yield chunk
            chunk, rows = [], 0
        chunk.append(key)
        rows += len(key)
    if chunk:
        yield chunk


@dataclass
class KeyOutcome:
    written: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # keys DataGalaxy refused, by name


def describe_key(key: list[dict[str, Any]]) -> str:
    first = key[0]
    if "pkName" in first:
        return f"primary key {first['pkName']} of {first['tablePath']}"
    return f"foreign key {first['fkTechnicalName']} of {first['fkTablePath']} (to {first['pkTablePath']})"


def _send(
    client: DataGalaxyClient, path: str, keys: list[list[dict[str, Any]]], label: str, outcome: KeyOutcome
) -> None:
    """PUT the keys; when refused, split them until each refused key stands alone and is named."""
    try:
        result = client.send_json(
            "PUT",
            path,
            [row for key in keys for row in key],
            what=f"writing {label}",
            not_found=ErrorCategory.VERSION_NOT_FOUND,
        )
    except DataGalaxyError as error:
        if error.category is not ErrorCategory.PAYLOAD_REJECTED:
            raise
        if len(keys) == 1:
            described = describe_key(keys[0])
            outcome.refused.append(described)
            outcome.warnings.append(f"DataGalaxy refused the {described}: {error.message}")
            return
        half = len(keys) // 2
        _send(client, path, keys[:half], label, outcome)
        _send(client, path, keys[half:], label, outcome)
        return
    if isinstance(result, dict):
        for counter in outcome.written:
            outcome.written[counter] += int(result.get(counter) or 0)


def push_keys(client: DataGalaxyClient, version_id: str, source_id: str, rows: KeyRows) -> KeyOutcome:
    outcome = KeyOutcome(warnings=list(rows.warnings))
    base = f"/sources/{version_id}/{source_id}"
    for path, keys, label in (
        (f"{base}/primaryKeys", rows.primary, "primary keys"),
        (f"{base}/foreignKeys", rows.single_foreign, "foreign keys"),
        (f"{base}/foreignKeys", rows.composite_foreign, "composite foreign keys"),
    ):
        for chunk in _chunks(keys):
            _send(client, path, chunk, label, outcome)
    return outcome
