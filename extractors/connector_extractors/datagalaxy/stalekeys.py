"""Keys that DataGalaxy still holds under the target source but the source database dropped.

The key PUTs replace the keys they name and leave the others alone, so a foreign key dropped at the
source, or a primary key dropped from a table that still exists, stays in DataGalaxy. They are found by
reading the source's keys (`GET .../primaryKeys`, `GET .../foreignKeys`) and comparing them with what
was just pushed, and follow the missing-objects mode: counted in "report", deleted in "delete" with the
documented routes (`DELETE .../foreignKey/{foreignKeyId}`, `DELETE .../privateKey/{columnId}`).
Keys of tables that were themselves deleted are gone with them and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.keys import KeyRows


@dataclass
class StaleKeys:
    primary_columns: list[str] = field(default_factory=list)  # column ids to take out of their PK
    foreign_keys: list[str] = field(default_factory=list)  # foreign key ids

    def __len__(self) -> int:
        return len(self.primary_columns) + len(self.foreign_keys)


def _wanted(rows: KeyRows, source_path: str) -> tuple[dict[str, set[str]], set[tuple[str, str]]]:
    primary: dict[str, set[str]] = {}
    for key in rows.primary:
        for row in key:
            primary.setdefault(source_path + row["tablePath"], set()).add(row["columnName"])
    foreign = {
        (source_path + key[0]["fkTablePath"], key[0]["fkTechnicalName"])
        for key in (*rows.single_foreign, *rows.composite_foreign)
    }
    return primary, foreign


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def find_stale_keys(
    client: DataGalaxyClient,
    base: str,
    rows: KeyRows,
    source_path: str,
    table_paths: dict[str, str],
) -> StaleKeys:
    """`base` is `/sources/{versionId}/{sourceId}`; `table_paths` maps structure ids to their paths."""
    wanted_primary, wanted_foreign = _wanted(rows, source_path)
    stale = StaleKeys()
    for pk in _list(client.get_json(f"{base}/primaryKeys", what="reading the primary keys of the source")):
        table = table_paths.get(str((pk.get("table") or {}).get("id")))
        if table is None:
            continue
        for column in _list(pk.get("columns")):
            if column.get("technicalName") not in wanted_primary.get(table, set()):
                stale.primary_columns.append(str(column["id"]))
    for fk in _list(client.get_json(f"{base}/foreignKeys", what="reading the foreign keys of the source")):
        child = (fk.get("children") or {}).get("structure") or {}
        table = table_paths.get(str(child.get("id")))
        if table is not None and (table, fk.get("technicalName")) not in wanted_foreign:
            stale.foreign_keys.append(str(fk["id"]))
    return stale


def delete_stale_keys(client: DataGalaxyClient, base: str, stale: StaleKeys) -> int:
    for fk_id in stale.foreign_keys:
        client.send_json(
            "DELETE", f"{base}/foreignKey/{fk_id}", what="deleting a foreign key dropped at the source"
        )
    for column_id in stale.primary_columns:
        client.send_json(
            "DELETE", f"{base}/privateKey/{column_id}", what="deleting a primary key dropped at the source"
        )
    return len(stale)
