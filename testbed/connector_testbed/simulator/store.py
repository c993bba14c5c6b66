"""Workspaces, versions, tokens, listing and deletion: the read side and the admin side of the state."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.catalogue import (
    DATA_TYPES,
    FORMATS,
    AttributeSpec,
    Metamodel,
    custom_attributes_of,
)
from connector_testbed.simulator.database import Database
from connector_testbed.simulator.keys import forget_entities
from connector_testbed.simulator.seed import Seed, TokenSeed
from connector_testbed.simulator.types import DATA_TYPE_OF_KIND

ACCESS_TOKEN_SECONDS = 3600.0
# What a listing answers with; the attributes (the bulk of a row) only when asked for.
# (`kind` and `version_id` are the ones asked for.)
_LISTED = "id, name, technical_name, type, path, type_path, created, modified"
_LISTED_WITH_ATTRIBUTES = _LISTED + ", attributes"


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: the workspaces its token may reach (None: all)."""

    workspaces: tuple[str, ...] | None


class Store:
    def __init__(self, path: Path, seed: Seed, apply_seed: bool = True) -> None:
        self.db = Database(path)
        self.seed = seed
        self._tokens: dict[str, TokenSeed] = {}
        self._access_tokens: dict[str, tuple[TokenSeed, float]] = {}
        self._token_lock = threading.Lock()
        self._custom: list[AttributeSpec] = self._seeded_attributes()
        if apply_seed:
            self.apply_seed(keep_objects=True)

    # -- seed and reset -------------------------------------------------------------------------
    def _seeded_attributes(self) -> list[AttributeSpec]:
        return custom_attributes_of(self.seed)

    def apply_seed(self, keep_objects: bool) -> None:
        with self._token_lock:
            self._tokens = {t.token: t for t in self.seed.tokens}
            self._access_tokens.clear()
            self._custom = self._seeded_attributes()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM workspaces")
            conn.execute("DELETE FROM versions")
            if not keep_objects:
                conn.execute("DELETE FROM entities")
                conn.execute("DELETE FROM primary_keys")
                conn.execute("DELETE FROM foreign_keys")
            for ws in self.seed.workspaces:
                default = ws.default_version or ws.versions[0]
                conn.execute(
                    "INSERT INTO workspaces VALUES (?,?,?,?)",
                    (ws.id, ws.name, int(ws.versioning), ws.version_id(default)),
                )
                for position, version in enumerate(ws.versions):
                    conn.execute(
                        "INSERT INTO versions VALUES (?,?,?,?,?)",
                        (ws.version_id(version), ws.id, version, int(version == default), position),
                    )

    # -- authentication -------------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Caller:
        if not token:
            raise ApiError(401, "Missing bearer token")
        with self._token_lock:
            seed = self._tokens.get(token)
            if seed is None and token in self._access_tokens:
                seed, expires = self._access_tokens[token]
                if expires < time.monotonic():
                    seed = None
        if seed is None or seed.status != "valid":
            raise ApiError(401, "The token is invalid, expired or revoked")
        return Caller(seed.workspaces)

    def exchange(self, token: str | None) -> str:
        """Legacy `GET /credentials`: an integration token buys a one-hour access token."""
        with self._token_lock:
            seed = self._tokens.get(token or "")
            if seed is None or seed.status == "revoked":
                raise ApiError(401, "The integration token is invalid or revoked")
            access = "dgsim-access-" + secrets.token_hex(16)
            self._access_tokens[access] = (
                TokenSeed(access, "valid", seed.workspaces),
                time.monotonic() + ACCESS_TOKEN_SECONDS,
            )
            return access

    # -- the client space's metamodel ------------------------------------------------------------
    def metamodel(self) -> Metamodel:
        with self._token_lock:
            custom = tuple(self._custom)
        return Metamodel(custom, self.seed.tags, self.seed.technologies)

    def create_attribute(self, data_type: str, body: Any) -> dict[str, Any]:
        """`POST /attributes/{dataType}`: a custom attribute, keyed by its display name from then on."""
        if data_type not in DATA_TYPES:
            raise ApiError(400, f"Unknown dataType '{data_type}'")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ApiError(400, "'name' is required")
        fmt = body.get("format")
        if fmt not in FORMATS:
            raise ApiError(400, f"'format' must be one of {', '.join(FORMATS)}")
        values = body.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApiError(400, "'values' must be an array of strings")
        spec = AttributeSpec(body["name"], body["name"], fmt, data_type, is_custom=True, values=tuple(values))
        with self._token_lock:
            if any(a.key == spec.key and a.data_type in (data_type, "Common") for a in self._custom) or any(
                a.key == spec.key for a in self.metamodel_system()
            ):
                raise ApiError(400, f"An attribute named '{spec.name}' already exists")
            self._custom.append(spec)
        return spec.describe()

    @staticmethod
    def metamodel_system() -> list[AttributeSpec]:
        return Metamodel((), (), ()).attributes()

    # -- workspaces and versions ----------------------------------------------------------------
    def workspaces(self, caller: Caller, name: str | None) -> list[dict[str, Any]]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT w.*, v.name AS default_version_name FROM workspaces w "
                "JOIN versions v ON v.id = w.default_version_id ORDER BY w.name"
            ).fetchall()
        projects = []
        for r in rows:
            if caller.workspaces is not None and r["name"] not in caller.workspaces:
                continue
            if name is not None and r["name"] != name:
                continue
            projects.append(
                {
                    "id": r["id"],
                    "name": r["name"],
                    "description": "",
                    "trigram": r["name"][:3].upper(),
                    "defaultVersionName": r["default_version_name"],
                    "defaultVersionId": r["default_version_id"],
                    "isVersioningEnabled": bool(r["versioning"]),
                }
            )
        return projects

    def versions(self, caller: Caller, workspace_id: str) -> list[dict[str, Any]]:
        with self.db.reading() as conn:
            ws = conn.execute("SELECT * FROM workspaces WHERE id=?", (workspace_id,)).fetchone()
            if ws is None:
                raise ApiError(404, f"Workspace {workspace_id} not found")
            self._check_access(caller, ws["name"])
            rows = conn.execute(
                "SELECT * FROM versions WHERE workspace_id=? ORDER BY position", (workspace_id,)
            ).fetchall()
        return [
            {
                "workspaceName": ws["name"],
                "versionName": r["name"],
                "versionId": r["id"],
                "originVersionId": None,
                "originVersionName": None,
                "isDefaultVersion": bool(r["is_default"]),
            }
            for r in rows
        ]

    def check_version(self, caller: Caller, version_id: str) -> None:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT w.name FROM versions v JOIN workspaces w ON w.id = v.workspace_id WHERE v.id=?",
                (version_id,),
            ).fetchone()
        if row is None:
            raise ApiError(404, f"Version {version_id} not found")
        self._check_access(caller, row["name"])

    @staticmethod
    def _check_access(caller: Caller, workspace: str) -> None:
        if caller.workspaces is not None and workspace not in caller.workspaces:
            raise ApiError(403, "The token has no access to this workspace")

    # -- listing ----------------------------------------------------------------------------------
    def list_entities(
        self,
        kind: str,
        version_id: str,
        parent_id: str | None,
        *,
        filters: dict[str, str],
        include_attributes: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        where = ["kind=?"]
        params: list[Any] = [kind]
        with self.db.reading() as conn:
            if parent_id is None:
                where.append("version_id=?")
                params.append(version_id)
                if kind == "sources":  # the objects without a parent: the identity index finds them
                    where.append("parent_id IS NULL")
            else:
                parent = conn.execute(
                    "SELECT kind FROM entities WHERE id=? AND version_id=?", (parent_id, version_id)
                ).fetchone()
                if parent is None:
                    raise ApiError(404, f"Parent {parent_id} not found")
                if parent["kind"] == "sources":
                    # Every object of a source is in the source's version: `version_id` is not asked, so
                    # the count and the rows a page skips are read from the (source_id, kind, path,
                    # type) index alone.
                    where.append("source_id=?")
                    params.append(parent_id)
                    if kind == "sources":
                        where.append("id<>?")
                        params.append(parent_id)
                else:  # descendants by parent links: a path prefix would also match `x\\y` under `x`
                    where += [
                        "version_id=?",
                        "id IN (WITH RECURSIVE sub(id) AS (SELECT id FROM entities WHERE parent_id=? UNION "
                        "SELECT e.id FROM entities e JOIN sub ON e.parent_id = sub.id) SELECT id FROM sub)",
                    ]
                    params += [version_id, parent_id]
            for column, value in filters.items():
                where.append(f"{column}=?")
                params.append(value)
            clause = " AND ".join(where)
            total = conn.execute(f"SELECT COUNT(*) FROM entities WHERE {clause}", params).fetchone()[0]
            columns = _LISTED_WITH_ATTRIBUTES if include_attributes else _LISTED
            cursor = conn.cursor()
            cursor.row_factory = None  # plain tuples: 5,000 a page
            rows = cursor.execute(
                f"SELECT {columns} FROM entities WHERE {clause} ORDER BY path, type LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        data_type = DATA_TYPE_OF_KIND[kind]
        results: list[dict[str, Any]] = [
            {
                "id": r[0],
                "name": r[1],
                "technicalName": r[2],
                "type": r[3],
                "dataType": data_type,
                "versionId": version_id,
                "path": r[4],
                "typePath": r[5],
                "creationTime": r[6],
                "lastModificationTime": r[7],
            }
            for r in rows
        ]
        if include_attributes:
            for item, r in zip(results, rows, strict=True):
                item["attributes"] = json.loads(r[8])
        return results, int(total)

    def get_entity(self, kind: str, version_id: str, entity_id: str) -> dict[str, Any]:
        with self.db.reading() as conn:
            r = conn.execute(
                "SELECT * FROM entities WHERE id=? AND version_id=? AND kind=?", (entity_id, version_id, kind)
            ).fetchone()
        if r is None:
            raise ApiError(404, f"Object {entity_id} not found")
        return {
            "id": r["id"],
            "name": r["name"],
            "technicalName": r["technical_name"],
            "type": r["type"],
            "dataType": DATA_TYPE_OF_KIND[kind],
            "versionId": version_id,
            "path": r["path"],
            "typePath": r["type_path"],
            "attributes": json.loads(r["attributes"]),
        }

    # -- deletion ----------------------------------------------------------------------------------
    def delete_bulk(self, kind: str, version_id: str, ids: Any) -> int:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "The body must be an array of object ids")
        with self.db.transaction() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT PRIMARY KEY)")
            conn.execute("DELETE FROM doomed")
            conn.executemany(
                "INSERT OR IGNORE INTO doomed SELECT id FROM entities WHERE id=? AND version_id=? AND kind=?",
                [(i, version_id, kind) for i in ids],
            )
            conn.execute(
                "WITH RECURSIVE sub(id) AS (SELECT id FROM doomed UNION "
                "SELECT e.id FROM entities e JOIN sub ON e.parent_id = sub.id) "
                "INSERT OR IGNORE INTO doomed SELECT id FROM sub"
            )
            deleted = conn.execute("DELETE FROM entities WHERE id IN (SELECT id FROM doomed)").rowcount
            conn.execute("DELETE FROM doomed")
            forget_entities(conn)
        return int(deleted)

    # -- what was imported ---------------------------------------------------------------------------
    def tree(self) -> list[dict[str, Any]]:
        """Every workspace version with its sources, nested, and its keys: for tests and the demo."""
        with self.db.reading() as conn:
            versions = conn.execute(
                "SELECT v.id, v.name, w.name AS workspace FROM versions v "
                "JOIN workspaces w ON w.id = v.workspace_id ORDER BY w.name, v.position"
            ).fetchall()
            out = []
            for version in versions:
                nodes: dict[str, dict[str, Any]] = {}
                roots: list[dict[str, Any]] = []
                for r in conn.execute(
                    "SELECT * FROM entities WHERE version_id=? ORDER BY path, type", (version["id"],)
                ):
                    node = {
                        "id": r["id"],
                        "name": r["name"],
                        "technicalName": r["technical_name"],
                        "type": r["type"],
                        "path": r["path"],
                        "attributes": json.loads(r["attributes"]),
                        "children": [],
                    }
                    nodes[r["id"]] = node
                    parent = nodes.get(r["parent_id"]) if r["parent_id"] else None
                    (parent["children"] if parent else roots).append(node)
                pks = [
                    dict(r)
                    for r in conn.execute(
                        "SELECT p.name, t.path AS table_path, c.technical_name AS column_name, p.pk_order "
                        "FROM primary_keys p JOIN entities t ON t.id = p.table_id "
                        "JOIN entities c ON c.id = p.column_id WHERE p.version_id=? "
                        "ORDER BY t.path, p.pk_order",
                        (version["id"],),
                    )
                ]
                fks = [
                    dict(r)
                    for r in conn.execute(
                        "SELECT f.name, ct.path AS table_path, cc.technical_name AS column_name, "
                        "pt.path AS referred_table_path, pc.technical_name AS referred_column_name, "
                        "f.position "
                        "FROM foreign_keys f JOIN entities ct ON ct.id = f.child_table_id "
                        "JOIN entities cc ON cc.id = f.child_column_id "
                        "JOIN entities pt ON pt.id = f.parent_table_id "
                        "JOIN entities pc ON pc.id = f.parent_column_id WHERE f.version_id=? "
                        "ORDER BY ct.path, f.name, f.position",
                        (version["id"],),
                    )
                ]
                out.append(
                    {
                        "workspace": version["workspace"],
                        "version": version["name"],
                        "versionId": version["id"],
                        "sources": roots,
                        "primaryKeys": pks,
                        "foreignKeys": fks,
                    }
                )
        return out

    def entity_count(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entities").fetchone()[0])

    def close(self) -> None:
        self.db.close()
