"""What a watch event for one of the operator's Jobs asks for: admission, recording, or nothing.

`needs_work` is the cheap filter run on the event loop (most Job events are progress updates);
`handle_job` does the work in a thread: admit a suspended scheduled Job, or record a finished (or
deleted, unrecorded) one and then reconcile its connection for pending requests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import naming, owned
from connector_operator import status as status_rules
from connector_operator.job_builder import Connection
from connector_operator.models import KIND
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.run_admission import admit_scheduled_job
from connector_operator.run_recording import record_job
from connector_operator.secrets_check import SecretLookup

log = logging.getLogger("connector_operator")


def owner(state: OperatorState, job: Mapping[str, Any]) -> Connection | None:
    """The connection a Job belongs to, through its controller: the connection itself (requested
    runs) or the connection's CronJob (scheduled runs). Labels and annotations alone prove nothing."""
    metadata = job["metadata"]
    namespace = str(metadata.get("namespace", ""))
    found = owned.controller(job)
    if found is None:
        return None
    kind, name, uid = found
    if kind == KIND:
        return Connection(name=name, namespace=namespace, uid=uid)
    connection_name = (metadata.get("annotations") or {}).get(naming.CONNECTION_NAME_ANNOTATION)
    connection_uid = (metadata.get("labels") or {}).get(naming.CONNECTION_UID_LABEL)
    if kind != "CronJob" or not connection_name or not connection_uid:
        return None
    if name != naming.cronjob_name(str(connection_name)):
        return None
    known = state.cronjob_uids.get(str(connection_uid))
    if known is None:
        cronjob = state.kube.read_cronjob(namespace, name)
        if cronjob is None or not owned.controlled_by(cronjob, str(connection_uid)):
            return None
        known = str(cronjob["metadata"].get("uid"))
        state.cronjob_uids[str(connection_uid)] = known
    if known != uid:
        return None
    return Connection(name=str(connection_name), namespace=namespace, uid=str(connection_uid))


def _waiting_for_admission(job: Mapping[str, Any]) -> bool:
    metadata = job.get("metadata") or {}
    return (
        bool((job.get("spec") or {}).get("suspend"))
        and (metadata.get("labels") or {}).get(naming.TRIGGER_LABEL) == "schedule"
        and (metadata.get("annotations") or {}).get(naming.ADMITTED_ANNOTATION) != "true"
    )


def needs_work(job: dict[str, Any], deleted: bool) -> bool:
    """Whether a Job event needs admission or recording."""
    recorded = ((job.get("metadata") or {}).get("annotations") or {}).get(
        naming.RECORDED_ANNOTATION
    ) == "true"
    if deleted:
        # A Job deleted before it was recorded (by hand, or finished while unrecorded) is recorded now,
        # so that a run never silently disappears; skipped scheduled Jobs never started.
        return not recorded and not _waiting_for_admission(job)
    if status_rules.job_finished(job):
        return not recorded
    return _waiting_for_admission(job)


def handle_job(
    state: OperatorState, job: dict[str, Any], lookup: SecretLookup, deleted: bool = False
) -> None:
    connection = owner(state, job)
    if connection is None:
        log.info("ignored Job %s: not controlled by a connection or its CronJob", job["metadata"].get("name"))
        return
    if deleted or status_rules.job_finished(job):
        current: list[dict[str, Any] | None] = [None]

        def record() -> None:
            current[0] = record_job(state, connection, job)

        with_retries(record)
        if current[0] is not None:  # as just written: no second read (pending requests, next hash)
            reconcile(state, current[0], lookup, fresh=False)
    else:
        with_retries(lambda: admit_scheduled_job(state, connection, job, lookup))


def with_retries(action: Callable[[], None], attempts: int = 5, pause: float = 0.5) -> None:
    for attempt in range(attempts):
        try:
            action()
            return
        except ApiException as error:
            if attempt == attempts - 1:
                raise
            log.warning("Kubernetes API error %s (%s); retrying", error.status, error.reason)
            time.sleep(pause * 2**attempt)
