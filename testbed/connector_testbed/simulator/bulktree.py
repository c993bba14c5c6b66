"""`POST /sources/bulktree/{versionId}`: validate a source tree, then upsert it.

Matching (undocumented; DataGalaxy's toolbox matches technicalName + type level by level): an object is
the same object when it has the same parent, the same technical name (falling back to `name`) and the
same type. Never by the joined `path`: names may hold its `\\` separator, and two tables `"x\\y".z` and
`x."y\\z"` are two objects with one path. Every attribute is checked against the client space's
metamodel (attributecheck.py). Properties that a node does not send are left untouched; the route never
deletes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.attributecheck import AttributeCheck
from connector_testbed.simulator.catalogue import metamodel_of
from connector_testbed.simulator.database import Database
from connector_testbed.simulator.jsontext import canonical
from connector_testbed.simulator.seed import Seed
from connector_testbed.simulator.types import COMPATIBLE_CHILDREN, DATA_TYPE_OF_KIND, KIND_OF_TYPE


@dataclass(slots=True)
class Node:
    path: str
    type: str
    kind: str
    name: str
    technical_name: str
    parent: int | None  # index of the parent node in the flattened list
    attributes: str  # canonical JSON
    type_path: str


def _uuid4_text() -> str:
    """A random (version 4) UUID in its usual text form, without building a `uuid.UUID` (44,000 a run)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def new_id() -> str:
    return f"{_uuid4_text()}:{_uuid4_text()}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _require_text(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"'{key}' is required and must be a non-empty string ({where})")
    return value


def flatten(root: Any, max_entities: int, check: AttributeCheck | None = None) -> list[Node]:
    """Validate the tree and list its nodes, parents before children (default: the seed's metamodel)."""
    check = check or AttributeCheck(metamodel_of(Seed()), "refuse")
    if not isinstance(root, dict):
        raise ApiError(400, "The body must be a single source object with nested 'children'")
    root_type = _require_text(root, "type", "source")
    if KIND_OF_TYPE.get(root_type) != "sources":
        raise ApiError(400, f"'{root_type}' is not a source type")
    if not isinstance(root.get("children"), list) or not root["children"]:
        raise ApiError(400, "'children' is required on the source and must not be empty")
    nodes: list[Node] = []
    seen: set[tuple[int | None, str, str]] = set()
    stack: list[tuple[dict[str, Any], str, str, int | None, str | None]] = [(root, "", "", None, None)]
    while stack:
        node, parent_path, parent_type_path, parent, parent_type = stack.pop()
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
        identity = (parent, technical_name, node_type)
        if identity in seen:
            raise ApiError(400, f"Duplicate {node_type} '{technical_name}' under '{parent_path or '/'}'")
        seen.add(identity)
        kind = KIND_OF_TYPE[node_type]
        attributes = check.attributes(node, DATA_TYPE_OF_KIND[kind], f"{node_type} '{path}'", parent is None)
        nodes.append(
            Node(path, node_type, kind, name, technical_name, parent, canonical(attributes), type_path)
        )
        if len(nodes) > max_entities:
            raise ApiError(400, f"Too many entities in one request: the limit is {max_entities}")
        children = node.get("children", [])
        if not isinstance(children, list):
            raise ApiError(400, f"'children' of '{path}' must be a list")
        if children and not COMPATIBLE_CHILDREN[node_type]:
            raise ApiError(400, f"A {node_type} ('{path}') cannot have children")
        index = len(nodes) - 1
        for child in reversed(children):
            stack.append((child, path, type_path, index, node_type))
    return nodes


def upsert(db: Database, version_id: str, nodes: list[Node], stop_after: int | None = None) -> dict[str, int]:
    """Write the nodes; with `stop_after`, write only that many (a batch that fails half-way)."""
    counts = {"total": len(nodes), "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    stamp = now_text()
    with db.transaction() as conn:
        root = nodes[0]
        row = conn.execute(
            "SELECT id, name, attributes FROM entities "
            "WHERE version_id=? AND parent_id IS NULL AND technical_name=? AND type=?",
            (version_id, root.technical_name, root.type),
        ).fetchone()
        source_id = row["id"] if row else new_id()
        # Existing children, read per parent the batch touches (never the whole source: batches are small).
        children: dict[str, dict[tuple[str, str], tuple[str, str, str]]] = {}
        created: set[str] = set()

        def existing(parent_id: str | None, node: Node) -> tuple[str, str, str] | None:
            if parent_id is None:
                return (row["id"], row["name"], row["attributes"]) if row else None
            if parent_id in created:
                return None
            kids = children.get(parent_id)
            if kids is None:
                kids = children[parent_id] = {
                    (r[0], r[1]): (r[2], r[3], r[4])
                    for r in conn.execute(
                        "SELECT technical_name, type, id, name, attributes FROM entities WHERE parent_id=?",
                        (parent_id,),
                    )
                }
            return kids.get((node.technical_name, node.type))

        ids: list[str] = []
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for index, node in enumerate(nodes):
            if stop_after is not None and index >= stop_after:
                break
            parent_id = ids[node.parent] if node.parent is not None else None
            found = existing(parent_id, node)
            if found is None:
                entity_id = source_id if node.parent is None else new_id()
                created.add(entity_id)
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
                    old = json.loads(old_attributes)
                    merged_text = canonical(old | json.loads(node.attributes))
                    # Texts written by an older simulator may be canonical in another way: compare as now.
                    if old_name == node.name and merged_text == canonical(old):
                        counts["unchanged"] += 1
                    else:
                        updates.append((node.name, merged_text, stamp, entity_id))
                        counts["updated"] += 1
            ids.append(entity_id)
        conn.executemany("INSERT INTO entities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
        conn.executemany("UPDATE entities SET name=?, attributes=?, modified=? WHERE id=?", updates)
    return counts


def create_source(db: Database, version_id: str, body: Any, check: AttributeCheck) -> str:
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
            "SELECT 1 FROM entities WHERE version_id=? AND parent_id IS NULL AND technical_name=? AND type=?",
            (version_id, technical_name, source_type),
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
                canonical(check.attributes(body, "Source", f"{source_type} '{path}'", top=True)),
                stamp,
                stamp,
            ),
        )
    return entity_id
