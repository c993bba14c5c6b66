"""A fake Kubernetes for the operator's unit tests: objects in a dict, behind `Kube`'s interface.

It subclasses `Kube` and replaces only the primitives that talk to the API server, so the real
retry-on-conflict loop of `update_status` and the CronJob create-or-replace logic run unchanged.
Every write bumps the object's resourceVersion; a status write with a stale one gets 409, as from
the API server. `fail(verb, kind, status)` injects an error (404, 409, 422, …) for the next calls.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections import Counter
from typing import Any

from kubernetes.client.exceptions import ApiException

from connector_operator import naming
from connector_operator.job_builder import CONTAINER
from connector_operator.kube import Kube
from connector_operator.models import GROUP, VERSION

Key = tuple[str, str, str]  # kind, namespace, name
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """A JSON merge patch (RFC 7386), applied in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeKube(Kube):
    def __init__(self) -> None:  # no API client: nothing here talks to a server
        self.objects: dict[Key, dict[str, Any]] = {}
        self.events: list[dict[str, str]] = []
        self.calls: Counter[tuple[str, str]] = Counter()
        self._versions = itertools.count(1)
        self._uids = itertools.count(1)
        self._failures: dict[tuple[str, str], list[ApiException]] = {}

    # -- test controls -------------------------------------------------------------------------
    def fail(self, verb: str, kind: str, status: int, *, times: int = 1, message: str = "") -> None:
        """The next `times` calls of `verb` (get, list, create, replace, patch, delete) on `kind` fail."""
        for _ in range(times):
            error = ApiException(status=status, reason=f"injected {status}")
            error.body = json.dumps({"message": message or f"injected {status}"})
            self._failures.setdefault((verb, kind), []).append(error)

    def _call(self, verb: str, kind: str) -> None:
        self.calls[(verb, kind)] += 1
        pending = self._failures.get((verb, kind))
        if pending:
            raise pending.pop(0)

    def _store(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        metadata = body.setdefault("metadata", {})
        metadata["resourceVersion"] = str(next(self._versions))
        metadata.setdefault("uid", f"{kind}-uid-{next(self._uids)}")
        metadata.setdefault("creationTimestamp", f"2026-11-25T10:{len(self.objects) % 60:02d}:00Z")
        self.objects[(kind, metadata["namespace"], metadata["name"])] = body
        return body

    def add(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Put an object in the store (as a user or a controller would); returns a copy."""
        body = copy.deepcopy(body)
        if kind == "connection":
            body.setdefault("apiVersion", f"{GROUP}/{VERSION}")
            body.setdefault("kind", "OnlineConnection")
            body["metadata"].setdefault("generation", 1)
        return copy.deepcopy(self._store(kind, body))

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(body) for (k, _, _), body in sorted(self.objects.items()) if k == kind]

    def edit(self, kind: str, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Change an object as another client would (merge patch; bumps resourceVersion)."""
        body = self.objects[(kind, namespace, name)]
        merge(body, patch)
        if kind == "connection" and "spec" in patch:
            body["metadata"]["generation"] = int(body["metadata"].get("generation", 1)) + 1
        return copy.deepcopy(self._store(kind, body))

    def finish_job(
        self, namespace: str, name: str, *, succeeded: bool = True, message: str = "", reason: str = ""
    ) -> dict[str, Any]:
        """The Job controller and kubelet at work: one pod that terminated, and the Job's condition."""
        job = self.objects[("job", namespace, name)]
        self.add(
            "pod",
            {
                "metadata": {
                    "name": f"{name}-pod",
                    "namespace": namespace,
                    "labels": {JOB_NAME_LABEL: name},
                    "ownerReferences": [
                        {"kind": "Job", "name": name, "uid": job["metadata"]["uid"], "controller": True}
                    ],
                },
                "status": {
                    "containerStatuses": [
                        {
                            "name": CONTAINER,
                            "state": {
                                "terminated": {
                                    "exitCode": 0 if succeeded else 1,
                                    "message": message,
                                    "reason": reason or ("Completed" if succeeded else "Error"),
                                    "finishedAt": "2026-11-25T10:05:00Z",
                                }
                            },
                        }
                    ]
                },
            },
        )
        condition = {
            "type": "Complete" if succeeded else "Failed",
            "status": "True",
            "lastTransitionTime": "2026-11-25T10:05:00Z",
        }
        return self.edit(
            "job",
            namespace,
            name,
            {"status": {"startTime": "2026-11-25T10:00:00Z", "conditions": [condition]}},
        )

    def event_reasons(self) -> list[str]:
        return [e["reason"] for e in self.events]

    # -- Kube primitives -------------------------------------------------------------------------
    def get_connection(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._call("get", "connection")
        return self.get("connection", namespace, name)

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        """A Secret added with `add("secret", …)`; `fail("get", "secret", 403)` as from RBAC."""
        self._call("get", "secret")
        return self.get("secret", namespace, name)

    def list_connections(self, namespace: str | None) -> list[dict[str, Any]]:
        self._call("list", "connection")
        return [c for c in self.of_kind("connection") if namespace in (None, c["metadata"]["namespace"])]

    def annotate_connection(self, namespace: str, name: str, key: str, value: str) -> None:
        self._call("patch", "connection")
        self.edit("connection", namespace, name, {"metadata": {"annotations": {key: value}}})

    def replace_connection_status(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self._call("replace", "status")
        current = self.objects.get(("connection", namespace, name))
        if current is None:
            raise ApiException(status=404, reason="Not Found")
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise ApiException(status=409, reason="Conflict")
        current["status"] = copy.deepcopy(body.get("status"))
        return copy.deepcopy(self._store("connection", current))

    def create_job(self, job: dict[str, Any]) -> bool:
        self._call("create", "job")
        metadata = job["metadata"]
        if ("job", metadata["namespace"], metadata["name"]) in self.objects:
            return False
        self.add("job", job)
        return True

    def list_jobs(self, namespace: str, uid: str, mode: str | None = None) -> list[dict[str, Any]]:
        self._call("list", "job")
        wanted = {naming.CONNECTION_UID_LABEL: uid, **({naming.MODE_LABEL: mode} if mode else {})}
        return [
            job
            for job in self.of_kind("job")
            if job["metadata"]["namespace"] == namespace
            and all((job["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]

    def patch_job(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self._call("patch", "job")
        if ("job", namespace, name) not in self.objects:
            raise ApiException(status=404, reason="Not Found")
        self.edit("job", namespace, name, patch)

    def delete_job(self, namespace: str, name: str) -> None:
        self._call("delete", "job")
        self.objects.pop(("job", namespace, name), None)

    def list_pods(self, namespace: str, job_name: str) -> list[dict[str, Any]]:
        self._call("list", "pod")
        return [
            pod
            for pod in self.of_kind("pod")
            if pod["metadata"]["namespace"] == namespace
            and (pod["metadata"].get("labels") or {}).get(JOB_NAME_LABEL) == job_name
        ]

    def read_cronjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._call("get", "cronjob")
        return self.get("cronjob", namespace, name)

    def create_cronjob(self, desired: dict[str, Any]) -> dict[str, Any] | None:
        self._call("create", "cronjob")
        metadata = desired["metadata"]
        if ("cronjob", metadata["namespace"], metadata["name"]) in self.objects:
            return None
        return self.add("cronjob", desired)

    def replace_cronjob(self, current: dict[str, Any], desired: dict[str, Any]) -> None:
        self._call("patch", "cronjob")
        metadata = current["metadata"]
        stored = self.objects.get(("cronjob", metadata["namespace"], metadata["name"]))
        if stored is None:
            raise ApiException(status=404, reason="Not Found")
        if stored["metadata"]["resourceVersion"] != metadata["resourceVersion"]:
            raise ApiException(status=422, reason="test operation failed")
        stored["spec"] = copy.deepcopy(desired["spec"])
        stored["metadata"].setdefault("annotations", {}).update(desired["metadata"]["annotations"])
        self._store("cronjob", stored)

    def delete_cronjob(self, namespace: str, name: str) -> bool:
        self._call("delete", "cronjob")
        return self.objects.pop(("cronjob", namespace, name), None) is not None

    def post_event(self, connection: dict[str, Any], kind: str, reason: str, message: str) -> None:
        self._call("create", "event")
        self.events.append({"type": kind, "reason": reason, "message": message})
