"""What a finished Job means, and how it changes the connection's status (pure functions).

The result comes from the extractor's run summary (the pod's termination message). When there is
none (the pod was killed, the deadline passed, the image could not start) it is derived from the
Job's conditions and the container's exit code, so a run is never recorded without a reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector_extractors.errors import EXIT_CODES, ErrorCategory
from connector_extractors.run_summary import RunSummary
from connector_operator import conditions, naming
from connector_operator.job_builder import CONTAINER

SUCCESSFUL = frozenset({"Succeeded", "PartialSuccess", "Unchanged"})
CATEGORY_BY_EXIT_CODE = {code: category.value for category, code in EXIT_CODES.items()}
MESSAGE_LIMIT = 1024
JOB_DELETED = "JobDeleted"


def now_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _condition_true(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for item in (job.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind and item.get("status") == "True":
            return dict(item)
    return None


def job_finished(job: dict[str, Any]) -> bool:
    return bool(_condition_true(job, "Complete") or _condition_true(job, "Failed"))


def job_active(job: dict[str, Any]) -> bool:
    """Started (or starting) and not finished: suspended Jobs waiting for admission do not count."""
    return not job_finished(job) and not (job.get("spec") or {}).get("suspend", False)


@dataclass(frozen=True)
class Terminated:
    exit_code: int | None
    message: str
    finished_at: str | None
    reason: str | None


def last_termination(pods: list[dict[str, Any]]) -> Terminated | None:
    """The extractor container's most recent termination among the Job's pods."""
    found: list[Terminated] = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if status.get("name") != CONTAINER:
                continue
            state = (status.get("state") or {}).get("terminated")
            if state:
                found.append(
                    Terminated(
                        exit_code=state.get("exitCode"),
                        message=state.get("message") or "",
                        finished_at=state.get("finishedAt"),
                        reason=state.get("reason"),
                    )
                )
    if not found:
        return None
    return max(found, key=lambda t: t.finished_at or "")


def _duration(start: str | None, finish: str | None) -> float | None:
    begin, end = parse_time(start), parse_time(finish)
    if begin is None or end is None:
        return None
    return max(0.0, (end - begin).total_seconds())


def outcome(job: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """A RunRecord (camelCase dict) for a finished Job."""
    metadata = job.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    job_status = job.get("status") or {}
    complete = _condition_true(job, "Complete")
    failed = _condition_true(job, "Failed")
    start = job_status.get("startTime") or metadata.get("creationTimestamp")
    finish = (
        job_status.get("completionTime")
        or (failed or {}).get("lastTransitionTime")
        or (complete or {}).get("lastTransitionTime")
    )
    terminated = last_termination(pods)
    summary = RunSummary.from_termination_message(terminated.message) if terminated else None
    record: dict[str, Any] = {
        "job": metadata.get("name", ""),
        "trigger": labels.get(naming.TRIGGER_LABEL, "manual"),
        "startTime": start,
        "finishTime": finish,
        "durationSeconds": _duration(start, finish),
    }
    if annotations.get(naming.REQUEST_ANNOTATION):
        record["request"] = annotations[naming.REQUEST_ANNOTATION]
    if annotations.get(naming.TARGET_KEY_ANNOTATION):
        record["targetKey"] = annotations[naming.TARGET_KEY_ANNOTATION]
    if not (complete or failed):
        record.update(
            result="Failed",
            reason=JOB_DELETED,
            message="the Job was deleted before it finished",
            finishTime=now_text(),
        )
        record["durationSeconds"] = _duration(start, record["finishTime"])
    elif failed and failed.get("reason") == "DeadlineExceeded":
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        record.update(
            result="Failed",
            reason=conditions.TIMEOUT,
            message=f"the run exceeded its deadline of {deadline}s",
        )
    elif summary is not None and not (complete and summary.result == "Failed"):
        result = summary.result if not (failed and summary.result in SUCCESSFUL) else "Failed"
        reason = summary.error_category or ("InternalError" if result == "Failed" else result)
        record.update(result=result, reason=reason, message=summary.message)
    elif complete:
        record.update(result="Succeeded", reason="Succeeded", message="the extractor reported no summary")
    else:
        code = terminated.exit_code if terminated else None
        category = CATEGORY_BY_EXIT_CODE.get(code or -1, ErrorCategory.INTERNAL_ERROR.value)
        detail = (
            (failed or {}).get("message") or (terminated.reason if terminated else None) or "the Job failed"
        )
        exit_text = f" (exit code {code})" if code is not None else ""
        record.update(result="Failed", reason=category, message=f"{detail}{exit_text}")
    if summary is not None:
        record["counts"] = dict(summary.counts)
        record["objects"] = sum(summary.counts.values())
        if summary.push is not None:
            record["push"] = summary.push.model_dump(by_alias=True)
        if summary.content_hash:
            record["contentHash"] = summary.content_hash
    else:
        record["objects"] = 0
    record["message"] = str(record.get("message", ""))[:MESSAGE_LIMIT]
    return {k: v for k, v in record.items() if v is not None}


def recorded_jobs(status: dict[str, Any]) -> set[str]:
    names = {str(h.get("job")) for h in status.get("history") or []}
    for key in ("lastRun", "lastTest"):
        if (status.get(key) or {}).get("job"):
            names.add(str(status[key]["job"]))
    return names


def apply_run(
    status: dict[str, Any], record: dict[str, Any], *, history_limit: int, now: str
) -> dict[str, Any]:
    """The status after recording one finished run."""
    result = copy.deepcopy(status)
    history = [record] + [h for h in result.get("history") or [] if h.get("job") != record["job"]]
    result["history"] = history[:history_limit]
    result["lastRun"] = record
    succeeded = record["result"] in SUCCESSFUL
    if succeeded:
        previous = result.get("lastSuccessfulRun") or {}
        kept = dict(record)
        if (
            not kept.get("contentHash")
            and previous.get("contentHash")
            and previous.get("targetKey") == kept.get("targetKey")
        ):
            kept["contentHash"] = previous["contentHash"]
        result["lastSuccessfulRun"] = kept
        result["consecutiveFailures"] = 0
    else:
        result["consecutiveFailures"] = int(result.get("consecutiveFailures") or 0) + 1
    items = result.get("conditions") or []
    items = conditions.set_condition(
        items,
        conditions.LAST_RUN_SUCCEEDED,
        succeeded,
        record["reason"],
        f"{record['job']}: {record['result']}" + (f": {record['message']}" if record.get("message") else ""),
        generation=None,
        now=now,
    )
    if result.get("activeJob") in (None, record["job"]):
        result.pop("activeJob", None)
        items = conditions.set_condition(
            items,
            conditions.RUNNING,
            False,
            conditions.IDLE,
            f"{record['job']} finished",
            generation=None,
            now=now,
        )
    result["conditions"] = items
    return result


def apply_test(status: dict[str, Any], record: dict[str, Any], *, now: str) -> dict[str, Any]:
    result = copy.deepcopy(status)
    test = {
        "job": record["job"],
        "request": record.get("request"),
        "finishTime": record.get("finishTime"),
        "result": "Succeeded" if record["result"] in SUCCESSFUL else "Failed",
        "reason": record["reason"] if record["result"] not in SUCCESSFUL else "Succeeded",
        "message": record.get("message", ""),
    }
    result["lastTest"] = {k: v for k, v in test.items() if v is not None}
    result["conditions"] = conditions.set_condition(
        result.get("conditions") or [],
        conditions.CONNECTION_TESTED,
        test["result"] == "Succeeded",
        str(test["reason"]),
        str(test["message"]) or f"{record['job']}: {test['result']}",
        generation=None,
        now=now,
    )
    return result


def previous_content_hash(status: dict[str, Any], key: str) -> str | None:
    last = status.get("lastSuccessfulRun") or {}
    if last.get("targetKey") == key and last.get("contentHash"):
        return str(last["contentHash"])
    return None


def event_for(record: dict[str, Any], *, test: bool) -> tuple[str, str, str]:
    """(type, reason, message) of the Kubernetes Event for one outcome."""
    ok = record["result"] in SUCCESSFUL
    kind = "Normal" if ok else "Warning"
    if test:
        reason = "ConnectionTestSucceeded" if ok else "ConnectionTestFailed"
    else:
        reason = {
            "Succeeded": "RunSucceeded",
            "PartialSuccess": "RunPartiallySucceeded",
            "Unchanged": "RunUnchanged",
        }.get(record["result"], "RunFailed")
    details = f"{record['job']}: {record['result']}"
    if not ok:
        details += f" ({record['reason']})"
    if record.get("objects"):
        details += f", {record['objects']} objects"
    if record.get("message"):
        details += f": {record['message']}"
    return kind, reason, details[:MESSAGE_LIMIT]
