"""Who owns a DataGalaxy target source, and whether it still holds what was pushed last.

One target source belongs to one connection. The operator enforces that inside one cluster; this module
enforces it in DataGalaxy itself, so that two clusters (or a connection and a hand-run import) cannot
silently write, and delete, into the same source:

* The source carries a marker in its `externalId` system attribute (a string attribute of every object
  in DataGalaxy's v2 API, see docs/datagalaxy-api-choices.md): `online-connector:<uid>:<namespace>/<name>`,
  the connection's Kubernetes UID (unique across clusters) and, for people reading it, its name.
* Before anything is written, the source is looked up with its attributes. No source, or a source with
  no `externalId`: the push goes on and writes the marker with the source node. The same UID: ours. A
  marker with another UID, or an `externalId` that is not a marker: the push stops with an error that
  names the owner, and nothing is written or deleted.
* The unchanged-content skip trusts the last push only if the source still holds at least as many
  schemas and columns as the extraction has (two `limit=1` list calls whose `total_sum` counts all of
  them); fewer means objects were deleted behind our back, and everything is pushed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.errors import ErrorCategory
from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_config import TargetConfig

log = logging.getLogger("connector_extractors.datagalaxy")

MARKER_PREFIX = "online-connector:"
MARKER_KEY = "externalId"


@dataclass(frozen=True)
class Owner:
    uid: str
    connection: str  # namespace/name

    @property
    def marker(self) -> str:
        return f"{MARKER_PREFIX}{self.uid}:{self.connection}"


def parse_marker(text: str) -> Owner | None:
    """The owner a marker names, or None when `text` is not an Online Connector marker."""
    if not text.startswith(MARKER_PREFIX):
        return None
    uid, sep, connection = text[len(MARKER_PREFIX) :].partition(":")
    return Owner(uid, connection) if sep and uid else None


def owner_of(target: TargetConfig) -> Owner | None:
    """The connection this run pushes for (None for a run outside the operator: it claims nothing)."""
    uid = target.owner_uid
    return Owner(uid, target.owner_connection or "") if uid else None


@dataclass(frozen=True)
class TargetSource:
    id: str
    path: str
    external_id: str | None


def find_target_source(client: DataGalaxyClient, version_id: str, source_name: str) -> TargetSource | None:
    """The target source with its `externalId`, or None when it does not exist yet."""
    for item in client.iter_pages(
        "/sources",
        {
            "versionId": version_id,
            "technicalName": source_name,
            "type": "Relational",
            "includeAttributes": "true",
            "limit": 100,
        },
        what=f"looking up source {source_name!r}",
    ):
        if item.get("technicalName") == source_name and item.get("type") == "Relational":
            attributes = item.get("attributes")
            marker = attributes.get(MARKER_KEY) if isinstance(attributes, dict) else None
            return TargetSource(
                id=str(item["id"]),
                path=str(item.get("path") or f"\\{source_name}"),
                external_id=str(marker) if marker else None,
            )
    return None


def check_owner(found: TargetSource | None, me: Owner | None, source_name: str) -> None:
    """Raise (nothing written yet) when the source belongs to another connection or to someone else."""
    if found is None or found.external_id is None:
        return
    if me is not None and found.external_id == me.marker:
        return
    owner = parse_marker(found.external_id)
    if owner is not None and me is not None and owner.uid == me.uid:
        return  # ours, renamed: the marker is rewritten with the push
    hint = (
        "One target source belongs to one connection: choose another target.sourceName. If the owner "
        "was deleted (or re-created, which gives it a new UID), clear the source's externalId in "
        "DataGalaxy to hand the source over."
    )
    if owner is not None:
        raise DataGalaxyError(
            ErrorCategory.INVALID_CONFIGURATION,
            f"DataGalaxy source {source_name!r} belongs to connection {owner.connection or '?'} "
            f"(uid {owner.uid}); nothing was written",
            hint,
        )
    raise DataGalaxyError(
        ErrorCategory.INVALID_CONFIGURATION,
        f"DataGalaxy source {source_name!r} has externalId {found.external_id[:80]!r}, which is not an "
        "Online Connector marker: it is managed by something else; nothing was written",
        hint,
    )


def claim_target(client: DataGalaxyClient, version_id: str, target: TargetConfig) -> TargetSource | None:
    """The target source (None when it does not exist yet), once it is sure this run may write it."""
    found = find_target_source(client, version_id, target.source_name)
    check_owner(found, owner_of(target), target.source_name)
    return found


def with_marker(source: dict[str, Any], me: Owner | None) -> dict[str, Any]:
    """The source node with the owner's marker (unchanged for a run that claims nothing)."""
    return source if me is None else {**source, MARKER_KEY: me.marker}


def _total(client: DataGalaxyClient, kind: str, version_id: str, source_id: str) -> int | None:
    page = client.get_json(
        f"/{kind}",
        params={"versionId": version_id, "parentId": source_id, "limit": 1},
        what=f"counting the {kind} of the target source",
    )
    total = page.get("total_sum") if isinstance(page, dict) else None
    return total if isinstance(total, int) else None


def still_holds(
    client: DataGalaxyClient, version_id: str, found: TargetSource | None, metadata: SourceMetadata
) -> bool:
    """True when the target source still holds at least the schemas and columns of `metadata`."""
    if found is None:
        return not metadata.schemas
    counts = metadata.counts()
    for kind, expected in (("containers", counts["schemas"]), ("fields", counts["columns"])):
        held = _total(client, kind, version_id, found.id) if expected else expected
        if held is None or held < expected:
            log.warning(
                "DataGalaxy: the target source holds %s %s where the last push sent %d: pushing again",
                "an unknown number of" if held is None else held,
                kind,
                expected,
            )
            return False
    return True
