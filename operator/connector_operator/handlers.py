"""The kopf handlers: thin glue between watch events and the reconciling functions below.

* OnlineConnection create/update/resume -> `reconcile`: validate the spec, check Secrets, keep the
  CronJob in line with `spec.schedule`, start requested runs and tests, write status.
* Secret added/changed/deleted -> re-`reconcile` the connections that reference it (an index).
* Job events -> admit a scheduled Job, or record a finished one exactly once.

No delete handler and no daemon or timer exists, so kopf never adds a finalizer: deleting a
connection works while the operator is down, and the garbage collector removes its Jobs and CronJob
through their ownerReferences. All status writes go through `Kube.update_status` (optimistic
concurrency); work on one connection is serialized by a per-connection lock in this process.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from connector_operator import conditions, cron, job_tracking, naming
from connector_operator import status as status_rules
from connector_operator.cronjob_builder import build_cronjob
from connector_operator.job_builder import Connection, build_job
from connector_operator.kube import Kube
from connector_operator.models import GROUP, PLURAL, VERSION, OnlineConnectionSpec
from connector_operator.run_config_render import target_key
from connector_operator.secrets_check import SecretInfo, SecretLookup, Verdict, evaluate, referenced_secrets
from connector_operator.settings import Settings

try:  # the metrics module is optional: the operator works without it
    from connector_operator import metrics as _metrics
except ImportError:  # pragma: no cover
    _metrics = None  # type: ignore[assignment]

log = logging.getLogger("connector_operator")
SETTINGS = Settings.from_env()
_kube: Kube | None = None
_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()
_queued_notices: set[tuple[str, str]] = set()
_jobs = job_tracking.ActiveJobs()
_without_cronjob: set[str] = set()
_cronjob_verified: dict[str, tuple[str, float]] = {}  # uid -> (spec hash, when it was last ensured)
CRONJOB_RECHECK_SECONDS = 60.0  # connection uids known to have no CronJob: saves a DELETE per reconcile


def kube() -> Kube:
    global _kube  # noqa: PLW0603 - one client per process, created lazily after kopf logged in
    if _kube is None:
        _kube = Kube()
    return _kube


@contextmanager
def connection_lock(uid: str) -> Iterator[None]:
    with _locks_guard:
        lock = _locks.setdefault(uid, threading.RLock())
    with lock:
        yield


def _metric(name: str, *args: Any) -> None:
    function = getattr(_metrics, name, None) if _metrics is not None else None
    if function is None:
        return
    try:
        function(*args)
    except Exception:  # metrics must never break reconciliation
        log.exception("metrics.%s failed", name)


def _remember_indexes(kwargs: Mapping[str, Any]) -> None:
    if _jobs.index is None and kwargs.get("jobs_by_connection") is not None:
        _jobs.index = kwargs["jobs_by_connection"]


def _lookup(index: Mapping[Any, Any] | None, namespace: str) -> SecretLookup:
    def lookup(name: str) -> SecretInfo | None:
        if index is None:
            return None
        store = index.get((namespace, name))
        if not store:
            return None
        for info in store:
            if isinstance(info, SecretInfo):
                return info
        return None

    return lookup


def _plain(body: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(body))


# --- startup ------------------------------------------------------------------------------------


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=naming.KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=naming.KOPF_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{naming.KOPF_PREFIX}/finalizer"
    settings.posting.reporting_component = naming.MANAGER
    settings.posting.level = logging.WARNING
    settings.execution.max_workers = 32
    settings.batching.worker_limit = 256
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.chunk_size = 500
    settings.networking.request_timeout = 60
    # Our handlers are level-based and idempotent: a short wait for kopf's own patch is enough.
    settings.persistence.consistency_timeout = 1.0
    if SETTINGS.metrics_port >= 0 and _metrics is not None:
        starter = getattr(_metrics, "start_metrics_server", None)
        if starter is not None:
            server = starter(SETTINGS.metrics_port)
            log.info("metrics on port %s", getattr(server, "port", SETTINGS.metrics_port))


@kopf.on.probe(id="connections")
def probe_connections(**_: Any) -> int:
    return len(_locks)


# --- indexes --------------------------------------------------------------------------------------


@kopf.index("", "v1", "secrets")
def secret_keys(**kwargs: Any) -> dict[Any, Any]:
    """Key names and labels of each Secret (never its values)."""
    namespace, name, body, labels = kwargs["namespace"], kwargs["name"], kwargs["body"], kwargs["labels"]
    keys = frozenset((body.get("data") or {}).keys()) | frozenset((body.get("stringData") or {}).keys())
    return {(namespace, name): SecretInfo(keys=keys, labels=dict(labels))}


@kopf.index("batch", "v1", "jobs", labels={naming.MANAGED_BY: naming.MANAGER})
def jobs_by_connection(**kwargs: Any) -> dict[Any, Any]:
    """(connection uid, mode) -> name and running state of each of the operator's Jobs."""
    return job_tracking.index_entry(kwargs["body"])


