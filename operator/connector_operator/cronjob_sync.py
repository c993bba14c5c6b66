"""Keep a connection's CronJob in line with `spec.schedule`: create, replace, or delete it.

A recently ensured CronJob is not read again for a minute (a GET per reconcile adds up at thousands
of connections); a connection known to have none is not sent a DELETE per reconcile.
"""

from __future__ import annotations

import logging

from kubernetes.client.exceptions import ApiException

from connector_operator import naming
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
    state: OperatorState, connection: Connection, verdict: Verdict, status: OnlineConnectionStatus
) -> Verdict:
    spec = verdict.spec
    name = naming.cronjob_name(connection.name)
    if spec is None:
        return verdict  # an invalid spec leaves an existing CronJob alone: nothing safe to render
    if spec.schedule is None:
        if connection.uid not in state.without_cronjob:
            if state.kube.delete_cronjob(connection.namespace, name):
                log.info("schedule removed: deleted CronJob %s/%s", connection.namespace, name)
            state.without_cronjob.add(connection.uid)
            state.cronjob_verified.pop(connection.uid, None)
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
        state.kube.ensure_cronjob(desired)
        state.cronjob_ensured(connection.uid, wanted)
    except (ApiException, ValueError, TypeError) as error:
        detail = permanent_error(error)
        if detail is None:
            raise
        # The old CronJob no longer matches the spec: it must not keep firing.
        state.kube.delete_cronjob(connection.namespace, name)
        state.cronjob_verified.pop(connection.uid, None)
        return Verdict(False, Reason.SPEC_REJECTED, f"CronJob refused: {detail}", spec)
    return verdict
