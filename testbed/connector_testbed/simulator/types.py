"""The Dictionary object types the simulator knows and which child types each one accepts.

The enum values come from DataGalaxy's v2 OpenAPI spec (SourceType, ContainerType, StructureType,
FieldType). The parent/child compatibility is what `GET /{kind}/types` returns on a real server; the
real table is not published, so this one follows the documented relational mapping (Source → Model →
Table/View → Column) and the file/NoSQL mappings (see docs/datagalaxy-api-choices.md).
"""

from __future__ import annotations

KIND_OF_TYPE: dict[str, str] = {
    "Relational": "sources",
    "NonRelational": "sources",
    "NoSql": "sources",
    "TagBase": "sources",
    "Model": "containers",
    "Directory": "containers",
    "Equipment": "containers",
    "Table": "structures",
    "View": "structures",
    "File": "structures",
    "Document": "structures",
    "Tag": "structures",
    "SubStructure": "structures",
    "Column": "fields",
    "Field": "fields",
}

COMPATIBLE_CHILDREN: dict[str, tuple[str, ...]] = {
    "Relational": ("Model", "Table", "View"),
    "NonRelational": ("Directory", "File", "Document"),
    "NoSql": ("Model", "Document"),
    "TagBase": ("Equipment", "Tag"),
    "Model": ("Model", "Table", "View"),
    "Directory": ("Directory", "File"),
    "Equipment": ("Equipment", "Tag"),
    "Table": ("Column",),
    "View": ("Column",),
    "File": ("Field",),
    "Document": ("Field", "SubStructure"),
    "Tag": ("Field",),
    "SubStructure": ("Field", "SubStructure"),
    "Column": (),
    "Field": (),
}

KINDS: tuple[str, ...] = ("sources", "containers", "structures", "fields")

# `dataType` in list responses is the object's kind, singular and capitalised.
DATA_TYPE_OF_KIND: dict[str, str] = {
    "sources": "Source",
    "containers": "Container",
    "structures": "Structure",
    "fields": "Field",
}


def types_of_kind(kind: str) -> list[str]:
    return [t for t, k in KIND_OF_TYPE.items() if k == kind]
