"""The kopf handlers: thin glue between watch events and the modules that do the work.

* OnlineConnection create/update/resume -> `reconcile`: validate the spec, check Secrets, keep the
  CronJob in line with `spec.schedule`, start requested runs and tests, write status.
* Secret added/changed/deleted -> re-`reconcile` the connections that reference it (an index).
* Job events -> admit a scheduled Job, or record a finished one exactly once (`job_events`).

The operator's state (settings, client, locks, caches) is built once and reaches every handler
through kopf's `memo`. No delete handler and no daemon or timer exists, so kopf never adds a
finalizer: deleting a connection works while the operator is down, and the garbage collector
removes its Jobs and CronJob through their ownerReferences.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from connector_operator import (
    job_events,
    job_tracking,
    kopf_tuning,
    naming,
    operator_state,
    secret_index,
    target_ownership,
)
from connector_operator.models import GROUP, PLURAL, VERSION
from connector_operator.reconcile import reconcile, reevaluate
from connector_operator.secrets_check import referenced_secrets

log = logging.getLogger("connector_operator")
Index = Mapping[Any, Any]


@kopf.on.startup()
def configure(*, settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    kopf_tuning.tune(settings)
    state = operator_state.from_memo(memo)
    port = state.metrics.serve(state.settings.metrics_port)
    if port is not None:
        log.info("metrics on port %s", port)


@kopf.on.probe(id="connections")
def probe_connections(*, memo: kopf.Memo, **_: Any) -> int:
    return operator_state.from_memo(memo).connection_count()


@kopf.index("", "v1", "secrets")
def secret_keys(
    *, namespace: str | None, name: str, body: kopf.Body, labels: kopf.Labels, **_: Any
) -> dict[Any, Any]:
    """Key names and labels of each Secret (never its values)."""
    return secret_index.entry(namespace, name, body, labels)


@kopf.index("batch", "v1", "jobs", labels={naming.MANAGED_BY: naming.MANAGER})
def jobs_by_connection(*, body: kopf.Body, **_: Any) -> dict[Any, Any]:
    """(connection uid, mode) -> name and running state of each of the operator's Jobs."""
    return job_tracking.index_entry(body)


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_secret(*, namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> dict[Any, Any]:
    return {(namespace, secret): name for _, secret, _ in referenced_secrets(dict(spec))}


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_target(*, body: kopf.Body, **_: Any) -> dict[Any, Any]:
    """Target identity -> claim of each connection (one target source belongs to one connection)."""
    return dict(target_ownership.index_entry(body))


def _revisit(state: operator_state.OperatorState, claims: Any, secret_keys: Index | None) -> None:
    """Reconcile connections whose target another connection just left (one may now own it)."""
    for claim in claims:
        other = state.kube.get_connection(claim.namespace, claim.name)
        if other is not None:
            reconcile(state, other, secret_index.lookup(secret_keys, claim.namespace))


@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.update(GROUP, VERSION, PLURAL, backoff=3)
def reconcile_connection(
    *,
    body: kopf.Body,
    namespace: str | None,
    memo: kopf.Memo,
    secret_keys: Index | None = None,
    jobs_by_connection: Index | None = None,
    connections_by_target: Index | None = None,
    **_: Any,
) -> None:
    state = operator_state.from_memo(memo)
    state.jobs.attach(jobs_by_connection)
    state.targets.attach(connections_by_target)
    try:
        lookup = secret_index.lookup(secret_keys, namespace)
        left = reconcile(state, copy.deepcopy(dict(body)), lookup, fresh=False)
        _revisit(state, left, secret_keys)
    except ApiException as error:
        raise kopf.TemporaryError(f"Kubernetes API error {error.status}: {error.reason}", delay=3) from error


@kopf.on.event(GROUP, VERSION, PLURAL)
async def connection_deleted(
    *,
    event: kopf.RawEvent,
    uid: str,
    namespace: str | None,
    name: str,
    memo: kopf.Memo,
    secret_keys: Index | None = None,
    connections_by_target: Index | None = None,
    **_: Any,
) -> None:
    """Forget a deleted connection's metrics and memory; an event handler, so no finalizer is needed.
    The next connection waiting for its target, if any, is reconciled (it now owns the target)."""
    if event.get("type") == "DELETED":
        state = operator_state.from_memo(memo)
        state.metrics.forget(namespace or "", name)
        state.forget(uid)
        state.targets.attach(connections_by_target)
        waiting = state.targets.departed(event.get("object") or {})
        if waiting:
            await asyncio.to_thread(_revisit, state, waiting, secret_keys)


@kopf.on.event("", "v1", "secrets")
async def secret_changed(
    *,
    event: kopf.RawEvent,
    namespace: str | None,
    name: str,
    memo: kopf.Memo,
    secret_keys: Index | None = None,
    connections_by_secret: Index | None = None,
    **_: Any,
) -> None:
    """Async, so the many Secret events that concern no connection never wait for a worker thread."""
    if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
        return  # the initial listing: resume handlers already evaluate every connection
    names = sorted(set((connections_by_secret or {}).get((namespace, name), [])))
    if names:
        state = operator_state.from_memo(memo)
        lookup = secret_index.lookup(secret_keys, namespace)
        await asyncio.to_thread(reevaluate, state, namespace or "", name, names, lookup)


@kopf.on.event("batch", "v1", "jobs", labels={naming.MANAGED_BY: naming.MANAGER})
async def job_changed(
    *,
    event: kopf.RawEvent,
    body: kopf.Body,
    namespace: str | None,
    memo: kopf.Memo,
    secret_keys: Index | None = None,
    jobs_by_connection: Index | None = None,
    **_: Any,
) -> None:
    """Async filter: most Job events (progress updates) need no work and no worker thread."""
    state = operator_state.from_memo(memo)
    state.jobs.attach(jobs_by_connection)
    state.jobs.seen(body)
    job = copy.deepcopy(dict(body))
    deleted = event.get("type") == "DELETED"
    if job_events.needs_work(job, deleted):
        lookup = secret_index.lookup(secret_keys, namespace)
        await asyncio.to_thread(job_events.handle_job, state, job, lookup, deleted)
