"""The Argo CD health check, run by a real Lua interpreter on sample OnlineConnection statuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.argocd import run_health

T = "2026-11-25T10:00:00Z"


def connection(
    *,
    generation: int = 2,
    observed: int | None = 2,
    conditions: list[dict[str, Any]] | None = None,
    suspend: bool | None = None,
    status: bool = True,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"source": {"technology": "postgresql", "host": "db"}}
    if suspend is not None:
        spec["schedule"] = {"cron": "@daily", "suspend": suspend}
    obj: dict[str, Any] = {
        "apiVersion": "connectors.datagalaxy.com/v1alpha1",
        "kind": "OnlineConnection",
        "metadata": {"name": "pg", "namespace": "sales", "generation": generation},
        "spec": spec,
    }
    if status:
        obj["status"] = {"observedGeneration": observed, "conditions": conditions or []}
    return obj


def cond(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": T}


READY = cond("Ready", "True", "Configured", "the connection can run")
IDLE = cond("Running", "False", "Idle")


def test_no_status_yet_is_progressing() -> None:
    assert run_health(connection(status=False)) == (
        "Progressing",
        "Waiting for the operator to report status",
    )


def test_a_spec_the_operator_has_not_seen_is_progressing() -> None:
    status, message = run_health(connection(generation=3, observed=2, conditions=[READY]))
    assert status == "Progressing"
    assert message == "Waiting for the operator to observe generation 3"


def test_missing_observed_generation_counts_as_zero() -> None:
    status, _ = run_health(connection(generation=1, observed=None, conditions=[READY]))
    assert status == "Progressing"


def test_ready_unknown_is_progressing() -> None:
    unknown = cond("Ready", "Unknown", "Reconciling", "checking Secrets")
    assert run_health(connection(conditions=[unknown])) == ("Progressing", "Reconciling: checking Secrets")


def test_ready_and_never_run_is_healthy() -> None:
    assert run_health(connection(conditions=[READY, IDLE])) == (
        "Healthy",
        "Configured: the connection can run",
    )


def test_ready_with_a_successful_last_run_is_healthy() -> None:
    succeeded = cond("LastRunSucceeded", "True", "Succeeded", "1200 objects")
    assert run_health(connection(conditions=[READY, IDLE, succeeded])) == (
        "Healthy",
        "Succeeded: 1200 objects",
    )


def test_a_run_in_progress_stays_healthy() -> None:
    running = cond("Running", "True", "RunInProgress", "job pg-run-7")
    status, message = run_health(connection(conditions=[READY, running]))
    assert (status, message) == ("Healthy", "RunInProgress: job pg-run-7")


@pytest.mark.parametrize(
    "reason",
    ["InvalidSpec", "SecretNotFound", "SecretKeyMissing", "SecretNotAllowed", "ApiHostNotAllowed"],
)
def test_not_ready_is_degraded(reason: str) -> None:
    not_ready = cond("Ready", "False", reason, "Secret pg-password not found in namespace sales")
    status, message = run_health(connection(conditions=[not_ready, IDLE]))
    assert status == "Degraded"
    assert message == f"{reason}: Secret pg-password not found in namespace sales"


def test_a_failed_last_run_is_degraded() -> None:
    failed = cond("LastRunSucceeded", "False", "AuthenticationFailed", "password authentication failed")
    assert run_health(connection(conditions=[READY, IDLE, failed])) == (
        "Degraded",
        "Last run failed: AuthenticationFailed: password authentication failed",
    )


def test_suspended_schedule_is_suspended() -> None:
    assert run_health(connection(conditions=[READY, IDLE], suspend=True)) == (
        "Suspended",
        "Scheduled runs are suspended (spec.schedule.suspend)",
    )


def test_an_active_schedule_is_not_suspended() -> None:
    status, _ = run_health(connection(conditions=[READY, IDLE], suspend=False))
    assert status == "Healthy"


def test_a_suspended_but_broken_connection_shows_degraded() -> None:
    not_ready = cond("Ready", "False", "SecretNotFound")
    assert run_health(connection(conditions=[not_ready], suspend=True)) == ("Degraded", "SecretNotFound")


def test_conditions_without_message_or_reason() -> None:
    bare = {"type": "Ready", "status": "False", "lastTransitionTime": T}
    assert run_health(connection(conditions=[bare])) == ("Degraded", "NotReady")


def test_messages_with_quotes_and_unicode_survive() -> None:
    tricky = cond("Ready", "False", "InvalidSpec", 'spec.source.host: "db\\x" é ✓')
    assert run_health(connection(conditions=[tricky]))[1] == 'InvalidSpec: spec.source.host: "db\\x" é ✓'


def test_control_characters_in_messages() -> None:
    tricky = cond("Ready", "False", "InvalidSpec", "line one\nline\ttwo\x01")
    assert run_health(connection(conditions=[tricky]))[1] == "InvalidSpec: line one\nline\ttwo\x01"
