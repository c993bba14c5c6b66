"""Objects under the target source that the source database no longer has.

bulktree never deletes, so after a push DataGalaxy may still hold schemas, tables or columns that are
gone. They are found by listing the containers, structures and fields under the target source (by
`parentId`, following `next_page`) and comparing each one's (path, type) with what was just pushed.

Modes: "ignore" (no listing at all), "report" (count them; the default), "delete" (count them, then
delete the top-most ones with the bulk delete routes; their children go with them). Deletion touches
only objects whose path lies strictly under the target source's path, and only ids that were just
listed under that source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import SourceMetadata

MissingMode = Literal["ignore", "report", "delete"]
LIST_PAGE_SIZE = 5000
DELETE_CHUNK = 1000
_KINDS = ("containers", "structures", "fields")


@dataclass(frozen=True)
class Listed:
    id: str
    kind: str
    path: str
    type_path: str


@dataclass
class MissingOutcome:
    missing: int = 0
    deleted: int = 0
    warnings: list[str] = field(default_factory=list)


def expected_keys(metadata: SourceMetadata, source_path: str) -> set[tuple[str, str]]:
    """(path, typePath) of every object the push wrote under the source."""
    keys: set[tuple[str, str]] = set()
    for schema in metadata.schemas:
        schema_path = f"{source_path}\\{schema.name}"
        keys.add((schema_path, "\\Relational\\Model"))
        for table in schema.tables:
            table_path = f"{schema_path}\\{table.name}"
            table_types = "\\Relational\\Model\\" + ("View" if table.kind == "view" else "Table")
            keys.add((table_path, table_types))
            column_types = table_types + "\\Column"
            for column in table.columns:
                keys.add((f"{table_path}\\{column.name}", column_types))
    return keys


def list_under_source(client: DataGalaxyClient, version_id: str, source_id: str) -> list[Listed]:
    listed: list[Listed] = []
    for kind in _KINDS:
        for item in client.iter_pages(
            f"/{kind}",
            {"versionId": version_id, "parentId": source_id, "limit": LIST_PAGE_SIZE},
            what=f"listing the {kind} under the target source",
            not_found=ErrorCategory.VERSION_NOT_FOUND,
        ):
            listed.append(
                Listed(str(item["id"]), kind, str(item.get("path") or ""), str(item.get("typePath") or ""))
            )
    return listed


def top_most(objects: list[Listed]) -> list[Listed]:
    """Drop the objects whose ancestor is also going: deleting the ancestor deletes them."""
    going = {(o.path, o.type_path) for o in objects}
    kept = []
    for obj in objects:
        parts, types = obj.path.split("\\"), obj.type_path.split("\\")
        ancestors = (("\\".join(parts[:i]), "\\".join(types[:i])) for i in range(2, len(parts)))
        if not any(a in going for a in ancestors):
            kept.append(obj)
    return kept


def handle_missing(
    client: DataGalaxyClient,
    version_id: str,
    source_id: str,
    source_path: str,
    *,
    metadata: SourceMetadata,
    mode: MissingMode,
) -> MissingOutcome:
    outcome = MissingOutcome()
    if mode == "ignore":
        return outcome
    expected = expected_keys(metadata, source_path)
    listed = list_under_source(client, version_id, source_id)
    prefix = source_path + "\\"
    missing = []
    for obj in listed:
        if not obj.path.startswith(prefix):
            outcome.warnings.append(
                f"Object {obj.id} listed under the source has path {obj.path!r}; left alone"
            )
            continue
        if (obj.path, obj.type_path) not in expected:
            missing.append(obj)
    outcome.missing = len(missing)
    if mode != "delete" or not missing:
        return outcome
    doomed = top_most(missing)
    for kind in _KINDS:
        ids = [o.id for o in doomed if o.kind == kind]
        for start in range(0, len(ids), DELETE_CHUNK):
            result = client.send_json(
                "DELETE",
                f"/{kind}/bulk/{version_id}",
                ids[start : start + DELETE_CHUNK],
                what=f"deleting {kind} that are no longer in the source",
            )
            if isinstance(result, dict):
                outcome.deleted += int(result.get("totalDeleted") or 0)
    return outcome
