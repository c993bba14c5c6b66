"""Kubernetes I/O for the operator and the CLI: a thin, typed layer over the official client.

Objects travel as plain dicts (the builders' output and the API's JSON), never as generated model
classes. Status is written through the status subresource with the object's resourceVersion, so two
writers (a Job handler and a connection handler) can never silently overwrite each other.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from connector_operator import naming
from connector_operator.models import GROUP, PLURAL, VERSION

log = logging.getLogger(__name__)
StatusMutation = Callable[[dict[str, Any]], dict[str, Any] | None]
CONFLICT_RETRIES = 8


def load_api_client() -> client.ApiClient:
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = 64
    return client.ApiClient(configuration)


def _json(response: Any) -> Any:
    return json.loads(response.data)


def _read_or_none(read: Callable[[], Any]) -> dict[str, Any] | None:
    """One object read without preloading (`_preload_content=False`), or None when it does not exist."""
    try:
        response = read()
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    body: dict[str, Any] = _json(response)
    return body


class Kube:
    def __init__(self, api_client: client.ApiClient | None = None) -> None:
        self.api = api_client or load_api_client()
        self.custom = client.CustomObjectsApi(self.api)
        self.batch = client.BatchV1Api(self.api)
        self.core = client.CoreV1Api(self.api)

    # -- connections -------------------------------------------------------------------------
    def get_connection(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            body = cast(
                dict[str, Any],
                self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name),
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return body

    def list_connections(self, namespace: str | None) -> list[dict[str, Any]]:
        if namespace:
            result = cast(
                dict[str, Any], self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
            )
        else:
            result = cast(dict[str, Any], self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL))
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    def annotate_connection(self, namespace: str, name: str, key: str, value: str) -> None:
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, {"metadata": {"annotations": {key: value}}}
        )

    def update_status(
        self, namespace: str, name: str, mutate: StatusMutation, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Apply `mutate` to the current status and write it; retried on conflicts with a fresh read.

        `mutate` returns the new status, or None to write nothing. Returns the written status.
        """
        written = self.write_status(namespace, name, mutate, body)
        return None if written is None else dict(written.get("status") or {})

    def write_status(
        self, namespace: str, name: str, mutate: StatusMutation, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """As `update_status`, but returns the whole object as written (None when nothing was)."""
        current = copy.deepcopy(body) if body is not None else self.get_connection(namespace, name)
        for _ in range(CONFLICT_RETRIES):
            if current is None:
                return None
            status = current.get("status") or {}
            new_status = mutate(copy.deepcopy(status))
            if new_status is None or new_status == status:
                return None
            current["status"] = new_status
            try:
                stored = self.replace_connection_status(namespace, name, current)
            except ApiException as error:
                if error.status == 409:
                    current = self.get_connection(namespace, name)
                    continue
                if error.status == 404:
                    return None
                raise
            return stored if stored else current
        raise RuntimeError(f"status of {namespace}/{name}: too many conflicting writers")

    def replace_connection_status(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Write `body`'s status; 409 when its resourceVersion is stale. Returns the stored object."""
        stored = self.custom.replace_namespaced_custom_object_status(
            GROUP, VERSION, namespace, PLURAL, name, body
        )
        return cast(dict[str, Any], stored) if isinstance(stored, dict) else {}

    # -- secrets -------------------------------------------------------------------------------
    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """One Secret, or None when it does not exist; 403 and other errors are raised.

        The caller (`secret_reads`) reduces the body to key names, empty keys and labels at once.
        """
        return _read_or_none(
            lambda: self.core.read_namespaced_secret(name, namespace, _preload_content=False)
        )

    # -- jobs ----------------------------------------------------------------------------------
    def create_job(self, job: dict[str, Any]) -> bool:
        """Create a Job; False when it already exists (a retried, deterministic name)."""
        try:
            self.batch.create_namespaced_job(
                job["metadata"]["namespace"],
                job,  # type: ignore[arg-type]
                _preload_content=False,  # skip building model objects: slow and unused
            )
        except ApiException as error:
            if error.status == 409:
                return False
            raise
        return True

    def list_jobs(self, namespace: str, uid: str, mode: str | None = None) -> list[dict[str, Any]]:
        selector = f"{naming.CONNECTION_UID_LABEL}={uid}"
        if mode:
            selector += f",{naming.MODE_LABEL}={mode}"
        response = self.batch.list_namespaced_job(namespace, label_selector=selector, _preload_content=False)
        items: list[dict[str, Any]] = _json(response).get("items", [])
        return items

    def patch_job(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.batch.patch_namespaced_job(name, namespace, patch, _preload_content=False)

    def delete_job(self, namespace: str, name: str) -> None:
        try:
            self.batch.delete_namespaced_job(
                name, namespace, propagation_policy="Background", _preload_content=False
            )
        except ApiException as error:
            if error.status != 404:
                raise

    def list_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        response = self.core.list_namespaced_pod(
            namespace, label_selector=f"batch.kubernetes.io/job-name={job_name}", _preload_content=False
        )
        items: list[dict[str, Any]] = _json(response).get("items", [])
        return items

    def pod_log(self, namespace: str, pod: str) -> str:
        text: str = self.core.read_namespaced_pod_log(pod, namespace, container="extractor")
        return text

    # -- cronjobs ------------------------------------------------------------------------------
    def read_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        return _read_or_none(
            lambda: self.batch.read_namespaced_cron_job(name, namespace, _preload_content=False)
        )

    def create_cronjob(self, desired: dict[str, Any]) -> dict[str, Any] | None:
        """Create a CronJob; the created object, or None when one of that name exists already."""
        try:
            response = self.batch.create_namespaced_cron_job(
                desired["metadata"]["namespace"],
                desired,  # type: ignore[arg-type]
                _preload_content=False,
            )
        except ApiException as error:
            if error.status == 409:
                return None
            raise
        created: dict[str, Any] = _json(response)
        return created

    def replace_cronjob(self, current: dict[str, Any], desired: dict[str, Any]) -> None:
        """Replace the spec and spec-hash annotation of `current`, unless it changed since it was read."""
        metadata = current["metadata"]
        wanted = desired["metadata"]["annotations"][naming.SPEC_HASH_ANNOTATION]
        key = naming.SPEC_HASH_ANNOTATION.replace("~", "~0").replace("/", "~1")
        annotation: dict[str, Any] = (
            {"path": f"/metadata/annotations/{key}", "value": wanted}
            if metadata.get("annotations")
            else {"path": "/metadata/annotations", "value": {naming.SPEC_HASH_ANNOTATION: wanted}}
        )
        operations = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": metadata["resourceVersion"]},
            {"op": "replace", "path": "/spec", "value": desired["spec"]},
            {"op": "add", **annotation},
        ]
        # A JSON patch (RBAC verb "patch"), replacing the whole spec: nothing stale survives a merge.
        self.batch.patch_namespaced_cron_job(
            metadata["name"], metadata["namespace"], operations, _preload_content=False
        )

    def delete_cronjob(self, namespace: str, name: str) -> bool:
        try:
            self.batch.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    # -- events --------------------------------------------------------------------------------
    def post_event(self, connection: dict[str, Any], kind: str, reason: str, message: str) -> None:
        metadata = connection["metadata"]
        moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "generateName": f"{naming.shorten(metadata['name'], 200)}.",
                "namespace": metadata["namespace"],
            },
            "involvedObject": {
                "apiVersion": connection.get("apiVersion", f"{GROUP}/{VERSION}"),
                "kind": connection.get("kind", "OnlineConnection"),
                "name": metadata["name"],
                "namespace": metadata["namespace"],
                "uid": metadata.get("uid"),
            },
            "type": kind,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": naming.MANAGER},
            "reportingComponent": naming.MANAGER,
            "reportingInstance": naming.MANAGER,
            "firstTimestamp": moment,
            "lastTimestamp": moment,
            "count": 1,
        }
        try:
            self.core.create_namespaced_event(
                metadata["namespace"],
                event,  # type: ignore[arg-type]
                _preload_content=False,
            )
        except ApiException as error:  # an Event is best effort: never fail a handler for it
            log.warning("could not post event %s for %s: %s", reason, metadata["name"], error.reason)

    def list_events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        response = self.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={name}", _preload_content=False
        )
        items: list[dict[str, Any]] = _json(response).get("items", [])
        return items
