"""Reading a finished Job (termination message, conditions, exit code) and recording it in status."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connector_extractors.errors import EXIT_CODES, ErrorCategory
from connector_extractors.run_summary import PushCounts, RunSummary
from connector_operator import naming, status
from connector_operator.models import OnlineConnectionStatus, RunRecord

NOW = "2026-11-25T10:00:00Z"
JOB_UID = "job-uid-1"


def job(
    *, complete: bool = True, failed_reason: str | None = None, trigger: str = "manual"
) -> dict[str, Any]:
    conditions = []
    if complete:
        conditions.append(
            {"type": "Complete", "status": "True", "lastTransitionTime": "2026-11-25T09:01:40Z"}
        )
    if failed_reason:
        conditions.append(
            {
                "type": "Failed",
                "status": "True",
                "reason": failed_reason,
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": "2026-11-25T09:02:00Z",
            }
        )
    return {
        "metadata": {
            "name": "shop-run-1",
            "uid": JOB_UID,
            "labels": {naming.TRIGGER_LABEL: trigger, naming.MODE_LABEL: "import"},
            "annotations": {naming.REQUEST_ANNOTATION: "r1", naming.TARGET_KEY_ANNOTATION: "tk"},
        },
        "spec": {"activeDeadlineSeconds": 300},
        "status": {
            "startTime": "2026-11-25T09:00:00Z",
            "completionTime": "2026-11-25T09:01:40Z" if complete else None,
            "conditions": conditions,
        },
    }


def pod(
    message: str = "",
    exit_code: int = 0,
    finished: str = "2026-11-25T09:01:39Z",
    *,
    reason: str = "Completed",
    owner: str = JOB_UID,
) -> dict[str, Any]:
    terminated = {"exitCode": exit_code, "message": message, "finishedAt": finished, "reason": reason}
    return {
        "metadata": {"ownerReferences": [{"kind": "Job", "uid": owner, "controller": True}]},
        "status": {"containerStatuses": [{"name": "extractor", "state": {"terminated": terminated}}]},
    }


def summary(**kwargs: Any) -> str:
    return RunSummary(**kwargs).to_json()


def record(job: str, result: str = "Succeeded", reason: str = "", **more: Any) -> RunRecord:
    return RunRecord.model_validate(
        {"job": job, "trigger": "manual", "result": result, "reason": reason or result, **more}
    )


def test_success_from_the_termination_message() -> None:
    message = summary(
        result="Succeeded",
        message="pushed",
        counts={"tables": 3, "columns": 20},
        push=PushCounts(created=23),
        contentHash="h1",
    )
    found = status.outcome(job(), [pod(message)])
    assert found.result == "Succeeded"
    assert found.reason == "Succeeded"
    assert found.objects == 23
    assert found.counts == {"tables": 3, "columns": 20}
    assert found.push is not None
    assert found.push.created == 23
    assert found.duration_seconds == 100
    assert found.request == "r1"
    assert found.content_hash == "h1"
    assert found.target_key == "tk"
    assert found.trigger == "manual"


def test_a_partial_success_says_how_partial() -> None:
    message = summary(result="PartialSuccess", warnings=["a", "b"], warningCount=7, counts={"tables": 2})
    found = status.outcome(job(), [pod(message)])
    assert (found.result, found.warnings) == ("PartialSuccess", 7)
    assert "7 warnings" in status.event_for(found, test=False)[2]


def test_failure_category_from_the_summary() -> None:
    message = summary(
        result="Failed", errorCategory="AuthenticationFailed", message="password authentication failed"
    )
    found = status.outcome(job(complete=False, failed_reason="PodFailurePolicy"), [pod(message, 5)])
    assert (found.result, found.reason) == ("Failed", "AuthenticationFailed")


@pytest.mark.parametrize("category", ["X" * 129, "not a reason", "Bad\nLine", ""])
def test_an_unusable_error_category_becomes_internal_error(category: str) -> None:
    message = summary(result="Failed", errorCategory=category, message="boom")
    found = status.outcome(job(complete=False, failed_reason="BackoffLimitExceeded"), [pod(message, 1)])
    assert found.reason == "InternalError"
    applied = status.apply_run(OnlineConnectionStatus(), found, history_limit=3, now=NOW)
    assert status.dump(applied)["lastRun"]["reason"] == "InternalError"


def test_deadline_exceeded_is_a_timeout() -> None:
    found = status.outcome(job(complete=False, failed_reason="DeadlineExceeded"), [])
    assert (found.result, found.reason) == ("Failed", "Timeout")
    assert "300s" in found.message


def test_an_oom_killed_extractor_is_reported_as_such() -> None:
    failed = job(complete=False, failed_reason="PodFailurePolicy")
    found = status.outcome(failed, [pod("", 137, reason="OOMKilled")])
    assert (found.result, found.reason) == ("Failed", "OOMKilled")
    assert "spec.run.resources" in found.message


def test_a_sigkill_without_the_kubelets_oom_reason_is_not_called_out_of_memory() -> None:
    failed = job(complete=False, failed_reason="PodFailurePolicy")
    found = status.outcome(failed, [pod("", 137, reason="Error")])
    assert (found.result, found.reason) == ("Failed", "InternalError")
    assert "exit code 137: killed" in found.message


def test_no_summary_falls_back_to_the_exit_code() -> None:
    code = EXIT_CODES[ErrorCategory.SOURCE_UNREACHABLE]
    found = status.outcome(job(complete=False, failed_reason="BackoffLimitExceeded"), [pod("garbage", code)])
    assert (found.result, found.reason) == ("Failed", "SourceUnreachable")
    assert f"exit code {code}" in found.message


def test_latest_attempt_wins() -> None:
    old = pod(
        summary(result="Failed", errorCategory="TargetUnavailable"), 12, finished="2026-11-25T09:00:30Z"
    )
    new = pod(summary(result="Succeeded"), 0, finished="2026-11-25T09:01:30Z")
    assert status.outcome(job(), [new, old]).result == "Succeeded"


def test_pods_the_job_does_not_control_are_ignored() -> None:
    forged = pod(
        summary(result="Succeeded", message="forged", contentHash="evil", counts={"tables": 999}),
        finished="2026-11-25T09:59:00Z",
        owner="someone-else",
    )
    real = pod(summary(result="Succeeded", message="real", contentHash="h1"))
    found = status.outcome(job(), [forged, real])
    assert (found.message, found.content_hash) == ("real", "h1")
    alone = status.outcome(job(), [forged])
    assert alone.content_hash is None
    assert alone.objects == 0


def test_server_strings_are_clamped() -> None:
    message = summary(result="Succeeded", message="m" * 5000, contentHash="h" * 500)
    found = status.outcome(job(), [pod(message)])
    assert len(found.message) <= status.MESSAGE_LIMIT
    assert found.content_hash is None


def test_apply_run_success_then_failure_counts_failures() -> None:
    ok = status.outcome(job(), [pod(summary(result="Succeeded", contentHash="h1"))])
    first = status.apply_run(OnlineConnectionStatus(active_job="shop-run-1"), ok, history_limit=3, now=NOW)
    assert first.active_job is None
    assert first.consecutive_failures == 0
    assert first.last_successful_run is not None
    assert first.last_successful_run.content_hash == "h1"
    kinds = {c.type: c for c in first.conditions}
    assert kinds["LastRunSucceeded"].status == "True"
    assert kinds["Running"].status == "False"
    failed = record("shop-run-2", "Failed", "SourceUnreachable")
    second = status.apply_run(first, failed, history_limit=3, now=NOW)
    assert second.consecutive_failures == 1
    assert [h.job for h in second.history] == ["shop-run-2", "shop-run-1"]
    assert second.last_successful_run is not None
    assert second.last_successful_run.job == "shop-run-1"
    assert {c.type: c.reason for c in second.conditions}["LastRunSucceeded"] == "SourceUnreachable"


def test_history_is_bounded_and_idempotent() -> None:
    current = OnlineConnectionStatus()
    for index in range(6):
        current = status.apply_run(current, record(f"j{index}"), history_limit=3, now=NOW)
    assert [h.job for h in current.history] == ["j5", "j4", "j3"]
    assert "j5" in status.recorded_jobs(current)
    again = status.apply_run(current, current.history[0], history_limit=3, now=NOW)
    assert [h.job for h in again.history] == ["j5", "j4", "j3"]


def test_unchanged_keeps_the_previous_content_hash() -> None:
    first = status.apply_run(
        OnlineConnectionStatus(), record("a", content_hash="h", target_key="tk"), history_limit=5, now=NOW
    )
    second = status.apply_run(first, record("b", "Unchanged", target_key="tk"), history_limit=5, now=NOW)
    assert status.previous_content_hash(second, "tk") == "h"
    assert status.previous_content_hash(second, "other-target") is None


def test_apply_test_sets_connection_tested() -> None:
    found = record("t", "Failed", "AuthenticationFailed", request="q", message="no")
    result = status.apply_test(OnlineConnectionStatus(), found, now=NOW)
    tested = {c.type: c for c in result.conditions}["ConnectionTested"]
    assert (tested.status, tested.reason) == ("False", "AuthenticationFailed")
    assert result.last_test is not None
    assert result.last_test.request == "q"
    assert result.last_run is None


def test_events_per_outcome() -> None:
    ok = record("j", objects=4)
    assert status.event_for(ok, test=False)[:2] == ("Normal", "RunSucceeded")
    bad = record("j", "Failed", "TokenRejected")
    kind, reason, message = status.event_for(bad, test=False)
    assert (kind, reason) == ("Warning", "RunFailed")
    assert "TokenRejected" in message
    assert status.event_for(bad, test=True)[1] == "ConnectionTestFailed"


def test_job_activity() -> None:
    running: dict[str, Any] = {"spec": {}, "status": {}}
    waiting = {"spec": {"suspend": True}, "status": {}}
    assert status.job_active(running)
    assert not status.job_active(waiting)
    assert not status.job_active(job())
    assert status.job_finished(job())


def test_a_job_deleted_before_it_finished_is_a_failed_run() -> None:
    found = status.outcome(job(complete=False), [])
    assert (found.result, found.reason) == ("Failed", "JobDeleted")
    assert found.finish_time


def test_the_status_models_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        OnlineConnectionStatus.model_validate(
            {
                "lastRun": {
                    "job": "j",
                    "trigger": "manual",
                    "result": "Succeeded",
                    "reason": "Succeeded",
                    "objcts": 3,
                }
            }
        )


def test_reading_a_status_drops_only_the_fields_that_no_longer_validate() -> None:
    stored = {"consecutiveFailures": 2, "lastRun": {"job": "j"}, "activeJob": "a"}
    found = status.read(stored)
    assert (found.consecutive_failures, found.active_job, found.last_run) == (2, "a", None)
