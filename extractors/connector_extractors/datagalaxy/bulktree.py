"""The metadata model as bulktree JSON: Source (Relational) → Model (schema) → Table/View → Column.

Batches stay within the documented limits (250,000 entities and 100 MB per request) and by default hold
about 5,000 objects, as DataGalaxy's toolbox sends (`BatchLimits`). Every batch re-sends the source and
the schemas of its tables, as the toolbox does: the route upserts, so re-sending a parent changes nothing.

Each table is serialised once, on its own (`encode_tables`): the content hash reads those bytes and the
batches are assembled from the same bytes, so a batch's size is known exactly; a schema's JSON is let go
once its last batch is built.

Only attribute keys the client space has are sent: the spec's system attributes (`columnDataType`,
`size`, `dataTypePrecisionSize`, `isMandatory`, `order`, `technicalComments`), `technologyCode` on the top
node only, and custom attributes found in the target's `/attributes` (vocabulary.py). The mapping and its
sources: docs/datagalaxy-api-choices.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from connector_extractors.datagalaxy.vocabulary import Vocabulary
from connector_extractors.metadata import Column, Schema, SourceMetadata, Table
from connector_extractors.metadata_json import ascii_json

_ENCODER = msgspec.json.Encoder()

MAPPING_VERSION = "bulktree-2"  # part of the content hash: a new mapping means a new push
_PLAIN = Vocabulary()
API_MAX_ENTITIES = 250_000
API_MAX_BYTES = 100 * 1024 * 1024

# DataGalaxy's ColumnDataType enum (v2 spec), by the model's type family.
_DATA_TYPES: dict[str, str] = {
    "string": "VariableString",
    "integer": "Integer",
    "decimal": "Decimal",
    "float": "Numeric",
    "boolean": "Boolean",
    "date": "Date",
    "time": "DateTime",
    "timestamp": "TimeStamp",
    "interval": "String",
    "binary": "Binary",
    "json": "LongText",
    "uuid": "FixedString",
    "array": "String",
    "geometry": "Binary",
    "other": "String",
}
_FIXED_STRING_PREFIXES = ("char", "nchar", "character(", "bpchar")


def column_data_type(column: Column) -> str:
    if column.type_family == "string":
        sql = column.sql_type.lower()
        if "varying" in sql or "varchar" in sql:
            return "VariableString"
        if sql.startswith(_FIXED_STRING_PREFIXES) or sql == "character":
            return "FixedString"
        if sql in ("text", "clob", "nclob", "longtext", "mediumtext", "ntext") or "text" in sql:
            return "LongText"
    return _DATA_TYPES.get(column.type_family, "String")


@dataclass(frozen=True)
class BatchLimits:
    max_entities: int = 5_000  # DataGalaxy's toolbox sends 5,000 objects per bulktree call
    max_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 3 <= self.max_entities <= API_MAX_ENTITIES:
            raise ValueError(f"max_entities must be between 3 and {API_MAX_ENTITIES}")
        if not 1024 <= self.max_bytes <= API_MAX_BYTES:
            raise ValueError(f"max_bytes must be between 1 KiB and {API_MAX_BYTES}")


@dataclass
class Batch:
    """One bulktree body, kept as the list of its parts until it is sent (joined then: at most 8 MiB)."""

    chunks: list[bytes]
    size: int
    entities: int
    tables: list[tuple[str, str]] = field(default_factory=list)  # (schema, table) fully or partly inside

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def _encode(value: Any) -> bytes:
    """`json.dumps(value, separators=(",", ":")).encode()`, byte for byte, by msgspec (about 3x faster)."""
    return ascii_json(_ENCODER.encode(value))


def _dumps(value: Any) -> str:
    return _encode(value).decode()


def source_fields(source_name: str, technology_code: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": source_name, "technicalName": source_name, "type": "Relational"}
    if technology_code:
        fields["technologyCode"] = technology_code
    return fields


def model_fields(schema: Schema) -> dict[str, Any]:
    return {"name": schema.name, "technicalName": schema.name, "type": "Model"}


def column_sizes(column: Column) -> tuple[int | None, int | None]:
    """(`size`, `dataTypePrecisionSize`): a length, or a numeric precision and scale."""
    if column.length is not None:
        return column.length, None
    return column.precision, column.scale


def column_node(column: Column, vocabulary: Vocabulary = _PLAIN) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": column.name,
        "technicalName": column.name,
        "type": "Column",
        "columnDataType": column_data_type(column),
        "isMandatory": not column.nullable,
        "order": column.position,
        "technicalComments": column.comment or "",
    }
    size, precision = column_sizes(column)
    if size is not None:
        node["size"] = size
    if precision is not None:
        node["dataTypePrecisionSize"] = precision
    custom = vocabulary.custom_keys
    if "sql_type" in custom:
        node[custom["sql_type"]] = column.sql_type
    if "default" in custom:
        node[custom["default"]] = column.default or ""
    if "enum_values" in custom and column.enum_values is not None:  # a JSON array: labels may hold commas
        node[custom["enum_values"]] = json.dumps(list(column.enum_values), ensure_ascii=False)
    return node


def table_node(
    table: Table, columns: list[Column] | None = None, vocabulary: Vocabulary = _PLAIN
) -> dict[str, Any]:
    return {
        "name": table.name,
        "technicalName": table.name,
        "type": "View" if table.kind == "view" else "Table",
        "technicalComments": table.comment or "",
        "children": [column_node(c, vocabulary) for c in (table.columns if columns is None else columns)],
    }


def table_pieces(
    table: Table, max_columns: int, vocabulary: Vocabulary = _PLAIN, whole: bytes | None = None
) -> Iterator[tuple[bytes, int]]:
    """The table's JSON (`whole` when it is encoded already), split over several nodes when it has more
    columns than a batch holds."""
    if len(table.columns) <= max_columns:
        yield whole or _encode(table_node(table, None, vocabulary)), 1 + len(table.columns)
        return
    for start in range(0, len(table.columns), max_columns):
        chunk = table.columns[start : start + max_columns]
        yield _encode(table_node(table, chunk, vocabulary)), 1 + len(chunk)


def encode_tables(metadata: SourceMetadata, vocabulary: Vocabulary = _PLAIN) -> list[list[bytes]]:
    """Every table's JSON, schema by schema: encoded once, then hashed and sent."""
    return [[_encode(table_node(t, None, vocabulary)) for t in s.tables] for s in metadata.schemas]


