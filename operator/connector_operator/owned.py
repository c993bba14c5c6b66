"""Which objects the operator owns, and whether they still say what the operator rendered.

A namespace `edit` user can create pods, Jobs and CronJobs carrying the operator's labels, and edit
the ones the operator made. Labels prove nothing, so the operator trusts an object only through its
controller owner reference (uids, set by the operator or by the Job/CronJob controllers), and
compares the CronJob and scheduled Jobs with what it renders from the spec: anything else is drift,
repaired (CronJob) or refused (a scheduled Job is then not admitted).

The comparison allows the fields the API server fills in with defaults, and only those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connector_extractors.run_config import ENV_RUN_CONFIG
from connector_operator import quantities

# Fields the API server (defaulting, the Job and CronJob controllers) adds to what we send.
DEFAULTED = frozenset(
    {
        "creationTimestamp",
        "completionMode",
        "podReplacementPolicy",
        "dnsPolicy",
        "schedulerName",
        "terminationGracePeriodSeconds",
        "imagePullPolicy",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "enableServiceLinks",
        "selector",
        "manualSelector",
        "suspend",
        "protocol",
        "status",
    }
)
# Fields allowed only with their default value (a different value changes what runs, or as whom).
DEFAULT_VALUES: Mapping[str, Any] = {
    "serviceAccountName": "default",
    "serviceAccount": "default",
    "resources": {},
    "securityContext": {},
}
# Labels the Job controller adds to a Job's pod template.
JOB_LABELS = frozenset(
    {"controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"}
)


def controller(body: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(kind, name, uid) of the object's controller owner reference."""
    for ref in (body.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") is True and ref.get("uid"):
            return str(ref.get("kind", "")), str(ref.get("name", "")), str(ref["uid"])
    return None


def controlled_by(body: Mapping[str, Any], uid: str | None) -> bool:
    found = controller(body)
    return bool(uid) and found is not None and found[2] == uid


def _run_config(value: Any) -> Any:
    """The run configuration without `previousContentHash` (it follows each run; not drift)."""
    try:
        config = json.loads(value)
    except (TypeError, ValueError):
        return value
    if isinstance(config, dict):
        config.pop("previousContentHash", None)
        config.pop("previous_content_hash", None)
    return config


def differences(desired: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where `actual` differs from `desired`, allowing only server-defaulted additions."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [path or "."]
        found: list[str] = []
        if desired.get("name") == ENV_RUN_CONFIG and "value" in desired:
            if _run_config(desired["value"]) != _run_config(actual.get("value")):
                found.append(f"{path}.value")
            desired = {k: v for k, v in desired.items() if k != "value"}
            actual = {k: v for k, v in actual.items() if k != "value"}
        for key, value in desired.items():
            if key not in actual:
                if value in ({}, [], None, False):
                    continue
                found.append(f"{path}.{key}")
                continue
            found += differences(value, actual[key], f"{path}.{key}")
        for key in actual.keys() - desired.keys():
            if key in DEFAULTED or (path.endswith(".labels") and key in JOB_LABELS):
                continue
            if key in DEFAULT_VALUES and actual[key] == DEFAULT_VALUES[key]:
                continue
            if actual[key] in ({}, [], None):
                continue
            found.append(f"{path}.{key}")
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(actual) != len(desired):
            return [path]
        found = []
        for index, (want, have) in enumerate(zip(desired, actual, strict=True)):
            found += differences(want, have, f"{path}[{index}]")
        return found
    if desired == actual:
        return []
    if (
        ".resources." in path
        and quantities.value(desired) is not None
        and quantities.value(desired) == quantities.value(actual)
    ):
        return []
    return [path]
