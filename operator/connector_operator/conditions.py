"""Conditions in the metav1.Condition shape, and the reasons this operator uses.

`lastTransitionTime` changes only when a condition's status flips, as the API conventions ask.
"""

from __future__ import annotations

from typing import Any

READY = "Ready"
RUNNING = "Running"
LAST_RUN_SUCCEEDED = "LastRunSucceeded"
CONNECTION_TESTED = "ConnectionTested"

# Ready reasons
CONFIGURED = "Configured"
INVALID_SPEC = "InvalidSpec"
SECRET_NOT_FOUND = "SecretNotFound"  # noqa: S105 - a reason, not a secret
SECRET_KEY_MISSING = "SecretKeyMissing"  # noqa: S105 - a reason, not a secret
SECRET_NOT_ALLOWED = "SecretNotAllowed"  # noqa: S105 - a reason, not a secret
API_HOST_NOT_ALLOWED = "ApiHostNotAllowed"
TARGET_IN_USE = "TargetInUse"  # another connection, created first, writes the same DataGalaxy source

# Running reasons
IDLE = "Idle"
RUN_IN_PROGRESS = "RunInProgress"

TIMEOUT = "Timeout"
MAX_MESSAGE = 1024


def find(conditions: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def set_condition(
    conditions: list[dict[str, Any]],
    kind: str,
    status: bool | None,
    reason: str,
    message: str,
    *,
    generation: int | None,
    now: str,
) -> list[dict[str, Any]]:
    """A new list with `kind` set; the transition time is kept when the status did not change."""
    text = "True" if status is True else "False" if status is False else "Unknown"
    previous = find(conditions, kind)
    transition = previous["lastTransitionTime"] if previous and previous.get("status") == text else now
    updated: dict[str, Any] = {
        "type": kind,
        "status": text,
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "lastTransitionTime": transition,
    }
    if generation is not None:
        updated["observedGeneration"] = generation
    result = [c for c in conditions if c.get("type") != kind]
    result.append(updated)
    order = {READY: 0, RUNNING: 1, LAST_RUN_SUCCEEDED: 2, CONNECTION_TESTED: 3}
    return sorted(result, key=lambda c: order.get(str(c.get("type")), 99))
