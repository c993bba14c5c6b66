"""Who owns a DataGalaxy target source, and whether it still holds what was pushed last.

One target source belongs to one connection. The operator enforces that inside one cluster; this module
enforces it in DataGalaxy itself, so that two clusters (or a connection and a hand-run import) cannot
silently write, and delete, into the same source:

* The source carries a marker in its `externalId` system attribute (a string attribute of every object
  in DataGalaxy's v2 API, see docs/datagalaxy-api-choices.md):
  `online-connector:cluster=<cluster id>:<namespace>/<name>`. The cluster id is the UID of the cluster's
  `kube-system` Namespace (or the operator's `clusterName` setting): stable for the life of the cluster,
  different between clusters. So a connection deleted and re-created under the same name (what Argo CD
  or `kubectl delete -f && kubectl apply -f` do) is still the owner, and a connection of the same name
  in another cluster is not.
* Before anything is written, the source is looked up with its attributes. No source, or a source with
  no `externalId`: the push goes on and writes the marker with the source node. The same cluster and
  connection: ours. A marker of the previous version (`online-connector:<connection uid>:<ns>/<name>`)
  is ours only when the UID is this connection's (an upgrade), and the push rewrites it in the new form.
  Any other marker, or an `externalId` that is not a marker: the push stops with an error that names the
  owner, and nothing is written or deleted.
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


CLUSTER_TAG = "cluster="


@dataclass(frozen=True)
class Owner:
    """A connection that may own a source: `cluster` + `connection` (namespace/name) is its identity;
    `uid` only matches a marker written by the previous version, which named the UID instead."""

    connection: str  # namespace/name
    cluster: str | None = None
    uid: str | None = None

    @property
    def marker(self) -> str:
        """The marker this owner writes (the UID form only when no cluster id is known)."""
        if self.cluster:
            return f"{MARKER_PREFIX}{CLUSTER_TAG}{self.cluster}:{self.connection}"
        return f"{MARKER_PREFIX}{self.uid or ''}:{self.connection}"

    def owns(self, marked: Owner) -> bool:
        """True when a source marked by `marked` belongs to this owner."""
        if marked.cluster is not None:
            return marked.cluster == self.cluster and marked.connection == self.connection
        return bool(marked.uid) and marked.uid == self.uid  # the previous version's UID form

    def describe(self) -> str:
        if self.cluster is not None:
            return f"{self.connection or '?'} in cluster {self.cluster}"
        return f"{self.connection or '?'} (uid {self.uid})"


def parse_marker(text: str) -> Owner | None:
    """The owner a marker names, or None when `text` is not an Online Connector marker.

    `online-connector:cluster=<cluster id>:<ns>/<name>` (this version) or
    `online-connector:<uid>:<ns>/<name>` (the previous one: `uid` set, `cluster` None).
    """
    if not text.startswith(MARKER_PREFIX):
        return None
    head, sep, connection = text[len(MARKER_PREFIX) :].partition(":")
    if not sep:
        return None
    if head.startswith(CLUSTER_TAG):
        cluster = head[len(CLUSTER_TAG) :]
        return Owner(connection, cluster=cluster) if cluster else None
    return Owner(connection, uid=head) if head else None


def owner_of(target: TargetConfig) -> Owner | None:
    """The connection this run pushes for (None for a run outside the operator: it claims nothing)."""
    if not target.owner_connection or not (target.owner_cluster or target.owner_uid):
        return None
    return Owner(target.owner_connection, cluster=target.owner_cluster, uid=target.owner_uid)


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
    if owner is not None and me is not None and me.owns(owner):
        return  # ours (an old-form marker is rewritten in the new form with the push)
    hint = (
        "One target source belongs to one connection: choose another target.sourceName. If the owner "
        "was deleted for good (or moved to another cluster), clear the source's externalId in "
        "DataGalaxy to hand the source over."
    )
    if owner is not None:
        this_run = f" (this run: {me.describe()})" if me is not None else ""
        raise DataGalaxyError(
            ErrorCategory.INVALID_CONFIGURATION,
            f"DataGalaxy source {source_name!r} belongs to connection {owner.describe()}{this_run}; "
            "nothing was written",
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
