"""Which errors from the Kubernetes API (or its client) are permanent, and what they say.

A 422 (the object is invalid), a 400 (malformed) or a client-side refusal (ValueError/TypeError
while serialising) will fail the same way on every retry: the caller turns it into `Ready=False`
with the field named, instead of a retry loop. Conflicts, throttling, timeouts and 5xx stay
transient. The message comes from the API server's `Status.message`, which names the field.
"""

from __future__ import annotations

import json
import re

from kubernetes.client.exceptions import ApiException

PERMANENT_STATUSES = frozenset({400, 422})
MESSAGE_LIMIT = 512
# The spec field behind a field of a rendered Job/CronJob (the API server names the latter).
_FIELDS = (
    (re.compile(r"resources\b"), "spec.run.resources"),
    (re.compile(r"\bschedule\b"), "spec.schedule.cron"),
    (re.compile(r"timeZone"), "spec.schedule.timeZone"),
    (re.compile(r"activeDeadlineSeconds"), "spec.run.timeoutSeconds"),
    (re.compile(r"backoffLimit"), "spec.run.backoffLimit"),
    (re.compile(r"ttlSecondsAfterFinished"), "spec.run.ttlSecondsAfterFinished"),
)


def api_message(error: ApiException) -> str:
    try:
        message = json.loads(error.body or "{}").get("message", error.reason)
    except (TypeError, ValueError, AttributeError):
        message = error.reason
    return str(message)[:MESSAGE_LIMIT]


def spec_field(message: str) -> str:
    for pattern, field in _FIELDS:
        if pattern.search(message):
            return field
    return "spec"


def permanent_error(error: Exception) -> str | None:
    """`field: message` for a permanent error, None for one worth retrying."""
    if isinstance(error, ApiException):
        if error.status not in PERMANENT_STATUSES:
            return None
        message = api_message(error)
    elif isinstance(error, ValueError | TypeError):
        message = str(error)[:MESSAGE_LIMIT]
    else:
        return None
    return f"{spec_field(message)}: {message}"
