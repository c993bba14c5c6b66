"""`POST /sources/bulktree/{versionId}`: validate a source tree, then upsert it.

Matching (undocumented, inferred from the exposed `path`/`typePath` and from DataGalaxy's toolbox, which
matches technicalName + type level by level): an object is the same object when it has the same path of
technical names (falling back to `name`) and the same path of types. Properties that a node does not
send are left untouched; the route never deletes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.database import Database
from connector_testbed.simulator.types import COMPATIBLE_CHILDREN, KIND_OF_TYPE

_STRUCTURAL_KEYS = frozenset({"name", "type", "technicalName", "children"})


@dataclass(slots=True)
class Node:
    path: str
    type: str
    kind: str
    name: str
    technical_name: str
    parent_key: tuple[str, str] | None
    attributes: str  # canonical JSON
    type_path: str


def new_id() -> str:
    return f"{uuid.uuid4()}:{uuid.uuid4()}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attributes(node: dict[str, Any]) -> str:
    attributes = {k: v for k, v in node.items() if k not in _STRUCTURAL_KEYS}
    if "technology" in attributes and "technologyCode" not in attributes:
        attributes["technologyCode"] = attributes.pop("technology")
    return json.dumps(attributes, sort_keys=True, separators=(",", ":"))


def _require_text(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{key}' is required and must be a non-empty string ({where})")
    return value


def flatten(root: Any, max_entities: int) -> list[Node]:
    """Validate the tree and list its nodes, parents before children."""
    if not isinstance(root, dict):
        raise ApiError(400, "The body must be a single source object with nested 'children'")
    root_type = _require_text(root, "type", "source")
    if KIND_OF_TYPE.get(root_type) != "sources":
        raise ApiError(400, f"'{root_type}' is not a source type")
    if not isinstance(root.get("children"), list) or not root["children"]:
        raise ApiError(400, "'children' is required on the source and must not be empty")
    nodes: list[Node] = []
    seen: set[tuple[str, str]] = set()
    stack: list[tuple[dict[str, Any], str, str, tuple[str, str] | None, str | None]] = [
        (root, "", "", None, None)
    ]
    while stack:
        node, parent_path, parent_type_path, parent_key, parent_type = stack.pop()
        if not isinstance(node, dict):
            raise ApiError(400, f"A child of '{parent_path}' is not an object")
        where = f"child of '{parent_path}'" if parent_path else "source"
        name = _require_text(node, "name", where)
        node_type = _require_text(node, "type", f"'{name}' under '{parent_path or '/'}'")
        if node_type not in KIND_OF_TYPE:
            raise ApiError(400, f"Unknown type '{node_type}' for '{name}'")
        if parent_type is not None and node_type not in COMPATIBLE_CHILDREN[parent_type]:
            raise ApiError(
                400, f"Type '{node_type}' is not a compatible child of '{parent_type}' ('{parent_path}')"
            )
        technical_name = node.get("technicalName") or name
        if not isinstance(technical_name, str):
            raise ApiError(400, f"'technicalName' must be a string ('{name}')")
        path = f"{parent_path}\\{technical_name}"
        type_path = f"{parent_type_path}\\{node_type}"
        key = (path, type_path)
        if key in seen:
            raise ApiError(400, f"Duplicate {node_type} '{path}' in the payload")
        seen.add(key)
        nodes.append(
            Node(
                path,
                node_type,
                KIND_OF_TYPE[node_type],
                name,
                technical_name,
                parent_key,
                _attributes(node),
                type_path,
            )
        )
        if len(nodes) > max_entities:
            raise ApiError(400, f"Too many entities in one request: the limit is {max_entities}")
        children = node.get("children", [])
        if not isinstance(children, list):
            raise ApiError(400, f"'children' of '{path}' must be a list")
        if children and not COMPATIBLE_CHILDREN[node_type]:
            raise ApiError(400, f"A {node_type} ('{path}') cannot have children")
        for child in reversed(children):
            stack.append((child, path, type_path, key, node_type))
    return nodes


def upsert(db: Database, version_id: str, nodes: list[Node], stop_after: int | None = None) -> dict[str, int]:
    """Write the nodes; with `stop_after`, write only that many (a batch that fails half-way)."""
    counts = {"total": len(nodes), "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    stamp = now_text()
    with db.transaction() as conn:
        root = nodes[0]
        row = conn.execute(
            "SELECT id FROM entities WHERE version_id=? AND path=? AND type=?",
            (version_id, root.path, root.type),
        ).fetchone()
        source_id = row["id"] if row else new_id()
        existing: dict[tuple[str, str], tuple[str, str, str]] = {
            (r[0], r[1]): (r[2], r[3], r[4])
            for r in conn.execute(
                "SELECT path, type_path, id, name, attributes FROM entities WHERE source_id=?", (source_id,)
            )
        }
        ids: dict[tuple[str, str], str] = {}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for index, node in enumerate(nodes):
            if stop_after is not None and index >= stop_after:
                break
            key = (node.path, node.type_path)
            found = existing.get(key)
            if found is None:
                entity_id = source_id if node.parent_key is None else new_id()
                parent_id = ids[node.parent_key] if node.parent_key is not None else None
                inserts.append(
                    (
                        entity_id,
                        version_id,
                        node.kind,
                        node.type,
                        node.name,
                        node.technical_name,
                        node.path,
                        node.type_path,
                        parent_id,
                        source_id,
                        node.attributes,
                        stamp,
                        stamp,
                    )
                )
                counts["created"] += 1
            else:
                entity_id, old_name, old_attributes = found
                if old_name == node.name and old_attributes == node.attributes:
                    counts["unchanged"] += 1
                else:
                    merged = json.loads(old_attributes) | json.loads(node.attributes)
                    merged_text = json.dumps(merged, sort_keys=True, separators=(",", ":"))
                    if old_name == node.name and merged_text == old_attributes:
                        counts["unchanged"] += 1
                    else:
                        updates.append((node.name, merged_text, stamp, entity_id))
                        counts["updated"] += 1
            ids[key] = entity_id
        conn.executemany("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
        conn.executemany("UPDATE entities SET name=?, attributes=?, modified=? WHERE id=?", updates)
    return counts


def create_source(db: Database, version_id: str, body: Any) -> str:
    """`POST /sources/{versionId}`: one source without children."""
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be an object")
    name = _require_text(body, "name", "source")
    source_type = _require_text(body, "type", "source")
    if KIND_OF_TYPE.get(source_type) != "sources":
        raise ApiError(400, f"'{source_type}' is not a source type")
    technical_name = body.get("technicalName") or name
    path = f"\\{technical_name}"
    stamp = now_text()
    with db.transaction() as conn:
        if conn.execute(
            "SELECT 1 FROM entities WHERE version_id=? AND path=? AND type=?", (version_id, path, source_type)
        ).fetchone():
            raise ApiError(400, f"A source '{technical_name}' of type {source_type} already exists")
        entity_id = new_id()
        conn.execute(
            "INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                entity_id,
                version_id,
                "sources",
                source_type,
                name,
                technical_name,
                path,
                f"\\{source_type}",
                None,
                entity_id,
                _attributes({k: v for k, v in body.items() if k != "children"}),
                stamp,
                stamp,
            ),
        )
    return entity_id
