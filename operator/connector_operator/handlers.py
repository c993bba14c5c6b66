"""The kopf handlers: thin glue between watch events and the modules that do the work.

* OnlineConnection create/update/resume -> `reconcile`; a new request value or a deletion -> the
  connection event handler (request annotations are kept out of kopf's diff-base).
* Secret added/changed/deleted -> re-`reconcile` the connections that reference it (an index).
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

from connector_operator import cronjob_watch, job_events, job_tracking, kopf_tuning, naming, run_requests
from connector_operator import operator_state as states
from connector_operator.cluster_identity import kube_system_uid, resolve_cluster_id
from connector_operator.models import GROUP, PLURAL, VERSION
from connector_operator.reconcile import reconcile, reevaluate
from connector_operator.secret_index import entry, lookup
from connector_operator.secrets_check import referenced_secrets
from connector_operator.target_ownership import Claim, index_entry

Index = Mapping[Any, Any]
MANAGED = {naming.MANAGED_BY: naming.MANAGER}


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    kopf_tuning.tune(settings)
    state = states.from_memo(memo)
    state.settings = resolve_cluster_id(state.settings, lambda: kube_system_uid(state.kube))
    state.metrics.serve(state.settings.metrics_port)


@kopf.on.probe(id="connections")
def probe_connections(*, memo: kopf.Memo, **_: Any) -> int:
    return states.from_memo(memo).connection_count()


@kopf.index("", "v1", "secrets")
def secret_keys(
    *, namespace: str | None, name: str, body: kopf.Body, labels: kopf.Labels, **_: Any
) -> object:
    """Key names and labels of each Secret (never its values)."""
    return entry(namespace, name, body, labels)


@kopf.index("batch", "v1", "jobs", labels=MANAGED)
def jobs_by_connection(*, body: kopf.Body, **_: Any) -> object:
    """(connection uid, mode) -> name, running state and controller of each of the operator's Jobs."""
    return job_tracking.index_entry(body)


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_secret(*, namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> object:
    return {(namespace, secret): name for _, secret, _ in referenced_secrets(dict(spec))}


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_target(*, body: kopf.Body, **_: Any) -> object:
    """Target identity -> claim of each connection (one target source belongs to one connection)."""
    return index_entry(body)


def _revisit(state: states.OperatorState, claims: list[Claim], secrets: Index | None) -> None:
    """Reconcile the connections whose target another one just left: one of them may now own it."""
    for claim in claims:
        if (other := state.kube.get_connection(claim.namespace, claim.name)) is not None:
            reconcile(state, other, lookup(secrets, claim.namespace))


@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.update(GROUP, VERSION, PLURAL, backoff=3)
def reconcile_connection(
    *, body: kopf.Body, namespace: str | None, memo: kopf.Memo, secret_keys: Index | None = None,
    jobs_by_connection: Index | None = None, connections_by_target: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    state = states.from_memo(memo, jobs_by_connection)
    state.targets.attach(connections_by_target)
    try:
        reconcile(state, copy.deepcopy(dict(body)), lookup(secret_keys, namespace), fresh=False)
        _revisit(state, state.targets.take_left(), secret_keys)
    except ApiException as error:
        raise kopf.TemporaryError(f"Kubernetes API error {error.status}: {error.reason}", delay=3) from error


@kopf.on.event(GROUP, VERSION, PLURAL)
async def connection_event(
    *, event: kopf.RawEvent, body: kopf.Body, uid: str, namespace: str | None, name: str, memo: kopf.Memo,
    secret_keys: Index | None = None, jobs_by_connection: Index | None = None,
    connections_by_target: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """A deletion (memory and metrics forgotten; no finalizer needed; the next connection waiting for
    its target reconciled), or a new request value."""
    state = states.from_memo(memo, jobs_by_connection)
    state.targets.attach(connections_by_target)
    if event.get("type") == "DELETED":
        state.metrics.forget(namespace or "", name)
        state.forget(uid)
        if waiting := state.targets.departed(dict(body)):
            await asyncio.to_thread(_revisit, state, waiting, secret_keys)
    elif event.get("type") == "MODIFIED" and run_requests.pending(body):
        current, found = copy.deepcopy(dict(body)), lookup(secret_keys, namespace)
        await asyncio.to_thread(
            job_events.with_retries, lambda: reconcile(state, current, found, fresh=False)
        )


@kopf.on.event("", "v1", "secrets")
async def secret_changed(
    *, event: kopf.RawEvent, namespace: str | None, name: str, memo: kopf.Memo,
    secret_keys: Index | None = None, connections_by_secret: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """Async, so the many Secret events that concern no connection never wait for a worker thread."""
    if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
        return  # the initial listing: resume handlers already evaluate every connection
    names = sorted(set((connections_by_secret or {}).get((namespace, name), [])))
    if names:
        found = lookup(secret_keys, namespace)
        await asyncio.to_thread(reevaluate, states.from_memo(memo), namespace or "", name, names, found)


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
async def job_changed(
    *, event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: kopf.Memo,
    secret_keys: Index | None = None, jobs_by_connection: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """Async filter: most Job events (progress updates) need no work and no worker thread."""
    state = states.from_memo(memo, jobs_by_connection)
    state.jobs.seen(body)
    job, deleted = copy.deepcopy(dict(body)), event.get("type") == "DELETED"
    if job_events.needs_work(job, deleted):
        await asyncio.to_thread(job_events.handle_job, state, job, lookup(secret_keys, namespace), deleted)


@kopf.on.event("batch", "v1", "cronjobs", labels=MANAGED)
async def cronjob_changed(
    *, event: kopf.RawEvent, body: kopf.Body, namespace: str | None, memo: kopf.Memo,
    secret_keys: Index | None = None, **_: Any,
) -> None:  # fmt: skip
    """A CronJob edited or deleted by someone else is repaired (compared in memory, no API call)."""
    state, cronjob = states.from_memo(memo), copy.deepcopy(dict(body))
    if cronjob_watch.needs_repair(state, cronjob, event.get("type") == "DELETED"):
        await asyncio.to_thread(cronjob_watch.repair, state, cronjob, lookup(secret_keys, namespace))
