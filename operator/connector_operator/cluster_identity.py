"""Which cluster this operator runs in: the first half of the owner marker on DataGalaxy sources.

The marker names a connection by cluster id + namespace/name, so a connection deleted and re-created
under the same name (Argo CD, `kubectl delete -f && kubectl apply -f`) still owns its source, while the
same name in another cluster does not. The cluster id is the chart's `clusterName` when set, else the UID
of the `kube-system` Namespace: created with the cluster, never deleted, different in every cluster (the
de facto cluster id of many tools). It is read once at startup; the chart grants `get` on that one
Namespace only (`resourceNames: [kube-system]`).

When it cannot be read (RBAC changed, API error), the operator keeps running and the runs fall back to the
previous marker, the connection's UID (safe, but a re-created connection is then refused by its source);
the log says so and names the fix.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from connector_operator.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from connector_operator.kube import Kube

log = logging.getLogger(__name__)

KUBE_SYSTEM = "kube-system"


def kube_system_uid(kube: Kube) -> str:
    metadata = kube.core.read_namespace(KUBE_SYSTEM).metadata
    return str(metadata.uid or "") if metadata is not None else ""


def resolve_cluster_id(settings: Settings, read_uid: Callable[[], str]) -> Settings:
    """`settings` with `cluster_id` set: the configured name, else the kube-system UID from `read_uid`."""
    if settings.cluster_id:
        log.info("Cluster id for owner markers: %s (clusterName)", settings.cluster_id)
        return settings
    try:
        uid = read_uid()
    except Exception as error:  # any failure: fall back, never stop the operator
        reason = getattr(error, "reason", None) or type(error).__name__
        log.warning(
            "Could not read the %s Namespace's UID (%s): DataGalaxy owner markers fall back to the "
            "connection UID, so a re-created connection will be refused by its own source. Grant `get` "
            "on namespaces/%s or set the chart value clusterName.",
            KUBE_SYSTEM,
            reason,
            KUBE_SYSTEM,
        )
        return settings
    if not uid:
        return settings
    log.info("Cluster id for owner markers: %s (the %s Namespace's UID)", uid, KUBE_SYSTEM)
    return dataclasses.replace(settings, cluster_id=uid)