@kopf.index(GROUP, VERSION, PLURAL)
def connections_by_secret(**kwargs: Any) -> dict[Any, Any]:
    namespace, name, spec = kwargs["namespace"], kwargs["name"], kwargs["spec"]
    return {(namespace, secret): name for _, secret, _ in referenced_secrets(dict(spec))}


# --- connections ----------------------------------------------------------------------------------


@kopf.on.resume(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.create(GROUP, VERSION, PLURAL, backoff=3)
@kopf.on.update(GROUP, VERSION, PLURAL, backoff=3)
def reconcile_connection(**kwargs: Any) -> None:
    _remember_indexes(kwargs)
    plain = _plain(kwargs["body"])
    try:
        reconcile(plain, _lookup(kwargs.get("secret_keys"), plain["metadata"]["namespace"]), fresh=False)
    except ApiException as error:
        raise kopf.TemporaryError(f"Kubernetes API error {error.status}: {error.reason}", delay=3) from error


@kopf.on.event(GROUP, VERSION, PLURAL)
async def connection_deleted(**kwargs: Any) -> None:
    """Forget a deleted connection's metrics and memory; an event handler, so no finalizer is needed."""
    if kwargs["event"].get("type") != "DELETED":
        return
    uid = kwargs["uid"]
    _metric("forget", kwargs["namespace"], kwargs["name"])
    with _locks_guard:
        _locks.pop(uid, None)
    _without_cronjob.discard(uid)
    _cronjob_verified.pop(uid, None)


@kopf.on.event("", "v1", "secrets")
async def secret_changed(**kwargs: Any) -> None:
    """Async, so the many Secret events that concern no connection never wait for a worker thread."""
    _remember_indexes(kwargs)
    event, namespace, name = kwargs["event"], kwargs["namespace"], kwargs["name"]
    if event.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
        return  # the initial listing: resume handlers already evaluate every connection
    names = sorted(set(kwargs["connections_by_secret"].get((namespace, name), [])))
    if names:
        lookup = _lookup(kwargs.get("secret_keys"), namespace)
        await asyncio.to_thread(_reevaluate, namespace, name, names, lookup)


def _reevaluate(namespace: str, secret: str, names: list[str], lookup: SecretLookup) -> None:
    for connection_name in names:
        body = kube().get_connection(namespace, connection_name)
        if body is not None:
            log.info("Secret %s/%s changed: re-evaluating %s", namespace, secret, connection_name)
            reconcile(body, lookup)


def _connection(body: Mapping[str, Any]) -> Connection:
    metadata = body["metadata"]
    return Connection(name=metadata["name"], namespace=metadata["namespace"], uid=metadata["uid"])


def reconcile(body: dict[str, Any], lookup: SecretLookup, *, fresh: bool = True) -> None:
    """Bring one connection's CronJob, requested runs and status in line with its spec.

    `fresh=False` trusts `body` (kopf's copy, current as of the event): a stale status can only make
    a request be seen again, and its deterministic Job name then finds the existing Job.
    """
    connection = _connection(body)
    with connection_lock(connection.uid):
        current = kube().get_connection(connection.namespace, connection.name) if fresh else body
        if current is None or current["metadata"].get("uid") != connection.uid:
            return
        _reconcile_locked(current, connection, lookup)


def _reconcile_locked(body: dict[str, Any], connection: Connection, lookup: SecretLookup) -> None:
    generation = body["metadata"].get("generation")
    verdict = evaluate(body.get("spec") or {}, lookup, SETTINGS)
    status = body.get("status") or {}
    next_run: str | None = None
    if verdict.spec is not None and verdict.spec.schedule is not None:
        schedule = verdict.spec.schedule
        try:
            next_run = status_rules.now_text(cron.next_run(schedule.cron, schedule.time_zone, _now()))
        except cron.CronError as error:
            verdict = Verdict(False, conditions.INVALID_SPEC, f"spec.schedule: {error}", verdict.spec)
    updates = _handle_requests(body, connection, verdict)  # first: request-to-Job latency matters
    verdict = _sync_cronjob(connection, verdict, status)
    if (
        verdict.spec is None
        or verdict.spec.schedule is None
        or verdict.spec.schedule.suspend
        or not verdict.ready
    ):
        next_run = None

    def mutate(current: dict[str, Any]) -> dict[str, Any]:
        now = status_rules.now_text()
        current["observedGeneration"] = generation
        items = conditions.set_condition(
            current.get("conditions") or [],
            conditions.READY,
            verdict.ready,
            verdict.reason,
            verdict.message,
            generation=generation,
            now=now,
        )
        if updates.get("activeJob"):
            current["activeJob"] = updates["activeJob"]
            items = conditions.set_condition(
                items,
                conditions.RUNNING,
                True,
                conditions.RUN_IN_PROGRESS,
                f"run {updates['activeJob']} in progress",
                generation=generation,
                now=now,
            )
        elif conditions.find(items, conditions.RUNNING) is None:
            items = conditions.set_condition(
                items,
                conditions.RUNNING,
                False,
                conditions.IDLE,
                "no run in progress",
                generation=None,
                now=now,
            )
        current["conditions"] = items
        if next_run:
            current["nextScheduledRun"] = next_run
        else:
            current.pop("nextScheduledRun", None)
        handled = dict(current.get("handledRequests") or {})
        for key in ("run", "test"):
            if key in updates:
                handled[key] = updates[key]
        if handled:
            current["handledRequests"] = handled
        current.setdefault("consecutiveFailures", 0)
        return current

    kube().update_status(connection.namespace, connection.name, mutate, body=body)
    _metric("set_ready", connection.namespace, connection.name, verdict.ready)


def _now() -> datetime:
    return datetime.now(UTC)


def _sync_cronjob(connection: Connection, verdict: Verdict, status: dict[str, Any]) -> Verdict:
    spec = verdict.spec
    name = naming.cronjob_name(connection.name)
    if spec is None:
        return verdict  # an invalid spec leaves an existing CronJob alone: nothing safe to render
    if spec.schedule is None:
        if connection.uid not in _without_cronjob:
            if kube().delete_cronjob(connection.namespace, name):
                log.info("schedule removed: deleted CronJob %s/%s", connection.namespace, name)
            _without_cronjob.add(connection.uid)
            _cronjob_verified.pop(connection.uid, None)
        return verdict
    _without_cronjob.discard(connection.uid)
    previous = status_rules.previous_content_hash(status, target_key(spec))
    desired = build_cronjob(connection, spec, SETTINGS, ready=verdict.ready, previous_content_hash=previous)
    wanted = desired["metadata"]["annotations"][naming.SPEC_HASH_ANNOTATION]
    verified = _cronjob_verified.get(connection.uid)
    if verified and verified[0] == wanted and time.monotonic() - verified[1] < CRONJOB_RECHECK_SECONDS:
        return verdict  # applied moments ago: spare the API server a GET per reconcile
    try:
        kube().ensure_cronjob(desired)
        _cronjob_verified[connection.uid] = (wanted, time.monotonic())
    except ApiException as error:
        if error.status == 422:
            detail = _api_message(error)
            return Verdict(False, conditions.INVALID_SPEC, f"spec.schedule rejected: {detail}", spec)
        raise
    return verdict


def _api_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message", error.reason))[:512]
    except (TypeError, ValueError):
        return str(error.reason)


def _active_jobs(connection: Connection, mode: str) -> list[str]:
    """Names of the connection's running Jobs of one mode: from the index, else by a LIST call."""
    names = _jobs.active(connection.uid, mode)
    if names is not None:
        return names
    jobs = kube().list_jobs(connection.namespace, connection.uid, mode)
    return [j["metadata"]["name"] for j in jobs if status_rules.job_active(j)]


def _handle_requests(body: dict[str, Any], connection: Connection, verdict: Verdict) -> dict[str, Any]:
    """Start the run or test asked for by the request annotations, at most one of each at a time."""
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
            kube().post_event(
                body, "Warning", f"{key.capitalize()}Rejected", f"{what} not started: {verdict.message}"
            )
            continue
        job = build_job(
            connection,
            verdict.spec,
            SETTINGS,
            mode=mode,  # type: ignore[arg-type]
            request=request,
            previous_content_hash=status_rules.previous_content_hash(
                body.get("status") or {}, target_key(verdict.spec)
            ),
        )
        name = job["metadata"]["name"]
        active = [j for j in _active_jobs(connection, mode) if j != name]
        if active:
            notice = (connection.uid, request)
            if notice not in _queued_notices:
                _queued_notices.add(notice)
                kube().post_event(
                    body,
                    "Normal",
                    f"{key.capitalize()}Queued",
                    f"{what} request {request!r} waits for {active[0]} to finish",
                )
            continue
        created = kube().create_job(job)
        _jobs.created(connection.uid, mode, name)
        updates[key] = request
        if mode == "import":
            updates["activeJob"] = name
        if created:
            kube().post_event(
                body, "Normal", "RunStarted" if mode == "import" else "ConnectionTestStarted", f"{name}"
            )
            log.info("started %s %s/%s for request %r", what, connection.namespace, name, request)
    return updates


# --- jobs -----------------------------------------------------------------------------------------


def _owner(job: Mapping[str, Any]) -> tuple[str, str] | None:
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


@kopf.on.event("batch", "v1", "jobs", labels={naming.MANAGED_BY: naming.MANAGER})
async def job_changed(**kwargs: Any) -> None:
    """Async filter: most Job events (progress updates) need no work and no worker thread."""
    _remember_indexes(kwargs)
    body = kwargs["body"]
    _jobs.seen(body)
    annotations = body.get("metadata", {}).get("annotations") or {}
    labels = body.get("metadata", {}).get("labels") or {}
    job = _plain(body)
    waiting = (
        bool((job.get("spec") or {}).get("suspend")) and annotations.get(naming.ADMITTED_ANNOTATION) != "true"
    )
    if kwargs["event"].get("type") == "DELETED":
        # A Job deleted before it was recorded (by hand, or finished while unrecorded) is recorded now,
        # so that a run never silently disappears; skipped scheduled Jobs never started.
        if annotations.get(naming.RECORDED_ANNOTATION) == "true" or (
            waiting and labels.get(naming.TRIGGER_LABEL) == "schedule"
        ):
            return
        await asyncio.to_thread(_handle_job, job, kwargs.get("secret_keys"), True)
        return
    if status_rules.job_finished(job):
        if annotations.get(naming.RECORDED_ANNOTATION) == "true":
            return
    elif not (
        (job.get("spec") or {}).get("suspend")
        and labels.get(naming.TRIGGER_LABEL) == "schedule"
        and annotations.get(naming.ADMITTED_ANNOTATION) != "true"
    ):
        return
    await asyncio.to_thread(_handle_job, job, kwargs.get("secret_keys"))


def _handle_job(job: dict[str, Any], secret_keys: Mapping[Any, Any] | None, deleted: bool = False) -> None:
    owner = _owner(job)
    if owner is None:
        return
    namespace = job["metadata"]["namespace"]
    connection = Connection(name=owner[0], namespace=namespace, uid=owner[1])
    lookup = _lookup(secret_keys, namespace)
    if deleted or status_rules.job_finished(job):
        _with_retries(lambda: record_job(connection, job))
        follow_up = kube().get_connection(namespace, connection.name)
        if follow_up is not None:
            reconcile(follow_up, lookup)  # pending requests, the next content hash, nextScheduledRun
    else:
        _with_retries(lambda: admit_scheduled_job(connection, job, lookup))


def _with_retries(action: Callable[[], None], attempts: int = 5) -> None:
    for attempt in range(attempts):
        try:
            action()
            return
        except ApiException as error:
            if attempt == attempts - 1:
                raise
            log.warning("Kubernetes API error %s (%s); retrying", error.status, error.reason)
            time.sleep(0.5 * 2**attempt)


def admit_scheduled_job(connection: Connection, job: dict[str, Any], lookup: SecretLookup) -> None:
    """Let a scheduled Job start when no other run is active; else delete it as skipped."""
    name = job["metadata"]["name"]
    namespace = connection.namespace
    with connection_lock(connection.uid):
        body = kube().get_connection(namespace, connection.name)
        if body is None or body["metadata"].get("uid") != connection.uid:
            kube().delete_job(namespace, name)
            return
        verdict = evaluate(body.get("spec") or {}, lookup, SETTINGS)
        spec: OnlineConnectionSpec | None = verdict.spec
        reason = ""
        if not verdict.ready:
            reason = f"the connection is not Ready ({verdict.reason})"
        elif spec is None or spec.schedule is None or spec.schedule.suspend:
            reason = "the schedule is suspended or removed"
        else:
            active = [j for j in _active_jobs(connection, "import") if j != name]
            if active:
                reason = f"run {active[0]} is still in progress"
        if reason:
            kube().delete_job(namespace, name)
            kube().post_event(body, "Warning", "ScheduledRunSkipped", f"{name} skipped: {reason}")
            log.info("skipped scheduled job %s/%s: %s", namespace, name, reason)
            return
        kube().patch_job(
            namespace,
            name,
            {"metadata": {"annotations": {naming.ADMITTED_ANNOTATION: "true"}}, "spec": {"suspend": False}},
        )

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            current["activeJob"] = name
            current["conditions"] = conditions.set_condition(
                current.get("conditions") or [],
                conditions.RUNNING,
                True,
                conditions.RUN_IN_PROGRESS,
                f"scheduled run {name} in progress",
                generation=None,
                now=status_rules.now_text(),
            )
            return current

        kube().update_status(namespace, connection.name, mutate, body=body)
        kube().post_event(body, "Normal", "RunStarted", f"{name} (schedule)")
        log.info("admitted scheduled job %s/%s", namespace, name)


def record_job(connection: Connection, job: dict[str, Any]) -> None:
    """Write a finished Job's outcome to the connection's status, post its Event: exactly once.

    The Job name in status (history, lastRun, lastTest) is the idempotence key, checked inside the
    optimistic status update; the `recorded` annotation on the Job only saves work afterwards.
    """
    metadata = job["metadata"]
    name, namespace = metadata["name"], metadata["namespace"]
    test = (metadata.get("labels") or {}).get(naming.MODE_LABEL) == "check"
    with connection_lock(connection.uid):
        body = kube().get_connection(namespace, connection.name)
        if body is None or body["metadata"].get("uid") != connection.uid:
            return
        record = status_rules.outcome(job, kube().list_pods(namespace, name))
        history_limit = int(((body.get("spec") or {}).get("run") or {}).get("historyLimit") or 5)
        now = status_rules.now_text()

        def mutate(current: dict[str, Any]) -> dict[str, Any] | None:
            if name in status_rules.recorded_jobs(current):
                return None
            if test:
                return status_rules.apply_test(current, record, now=now)
            return status_rules.apply_run(current, record, history_limit=history_limit, now=now)

        written = kube().update_status(namespace, connection.name, mutate, body=body)
        if written is not None:
            kind, reason, message = status_rules.event_for(record, test=test)
            kube().post_event(body, kind, reason, message)
            if not test:
                _metric(
                    "record_run",
                    namespace,
                    connection.name,
                    record["result"],
                    record.get("durationSeconds"),
                    int((record.get("push") or {}).get("created", 0))
                    + int((record.get("push") or {}).get("updated", 0)),
                )
            log.info(
                "recorded %s %s/%s: %s (%s)",
                "test" if test else "run",
                namespace,
                name,
                record["result"],
                record["reason"],
            )
        try:
            kube().patch_job(
                namespace, name, {"metadata": {"annotations": {naming.RECORDED_ANNOTATION: "true"}}}
            )
        except ApiException as error:
            if error.status != 404:
                raise
        _prune_jobs(connection, history_limit, "check" if test else "import")


def _prune_jobs(connection: Connection, keep: int, mode: str) -> None:
    """Keep the newest `keep` recorded, finished Jobs of one mode; delete older ones."""
    jobs = [
        j
        for j in kube().list_jobs(connection.namespace, connection.uid, mode)
        if status_rules.job_finished(j)
        and (j["metadata"].get("annotations") or {}).get(naming.RECORDED_ANNOTATION) == "true"
    ]
    jobs.sort(key=lambda j: j["metadata"].get("creationTimestamp", ""), reverse=True)
    for old in jobs[keep:]:
        kube().delete_job(connection.namespace, old["metadata"]["name"])
