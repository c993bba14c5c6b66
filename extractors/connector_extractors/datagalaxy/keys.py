"""Primary and foreign keys, written with `PUT /sources/{versionId}/{sourceId}/primaryKeys|foreignKeys`.

One row per key column; table paths are relative to the source (`\\schema\\table`). A composite foreign
key is sent as several rows sharing `fkTechnicalName`, in a request of its own: DataGalaxy's support for
composite foreign keys is not documented (its toolbox skips them), so if that request is refused the
single-column keys are already written and the composite ones are reported as a warning.
Keys that cannot be expressed (a foreign key to a table outside the extraction, a key on a table whose
batch was rejected, a key naming a column the table does not have) are skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import SourceMetadata, Table

ROWS_PER_REQUEST = 5000


def table_path(schema: str, table: str) -> str:
    return f"\\{schema}\\{table}"


def pk_name(table: Table) -> str:
    assert table.primary_key is not None
    return table.primary_key.name or f"pk_{table.name}"


@dataclass
class KeyRows:
    primary: list[list[dict[str, Any]]] = field(default_factory=list)  # one list of rows per key
    single_foreign: list[list[dict[str, Any]]] = field(default_factory=list)
    composite_foreign: list[list[dict[str, Any]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_key_rows(metadata: SourceMetadata, excluded_tables: set[tuple[str, str]] | None = None) -> KeyRows:
    excluded = excluded_tables or set()
    tables = {(s.name, t.name): t for s in metadata.schemas for t in s.tables}
    rows = KeyRows()
    for (schema, name), table in tables.items():
        if (schema, name) in excluded:
            continue
        columns = {c.name for c in table.columns}
        path = table_path(schema, name)
        if table.primary_key is not None and table.primary_key.columns:
            missing = [c for c in table.primary_key.columns if c not in columns]
            if missing:
                rows.warnings.append(f"Primary key of {schema}.{name} skipped: unknown column(s) {missing}")
            else:
                key = pk_name(table)
                rows.primary.append(
                    [
                        {"tablePath": path, "columnName": column, "pkName": key, "pkOrder": order}
                        for order, column in enumerate(table.primary_key.columns, start=1)
                    ]
                )
        for fk in table.foreign_keys:
            label = f"{schema}.{name}({', '.join(fk.columns)})"
            referred = tables.get((fk.referred_schema, fk.referred_table))
            if referred is None or (fk.referred_schema, fk.referred_table) in excluded:
                rows.warnings.append(
                    f"Foreign key {fk.name or label} skipped: it refers to "
                    f"{fk.referred_schema}.{fk.referred_table}, which is not part of this push"
                )
                continue
            referred_columns = {c.name for c in referred.columns}
            if (
                len(fk.columns) != len(fk.referred_columns)
                or not fk.columns
                or not set(fk.columns) <= columns
                or not set(fk.referred_columns) <= referred_columns
            ):
                rows.warnings.append(f"Foreign key {fk.name or label} skipped: its columns do not match")
                continue
            fk_name = fk.name or f"fk_{name}_{'_'.join(fk.columns)}"
            referred_pk = pk_name(referred) if referred.primary_key is not None else ""
            key_rows = [
                {
                    "fkTechnicalName": fk_name,
                    "fkDisplayName": fk_name,
                    "pkTechnicalName": referred_pk,
                    "pkTablePath": table_path(fk.referred_schema, fk.referred_table),
                    "pkColumnName": referred_column,
                    "fkTablePath": path,
                    "fkColumnName": column,
                }
                for column, referred_column in zip(fk.columns, fk.referred_columns, strict=True)
            ]
            (rows.composite_foreign if len(key_rows) > 1 else rows.single_foreign).append(key_rows)
    return rows


def _chunks(keys: list[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """Whole keys per request (a key's rows are never split), about ROWS_PER_REQUEST rows each."""
    chunk: list[dict[str, Any]] = []
    for key in keys:
        if chunk and len(chunk) + len(key) > ROWS_PER_REQUEST:
            yield chunk
            chunk = []
        chunk.extend(key)
    if chunk:
        yield chunk


@dataclass
class KeyOutcome:
    written: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    warnings: list[str] = field(default_factory=list)


def _put(
    client: DataGalaxyClient, path: str, keys: list[list[dict[str, Any]]], label: str, outcome: KeyOutcome
) -> None:
    for chunk in _chunks(keys):
        try:
            result = client.send_json(
                "PUT", path, chunk, what=f"writing {label}", not_found=ErrorCategory.VERSION_NOT_FOUND
            )
        except DataGalaxyError as error:
            if error.category is not ErrorCategory.PAYLOAD_REJECTED:
                raise
            outcome.warnings.append(f"{label}: {len(chunk)} row(s) rejected by DataGalaxy: {error.message}")
            continue
        if isinstance(result, dict):
            for counter in outcome.written:
                outcome.written[counter] += int(result.get(counter) or 0)


def push_keys(client: DataGalaxyClient, version_id: str, source_id: str, rows: KeyRows) -> KeyOutcome:
    outcome = KeyOutcome(warnings=list(rows.warnings))
    base = f"/sources/{version_id}/{source_id}"
    _put(client, f"{base}/primaryKeys", rows.primary, "primary keys", outcome)
    _put(client, f"{base}/foreignKeys", rows.single_foreign, "foreign keys", outcome)
    _put(client, f"{base}/foreignKeys", rows.composite_foreign, "composite foreign keys", outcome)
    return outcome
