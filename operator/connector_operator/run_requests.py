"""The request queue: start the run or test asked for by an annotation, one of each at a time.

A request waits (one `…Queued` Event) while another Job of the same mode is active, and starts on a
later reconcile (each finished Job triggers one). A request on a connection that is not Ready is
marked handled and rejected with an Event, so fixing the spec later does not start a stale run.
"""

from __future__ import annotations

import logging
from typing import Any

from connector_operator import naming
from connector_operator import status as status_rules
from connector_operator.job_builder import Connection, build_job
from connector_operator.operator_state import OperatorState
from connector_operator.run_config_render import target_key
from connector_operator.secrets_check import Verdict

log = logging.getLogger("connector_operator")


def active_jobs(state: OperatorState, connection: Connection, mode: str) -> list[str]:
    """Names of the connection's running Jobs of one mode: from the index, else by a LIST call."""
    names = state.jobs.active(connection.uid, mode)
    if names is not None:
        return names
    jobs = state.kube.list_jobs(connection.namespace, connection.uid, mode)
    return [j["metadata"]["name"] for j in jobs if status_rules.job_active(j)]


def handle_requests(
    state: OperatorState, body: dict[str, Any], connection: Connection, verdict: Verdict
) -> dict[str, Any]:
    """Start the requested run and test; the status updates (handled requests, active Job)."""
    kube = state.kube
    annotations = body["metadata"].get("annotations") or {}
    handled = (body.get("status") or {}).get("handledRequests") or {}
    updates: dict[str, Any] = {}
    for key, annotation, mode in (
        ("run", naming.RUN_REQUESTED, "import"),
        ("test", naming.TEST_REQUESTED, "check"),
    ):
        request = annotations.get(annotation)
        if not request or request == handled.get(key):
            continue
        what = "run" if mode == "import" else "connection test"
        if not verdict.ready or verdict.spec is None:
            updates[key] = request
            kube.post_event(
                body, "Warning", f"{key.capitalize()}Rejected", f"{what} not started: {verdict.message}"
            )
            continue
        job = build_job(
            connection,
            verdict.spec,
            state.settings,
            mode=mode,  # type: ignore[arg-type]
            request=request,
            previous_content_hash=status_rules.previous_content_hash(
                body.get("status") or {}, target_key(verdict.spec)
            ),
        )
        name = job["metadata"]["name"]
        active = [j for j in active_jobs(state, connection, mode) if j != name]
        if active:
            if state.first_queued_notice(connection.uid, request):
                kube.post_event(
                    body,
                    "Normal",
                    f"{key.capitalize()}Queued",
                    f"{what} request {request!r} waits for {active[0]} to finish",
                )
            continue
        created = kube.create_job(job)
        state.jobs.created(connection.uid, mode, name)
        updates[key] = request
        if mode == "import":
            updates["activeJob"] = name
        if created:
            kube.post_event(
                body, "Normal", "RunStarted" if mode == "import" else "ConnectionTestStarted", name
            )
            log.info("started %s %s/%s for request %r", what, connection.namespace, name, request)
    return updates
