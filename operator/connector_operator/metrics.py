"""The operator's Prometheus metrics and the HTTP endpoint that serves them.

Handlers call the small functions below (`record_run`, `set_ready`, `forget`); they never touch the
prometheus-client objects directly. The metrics live in a registry of their own, so importing this
module twice in tests or embedding the operator in another process cannot collide with other metrics.

Series (all prefixed `online_connector_`):

* `runs_total{namespace,name,result}`: finished runs by connection and result.
* `run_duration_seconds{namespace,name}`: histogram of run durations.
* `objects_pushed_total{namespace,name}`: objects sent to DataGalaxy.
* `last_success_timestamp_seconds{namespace,name}`: Unix time of the last successful run.
* `connection_ready{namespace,name}`: 1 when Ready is True, 0 when False, absent when unknown.
* `connections{ready}`: number of connections by Ready state (`true`, `false`, `unknown`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from connector_extractors.run_summary import SUCCESSFUL_RESULTS

_log = logging.getLogger("connector_operator")
DEFAULT_PORT: Final = 9090
PREFIX: Final = "online_connector"
ReadyState = Literal["true", "false", "unknown"]
READY_STATES: Final[tuple[ReadyState, ...]] = ("true", "false", "unknown")
# Imports take seconds on a small schema and up to hours on a large warehouse.
DURATION_BUCKETS: Final = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0)

REGISTRY: Final = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

_CONNECTION = ("namespace", "name")

RUNS = Counter(
    f"{PREFIX}_runs",
    "Finished import runs by connection and result (Succeeded, PartialSuccess, Unchanged, Failed).",
    [*_CONNECTION, "result"],
    registry=REGISTRY,
)
RUN_DURATION = Histogram(
    f"{PREFIX}_run_duration_seconds",
    "Duration of import runs, from Job start to Job end.",
    list(_CONNECTION),
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
OBJECTS_PUSHED = Counter(
    f"{PREFIX}_objects_pushed",
    "Metadata objects pushed to DataGalaxy.",
    list(_CONNECTION),
    registry=REGISTRY,
)
LAST_SUCCESS = Gauge(
    f"{PREFIX}_last_success_timestamp_seconds",
    "Unix time at which the last successful run (Succeeded, PartialSuccess or Unchanged) finished.",
    list(_CONNECTION),
    registry=REGISTRY,
)
CONNECTION_READY = Gauge(
    f"{PREFIX}_connection_ready",
    "1 when the connection's Ready condition is True, 0 when it is False.",
    list(_CONNECTION),
    registry=REGISTRY,
)
CONNECTIONS = Gauge(
    f"{PREFIX}_connections",
    "Number of OnlineConnections by Ready state.",
    ["ready"],
    registry=REGISTRY,
)
for _state in READY_STATES:
    CONNECTIONS.labels(ready=_state).set(0)

_lock = threading.Lock()
_ready: dict[tuple[str, str], ReadyState] = {}
_results: dict[tuple[str, str], set[str]] = {}


def _state_of(ready: bool | None) -> ReadyState:
    if ready is None:
        return "unknown"
    return "true" if ready else "false"


def _publish_counts() -> None:
    """Set the `connections{ready}` gauge from `_ready`. Call with `_lock` held."""
    counts = dict.fromkeys(READY_STATES, 0)
    for state in _ready.values():
        counts[state] += 1
    for state, count in counts.items():
        CONNECTIONS.labels(ready=state).set(count)


def record_run(
    namespace: str,
    name: str,
    result: str,
    duration_seconds: float | None,
    objects: int,
    *,
    finished_at: float | None = None,
) -> None:
    """Count one finished run. `objects` is the number of objects pushed (0 when nothing was pushed)."""
    with _lock:
        _results.setdefault((namespace, name), set()).add(result)
    RUNS.labels(namespace, name, result).inc()
    if duration_seconds is not None and duration_seconds >= 0:
        RUN_DURATION.labels(namespace, name).observe(duration_seconds)
    OBJECTS_PUSHED.labels(namespace, name).inc(max(objects, 0))
    if result in SUCCESSFUL_RESULTS:
        LAST_SUCCESS.labels(namespace, name).set(time.time() if finished_at is None else finished_at)


def set_ready(namespace: str, name: str, ready: bool | None) -> None:
    """Record the connection's Ready condition: True, False, or None when unknown."""
    key = (namespace, name)
    with _lock:
        _ready[key] = _state_of(ready)
        _publish_counts()
    if ready is None:
        with contextlib.suppress(KeyError):
            CONNECTION_READY.remove(namespace, name)
    else:
        CONNECTION_READY.labels(namespace, name).set(1 if ready else 0)


def forget(namespace: str, name: str) -> None:
    """Drop every series of a deleted connection, so that deleted connections do not linger."""
    key = (namespace, name)
    with _lock:
        _ready.pop(key, None)
        results = _results.pop(key, set())
        _publish_counts()
    for result in results:
        with contextlib.suppress(KeyError):
            RUNS.remove(namespace, name, result)
    for metric in (RUN_DURATION, OBJECTS_PUSHED, LAST_SUCCESS, CONNECTION_READY):
        with contextlib.suppress(KeyError):
            metric.remove(namespace, name)


def reset() -> None:
    """Forget every connection (tests, and an operator that re-lists everything after a restart)."""
    with _lock:
        keys = set(_ready) | set(_results)
    for namespace, name in keys:
        forget(namespace, name)


@dataclass(frozen=True)
class MetricsServer:
    """A running metrics endpoint; `port` is the bound port (useful when asked for port 0)."""

    port: int
    _shutdown: Callable[[], None]

    def stop(self) -> None:
        self._shutdown()


def start_metrics_server(port: int = DEFAULT_PORT, addr: str | None = None) -> MetricsServer:
    """Serve `/metrics` on `addr:port` from a daemon thread. Port 0 picks a free port.

    The address defaults to `$OLC_METRICS_ADDRESS`, else every interface (a pod's metrics port);
    tests that run the operator as a local process set it to 127.0.0.1.
    """
    address = addr or os.environ.get("OLC_METRICS_ADDRESS") or "0.0.0.0"  # noqa: S104
    server, thread = start_http_server(port, addr=address, registry=REGISTRY)

    def shutdown() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return MetricsServer(port=int(server.server_address[1]), _shutdown=shutdown)


class PrometheusMetrics:
    """The operator's `MetricsSink`: the functions above, each guarded so that metrics never break a
    reconcile."""

    def record_run(
        self, namespace: str, name: str, result: str, duration_seconds: float | None, objects: int
    ) -> None:
        try:
            record_run(namespace, name, result, duration_seconds, objects)
        except Exception:  # metrics must never break reconciliation
            _log.exception("metrics: record_run failed")

    def set_ready(self, namespace: str, name: str, ready: bool | None) -> None:
        try:
            set_ready(namespace, name, ready)
        except Exception:
            _log.exception("metrics: set_ready failed")

    def forget(self, namespace: str, name: str) -> None:
        try:
            forget(namespace, name)
        except Exception:
            _log.exception("metrics: forget failed")

    def serve(self, port: int) -> int | None:
        if port < 0:
            return None
        bound = start_metrics_server(port).port
        _log.info("metrics on port %s", bound)
        return bound
