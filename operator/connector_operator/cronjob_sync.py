"""Keep a connection's CronJob in line with `spec.schedule`: create, replace, or delete it.

A recently ensured CronJob is not read again for a minute (a GET per reconcile adds up at thousands
of connections); a connection known to have none is not sent a DELETE per reconcile.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import conditions, naming
from connector_operator import status as status_rules
from connector_operator.cronjob_builder import build_cronjob
from connector_operator.job_builder import Connection
from connector_operator.operator_state import OperatorState
from connector_operator.run_config_render import target_key
from connector_operator.secrets_check import Verdict

log = logging.getLogger("connector_operator")


def api_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message", error.reason))[:512]
    except (TypeError, ValueError):
        return str(error.reason)


def sync_cronjob(
    state: OperatorState, connection: Connection, verdict: Verdict, status: dict[str, Any]
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
    except ApiException as error:
        if error.status == 422:
            detail = api_message(error)
            return Verdict(False, conditions.INVALID_SPEC, f"spec.schedule rejected: {detail}", spec)
        raise
    return verdict
