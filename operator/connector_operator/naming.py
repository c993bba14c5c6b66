"""Names and labels of the objects the operator creates, kept within Kubernetes' length limits."""

from __future__ import annotations

import hashlib
import re

from connector_operator.models import GROUP

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "online-connector"
CONNECTION_LABEL = f"{GROUP}/connection"
CONNECTION_UID_LABEL = f"{GROUP}/connection-uid"
MODE_LABEL = f"{GROUP}/mode"
TRIGGER_LABEL = f"{GROUP}/trigger"

RUN_REQUESTED = f"{GROUP}/run-requested"
TEST_REQUESTED = f"{GROUP}/test-requested"
REQUEST_ANNOTATIONS = (RUN_REQUESTED, TEST_REQUESTED)
REQUEST_ANNOTATION = f"{GROUP}/request"
CONNECTION_NAME_ANNOTATION = f"{GROUP}/connection-name"
RECORDED_ANNOTATION = f"{GROUP}/recorded"
ADMITTED_ANNOTATION = f"{GROUP}/admitted"
SPEC_HASH_ANNOTATION = f"{GROUP}/spec-hash"
TARGET_KEY_ANNOTATION = f"{GROUP}/target-key"
KOPF_PREFIX = f"operator.{GROUP}"
REQUEST_LIMIT = 128
_REQUEST = re.compile(r"^[!-~]([ -~]*[!-~])?$")  # printable ASCII, no surrounding spaces


def valid_request(value: object) -> bool:
    """Whether a run-/test-requested value can be used (in a Job annotation, in status)."""
    return isinstance(value, str) and len(value) <= REQUEST_LIMIT and bool(_REQUEST.match(value))


def short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def shorten(name: str, limit: int) -> str:
    """`name` itself when it fits, else a prefix plus a hash of the whole name (still unique)."""
    if len(name) <= limit:
        return name
    return f"{name[: limit - 7].rstrip('-.')}-{short_hash(name, length=6)}"


def run_job_name(connection: str, uid: str, request: str) -> str:
    """Deterministic per request, so a retried creation finds the Job instead of making a second one."""
    return f"{shorten(connection, 40)}-run-{short_hash(uid, request)}"


def test_job_name(connection: str, uid: str, request: str) -> str:
    return f"{shorten(connection, 40)}-test-{short_hash(uid, request)}"


def cronjob_name(connection: str) -> str:
    return f"{shorten(connection, 40)}-sched"


def labels(connection: str, uid: str, mode: str, trigger: str) -> dict[str, str]:
    return {
        MANAGED_BY: MANAGER,
        "app.kubernetes.io/name": "online-connector-extractor",
        "app.kubernetes.io/component": "import" if mode == "import" else "connection-test",
        CONNECTION_LABEL: shorten(connection, 63),
        CONNECTION_UID_LABEL: uid,
        MODE_LABEL: mode,
        TRIGGER_LABEL: trigger,
    }
