"""The operator's vocabulary: condition types, their reasons, Event reasons, and canned builders.

Every reason the operator writes is a member of an enum here, with one line saying what it means;
`docs/operator.md`'s reasons table is generated from `REASONS` (`crd_generate --write`), so the
documentation cannot drift from the code. Builders (`ready`, `running`, `idle`, `last_run`, `tested`)
return typed `Condition`s; `set_condition` keeps `lastTransitionTime` unless the status flips, as the
API conventions ask (the idea of CloudNativePG's `cluster_conditions.go`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from connector_extractors.errors import ErrorCategory
from connector_extractors.run_summary import RunResult
from connector_operator.models import Condition

MAX_MESSAGE = 1024


class ConditionType(StrEnum):
    READY = "Ready"
    RUNNING = "Running"
    LAST_RUN_SUCCEEDED = "LastRunSucceeded"
    CONNECTION_TESTED = "ConnectionTested"


ORDER: dict[str, int] = {kind.value: index for index, kind in enumerate(ConditionType)}


class Reason(StrEnum):
    """Reasons of the Ready and Running conditions, and of runs that ended without a summary."""

    CONFIGURED = "Configured"
    INVALID_SPEC = "InvalidSpec"
    SPEC_REJECTED = "SpecRejected"
    SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - a reason, not a secret
    SECRET_KEY_MISSING = "SecretKeyMissing"  # noqa: S105 - a reason, not a secret
    SECRET_NOT_ALLOWED = "SecretNotAllowed"  # noqa: S105 - a reason, not a secret
    API_HOST_NOT_ALLOWED = "ApiHostNotAllowed"
    TARGET_IN_USE = "TargetInUse"
    SECRET_VALUE_EMPTY = "SecretValueEmpty"  # noqa: S105 - a reason, not a secret
    SECRET_ROLE_MISMATCH = "SecretRoleMismatch"  # noqa: S105 - a reason, not a secret
    SOURCE_HOST_NOT_ALLOWED = "SourceHostNotAllowed"
    IDLE = "Idle"
    RUN_IN_PROGRESS = "RunInProgress"
    TIMEOUT = "Timeout"
    JOB_DELETED = "JobDeleted"
    OUT_OF_MEMORY = "OOMKilled"


class EventReason(StrEnum):
    RUN_STARTED = "RunStarted"
    RUN_QUEUED = "RunQueued"
    RUN_REJECTED = "RunRejected"
    RUN_SUCCEEDED = "RunSucceeded"
    RUN_PARTIALLY_SUCCEEDED = "RunPartiallySucceeded"
    RUN_UNCHANGED = "RunUnchanged"
    RUN_FAILED = "RunFailed"
    SCHEDULED_RUN_SKIPPED = "ScheduledRunSkipped"
    CONNECTION_TEST_STARTED = "ConnectionTestStarted"
    CONNECTION_TEST_QUEUED = "ConnectionTestQueued"
    CONNECTION_TEST_REJECTED = "ConnectionTestRejected"
    CONNECTION_TEST_SUCCEEDED = "ConnectionTestSucceeded"
    CONNECTION_TEST_FAILED = "ConnectionTestFailed"
    SPEC_REJECTED = "SpecRejected"
    INVALID_SPEC = "InvalidSpec"


RUN_EVENT = {
    RunResult.SUCCEEDED: EventReason.RUN_SUCCEEDED,
    RunResult.PARTIAL_SUCCESS: EventReason.RUN_PARTIALLY_SUCCEEDED,
    RunResult.UNCHANGED: EventReason.RUN_UNCHANGED,
    RunResult.FAILED: EventReason.RUN_FAILED,
}
STARTED = {"import": EventReason.RUN_STARTED, "check": EventReason.CONNECTION_TEST_STARTED}
QUEUED = {"import": EventReason.RUN_QUEUED, "check": EventReason.CONNECTION_TEST_QUEUED}
REJECTED = {"import": EventReason.RUN_REJECTED, "check": EventReason.CONNECTION_TEST_REJECTED}


@dataclass(frozen=True)
class Documented:
    reason: str
    where: str
    meaning: str


_READY = f"`{ConditionType.READY}`"
_RUN = f"`{ConditionType.LAST_RUN_SUCCEEDED}`, `{ConditionType.CONNECTION_TESTED}`, run records"
REASONS: tuple[Documented, ...] = (
    Documented(
        Reason.CONFIGURED, f"{_READY} True", "the spec is valid and the referenced Secrets hold the keys"
    ),
    Documented(Reason.INVALID_SPEC, _READY, "the spec fails validation; the message names the field"),
    Documented(
        Reason.SPEC_REJECTED,
        _READY,
        "the API server or client refused the Job or CronJob rendered from the spec; the message names "
        "the field (a permanent error: nothing is retried until the spec changes)",
    ),
    Documented(Reason.SECRET_NOT_FOUND, _READY, "a referenced Secret does not exist in the namespace"),
    Documented(Reason.SECRET_KEY_MISSING, _READY, "the Secret exists but lacks the referenced key"),
    Documented(
        Reason.SECRET_NOT_ALLOWED,
        _READY,
        "`OLC_REQUIRE_SECRET_LABEL=true` and the Secret lacks the label "
        "`connectors.datagalaxy.com/allow-use` naming its role (`source-password` or `datagalaxy-token`); "
        "or the operator may not `get` the Secret (403)",
    ),
    Documented(
        Reason.API_HOST_NOT_ALLOWED, _READY, "`target.apiUrl`'s host matches none of `OLC_ALLOWED_API_HOSTS`"
    ),
    Documented(
        Reason.TARGET_IN_USE,
        _READY,
        "another connection, created first, names the same target (API URL, workspace, version, source "
        "name); the message names it: one target source belongs to one connection (`target_ownership`)",
    ),
    Documented(
        Reason.SOURCE_HOST_NOT_ALLOWED, _READY, "`source.host` matches none of `OLC_ALLOWED_SOURCE_HOSTS`"
    ),
    Documented(
        Reason.SECRET_VALUE_EMPTY, _READY, "the referenced key is empty; the message names the Secret and key"
    ),
    Documented(
        Reason.SECRET_ROLE_MISMATCH,
        _READY,
        "the Secret is labelled for the other role, or one Secret is both the password and the token",
    ),
    Documented(Reason.IDLE, f"`{ConditionType.RUNNING}` False", "no run in progress"),
    Documented(
        Reason.RUN_IN_PROGRESS,
        f"`{ConditionType.RUNNING}` True",
        "a run's Job is active (`status.activeJob`)",
    ),
    *(
        Documented(
            result, _RUN, "the run's result (" + ("a success" if result.successful else "a failure") + ")"
        )
        for result in RunResult
        if result is not RunResult.FAILED
    ),
    Documented(Reason.TIMEOUT, _RUN, "the run exceeded `spec.run.timeoutSeconds` (Job `DeadlineExceeded`)"),
    Documented(Reason.JOB_DELETED, _RUN, "the Job was deleted before it finished"),
    Documented(
        Reason.OUT_OF_MEMORY,
        _RUN,
        "the extractor was killed for exceeding its memory limit: raise `spec.run.resources.limits.memory`",
    ),
    *(Documented(category, _RUN, "error category reported by the extractor") for category in ErrorCategory),
    Documented(EventReason.RUN_STARTED, "Event", "a run's Job was created (request) or admitted (schedule)"),
    Documented(EventReason.RUN_QUEUED, "Event", "a run request waits for the active run to finish"),
    Documented(EventReason.RUN_REJECTED, "Event", "a run request arrived while the connection is not Ready"),
    Documented(EventReason.RUN_SUCCEEDED, "Event", "a run finished: Succeeded"),
    Documented(
        EventReason.RUN_PARTIALLY_SUCCEEDED,
        "Event",
        "a run finished: PartialSuccess (warning count in the message)",
    ),
    Documented(EventReason.RUN_UNCHANGED, "Event", "a run finished: Unchanged"),
    Documented(EventReason.RUN_FAILED, "Event", "a run finished: Failed (the reason in the message)"),
    Documented(
        EventReason.SCHEDULED_RUN_SKIPPED,
        "Event",
        "a scheduled Job was deleted unstarted (another run active, not Ready, suspended)",
    ),
    Documented(EventReason.CONNECTION_TEST_STARTED, "Event", "a connection test's Job was created"),
    Documented(EventReason.CONNECTION_TEST_QUEUED, "Event", "a test request waits for the active test"),
    Documented(
        EventReason.CONNECTION_TEST_REJECTED,
        "Event",
        "a test request arrived while the connection is not Ready",
    ),
    Documented(EventReason.CONNECTION_TEST_SUCCEEDED, "Event", "a connection test succeeded"),
    Documented(
        EventReason.CONNECTION_TEST_FAILED, "Event", "a connection test failed (the reason in the message)"
    ),
    Documented(
        EventReason.SPEC_REJECTED, "Event", "as the Ready reason `SpecRejected`, once per spec generation"
    ),
    Documented(
        EventReason.INVALID_SPEC, "Event", "as the Ready reason `InvalidSpec`, once per spec generation"
    ),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reasons_table() -> str:
    """The Markdown table of every reason, for docs/operator.md."""
    rows = ["| Reason | Where | Meaning |", "| --- | --- | --- |"]
    rows += [f"| `{d.reason}` | {d.where} | {_cell(d.meaning)} |" for d in REASONS]
    return "\n".join(rows)


# --- builders -------------------------------------------------------------------------------------


def _condition(
    kind: ConditionType, status: bool, reason: str, message: str, generation: int | None
) -> Condition:
    return Condition(
        type=kind,
        status="True" if status else "False",
        reason=reason,
        message=message[:MAX_MESSAGE],
        observed_generation=generation,
        last_transition_time="",
    )


def ready(ok: bool, reason: str, message: str, *, generation: int | None) -> Condition:
    return _condition(ConditionType.READY, ok, reason, message, generation)


def running(job: str, *, scheduled: bool = False, generation: int | None = None) -> Condition:
    what = "scheduled run" if scheduled else "run"
    return _condition(
        ConditionType.RUNNING, True, Reason.RUN_IN_PROGRESS, f"{what} {job} in progress", generation
    )


def idle(message: str = "no run in progress") -> Condition:
    return _condition(ConditionType.RUNNING, False, Reason.IDLE, message, None)


def last_run(succeeded: bool, reason: str, message: str) -> Condition:
    return _condition(ConditionType.LAST_RUN_SUCCEEDED, succeeded, reason, message, None)


def tested(succeeded: bool, reason: str, message: str) -> Condition:
    return _condition(ConditionType.CONNECTION_TESTED, succeeded, reason, message, None)


def find(items: list[Condition], kind: ConditionType) -> Condition | None:
    return next((c for c in items if c.type == kind), None)


def set_condition(items: list[Condition], condition: Condition, *, now: str) -> list[Condition]:
    """A new list with `condition` in place of its type; the transition time kept unless status flips."""
    previous = next((c for c in items if c.type == condition.type), None)
    transition = previous.last_transition_time if previous and previous.status == condition.status else now
    updated = condition.model_copy(update={"last_transition_time": transition})
    result = [c for c in items if c.type != condition.type]
    result.append(updated)
    return sorted(result, key=lambda c: ORDER.get(c.type, 99))


# Names kept for the readiness rules in `secrets_check` (the same members as `Reason`).
CONFIGURED = Reason.CONFIGURED
INVALID_SPEC = Reason.INVALID_SPEC
SECRET_NOT_FOUND = Reason.SECRET_NOT_FOUND
SECRET_KEY_MISSING = Reason.SECRET_KEY_MISSING
SECRET_NOT_ALLOWED = Reason.SECRET_NOT_ALLOWED
API_HOST_NOT_ALLOWED = Reason.API_HOST_NOT_ALLOWED
