"""Admission of scheduled runs: the CronJob creates its Jobs suspended; the operator lets one start.

A scheduled Job starts only when the connection is Ready, its schedule is active and no other run
is in progress; otherwise it is deleted and a `ScheduledRunSkipped` Event says why.
"""

from __future__ import annotations

import logging
from typing import Any

from connector_operator import conditions, naming, owned
from connector_operator import status as status_rules
from connector_operator.conditions import EventReason
from connector_operator.cronjob_builder import build_cronjob
from connector_operator.job_builder import Connection
from connector_operator.models import OnlineConnectionSpec, OnlineConnectionStatus
from connector_operator.operator_state import OperatorState
from connector_operator.run_config_render import target_key
from connector_operator.run_requests import active_jobs
from connector_operator.secrets_check import SecretLookup, evaluate

log = logging.getLogger("connector_operator")


def admit_scheduled_job(
    state: OperatorState, connection: Connection, job: dict[str, Any], lookup: SecretLookup
) -> None:
    """Let a scheduled Job start when no other run is active; else delete it as skipped."""
    kube = state.kube
    name = job["metadata"]["name"]
    namespace = connection.namespace
    with state.connection_lock(connection.uid):
        body = kube.get_connection(namespace, connection.name)
        if body is None or body["metadata"].get("uid") != connection.uid:
            kube.delete_job(namespace, name)
            return
        verdict = evaluate(body.get("spec") or {}, lookup, state.settings)
        spec = verdict.spec
        reason = ""
        if not verdict.ready:
            reason = f"the connection is not Ready ({verdict.reason})"
        elif spec is None or spec.schedule is None or spec.schedule.suspend:
            reason = "the schedule is suspended or removed"
        else:
            drift = template_drift(state, connection, spec, body, job)
            active = [j for j in active_jobs(state, connection, "import") if j != name]
            if drift:
                reason = f"its spec differs from the one the operator renders ({', '.join(drift[:3])})"
            elif active:
                reason = f"run {active[0]} is still in progress"
        if reason:
            kube.delete_job(namespace, name)
            kube.post_event(body, "Warning", EventReason.SCHEDULED_RUN_SKIPPED, f"{name} skipped: {reason}")
            log.info("skipped scheduled job %s/%s: %s", namespace, name, reason)
            return
        kube.patch_job(
            namespace,
            name,
            {"metadata": {"annotations": {naming.ADMITTED_ANNOTATION: "true"}}, "spec": {"suspend": False}},
        )

        def mutate(current: OnlineConnectionStatus) -> OnlineConnectionStatus:
            current.active_job = name
            current.conditions = conditions.set_condition(
                current.conditions, conditions.running(name, scheduled=True), now=status_rules.now_text()
            )
            return current

        kube.update_status(namespace, connection.name, status_rules.typed(mutate), body=body)
        kube.post_event(body, "Normal", EventReason.RUN_STARTED, f"{name} (schedule)")
        log.info("admitted scheduled job %s/%s", namespace, name)


def template_drift(
    state: OperatorState,
    connection: Connection,
    spec: OnlineConnectionSpec,
    body: dict[str, Any],
    job: dict[str, Any],
) -> list[str]:
    """Where a scheduled Job's spec differs from the CronJob's job template the operator renders."""
    desired = build_cronjob(
        connection,
        spec,
        state.settings,
        ready=True,
        previous_content_hash=status_rules.previous_content_hash(
            status_rules.read(body.get("status")), target_key(spec)
        ),
    )
    return owned.differences(desired["spec"]["jobTemplate"]["spec"], job.get("spec") or {}, "spec")
