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
from collections.abc import Iterator
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


# An id is two random (version 4) UUIDs in their usual text form, `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx`
# (V one of 8, 9, a, b), joined by `:`: 73 characters from 64 random hex digits.
_ID_LENGTH = 73
_DIGIT_PLACES = [  # (where the hex digit goes in the id, which of the 64 digits it is)
    (half * 37 + digit + (digit >= 8) + (digit >= 12) + (digit >= 16) + (digit >= 20), half * 32 + digit)
    for half in (0, 1)
    for digit in range(32)
]
_SEPARATORS = [(place, b"-") for place in (8, 13, 18, 23, 45, 50, 55, 60)] + [(36, b":")]
_VERSION_PLACES = (14, 51)  # digit 12 of each UUID: the version, 4
_VARIANT_PLACES = (19, 56)  # digit 16: the variant, 10xx in binary, whatever random digit was drawn there
_VARIANT = bytes.maketrans(b"0123456789abcdef", b"89ab89ab89ab89ab")
_IDS_AT_ONCE = 1024  # the strided copies stay within the CPU's cache (measured: 4096 is slower)


def new_ids(count: int) -> list[str]:
    """`count` new ids at once: one `os.urandom` and a few strided copies instead of work per id."""
    if count > _IDS_AT_ONCE:
        return [
            i for start in range(0, count, _IDS_AT_ONCE) for i in new_ids(min(_IDS_AT_ONCE, count - start))
        ]
    if count <= 0:
        return []
    digits = os.urandom(32 * count).hex().encode("ascii")
    text = bytearray(_ID_LENGTH * count)
    for place, digit in _DIGIT_PLACES:
        text[place::_ID_LENGTH] = digits[digit::64]
    for place, separator in _SEPARATORS:
        text[place::_ID_LENGTH] = separator * count
    for place in _VERSION_PLACES:
        text[place::_ID_LENGTH] = b"4" * count
    for place in _VARIANT_PLACES:
        text[place::_ID_LENGTH] = text[place::_ID_LENGTH].translate(_VARIANT)
    joined = text.decode("ascii")
    return [joined[start : start + _ID_LENGTH] for start in range(0, len(joined), _ID_LENGTH)]


def new_id() -> str:
    return new_ids(1)[0]


def fresh_ids() -> Iterator[str]:
    """New ids for as long as they are asked for, made a batch at a time."""
    while True:
        yield from new_ids(_IDS_AT_ONCE)


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _require_text(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _text_required(key, where)
    return value


def _text_required(key: str, where: str) -> ApiError:
    return ApiError(400, f"'{key}' is required and must be a non-empty string ({where})")


def flatten(root: Any, max_entities: int, check: AttributeCheck | None = None) -> list[Node]:
    """Validate the tree and list its nodes, parents before children (default: the seed's metamodel).

    44,000 nodes a run: the texts that only an error message needs are built when there is an error.
    """
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
        name = node.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _text_required("name", f"child of '{parent_path}'" if parent_path else "source")
        node_type = node.get("type")
        if not isinstance(node_type, str) or not node_type.strip():
            raise _text_required("type", f"'{name}' under '{parent_path or '/'}'")
        kind = KIND_OF_TYPE.get(node_type)
        if kind is None:
            raise ApiError(400, f"Unknown type '{node_type}' for '{name}'")
        if parent_type is not None and node_type not in COMPATIBLE_CHILDREN[parent_type]:
            raise ApiError(
                400, f"Type '{node_type}' is not a compatible child of '{parent_type}' ('{parent_path}')"
            )
        technical_name = node.get("technicalName") or name
        if not isinstance(technical_name, str):
            raise ApiError(400, f"'technicalName' must be a string ('{name}')")
        path = f"{parent_path}\\{technical_name}"
        identity = (parent, technical_name, node_type)
        if identity in seen:
            raise ApiError(400, f"Duplicate {node_type} '{technical_name}' under '{parent_path or '/'}'")
        seen.add(identity)
        attributes = check.attributes(node, DATA_TYPE_OF_KIND[kind], node_type, path, parent is None)
        type_path = f"{parent_type_path}\\{node_type}"
        nodes.append(
            Node(path, node_type, kind, name, technical_name, parent, canonical(attributes), type_path)
        )
        if len(nodes) > max_entities:
            raise ApiError(400, f"Too many entities in one request: the limit is {max_entities}")
        children = node.get("children", [])
        if not isinstance(children, list):
            raise ApiError(400, f"'children' of '{path}' must be a list")
        if children:
            if not COMPATIBLE_CHILDREN[node_type]:
                raise ApiError(400, f"A {node_type} ('{path}') cannot have children")
            index = len(nodes) - 1
            stack.extend([(child, path, type_path, index, node_type) for child in reversed(children)])
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
        fresh = fresh_ids()
        source_id = row["id"] if row else next(fresh)
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
                entity_id = source_id if node.parent is None else next(fresh)
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
                canonical(check.attributes(body, "Source", source_type, path, top=True)),
                stamp,
                stamp,
            ),
        )
    return entity_id
