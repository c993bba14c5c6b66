"""The kopf handlers: thin glue between watch events and the modules that do the work.

* OnlineConnection create/update/resume -> `reconcile`; a new request value or a deletion -> the
  connection event handler (request annotations are kept out of kopf's diff-base).
* Secrets are not watched: each reconcile GETs the Secrets the connection references, and one loop
  started at startup re-checks the connections whose Secrets failed (or all, less often) (`secret_recheck`).
* Job events -> admit a scheduled Job, or record a finished one exactly once (`job_events`).
* CronJob events -> repair a CronJob someone else changed or deleted (`cronjob_watch`).

The state (settings, client, locks, caches) is built once and reaches every handler through kopf's
`memo`. No delete handler, daemon or timer exists, so kopf never adds a finalizer.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from connector_operator import (
    cronjob_watch,
    job_events,
    job_tracking,
    kopf_tuning,
    naming,
    run_requests,
    secret_recheck,
)
from connector_operator import operator_state as states
from connector_operator.cluster_identity import kube_system_uid, resolve_cluster_id
from connector_operator.models import GROUP, PLURAL, VERSION
from connector_operator.reconcile import reconcile
from connector_operator.target_ownership import Claim, index_entry

Index = Mapping[Any, Any]
MANAGED = {naming.MANAGED_BY: naming.MANAGER}


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    kopf_tuning.tune(settings)
    state = states.from_memo(memo)
    state.settings = resolve_cluster_id(state.settings, lambda: kube_system_uid(state.kube))
    state.metrics.serve(state.settings.metrics_port)


@kopf.on.startup()
async def start_secret_recheck(
    *, memo: kopf.Memo, connections_with_secrets: Index | None = None, **_: Any
) -> None:
    """The loop that re-checks connections whose Secrets failed (Secrets themselves are not watched)."""
    state = states.from_memo(memo)
    state.background.append(asyncio.create_task(secret_recheck.run(state, connections_with_secrets)))


@kopf.on.cleanup()
async def stop_background(*, memo: kopf.Memo, **_: Any) -> None:
    for task in states.from_memo(memo).background:
        task.cancel()


@kopf.on.probe(id="connections")
def probe_connections(*, memo: kopf.Memo, **_: Any) -> int:
    return states.from_memo(memo).connection_count()


@kopf.index("batch", "v1", "jobs", labels=MANAGED)
def jobs_by_connection(*, body: kopf.Body, **_: Any) -> object:
    """(connection uid, mode) -> name, running state and controller of each of the operator's Jobs."""
    return job_tracking.index_entry(body)


@kopf.index(GROUP, VERSION, PLURAL)
def connections_with_secrets(*, body: kopf.Body, **_: Any) -> object:
    """(namespace, name) -> "failing"/"ready" of each connection whose Secrets are to be re-checked."""
    return secret_recheck.index_entry(body)


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_target(*, body: kopf.Body, **_: Any) -> object:
    """Target identity -> claim of each connection (one target source belongs to one connection)."""
    return index_entry(body)


def _revisit(state: states.OperatorState, claims: list[Claim]) -> None:
    """Reconcile the connections whose target another one just left: one of them may now own it."""
    for claim in claims:
        if (other := state.kube.get_connection(claim.namespace, claim.name)) is not None:
            reconcile(state, other, state.secrets(claim.namespace))


@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.update(GROUP, VERSION, PLURAL, backoff=3)
def reconcile_connection(
    *, body: kopf.Body, namespace: str | None, memo: kopf.Memo, jobs_by_connection: Index | None = None,
    connections_by_target: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    state = states.from_memo(memo, jobs_by_connection)
    state.targets.attach(connections_by_target)
    try:
        reconcile(state, copy.deepcopy(dict(body)), state.secrets(namespace), fresh=False)
        _revisit(state, state.targets.take_left())
    except ApiException as error:
        raise kopf.TemporaryError(f"Kubernetes API error {error.status}: {error.reason}", delay=3) from error


@kopf.on.event(GROUP, VERSION, PLURAL)
async def connection_event(
    *, event: kopf.RawEvent, body: kopf.Body, uid: str, namespace: str | None, name: str, memo: kopf.Memo,
    jobs_by_connection: Index | None = None, connections_by_target: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """A deletion (memory and metrics forgotten; no finalizer needed; the next connection waiting for
    its target reconciled), or a new request value."""
    state = states.from_memo(memo, jobs_by_connection)
    state.targets.attach(connections_by_target)
    if event.get("type") == "DELETED":
        state.metrics.forget(namespace or "", name)
        state.forget(uid)
        if waiting := state.targets.departed(dict(body)):
            await asyncio.to_thread(_revisit, state, waiting)
    elif event.get("type") == "MODIFIED" and run_requests.pending(body):
        current, found = copy.deepcopy(dict(body)), state.secrets(namespace)  # read afresh: no watch
        await asyncio.to_thread(
            job_events.with_retries, lambda: reconcile(state, current, found, fresh=False)
        )


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
async def job_changed(
    *, event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: kopf.Memo,
    jobs_by_connection: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """Async filter: most Job events (progress updates) need no work and no worker thread."""
    state = states.from_memo(memo, jobs_by_connection)
    state.jobs.seen(body)
    job, deleted = copy.deepcopy(dict(body)), event.get("type") == "DELETED"
    if job_events.needs_work(job, deleted):
        await asyncio.to_thread(job_events.handle_job, state, job, state.secrets(namespace), deleted)


@kopf.on.event("batch", "v1", "cronjobs", labels=MANAGED)
async def cronjob_changed(
    *, event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: kopf.Memo, **_: Any,
) -> None:  # fmt: skip
    """A CronJob edited or deleted by someone else is repaired (compared in memory, no API call)."""
    state, cronjob = states.from_memo(memo), copy.deepcopy(dict(body))
    if cronjob_watch.needs_repair(state, cronjob, event.get("type") == "DELETED"):
        await asyncio.to_thread(cronjob_watch.repair, state, cronjob, state.secrets(namespace))
