"""The operator's in-process state, built once at startup and handed to handlers through kopf's memo.

Everything the handlers used to keep in module globals lives here: the settings, the Kubernetes
client, per-connection locks, the CronJob cache, the view of active Jobs and the "queued" notices
already posted. One object per operator process means tests build their own (with a fake Kubernetes)
and a deleted connection's entries are dropped in one place (`forget`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connector_operator import job_tracking, secret_reads, target_ownership
from connector_operator.metrics_sink import MetricsSink, NoMetrics
from connector_operator.secrets_check import SecretLookup, Verdict
from connector_operator.settings import Settings

if TYPE_CHECKING:
    from connector_operator.kube import Kube

CRONJOB_RECHECK_SECONDS = 60.0


def _real_kube() -> Kube:
    from connector_operator.kube import Kube  # noqa: PLC0415 - created after kopf logged in

    return Kube()


@dataclass
class OperatorState:
    settings: Settings
    metrics: MetricsSink = field(default_factory=NoMetrics)
    kube_factory: Callable[[], Kube] = _real_kube
    clock: Callable[[], float] = time.monotonic
    jobs: job_tracking.ActiveJobs = field(default_factory=job_tracking.ActiveJobs)
    targets: target_ownership.TargetClaims = field(default_factory=target_ownership.TargetClaims)
    # connection uids known to have no CronJob: saves a DELETE per reconcile
    without_cronjob: set[str] = field(default_factory=set)
    # uid -> (spec hash, when the CronJob was last ensured)
    cronjob_verified: dict[str, tuple[str, float]] = field(default_factory=dict)
    # connection uid -> uid of its CronJob, and the CronJob last rendered for it (drift checks)
    cronjob_uids: dict[str, str] = field(default_factory=dict)
    cronjob_desired: dict[str, dict[str, Any]] = field(default_factory=dict)
    _repairs: dict[str, float] = field(default_factory=dict)
    _rejections: dict[str, tuple[Any, Verdict]] = field(default_factory=dict)
    _kube: Kube | None = None
    _locks: dict[str, threading.RLock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _queued_notices: dict[str, set[str]] = field(default_factory=dict)
    background: list[asyncio.Task[None]] = field(default_factory=list)  # e.g. the Secret re-check loop

    @property
    def kube(self) -> Kube:
        if self._kube is None:
            with self._guard:
                if self._kube is None:
                    self._kube = self.kube_factory()
        return self._kube

    @contextmanager
    def connection_lock(self, uid: str) -> Iterator[None]:
        """Serialise the work on one connection within this process."""
        with self._guard:
            lock = self._locks.setdefault(uid, threading.RLock())
        with lock:
            yield

    def secrets(self, namespace: str | None) -> SecretLookup:
        """Look up a namespace's Secrets by a GET each (no Secret watch, no cache of Secrets)."""
        return secret_reads.lookup(self.kube, namespace)

    def connection_count(self) -> int:
        return len(self._locks)

    def first_queued_notice(self, uid: str, request: str) -> bool:
        """True the first time a request is seen waiting (post one Event per request, not per retry)."""
        with self._guard:
            seen = self._queued_notices.setdefault(uid, set())
            if request in seen:
                return False
            seen.add(request)
            return True

    def cronjob_fresh(self, uid: str, spec_hash: str) -> bool:
        verified = self.cronjob_verified.get(uid)
        return bool(
            verified and verified[0] == spec_hash and self.clock() - verified[1] < CRONJOB_RECHECK_SECONDS
        )

    def cronjob_ensured(
        self, uid: str, spec_hash: str, desired: dict[str, Any], cronjob_uid: str | None
    ) -> None:
        self.cronjob_verified[uid] = (spec_hash, self.clock())
        self.cronjob_desired[uid] = desired
        if cronjob_uid:
            self.cronjob_uids[uid] = cronjob_uid

    def cronjob_gone(self, uid: str) -> None:
        self.cronjob_verified.pop(uid, None)
        self.cronjob_desired.pop(uid, None)
        self.cronjob_uids.pop(uid, None)

    def reject(self, uid: str, generation: Any, verdict: Verdict) -> None:
        """The API server refused what this generation of the spec renders: remember it."""
        self._rejections[uid] = (generation, verdict)

    def rejection(self, uid: str, generation: Any) -> Verdict | None:
        """The refusal of this very generation, if any (a new generation gets a new chance)."""
        found = self._rejections.get(uid)
        if found is None or found[0] != generation:
            self._rejections.pop(uid, None)
            return None
        return found[1]

    def repair_allowed(self, uid: str) -> bool:
        """At most one drift repair per connection and minute."""
        now = self.clock()
        with self._guard:
            if now - self._repairs.get(uid, -CRONJOB_RECHECK_SECONDS) < CRONJOB_RECHECK_SECONDS:
                return False
            self._repairs[uid] = now
            return True

    def forget(self, uid: str) -> None:
        """Drop everything kept about a deleted connection."""
        with self._guard:
            self._locks.pop(uid, None)
            self._queued_notices.pop(uid, None)
            self._repairs.pop(uid, None)
            self._rejections.pop(uid, None)
        self.without_cronjob.discard(uid)
        self.cronjob_gone(uid)


def build(settings: Settings) -> OperatorState:
    """The state of a real operator process: Prometheus metrics when the client library is present."""
    metrics: MetricsSink
    try:
        from connector_operator.metrics import PrometheusMetrics  # noqa: PLC0415 - optional dependency
    except ImportError:  # pragma: no cover - the operator works without prometheus-client
        metrics = NoMetrics()
    else:
        metrics = PrometheusMetrics()
    return OperatorState(settings=settings, metrics=metrics)


def from_memo(memo: Any, jobs_index: Mapping[Any, Iterable[Any]] | None = None) -> OperatorState:
    """The state kept in kopf's memo (built from the environment when `run_operator` did not set
    it), with kopf's Job index attached once kopf hands it over."""
    state = getattr(memo, "state", None)
    if not isinstance(state, OperatorState):
        state = build(Settings.from_env())
        memo.state = state
    state.jobs.attach(jobs_index)
    return state
