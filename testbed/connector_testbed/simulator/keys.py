"""`PUT`/`GET /sources/{versionId}/{sourceId}/primaryKeys` and `/foreignKeys`.

Required fields (dg-swagger `primary_key_payload.py`, `foreign_key_payload.py`): every field of a row but
an FK's `summary`. A foreign key refers to a primary key: `pkTechnicalName` must name the primary key of
the table at `pkTablePath`, and `pkColumnName` must be one of its columns.

Undocumented semantics chosen here (see docs/datagalaxy-api-choices.md): a PUT is all-or-nothing (every
row is checked before anything is written); it replaces the primary key of each table it names and each
foreign key (table + technical name) it names, and leaves the other keys alone. Rows of a foreign key
that share `fkTechnicalName` on the same table form one composite key, in row order. A table path that
names two tables (their names hold the `\\` separator) is refused rather than guessed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.bulktree import new_id
from connector_testbed.simulator.database import Database


def _source_path(conn: sqlite3.Connection, version_id: str, source_id: str) -> str:
    row = conn.execute(
        "SELECT path FROM entities WHERE id=? AND version_id=? AND kind='sources'", (source_id, version_id)
    ).fetchone()
    if row is None:
        raise ApiError(404, f"Source {source_id} not found in version {version_id}")
    return str(row["path"])


def _table_id(conn: sqlite3.Connection, version_id: str, source_path: str, table_path: Any, row: int) -> str:
    if not isinstance(table_path, str) or not table_path.startswith("\\"):
        raise ApiError(
            400, f"Row {row}: tablePath must be relative to the source, like '\\\\schema\\\\table'"
        )
    found = conn.execute(
        "SELECT id FROM entities WHERE version_id=? AND path=? AND kind='structures'",
        (version_id, source_path + table_path),
    ).fetchall()
    if not found:
        raise ApiError(400, f"Row {row}: table '{table_path}' not found under the source")
    if len(found) > 1:
        raise ApiError(400, f"Row {row}: table path '{table_path}' is ambiguous ({len(found)} tables)")
    return str(found[0]["id"])


def _required_text(row: dict[str, Any], key: str, number: int) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"Row {number}: {key} is required")
    return value


def _check_referred_key(
    conn: sqlite3.Connection,
    *,
    parent_table: str,
    pk_name: str,
    parent_column: str,
    row: dict[str, Any],
    number: int,
) -> None:
    """The row's `pkTechnicalName` must be the referred table's primary key, holding `pkColumnName`."""
    columns = {
        r["column_id"]
        for r in conn.execute(
            "SELECT column_id FROM primary_keys WHERE table_id=? AND name=?", (parent_table, pk_name)
        )
    }
    if not columns:
        raise ApiError(
            400, f"Row {number}: primary key '{pk_name}' not found on table '{row.get('pkTablePath')}'"
        )
    if parent_column not in columns:
        raise ApiError(
            400,
            f"Row {number}: column '{row.get('pkColumnName')}' is not part of primary key '{pk_name}'",
        )


def _column_id(conn: sqlite3.Connection, table_id: str, column: Any, row: int) -> str:
    if not isinstance(column, str) or not column:
        raise ApiError(400, f"Row {row}: a column name is required")
    found = conn.execute(
        "SELECT id FROM entities WHERE parent_id=? AND technical_name=? AND kind='fields'", (table_id, column)
    ).fetchone()
    if found is None:
        raise ApiError(400, f"Row {row}: column '{column}' not found in its table")
    return str(found["id"])


def _rows(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
        raise ApiError(400, "The body must be an array of key rows")
    return body


def put_primary_keys(db: Database, version_id: str, source_id: str, body: Any) -> dict[str, int]:
    rows = _rows(body)
    with db.transaction() as conn:
        source_path = _source_path(conn, version_id, source_id)
        wanted: dict[str, list[tuple[str, str, int]]] = {}
        for number, row in enumerate(rows, start=1):
            table_id = _table_id(conn, version_id, source_path, row.get("tablePath"), number)
            column_id = _column_id(conn, table_id, row.get("columnName"), number)
            name = _required_text(row, "pkName", number)
            order = row.get("pkOrder")
            if not isinstance(order, int) or isinstance(order, bool) or order < 1:
                raise ApiError(400, f"Row {number}: pkOrder must be a positive integer")
            wanted.setdefault(table_id, []).append((name, column_id, order))
        counts = {"total": len(wanted), "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        for table_id, columns in wanted.items():
            if len({name for name, _, _ in columns}) > 1:
                raise ApiError(400, "A table can have only one primary key")
            current = sorted(
                (r["name"], r["column_id"], r["pk_order"])
                for r in conn.execute(
                    "SELECT name, column_id, pk_order FROM primary_keys WHERE table_id=?", (table_id,)
                )
            )
            if current == sorted(columns):
                counts["unchanged"] += 1
                continue
            counts["updated" if current else "created"] += 1
            conn.execute("DELETE FROM primary_keys WHERE table_id=?", (table_id,))
            pk_id = new_id()
            conn.executemany(
                "INSERT INTO primary_keys VALUES (?,?,?,?,?,?,?)",
                [(pk_id, version_id, source_id, table_id, n, c, o) for n, c, o in columns],
            )
    return counts


def put_foreign_keys(
    db: Database, version_id: str, source_id: str, body: Any, composite_allowed: bool
) -> dict[str, int]:
    rows = _rows(body)
    with db.transaction() as conn:
        source_path = _source_path(conn, version_id, source_id)
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        for number, row in enumerate(rows, start=1):
            name = _required_text(row, "fkTechnicalName", number)
            display = _required_text(row, "fkDisplayName", number)
            pk_name = _required_text(row, "pkTechnicalName", number)
            child_table = _table_id(conn, version_id, source_path, row.get("fkTablePath"), number)
            parent_table = _table_id(conn, version_id, source_path, row.get("pkTablePath"), number)
            child_column = _column_id(conn, child_table, row.get("fkColumnName"), number)
            parent_column = _column_id(conn, parent_table, row.get("pkColumnName"), number)
            _check_referred_key(
                conn,
                parent_table=parent_table,
                pk_name=pk_name,
                parent_column=parent_column,
                row=row,
                number=number,
            )
            summary = row.get("summary")
            if summary is not None and not isinstance(summary, str):
                raise ApiError(400, f"Row {number}: summary must be a string")
            key = wanted.setdefault(
                (child_table, name),
                {
                    "display": display,
                    "summary": summary,
                    "pk_name": pk_name,
                    "parent_table": parent_table,
                    "pairs": [],
                },
            )
            if key["parent_table"] != parent_table:
                raise ApiError(400, f"Row {number}: foreign key '{name}' refers to two different tables")
            key["pairs"].append((child_column, parent_column))
            if len(key["pairs"]) > 1 and not composite_allowed:
                raise ApiError(400, f"Row {number}: composite foreign keys are not supported ('{name}')")
        counts = {"total": len(wanted), "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        for (child_table, name), key in wanted.items():
            current = [
                (
                    r["display_name"],
                    r["summary"],
                    r["pk_name"],
                    r["parent_table_id"],
                    r["child_column_id"],
                    r["parent_column_id"],
                )
                for r in conn.execute(
                    "SELECT * FROM foreign_keys WHERE child_table_id=? AND name=? ORDER BY position",
                    (child_table, name),
                )
            ]
            new = [
                (key["display"], key["summary"], key["pk_name"], key["parent_table"], c, p)
                for c, p in key["pairs"]
            ]
            if current == new:
                counts["unchanged"] += 1
                continue
            counts["updated" if current else "created"] += 1
            conn.execute("DELETE FROM foreign_keys WHERE child_table_id=? AND name=?", (child_table, name))
            fk_id = new_id()
            conn.executemany(
                "INSERT INTO foreign_keys VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        fk_id,
                        version_id,
                        source_id,
                        name,
                        key["display"],
                        key["summary"],
                        key["pk_name"],
                        child_table,
                        key["parent_table"],
                        position,
                        c,
                        p,
                    )
                    for position, (c, p) in enumerate(key["pairs"], start=1)
                ],
            )
    return counts


def _ref(conn: sqlite3.Connection, entity_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT id, technical_name, type FROM entities WHERE id=?", (entity_id,)).fetchone()
    if row is None:
        return {"id": entity_id}
    return {"id": row["id"], "technicalName": row["technical_name"], "type": row["type"]}


def get_primary_keys(db: Database, version_id: str, source_id: str) -> list[dict[str, Any]]:
    with db.reading() as conn:
        _source_path(conn, version_id, source_id)
        keys: dict[str, dict[str, Any]] = {}
        for r in conn.execute(
            "SELECT * FROM primary_keys WHERE source_id=? ORDER BY table_id, pk_order", (source_id,)
        ):
            key = keys.setdefault(
                r["id"],
                {
                    "technicalName": r["name"],
                    "id": r["id"],
                    "table": _ref(conn, r["table_id"]),
                    "columns": [],
                    "foreignKeyIds": [],
                },
            )
            column = _ref(conn, r["column_id"])
            key["columns"].append(
                {"id": column["id"], "technicalName": column.get("technicalName"), "pkOrder": r["pk_order"]}
            )
        return list(keys.values())


def get_foreign_keys(db: Database, version_id: str, source_id: str) -> list[dict[str, Any]]:
    with db.reading() as conn:
        _source_path(conn, version_id, source_id)
        keys: dict[str, dict[str, Any]] = {}
        for r in conn.execute(
            "SELECT * FROM foreign_keys WHERE source_id=? ORDER BY child_table_id, name, position",
            (source_id,),
        ):
            key = keys.setdefault(
                r["id"],
                {
                    "technicalName": r["name"],
                    "displayName": r["display_name"],
                    "id": r["id"],
                    "columns": [],
                    "primaryKey": {"technicalName": r["pk_name"]},
                    "parents": {"structure": _ref(conn, r["parent_table_id"]), "columns": []},
                    "children": {"structure": _ref(conn, r["child_table_id"]), "columns": []},
                    "summary": r["summary"],
                },
            )
            child = _ref(conn, r["child_column_id"])
            parent = _ref(conn, r["parent_column_id"])
            key["columns"].append({"id": child["id"], "technicalName": child.get("technicalName")})
            key["children"]["columns"].append(child)
            key["parents"]["columns"].append(parent)
        return list(keys.values())


def delete_key(db: Database, version_id: str, source_id: str, which: str, key_id: str) -> dict[str, int]:
    """`DELETE .../foreignKey/{foreignKeyId}` or `.../privateKey/{columnId}` (a column out of its PK)."""
    with db.transaction() as conn:
        _source_path(conn, version_id, source_id)
        if which == "foreignKey":
            deleted = conn.execute(
                "DELETE FROM foreign_keys WHERE id=? AND source_id=?", (key_id, source_id)
            ).rowcount
        else:
            deleted = conn.execute(
                "DELETE FROM primary_keys WHERE column_id=? AND source_id=?", (key_id, source_id)
            ).rowcount
        if not deleted:
            raise ApiError(
                404, f"No {'foreign key' if which == 'foreignKey' else 'primary key column'} {key_id}"
            )
    return {"totalDeleted": 1}


def forget_entities(conn: sqlite3.Connection) -> None:
    """Drop the keys that point at objects which no longer exist (after a delete)."""
    conn.execute(
        "DELETE FROM primary_keys WHERE table_id NOT IN (SELECT id FROM entities) "
        "OR column_id NOT IN (SELECT id FROM entities)"
    )
    conn.execute(
        "DELETE FROM foreign_keys WHERE child_table_id NOT IN (SELECT id FROM entities) "
        "OR parent_table_id NOT IN (SELECT id FROM entities) "
        "OR child_column_id NOT IN (SELECT id FROM entities) "
        "OR parent_column_id NOT IN (SELECT id FROM entities)"
    )
