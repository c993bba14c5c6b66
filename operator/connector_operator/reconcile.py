"""The reconcile of one connection: spec and Secrets -> Ready, CronJob, requested runs, status.

Level-based and idempotent: called for every create/update/resume, after each finished Job, and by
the periodic Secret re-check (`secret_recheck`); the referenced Secrets are read afresh each time.
Work on one connection is serialised by the state's per-connection lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from connector_operator import conditions, cron
from connector_operator import status as status_rules
from connector_operator.conditions import EventReason, Reason
from connector_operator.cronjob_sync import sync_cronjob
from connector_operator.job_builder import Connection
from connector_operator.models import OnlineConnectionStatus
from connector_operator.operator_state import OperatorState
from connector_operator.run_requests import handle_requests
from connector_operator.secrets_check import SecretLookup, Verdict, evaluate

log = logging.getLogger("connector_operator")


def connection_of(body: dict[str, Any]) -> Connection:
    metadata = body["metadata"]
    return Connection(name=metadata["name"], namespace=metadata["namespace"], uid=metadata["uid"])


def reconcile(
    state: OperatorState, body: dict[str, Any], lookup: SecretLookup, *, fresh: bool = True
) -> None:
    """Bring one connection's CronJob, requested runs and status in line with its spec.

    `fresh=False` trusts `body` (kopf's copy, current as of the event): a stale status can only make
    a request be seen again, and its deterministic Job name then finds the existing Job.
    """
    connection = connection_of(body)
    with state.connection_lock(connection.uid):
        current = state.kube.get_connection(connection.namespace, connection.name) if fresh else body
        if current is None or current["metadata"].get("uid") != connection.uid:
            return
        _reconcile_locked(state, current, connection, lookup)


def now() -> datetime:
    return datetime.now(UTC)


def _announce(
    state: OperatorState,
    body: dict[str, Any],
    status: OnlineConnectionStatus,
    verdict: Verdict,
    generation: Any,
) -> None:
    """One Warning Event when the spec turns out invalid or refused (not one per reconcile)."""
    if verdict.ready or verdict.reason not in (Reason.INVALID_SPEC, Reason.SPEC_REJECTED):
        return
    previous = conditions.find(status.conditions, conditions.ConditionType.READY)
    if previous is not None and (previous.reason, previous.message, previous.observed_generation) == (
        verdict.reason,
        verdict.message[: conditions.MAX_MESSAGE],
        generation,
    ):
        return
    state.kube.post_event(body, "Warning", EventReason(verdict.reason), verdict.message)


def _reconcile_locked(
    state: OperatorState, body: dict[str, Any], connection: Connection, lookup: SecretLookup
) -> None:
    generation = body["metadata"].get("generation")
    verdict = evaluate(body.get("spec") or {}, lookup, state.settings)
    in_use = state.targets.check(body)  # one target source belongs to one connection
    if verdict.ready and in_use is not None:
        verdict = Verdict(False, Reason.TARGET_IN_USE, in_use, verdict.spec)
    status = status_rules.read(body.get("status"))
    next_run: str | None = None
    schedule_valid = True
    if verdict.spec is not None and verdict.spec.schedule is not None:
        schedule = verdict.spec.schedule
        try:
            next_run = status_rules.now_text(cron.next_run(schedule.cron, schedule.time_zone, now()))
        except cron.CronError as error:
            verdict = Verdict(False, Reason.INVALID_SPEC, f"spec.schedule: {error}", verdict.spec)
            schedule_valid = False
    verdict = (
        state.rejection(connection.uid, generation) or verdict
    )  # refused for good: until the spec changes
    updates = handle_requests(state, body, connection, verdict, status)  # first: request-to-Job latency
    verdict = sync_cronjob(
        state, connection, updates.rejected or verdict, status, schedule_valid=schedule_valid
    )
    if verdict.reason == Reason.SPEC_REJECTED:
        state.reject(connection.uid, generation, verdict)
    _announce(state, body, status, verdict, generation)
    if (
        verdict.spec is None
        or verdict.spec.schedule is None
        or verdict.spec.schedule.suspend
        or not verdict.ready
    ):
        next_run = None

    def mutate(current: OnlineConnectionStatus) -> OnlineConnectionStatus:
        moment = status_rules.now_text()
        current.observed_generation = generation
        items = conditions.set_condition(
            current.conditions,
            conditions.ready(verdict.ready, verdict.reason, verdict.message, generation=generation),
            now=moment,
        )
        if updates.active_job:
            current.active_job = updates.active_job
            items = conditions.set_condition(
                items, conditions.running(updates.active_job, generation=generation), now=moment
            )
        elif conditions.find(items, conditions.ConditionType.RUNNING) is None:
            items = conditions.set_condition(items, conditions.idle(), now=moment)
        current.conditions = items
        current.next_scheduled_run = next_run or None
        if updates.run is not None:
            current.handled_requests.run = updates.run
        if updates.test is not None:
            current.handled_requests.test = updates.test
        return current

    state.kube.update_status(connection.namespace, connection.name, status_rules.typed(mutate), body=body)
    state.metrics.set_ready(connection.namespace, connection.name, verdict.ready)