def _open_node(fields: dict[str, Any]) -> str:
    """`{"name":…,"type":…,"children":[` for a node whose children are spliced in as strings."""
    return _dumps(fields)[:-1] + ',"children":['


class _Assembler:
    def __init__(self, source: dict[str, Any]) -> None:
        self.prefix = _open_node(source)
        self.reset()

    def reset(self) -> None:
        self.schemas: dict[str, tuple[str, list[bytes]]] = {}
        self.entities = 1
        self.size = len(self.prefix) + 2
        self.tables: list[tuple[str, str]] = []

    def cost(self, schema: Schema, piece: bytes, entities: int) -> tuple[int, int]:
        if schema.name in self.schemas:
            return entities, len(piece) + 1
        return entities + 1, len(_open_node(model_fields(schema))) + 3 + len(piece)

    def add(self, schema: Schema, piece: bytes | None, entities: int, table: str | None) -> None:
        added_entities, added_size = self.cost(schema, piece or b"", entities)
        if schema.name not in self.schemas:
            self.schemas[schema.name] = (_open_node(model_fields(schema)), [])
        if piece is not None:
            self.schemas[schema.name][1].append(piece)
        self.entities += added_entities
        self.size += added_size
        if table is not None and (schema.name, table) not in self.tables[-1:]:
            self.tables.append((schema.name, table))

    def build(self) -> Batch:
        chunks = [self.prefix.encode()]
        for index, (opening, pieces) in enumerate(self.schemas.values()):
            chunks.append((b"," if index else b"") + opening.encode())
            for number, piece in enumerate(pieces):
                if number:
                    chunks.append(b",")
                chunks.append(piece)
            chunks.append(b"]}")
        chunks.append(b"]}")
        batch = Batch(chunks, sum(len(c) for c in chunks), self.entities, self.tables)
        self.reset()
        return batch


def iter_batches(
    metadata: SourceMetadata,
    source: dict[str, Any],
    limits: BatchLimits | None = None,
    vocabulary: Vocabulary = _PLAIN,
    encoded: list[list[bytes]] | None = None,
) -> Iterator[Batch]:
    """Yield bulktree bodies covering every schema, table and column, each within the limits.

    `encoded`: `encode_tables`' result for the same metadata; each schema's entry is emptied once used."""
    limits = limits or BatchLimits()
    assembler = _Assembler(source)
    max_columns = limits.max_entities - 3  # source + model + table in the same batch
    for number, schema in enumerate(metadata.schemas):
        wholes = encoded[number] if encoded is not None else None
        if encoded is not None:
            encoded[number] = []
        if not schema.tables:
            entities, size = assembler.cost(schema, b"", 0)
            if assembler.schemas and (
                assembler.entities + entities > limits.max_entities
                or assembler.size + size > limits.max_bytes
            ):
                yield assembler.build()
            assembler.add(schema, None, 0, None)
            continue
        for index, table in enumerate(schema.tables):
            whole = wholes[index] if wholes is not None else None
            for piece, entities in table_pieces(table, max_columns, vocabulary, whole):
                added_entities, added_size = assembler.cost(schema, piece, entities)
                if assembler.schemas and (
                    assembler.entities + added_entities > limits.max_entities
                    or assembler.size + added_size > limits.max_bytes
                ):
                    yield assembler.build()
                assembler.add(schema, piece, entities, table.name)
    if assembler.schemas:
        yield assembler.build()


def iter_table_json(
    metadata: SourceMetadata, vocabulary: Vocabulary = _PLAIN, encoded: list[list[bytes]] | None = None
) -> Iterator[bytes]:
    """Each schema and table as JSON, in order: what the content hash is computed from (`encoded`: the
    tables as `encode_tables` gave them)."""
    for number, schema in enumerate(metadata.schemas):
        yield _encode(model_fields(schema))
        if encoded is not None:
            yield from encoded[number]
            continue
        for table in schema.tables:
            yield _encode(table_node(table, None, vocabulary))
