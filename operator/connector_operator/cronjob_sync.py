"""Keep a connection's CronJob in line with `spec.schedule`: create, replace, or delete it.

The CronJob is compared with what the operator renders (`owned.differences`), not only by its
spec-hash annotation, so an edit by anyone else is drift and is replaced; a CronJob of that name
that the connection does not control is deleted and re-created. A recently ensured CronJob is not
read again for a minute (a GET per reconcile adds up at thousands of connections); the CronJob
watch (`cronjob_event`) invalidates that when someone else changes or deletes it. A connection
known to have none is not sent a DELETE per reconcile.
"""

from __future__ import annotations

import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import naming, owned
from connector_operator import status as status_rules
from connector_operator.api_errors import permanent_error
from connector_operator.conditions import Reason
from connector_operator.cronjob_builder import build_cronjob
from connector_operator.job_builder import Connection
from connector_operator.models import OnlineConnectionStatus
from connector_operator.operator_state import OperatorState
from connector_operator.run_config_render import target_key
from connector_operator.secrets_check import Verdict

log = logging.getLogger("connector_operator")


def sync_cronjob(
    state: OperatorState,
    connection: Connection,
    verdict: Verdict,
    status: OnlineConnectionStatus,
    *,
    schedule_valid: bool = True,
) -> Verdict:
    """Bring the CronJob in line; a schedule that cannot fire as written removes the old CronJob."""
    spec = verdict.spec
    name = naming.cronjob_name(connection.name)
    if spec is None:
        return verdict  # an invalid spec leaves an existing CronJob alone: nothing safe to render
    if spec.schedule is None or not schedule_valid:
        if connection.uid not in state.without_cronjob:
            if state.kube.delete_cronjob(connection.namespace, name):
                log.info("schedule removed: deleted CronJob %s/%s", connection.namespace, name)
            state.without_cronjob.add(connection.uid)
            state.cronjob_gone(connection.uid)
        return verdict
    state.without_cronjob.discard(connection.uid)
    previous = status_rules.previous_content_hash(status, target_key(spec))
    desired = build_cronjob(
        connection, spec, state.settings, ready=verdict.ready, previous_content_hash=previous
    )
    wanted = desired["metadata"]["annotations"][naming.SPEC_HASH_ANNOTATION]
    if state.cronjob_fresh(connection.uid, wanted):
        return verdict  # applied moments ago: spare the API server a GET per reconcile
    try:
        cronjob_uid = ensure_cronjob(state, connection, desired)
        state.cronjob_ensured(connection.uid, wanted, desired, cronjob_uid)
    except (ApiException, ValueError, TypeError) as error:
        detail = permanent_error(error)
        if detail is None:
            raise
        # The old CronJob no longer matches the spec: it must not keep firing.
        state.kube.delete_cronjob(connection.namespace, name)
        state.cronjob_gone(connection.uid)
        return Verdict(False, Reason.SPEC_REJECTED, f"CronJob refused: {detail}", spec)
    return verdict


def ensure_cronjob(state: OperatorState, connection: Connection, desired: dict[str, Any]) -> str | None:
    """Create the CronJob, or repair it when it differs from `desired`; its uid when known."""
    kube = state.kube
    namespace, name = connection.namespace, desired["metadata"]["name"]
    current = kube.read_cronjob(namespace, name)
    if current is not None and not owned.controlled_by(current, connection.uid):
        log.warning("CronJob %s/%s is not controlled by its connection: re-created", namespace, name)
        kube.delete_cronjob(namespace, name)
        current = None
    if current is None:
        created = kube.create_cronjob(desired)
        return str(created["metadata"].get("uid") or "") or None if created else None
    wanted = desired["metadata"]["annotations"][naming.SPEC_HASH_ANNOTATION]
    annotations = current["metadata"].get("annotations") or {}
    drift = owned.differences(desired["spec"], current.get("spec") or {}, "spec")
    if annotations.get(naming.SPEC_HASH_ANNOTATION) != wanted or drift:
        if drift and annotations.get(naming.SPEC_HASH_ANNOTATION) == wanted:
            log.warning("CronJob %s/%s was changed (%s): repaired", namespace, name, ", ".join(drift[:5]))
        kube.replace_cronjob(current, desired)
    return str(current["metadata"].get("uid") or "") or None
