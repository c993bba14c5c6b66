"""The request queue: start the run or test asked for by an annotation, one of each at a time.

A request waits (one `…Queued` Event) while another Job of the same mode is active, and starts on a
later reconcile (each finished Job triggers one). Each request value is handled once, whatever its
history (A, then B, then A again does not restart or re-mark A). A request is rejected (marked
handled, a `…Rejected` Event saying why) when the connection is not Ready, when its value is not a
short printable string, or when the API server refuses the rendered Job for good (422, a client-side
refusal): the connection then turns `Ready=False` (`SpecRejected`) instead of retrying forever.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import naming, owned
from connector_operator import status as status_rules
from connector_operator.api_errors import permanent_error
from connector_operator.conditions import QUEUED, REJECTED, STARTED, Reason
from connector_operator.job_builder import Connection, build_job
from connector_operator.models import OnlineConnectionStatus
from connector_operator.operator_state import OperatorState
from connector_operator.run_config_render import target_key
from connector_operator.secrets_check import Verdict

log = logging.getLogger("connector_operator")
MODES = (("run", naming.RUN_REQUESTED, "import"), ("test", naming.TEST_REQUESTED, "check"))


@dataclass
class Updates:
    """What handling the requests changes in status."""

    run: str | None = None
    test: str | None = None
    active_job: str | None = None
    rejected: Verdict | None = None  # the API server refused the Job rendered from this spec

    def handle(self, key: str, value: str) -> None:
        setattr(self, key, value)


def handled_value(value: str) -> str:
    """How a request value is remembered in status: itself when valid, else a short digest."""
    return value if naming.valid_request(value) else f"invalid-{naming.short_hash(value, length=16)}"


def trusted_controllers(state: OperatorState, connection: Connection) -> frozenset[str]:
    """Uids whose Jobs are the connection's runs: the connection itself and its CronJob."""
    cronjob = state.cronjob_uids.get(connection.uid)
    return frozenset({connection.uid, cronjob} if cronjob else {connection.uid})


def pending(body: Mapping[str, Any]) -> bool:
    """Whether a request annotation holds a value not handled yet (cheap: no API call)."""
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    handled = (body.get("status") or {}).get("handledRequests") or {}
    return any(
        isinstance(annotations.get(annotation), str)
        and annotations[annotation]
        and handled_value(annotations[annotation]) != handled.get(key)
        for key, annotation, _ in MODES
    )


def active_jobs(state: OperatorState, connection: Connection, mode: str) -> list[str]:
    """Names of the connection's running Jobs of one mode (only Jobs it controls, directly or through
    its CronJob): from the index, else by a LIST call."""
    trusted = trusted_controllers(state, connection)
    names = state.jobs.active(connection.uid, mode, trusted)
    if names is not None:
        return names
    jobs = state.kube.list_jobs(connection.namespace, connection.uid, mode)
    return [
        j["metadata"]["name"]
        for j in jobs
        if status_rules.job_active(j) and (owned.controller(j) or ("", "", ""))[2] in trusted
    ]


def handle_requests(
    state: OperatorState,
    body: dict[str, Any],
    connection: Connection,
    verdict: Verdict,
    status: OnlineConnectionStatus,
) -> Updates:
    """Start the requested run and test; the status updates (handled requests, active Job)."""
    kube = state.kube
    annotations = body["metadata"].get("annotations") or {}
    handled = status.handled_requests
    updates = Updates()
    for key, annotation, mode in MODES:
        request = annotations.get(annotation)
        if not isinstance(request, str) or not request:
            continue
        remembered = handled_value(request)
        if remembered == getattr(handled, key):
            continue
        what = "run" if mode == "import" else "connection test"
        if not naming.valid_request(request):
            updates.handle(key, remembered)
            kube.post_event(
                body,
                "Warning",
                REJECTED[mode],
                f"{what} not started: the {annotation} value must be at most {naming.REQUEST_LIMIT} "
                "printable ASCII characters",
            )
            continue
        if request in status_rules.handled_requests(status):
            updates.handle(key, request)
            kube.post_event(
                body,
                "Warning",
                REJECTED[mode],
                f"{what} request {request!r} was already handled: use a new value",
            )
            continue
        if not verdict.ready or verdict.spec is None:
            updates.handle(key, request)
            kube.post_event(body, "Warning", REJECTED[mode], f"{what} not started: {verdict.message}")
            continue
        job = build_job(
            connection,
            verdict.spec,
            state.settings,
            mode=mode,  # type: ignore[arg-type]
            request=request,
            previous_content_hash=status_rules.previous_content_hash(status, target_key(verdict.spec)),
        )
        name = job["metadata"]["name"]
        active = [j for j in active_jobs(state, connection, mode) if j != name]
        if active:
            if state.first_queued_notice(connection.uid, request):
                kube.post_event(
                    body,
                    "Normal",
                    QUEUED[mode],
                    f"{what} request {request!r} waits for {active[0]} to finish",
                )
            continue
        try:
            created = kube.create_job(job)
        except (ApiException, ValueError, TypeError) as error:
            detail = permanent_error(error)
            if detail is None:
                raise
            updates.handle(key, request)
            updates.rejected = Verdict(
                False, Reason.SPEC_REJECTED, f"{what} Job refused: {detail}", verdict.spec
            )
            kube.post_event(body, "Warning", REJECTED[mode], f"{what} not started: {detail}")
            continue
        updates.handle(key, request)
        if not created and not _still_running(state, connection, name):
            continue  # the Job of this value exists and finished: it was handled before
        state.jobs.created(connection.uid, mode, name)
        if mode == "import":
            updates.active_job = name
        if created:
            kube.post_event(body, "Normal", STARTED[mode], name)
            log.info("started %s %s/%s for request %r", what, connection.namespace, name, request)
    return updates


def _still_running(state: OperatorState, connection: Connection, name: str) -> bool:
    """Whether an existing Job of that name is still to be recorded (not finished)."""
    for job in state.kube.list_jobs(connection.namespace, connection.uid):
        if job["metadata"]["name"] == name:
            return not status_rules.job_finished(job)
    return False
