"""Reading a finished Job (termination message, conditions, exit code) and recording it in status."""

from __future__ import annotations

from typing import Any

from connector_extractors.errors import EXIT_CODES, ErrorCategory
from connector_extractors.run_summary import PushCounts, RunSummary
from connector_operator import naming, status

NOW = "2026-11-25T10:00:00Z"


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


def pod(message: str = "", exit_code: int = 0, finished: str = "2026-11-25T09:01:39Z") -> dict[str, Any]:
    terminated = {"exitCode": exit_code, "message": message, "finishedAt": finished, "reason": "Completed"}
    return {"status": {"containerStatuses": [{"name": "extractor", "state": {"terminated": terminated}}]}}


def summary(**kwargs: Any) -> str:
    return RunSummary(**kwargs).to_json()


def test_success_from_the_termination_message() -> None:
    message = summary(
        result="Succeeded",
        message="pushed",
        counts={"tables": 3, "columns": 20},
        push=PushCounts(created=23),
        contentHash="h1",
    )
    record = status.outcome(job(), [pod(message)])
    assert record["result"] == "Succeeded"
    assert record["reason"] == "Succeeded"
    assert record["objects"] == 23
    assert record["counts"] == {"tables": 3, "columns": 20}
    assert record["push"]["created"] == 23
    assert record["durationSeconds"] == 100
    assert record["request"] == "r1"
    assert record["contentHash"] == "h1"
    assert record["targetKey"] == "tk"
    assert record["trigger"] == "manual"


def test_failure_category_from_the_summary() -> None:
    message = summary(
        result="Failed", errorCategory="AuthenticationFailed", message="password authentication failed"
    )
    record = status.outcome(job(complete=False, failed_reason="PodFailurePolicy"), [pod(message, 5)])
    assert (record["result"], record["reason"]) == ("Failed", "AuthenticationFailed")


def test_deadline_exceeded_is_a_timeout() -> None:
    record = status.outcome(job(complete=False, failed_reason="DeadlineExceeded"), [])
    assert (record["result"], record["reason"]) == ("Failed", "Timeout")
    assert "300s" in record["message"]


def test_no_summary_falls_back_to_the_exit_code() -> None:
    code = EXIT_CODES[ErrorCategory.SOURCE_UNREACHABLE]
    record = status.outcome(job(complete=False, failed_reason="BackoffLimitExceeded"), [pod("garbage", code)])
    assert (record["result"], record["reason"]) == ("Failed", "SourceUnreachable")
    assert f"exit code {code}" in record["message"]


def test_latest_attempt_wins() -> None:
    old = pod(
        summary(result="Failed", errorCategory="TargetUnavailable"), 12, finished="2026-11-25T09:00:30Z"
    )
    new = pod(summary(result="Succeeded"), 0, finished="2026-11-25T09:01:30Z")
    assert status.outcome(job(), [new, old])["result"] == "Succeeded"


def test_apply_run_success_then_failure_counts_failures() -> None:
    ok = status.outcome(job(), [pod(summary(result="Succeeded", contentHash="h1"))])
    first = status.apply_run({"activeJob": "shop-run-1"}, ok, history_limit=3, now=NOW)
    assert "activeJob" not in first
    assert first["consecutiveFailures"] == 0
    assert first["lastSuccessfulRun"]["contentHash"] == "h1"
    kinds = {c["type"]: c for c in first["conditions"]}
    assert kinds["LastRunSucceeded"]["status"] == "True"
    assert kinds["Running"]["status"] == "False"
    failed = dict(ok, job="shop-run-2", result="Failed", reason="SourceUnreachable")
    second = status.apply_run(first, failed, history_limit=3, now=NOW)
    assert second["consecutiveFailures"] == 1
    assert [h["job"] for h in second["history"]] == ["shop-run-2", "shop-run-1"]
    assert second["lastSuccessfulRun"]["job"] == "shop-run-1"
    assert {c["type"]: c["reason"] for c in second["conditions"]}["LastRunSucceeded"] == "SourceUnreachable"


def test_history_is_bounded_and_idempotent() -> None:
    current: dict[str, Any] = {}
    for index in range(6):
        record = {"job": f"j{index}", "result": "Succeeded", "reason": "Succeeded", "trigger": "manual"}
        current = status.apply_run(current, record, history_limit=3, now=NOW)
    assert [h["job"] for h in current["history"]] == ["j5", "j4", "j3"]
    assert "j5" in status.recorded_jobs(current)
    again = status.apply_run(current, current["history"][0], history_limit=3, now=NOW)
    assert [h["job"] for h in again["history"]] == ["j5", "j4", "j3"]


def test_unchanged_keeps_the_previous_content_hash() -> None:
    first = status.apply_run(
        {},
        {"job": "a", "result": "Succeeded", "reason": "Succeeded", "contentHash": "h", "targetKey": "tk"},
        history_limit=5,
        now=NOW,
    )
    second = status.apply_run(
        first,
        {"job": "b", "result": "Unchanged", "reason": "Unchanged", "targetKey": "tk"},
        history_limit=5,
        now=NOW,
    )
    assert status.previous_content_hash(second, "tk") == "h"
    assert status.previous_content_hash(second, "other-target") is None


def test_apply_test_sets_connection_tested() -> None:
    record = {
        "job": "t",
        "request": "q",
        "result": "Failed",
        "reason": "AuthenticationFailed",
        "message": "no",
    }
    result = status.apply_test({}, record, now=NOW)
    tested = {c["type"]: c for c in result["conditions"]}["ConnectionTested"]
    assert (tested["status"], tested["reason"]) == ("False", "AuthenticationFailed")
    assert result["lastTest"]["request"] == "q"
    assert "lastRun" not in result


def test_events_per_outcome() -> None:
    ok = {"job": "j", "result": "Succeeded", "reason": "Succeeded", "objects": 4}
    assert status.event_for(ok, test=False)[:2] == ("Normal", "RunSucceeded")
    bad = {"job": "j", "result": "Failed", "reason": "TokenRejected"}
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
    record = status.outcome(job(complete=False), [])
    assert (record["result"], record["reason"]) == ("Failed", "JobDeleted")
    assert record["finishTime"]
