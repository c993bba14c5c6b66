"""The extractor Job, built as data by a pure function from a connection's spec.

Secrets reach the container only through `secretKeyRef`; the run configuration travels as
non-secret JSON in `OLC_RUN_CONFIG`. The pod meets the "restricted" Pod Security Standard and
mounts no service-account token. The pod failure policy fails the Job at once on error categories
where a retry cannot help (bad configuration, rejected credentials) and ignores disruptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from connector_extractors.errors import EXIT_CODES, NON_RETRYABLE
from connector_extractors.run_config import (
    ENV_DATAGALAXY_TOKEN,
    ENV_RUN_CONFIG,
    ENV_SOURCE_CA,
    ENV_SOURCE_PASSWORD,
)
from connector_operator import naming
from connector_operator.models import GROUP, KIND, VERSION, OnlineConnectionSpec
from connector_operator.run_config_render import render, render_json, target_key
from connector_operator.settings import Settings

CONTAINER = "extractor"
COMMAND = "online-connector-extract"
RUN_AS = 65532
CHECK_DEADLINE_SECONDS = 600
Mode = Literal["import", "check"]
Trigger = Literal["manual", "schedule"]


@dataclass(frozen=True)
class Connection:
    """The identity of the OnlineConnection that owns the Job."""

    name: str
    namespace: str
    uid: str


def owner_reference(connection: Connection) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": connection.name,
        "uid": connection.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


OOM_EXIT_CODE = 137  # SIGKILL: the kernel's OOM killer when the container exceeds its memory limit


def non_retryable_exit_codes() -> list[int]:
    """Exit codes that fail the Job at once: the non-retryable categories, and an OOM kill (the same
    memory limit would kill the retry too; the status says OOMKilled with a hint)."""
    return sorted([*(EXIT_CODES[category] for category in NON_RETRYABLE), OOM_EXIT_CODE])


def pod_failure_policy() -> dict[str, Any]:
    # Disruptions first (node drain, preemption, eviction also end in SIGKILL): those are retried.
    return {
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER,
                    "operator": "In",
                    "values": non_retryable_exit_codes(),
                },
            },
        ]
    }


def _env(spec: OnlineConnectionSpec, config_json: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": ENV_RUN_CONFIG, "value": config_json}]
    password = spec.source.password_secret_ref
    if password is not None:
        env.append(
            {
                "name": ENV_SOURCE_PASSWORD,
                "valueFrom": {"secretKeyRef": {"name": password.name, "key": password.key}},
            }
        )
    ca = spec.source.tls.ca_secret_ref
    if ca is not None:
        env.append({"name": ENV_SOURCE_CA, "valueFrom": {"secretKeyRef": {"name": ca.name, "key": ca.key}}})
    token = spec.target.token_secret_ref
    env.append(
        {"name": ENV_DATAGALAXY_TOKEN, "valueFrom": {"secretKeyRef": {"name": token.name, "key": token.key}}}
    )
    return env


def _resources(spec: OnlineConnectionSpec, settings: Settings) -> dict[str, Any]:
    """The spec's requests/limits, plus the operator's defaults for each resource the spec leaves out.

    A default applies to a resource (cpu, memory, ...) only when the spec names it in neither requests
    nor limits, so a default can never contradict the spec (a request above a default limit)."""
    given = {
        "requests": {str(k): str(v) for k, v in spec.run.resources.requests.items()},
        "limits": {str(k): str(v) for k, v in spec.run.resources.limits.items()},
    }
    named = set(given["requests"]) | set(given["limits"])
    resources: dict[str, Any] = {}
    for section, values in given.items():
        defaults = {k: v for k, v in settings.extractor_resources.get(section, {}).items() if k not in named}
        merged = {**defaults, **values}
        if merged:
            resources[section] = merged
    return resources


def pod_template(
    connection: Connection,
    spec: OnlineConnectionSpec,
    settings: Settings,
    *,
    mode: Mode,
    trigger: Trigger,
    previous_content_hash: str | None = None,
) -> dict[str, Any]:
    config = render(
        spec,
        namespace=connection.namespace,
        name=connection.name,
        mode=mode,
        previous_content_hash=previous_content_hash,
        uid=connection.uid,
        cluster_id=settings.cluster_id,
    )
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": settings.extractor_image,
        "imagePullPolicy": "IfNotPresent",
        "command": [COMMAND],
        "args": ["--check"] if mode == "check" else [],
        "env": _env(spec, render_json(config)),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir, private to the pod
    }
    resources = _resources(spec, settings)
    if resources:
        container["resources"] = resources
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }
    if settings.extractor_service_account:
        pod_spec["serviceAccountName"] = settings.extractor_service_account
    return {
        "metadata": {"labels": naming.labels(connection.name, connection.uid, mode, trigger)},
        "spec": pod_spec,
    }


def job_spec(
    connection: Connection,
    spec: OnlineConnectionSpec,
    settings: Settings,
    *,
    mode: Mode,
    trigger: Trigger,
    previous_content_hash: str | None = None,
    suspend: bool = False,
) -> dict[str, Any]:
    check = mode == "check"
    result: dict[str, Any] = {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 0 if check else spec.run.backoff_limit,
        "activeDeadlineSeconds": min(spec.run.timeout_seconds, CHECK_DEADLINE_SECONDS)
        if check
        else spec.run.timeout_seconds,
        "ttlSecondsAfterFinished": spec.run.ttl_seconds_after_finished,
        "podFailurePolicy": pod_failure_policy(),
        "template": pod_template(
            connection,
            spec,
            settings,
            mode=mode,
            trigger=trigger,
            previous_content_hash=previous_content_hash,
        ),
    }
    if suspend:
        result["suspend"] = True
    return result


def job_metadata(
    connection: Connection, spec: OnlineConnectionSpec, *, mode: Mode, trigger: Trigger, request: str | None
) -> dict[str, Any]:
    annotations = {
        naming.CONNECTION_NAME_ANNOTATION: connection.name,
        naming.TARGET_KEY_ANNOTATION: target_key(spec),
    }
    if request is not None:
        annotations[naming.REQUEST_ANNOTATION] = request
    return {
        "labels": naming.labels(connection.name, connection.uid, mode, trigger),
        "annotations": annotations,
    }


def build_job(
    connection: Connection,
    spec: OnlineConnectionSpec,
    settings: Settings,
    *,
    mode: Mode,
    request: str,
    previous_content_hash: str | None = None,
) -> dict[str, Any]:
    """An on-demand run (mode import) or connection test (mode check), named after its request."""
    name = (
        naming.run_job_name(connection.name, connection.uid, request)
        if mode == "import"
        else naming.test_job_name(connection.name, connection.uid, request)
    )
    metadata = job_metadata(connection, spec, mode=mode, trigger="manual", request=request)
    metadata.update(
        {"name": name, "namespace": connection.namespace, "ownerReferences": [owner_reference(connection)]}
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": job_spec(
            connection,
            spec,
            settings,
            mode=mode,
            trigger="manual",
            previous_content_hash=previous_content_hash,
        ),
    }
