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

from connector_operator import naming
from connector_operator import status as status_rules
from connector_operator.job_builder import Connection
from connector_operator.models import GROUP
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.run_admission import admit_scheduled_job
from connector_operator.run_recording import record_job
from connector_operator.secrets_check import SecretLookup

log = logging.getLogger("connector_operator")


def owner(job: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name, uid) of the connection a Job belongs to: its owner, or via the CronJob for scheduled runs."""
    metadata = job["metadata"]
    for ref in metadata.get("ownerReferences") or []:
        if ref.get("kind") == "OnlineConnection" and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(ref["name"]), str(ref["uid"])
    name = (metadata.get("annotations") or {}).get(naming.CONNECTION_NAME_ANNOTATION)
    uid = (metadata.get("labels") or {}).get(naming.CONNECTION_UID_LABEL)
    if name and uid:
        return str(name), str(uid)
    return None


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
    found = owner(job)
    if found is None:
        return
    namespace = job["metadata"]["namespace"]
    connection = Connection(name=found[0], namespace=namespace, uid=found[1])
    if deleted or status_rules.job_finished(job):
        with_retries(lambda: record_job(state, connection, job))
        follow_up = state.kube.get_connection(namespace, connection.name)
        if follow_up is not None:
            reconcile(state, follow_up, lookup)  # pending requests, the next content hash, nextScheduledRun
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
