"""The process kubelet ends a pod deleted mid-run in a terminal phase, as a real kubelet does, so that a
Job with a `podFailurePolicy` (like the operator's) fails at once instead of hanging until its deadline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e

RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
    "readOnlyRootFilesystem": True,
}


def long_job(name: str) -> dict[str, Any]:
    script = "import time; print('started', flush=True); time.sleep(600)"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 900,
            "podFailurePolicy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "onExitCodes": {"containerName": "main", "operator": "In", "values": [2]},
                    },
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
                ]
            },
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "main",
                            "image": "example.invalid/anything:1",
                            "command": ["python", "-c", script],
                            "securityContext": RESTRICTED,
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                }
            },
        },
    }


def _get(cp: ControlPlane, namespace: str, *args: str) -> dict[str, Any]:
    return dict(json.loads(cp.kubectl("-n", namespace, "get", *args, "-o", "json").stdout))


def test_a_pod_deleted_mid_run_fails_the_job(control_plane: ControlPlane, namespace: str) -> None:
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(long_job("doomed")))

    def running_pod() -> str:
        pods = _get(control_plane, namespace, "pods", "-l", "job-name=doomed")["items"]
        statuses = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return str(statuses[0]["metadata"]["name"]) if statuses else ""

    pod = wait_for(running_pod, interval=0.3, what="the Job's pod to run")
    wait_for(
        lambda: "started" in control_plane.kubectl("-n", namespace, "logs", pod, check=False).stdout,
        interval=0.3,
        what="the container to start",
    )
    control_plane.kubectl("-n", namespace, "delete", "pod", pod, "--wait=false")

    def failed_condition() -> dict[str, Any] | None:
        job = _get(control_plane, namespace, "job", "doomed")
        for condition in job.get("status", {}).get("conditions", []):
            if condition["type"] == "Failed" and condition["status"] == "True":
                return dict(condition)
        return None

    condition = wait_for(failed_condition, interval=0.3, what="the Job to fail after its pod was deleted")
    assert condition["reason"] == "BackoffLimitExceeded", condition
    assert _get(control_plane, namespace, "job", "doomed")["status"].get("failed") == 1
