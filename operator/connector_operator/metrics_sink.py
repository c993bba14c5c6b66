"""What the reconciling code reports to metrics: a typed interface, and a sink that reports nothing.

Handlers and runs call these methods on the sink held by the operator state; the Prometheus
implementation lives in `metrics` (optional dependency). A failing metric never breaks a reconcile.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("connector_operator")


class MetricsSink(Protocol):
    def record_run(
        self, namespace: str, name: str, result: str, duration_seconds: float | None, objects: int
    ) -> None: ...

    def set_ready(self, namespace: str, name: str, ready: bool | None) -> None: ...

    def forget(self, namespace: str, name: str) -> None: ...

    def serve(self, port: int) -> int | None:
        """Start the HTTP endpoint; the bound port, or None when there is none."""
        ...


class NoMetrics:
    def record_run(
        self, namespace: str, name: str, result: str, duration_seconds: float | None, objects: int
    ) -> None:
        return None

    def set_ready(self, namespace: str, name: str, ready: bool | None) -> None:
        return None

    def forget(self, namespace: str, name: str) -> None:
        return None

    def serve(self, port: int) -> int | None:
        return None
