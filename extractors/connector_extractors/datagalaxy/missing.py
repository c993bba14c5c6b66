"""Objects under the target source that the source database no longer has.

bulktree never deletes, so after a push DataGalaxy may still hold schemas, tables or columns that are
gone. They are found by listing the containers, structures and fields under the target source (by
`parentId`, following `next_page`) and comparing each one's (path, type) with what was just pushed.

Modes: "ignore" (no listing at all), "report" (count them; the default), "delete" (count them, then
delete the top-most ones with the bulk delete routes; their children go with them). Deletion touches
only objects whose path lies strictly under the target source's path, and only ids that were just
listed under that source. Keys dropped at the source follow the same mode (stalekeys.py).

Names may hold the `\\` that joins a path, so two objects can share a (path, typePath): when DataGalaxy
lists more objects at such a path than the push wrote there, which of them is gone cannot be told from
the listing; they are neither counted nor deleted, and a warning names the path (never guessed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.keys import KeyRows
from connector_extractors.datagalaxy.stalekeys import delete_stale_keys, find_stale_keys
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
    stale_keys: int = 0
    deleted_keys: int = 0
    warnings: list[str] = field(default_factory=list)


def expected_keys(metadata: SourceMetadata, source_path: str) -> Counter[tuple[str, str]]:
    """(path, typePath) of every object the push wrote under the source, with how many share each."""
    keys: Counter[tuple[str, str]] = Counter()
    for schema in metadata.schemas:
        schema_path = f"{source_path}\\{schema.name}"
        keys[(schema_path, "\\Relational\\Model")] += 1
        for table in schema.tables:
            table_path = f"{schema_path}\\{table.name}"
            table_types = "\\Relational\\Model\\" + ("View" if table.kind == "view" else "Table")
            keys[(table_path, table_types)] += 1
            column_types = table_types + "\\Column"
            for column in table.columns:
                keys[(f"{table_path}\\{column.name}", column_types)] += 1
    return keys


class Expected:
    """Whether a listed (path, typePath) is one the push wrote, looked up in the model itself.

    This keeps memory to a set of column names per table instead of a set of every full path; when a
    name contains the path separator the path cannot be split reliably, and the full set is built.
    """

    def __init__(self, metadata: SourceMetadata, source_path: str) -> None:
        self.prefix = source_path + "\\"
        self.exact: Counter[tuple[str, str]] | None = None
        names = (n for s in metadata.schemas for n in (s.name, *(t.name for t in s.tables)))
        columns = (c.name for s in metadata.schemas for t in s.tables for c in t.columns)
        if any("\\" in n for n in names) or any("\\" in n for n in columns):
            self.exact = expected_keys(metadata, source_path)
            return
        self.schemas = {
            s.name: {
                t.name: ("View" if t.kind == "view" else "Table", {c.name for c in t.columns})
                for t in s.tables
            }
            for s in metadata.schemas
        }

    def count(self, key: tuple[str, str]) -> int:
        """How many pushed objects have this (path, typePath)."""
        if self.exact is not None:
            return self.exact[key]
        return 1 if key in self else 0

    def __contains__(self, key: tuple[str, str]) -> bool:
        if self.exact is not None:
            return key in self.exact
        path, type_path = key
        if not path.startswith(self.prefix):
            return False
        parts = path[len(self.prefix) :].split("\\")
        types = type_path.split("\\")[1:]
        if types[:2] != ["Relational", "Model"] or len(parts) != len(types) - 1:
            return False
        schema = self.schemas.get(parts[0])
        if schema is None or len(parts) == 1:
            return schema is not None
        table = schema.get(parts[1])
        if table is None or types[2] != table[0]:
            return False
        return len(parts) == 2 or (len(parts) == 3 and types[3] == "Column" and parts[2] in table[1])


def list_under_source(client: DataGalaxyClient, version_id: str, source_id: str) -> Iterator[Listed]:
    for kind in _KINDS:
        for item in client.iter_pages(
            f"/{kind}",
            {"versionId": version_id, "parentId": source_id, "limit": LIST_PAGE_SIZE},
            what=f"listing the {kind} under the target source",
            not_found=ErrorCategory.VERSION_NOT_FOUND,
        ):
            yield Listed(str(item["id"]), kind, str(item.get("path") or ""), str(item.get("typePath") or ""))


def top_most(objects: list[Listed]) -> list[Listed]:
    """Drop the objects whose ancestor is also going: deleting the ancestor deletes them."""
    going = {(o.path, o.type_path) for o in objects}
    kept = []
    for obj in objects:
        parts, types = obj.path.split("\\"), obj.type_path.split("\\")
        if len(parts) != len(types):  # a name holds a backslash: its ancestors cannot be read off the path
            kept.append(obj)
            continue
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
    key_rows: KeyRows | None = None,
) -> MissingOutcome:
    outcome = MissingOutcome()
    if mode == "ignore":
        return outcome
    expected = Expected(metadata, source_path)
    prefix = source_path + "\\"
    missing = []
    table_paths: dict[str, str] = {}  # structures that stay: their keys are compared below
    shared: dict[tuple[str, str], list[Listed]] = {}  # only when names hold a backslash
    ambiguous_tables = {source_path + p for p in (key_rows.ambiguous_paths if key_rows else set())}
    for obj in list_under_source(client, version_id, source_id):
        if not obj.path.startswith(prefix):
            outcome.warnings.append(
                f"Object {obj.id} listed under the source has path {obj.path!r}; left alone"
            )
            continue
        key = (obj.path, obj.type_path)
        if expected.exact is not None and key in expected.exact:
            shared.setdefault(key, []).append(obj)
        elif key not in expected:
            missing.append(obj)
        elif obj.kind == "structures" and obj.path not in ambiguous_tables:
            table_paths[obj.id] = obj.path
    for key, objects in shared.items():
        if len(objects) > expected.count(key):
            outcome.warnings.append(
                f"{len(objects)} objects at DataGalaxy path {key[0]!r} for {expected.count(key)} in the "
                "source (a name holds a backslash): which one is gone cannot be told; none is counted or "
                "deleted"
            )
        else:
            table_paths.update(
                {o.id: o.path for o in objects if o.kind == "structures" and o.path not in ambiguous_tables}
            )
    outcome.missing = len(missing)
    if mode == "delete" and missing:
        _delete(client, version_id, missing, outcome)
    if key_rows is not None:
        base = f"/sources/{version_id}/{source_id}"
        stale = find_stale_keys(client, base, key_rows, source_path, table_paths)
        outcome.stale_keys = len(stale)
        if mode == "delete" and stale:
            outcome.deleted_keys = delete_stale_keys(client, base, stale)
    return outcome


def _delete(
    client: DataGalaxyClient, version_id: str, missing: list[Listed], outcome: MissingOutcome
) -> None:
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
