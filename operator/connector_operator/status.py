"""What a finished Job means, and how it changes the connection's status (pure, typed functions).

The result comes from the extractor's run summary (the pod's termination message). When there is
none (the pod was killed, the deadline passed, the image could not start) it is derived from the
Job's conditions and the container's state, so a run is never recorded without a reason.

The status models (`models.OnlineConnectionStatus`, `RunRecord`, `TestRecord`, `extra="forbid"`)
are what these functions build: a misspelt field fails here, not silently in the API server's
pruning. Every string that comes from the cluster (a pod's message, a Job's annotations) is clamped
or validated before it enters the status, so no value can make the status write fail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from connector_extractors.errors import EXIT_CODES, ErrorCategory
from connector_extractors.run_summary import PushCounts, RunResult, RunSummary
from connector_operator import conditions, naming, owned
from connector_operator.conditions import Reason
from connector_operator.job_builder import CONTAINER
from connector_operator.models import OnlineConnectionStatus, RunRecord, TestRecord

log = logging.getLogger("connector_operator")
CATEGORY_BY_EXIT_CODE = {code: category for category, code in EXIT_CODES.items()}
MESSAGE_LIMIT = 1024
SHORT_LIMIT = 128
SIGKILL_EXIT_CODE = 137
OOM_HINT = "raise spec.run.resources.limits.memory (and requests.memory) or narrow spec.filters"
_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+=/-]*$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
MAX_COUNT_KINDS = 32


def now_text(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    if not text or not _TIME.match(text):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def clamp(text: Any, limit: int = MESSAGE_LIMIT) -> str:
    """A printable string of at most `limit` characters (control characters become spaces)."""
    value = "".join(c if c.isprintable() else " " for c in str(text or ""))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def token(text: Any, limit: int = SHORT_LIMIT) -> str | None:
    """An identifier-like value (hash, key, request) kept only when well formed and short."""
    value = str(text) if isinstance(text, str | int) else ""
    return value if value and len(value) <= limit and _TOKEN.match(value) else None


def reason_of(category: str | None, default: str) -> str:
    """An error category usable as a condition reason; anything else becomes `default`."""
    if category and len(category) <= SHORT_LIMIT and _REASON.match(category):
        return category
    return default


def _condition_true(job: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    for item in (job.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind and item.get("status") == "True":
            return dict(item)
    return None


def job_finished(job: Mapping[str, Any]) -> bool:
    return bool(_condition_true(job, "Complete") or _condition_true(job, "Failed"))


def job_active(job: Mapping[str, Any]) -> bool:
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
                code = state.get("exitCode")
                found.append(
                    Terminated(
                        exit_code=code if isinstance(code, int) else None,
                        message=str(state.get("message") or ""),
                        finished_at=str(state["finishedAt"]) if state.get("finishedAt") else None,
                        reason=str(state["reason"]) if state.get("reason") else None,
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


def _time(value: Any) -> str | None:
    return value if isinstance(value, str) and _TIME.match(value) else None


def outcome(job: Mapping[str, Any], pods: list[dict[str, Any]]) -> RunRecord:
    """The run record of a finished (or deleted) Job, from the pods that Job controls."""
    metadata = job.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    job_status = job.get("status") or {}
    complete = _condition_true(job, "Complete")
    failed = _condition_true(job, "Failed")
    start = _time(job_status.get("startTime")) or _time(metadata.get("creationTimestamp"))
    finish = (
        _time(job_status.get("completionTime"))
        or _time((failed or {}).get("lastTransitionTime"))
        or _time((complete or {}).get("lastTransitionTime"))
    )
    controlled = [p for p in pods if owned.controlled_by(p, metadata.get("uid"))]
    terminated = last_termination(controlled)
    summary = RunSummary.from_termination_message(terminated.message) if terminated else None
    result: RunResult
    if not (complete or failed):
        finish = now_text()
        result, reason, message = (
            RunResult.FAILED,
            Reason.JOB_DELETED.value,
            "the Job was deleted before it finished",
        )
    elif failed and failed.get("reason") == "DeadlineExceeded":
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        result, reason = RunResult.FAILED, Reason.TIMEOUT.value
        message = f"the run exceeded its deadline of {deadline}s"
    elif terminated is not None and terminated.reason == "OOMKilled":
        # The kubelet's own word only: exit code 137 alone is any SIGKILL (a pod deleted after its grace
        # period, a node drain), which must not send the user to raise a memory limit.
        result, reason = RunResult.FAILED, Reason.OUT_OF_MEMORY.value
        message = f"the extractor was killed for exceeding its memory limit (OOMKilled): {OOM_HINT}"
    elif summary is not None and not (complete and summary.result == "Failed"):
        result = RunResult(summary.result)
        if failed and result.successful:
            result = RunResult.FAILED
        default = ErrorCategory.INTERNAL_ERROR.value if result is RunResult.FAILED else result.value
        reason = reason_of(summary.error_category, default) if result is RunResult.FAILED else default
        message = summary.message
    elif complete:
        result, reason, message = (
            RunResult.SUCCEEDED,
            RunResult.SUCCEEDED.value,
            "the extractor reported no summary",
        )
    else:
        code = terminated.exit_code if terminated else None
        category = CATEGORY_BY_EXIT_CODE.get(code if code is not None else -1, ErrorCategory.INTERNAL_ERROR)
        detail = (
            (failed or {}).get("message") or (terminated.reason if terminated else None) or "the Job failed"
        )
        exit_text = f" (exit code {code})" if code is not None else ""
        if code == SIGKILL_EXIT_CODE:
            exit_text = f" (exit code {code}: killed; if the pod was not deleted, see {OOM_HINT})"
        result, reason, message = RunResult.FAILED, category.value, f"{detail}{exit_text}"
    counts: dict[str, int] = {}
    push: PushCounts | None = None
    content_hash = None
    warnings = 0
    if summary is not None:
        for kind, count in list(summary.counts.items())[:MAX_COUNT_KINDS]:
            if token(kind, 64) and count >= 0:
                counts[kind] = count
        push = summary.push
        content_hash = token(summary.content_hash)
        warnings = max(summary.warning_count, len(summary.warnings), 0)
    trigger = labels.get(naming.TRIGGER_LABEL)
    return RunRecord(
        job=clamp(metadata.get("name"), 253),
        trigger="schedule" if trigger == "schedule" else "manual",
        request=request
        if naming.valid_request(request := annotations.get(naming.REQUEST_ANNOTATION))
        else None,
        start_time=start,
        finish_time=finish,
        duration_seconds=_duration(start, finish),
        result=result,
        reason=reason,
        message=clamp(message),
        objects=sum(counts.values()),
        warnings=warnings,
        counts=counts,
        push=push,
        content_hash=content_hash,
        target_key=token(annotations.get(naming.TARGET_KEY_ANNOTATION)),
    )


def read(raw: Mapping[str, Any] | None) -> OnlineConnectionStatus:
    """The stored status as a model; a field that no longer validates is dropped, never the rest."""
    data = dict(raw or {})
    try:
        return OnlineConnectionStatus.model_validate(data)
    except ValidationError as error:
        bad = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
        log.warning("status fields %s do not validate and are rebuilt", sorted(bad))
        return OnlineConnectionStatus.model_validate({k: v for k, v in data.items() if k not in bad})


def dump(status: OnlineConnectionStatus) -> dict[str, Any]:
    return status.model_dump(by_alias=True, exclude_none=True, mode="json")


def typed(
    mutate: Callable[[OnlineConnectionStatus], OnlineConnectionStatus | None],
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """A `Kube.update_status` mutation working on the status model instead of a dict."""

    def on_dict(raw: dict[str, Any]) -> dict[str, Any] | None:
        changed = mutate(read(raw))
        return None if changed is None else dump(changed)

    return on_dict


def recorded_jobs(status: OnlineConnectionStatus) -> set[str]:
    names = {h.job for h in status.history}
    names.update(r.job for r in (status.last_run, status.last_test) if r is not None)
    return names


def handled_requests(status: OnlineConnectionStatus) -> set[str]:
    """Request values that already led to a run or test recorded in status."""
    values = {h.request for h in status.history}
    values.update(r.request for r in (status.last_run, status.last_test) if r is not None)
    return {v for v in values if v}


def apply_run(
    status: OnlineConnectionStatus, record: RunRecord, *, history_limit: int, now: str
) -> OnlineConnectionStatus:
    """The status after recording one finished run."""
    result = status.model_copy(deep=True)
    result.history = ([record] + [h for h in result.history if h.job != record.job])[:history_limit]
    result.last_run = record
    succeeded = record.result.successful
    if succeeded:
        previous = result.last_successful_run
        kept = record
        if (
            not kept.content_hash
            and previous is not None
            and previous.content_hash
            and previous.target_key == kept.target_key
        ):
            kept = kept.model_copy(update={"content_hash": previous.content_hash})
        result.last_successful_run = kept
        result.consecutive_failures = 0
    else:
        result.consecutive_failures += 1
    summary = f"{record.job}: {record.result.value}" + (f": {record.message}" if record.message else "")
    items = conditions.set_condition(
        result.conditions, conditions.last_run(succeeded, record.reason, summary), now=now
    )
    if result.active_job in (None, record.job):
        result.active_job = None
        items = conditions.set_condition(items, conditions.idle(f"{record.job} finished"), now=now)
    result.conditions = items
    return result


def test_record(record: RunRecord) -> TestRecord:
    ok = record.result.successful
    return TestRecord(
        job=record.job,
        request=record.request,
        finish_time=record.finish_time,
        result="Succeeded" if ok else "Failed",
        reason=RunResult.SUCCEEDED.value if ok else record.reason,
        message=record.message,
    )


def apply_test(status: OnlineConnectionStatus, record: RunRecord, *, now: str) -> OnlineConnectionStatus:
    result = status.model_copy(deep=True)
    test = test_record(record)
    result.last_test = test
    result.conditions = conditions.set_condition(
        result.conditions,
        conditions.tested(
            test.result == "Succeeded", test.reason, test.message or f"{test.job}: {test.result}"
        ),
        now=now,
    )
    return result


def previous_content_hash(status: OnlineConnectionStatus, key: str) -> str | None:
    last = status.last_successful_run
    if last is not None and last.target_key == key and last.content_hash:
        return last.content_hash
    return None


def event_for(record: RunRecord, *, test: bool) -> tuple[str, str, str]:
    """(type, reason, message) of the Kubernetes Event for one outcome."""
    ok = record.result.successful
    kind = "Normal" if ok else "Warning"
    if test:
        reason = (
            conditions.EventReason.CONNECTION_TEST_SUCCEEDED
            if ok
            else conditions.EventReason.CONNECTION_TEST_FAILED
        )
    else:
        reason = conditions.RUN_EVENT[record.result]
    details = f"{record.job}: {record.result.value}"
    if not ok:
        details += f" ({record.reason})"
    if record.objects:
        details += f", {record.objects} objects"
    if record.warnings:
        details += f", {record.warnings} warnings"
    if record.message:
        details += f": {record.message}"
    return kind, reason.value, details[:MESSAGE_LIMIT]
