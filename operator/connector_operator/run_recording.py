"""Recording a finished Job in the connection's status, exactly once, then pruning old Jobs.

The Job name in status (history, lastRun, lastTest) is the idempotence key, checked inside the
optimistic status update; the `recorded` annotation on the Job only saves work afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import naming, owned
from connector_operator import status as status_rules
from connector_operator.job_builder import Connection
from connector_operator.models import OnlineConnectionStatus
from connector_operator.operator_state import OperatorState
from connector_operator.run_requests import trusted_controllers

log = logging.getLogger("connector_operator")


def record_job(state: OperatorState, connection: Connection, job: dict[str, Any]) -> dict[str, Any] | None:
    """Write a finished Job's outcome to the connection's status and post its Event: exactly once.

    Returns the connection as it is now (as written, or as read when there was nothing to write),
    so the follow-up reconcile needs no second read; None when the connection is gone.
    """
    kube = state.kube
    metadata = job["metadata"]
    name, namespace = metadata["name"], metadata["namespace"]
    test = (metadata.get("labels") or {}).get(naming.MODE_LABEL) == "check"
    with state.connection_lock(connection.uid):
        body = kube.get_connection(namespace, connection.name)
        if body is None or body["metadata"].get("uid") != connection.uid:
            return None
        record = status_rules.outcome(job, kube.list_pods(namespace, name))
        history_limit = _history_limit(body)
        now = status_rules.now_text()

        def mutate(current: OnlineConnectionStatus) -> OnlineConnectionStatus | None:
            if name in status_rules.recorded_jobs(current):
                return None
            if test:
                return status_rules.apply_test(current, record, now=now)
            return status_rules.apply_run(current, record, history_limit=history_limit, now=now)

        written = kube.write_status(namespace, connection.name, status_rules.typed(mutate), body=body)
        if written is not None:
            kind, reason, message = status_rules.event_for(record, test=test)
            kube.post_event(body, kind, reason, message)
            if not test:
                pushed = record.push.created + record.push.updated if record.push else 0
                state.metrics.record_run(
                    namespace, connection.name, record.result, record.duration_seconds, pushed
                )
            log.info(
                "recorded %s %s/%s: %s (%s)",
                "test" if test else "run",
                namespace,
                name,
                record.result,
                record.reason,
            )
        try:
            kube.patch_job(
                namespace, name, {"metadata": {"annotations": {naming.RECORDED_ANNOTATION: "true"}}}
            )
        except ApiException as error:
            if error.status != 404:
                raise
        prune_jobs(state, connection, history_limit, "check" if test else "import")
        return written if written is not None else body


def _history_limit(body: dict[str, Any]) -> int:
    limit = ((body.get("spec") or {}).get("run") or {}).get("historyLimit")
    return limit if isinstance(limit, int) and 1 <= limit <= 50 else 5


def prune_jobs(state: OperatorState, connection: Connection, keep: int, mode: str) -> None:
    """Keep the newest `keep` recorded, finished Jobs of one mode; delete older ones."""
    trusted = trusted_controllers(state, connection)
    jobs = [
        j
        for j in state.kube.list_jobs(connection.namespace, connection.uid, mode)
        if (owned.controller(j) or ("", "", ""))[2] in trusted  # never another's look-alike
        and status_rules.job_finished(j)
        and (j["metadata"].get("annotations") or {}).get(naming.RECORDED_ANNOTATION) == "true"
    ]
    jobs.sort(key=lambda j: j["metadata"].get("creationTimestamp", ""), reverse=True)
    for old in jobs[keep:]:
        state.kube.delete_job(connection.namespace, old["metadata"]["name"])
