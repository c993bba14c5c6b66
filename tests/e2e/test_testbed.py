"""The testbed itself: Jobs run through the process kubelet to Complete or Failed, on a real control plane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.support.scenarios import job_finished
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


def job(name: str, script: str, **extra: object) -> dict[str, object]:
    container = {
        "name": "main",
        "image": "example.invalid/anything:1",
        "command": ["python", "-c", script],
        "securityContext": RESTRICTED,
        "env": [
            {"name": "PLAIN", "value": "plain-value"},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "FROM_CONFIGMAP", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "EXPANDED", "value": "x-$(PLAIN)"},
        ],
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CM_"}],
        "volumeMounts": [
            {"name": "secret", "mountPath": "/etc/olc-test/secret", "readOnly": True},
            {"name": "config", "mountPath": "/etc/olc-test/config"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        "workingDir": "/etc/olc-test",
        **extra,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [
                        {"name": "secret", "secret": {"secretName": "creds"}},
                        {"name": "config", "configMap": {"name": "settings"}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                }
            },
        },
    }


def setup_objects(cp: ControlPlane, namespace: str) -> None:
    cp.kubectl("-n", namespace, "create", "secret", "generic", "creds", "--from-literal=password=s3cr3t")
    cp.kubectl("-n", namespace, "create", "configmap", "settings", "--from-literal=mode=fast")


def wait_job(cp: ControlPlane, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
    """The Job once it has its Complete or Failed condition."""

    def finished() -> dict[str, Any] | None:
        found: dict[str, Any] = json.loads(
            cp.kubectl("-n", namespace, "get", "job", name, "-o", "json").stdout
        )
        return found if job_finished(found) else None

    return wait_for(finished, timeout=timeout, interval=0.3, what=f"job {name} to finish")


def pod_of(cp: ControlPlane, namespace: str, job_name: str) -> dict[str, object]:
    pods = json.loads(
        cp.kubectl("-n", namespace, "get", "pods", "-l", f"job-name={job_name}", "-o", "json").stdout
    )["items"]
    assert len(pods) == 1
    return dict(pods[0])


CHECK_SCRIPT = """
import os, pathlib
assert os.environ["PLAIN"] == "plain-value"
assert os.environ["FROM_SECRET"] == "s3cr3t"
assert os.environ["FROM_CONFIGMAP"] == "fast"
assert os.environ["CM_mode"] == "fast"
assert os.environ["EXPANDED"] == "x-plain-value"
assert os.environ["POD_NAME"].startswith("ok-")
assert pathlib.Path("/etc/olc-test/secret/password").read_text() == "s3cr3t"
assert pathlib.Path("/etc/olc-test/config/mode").read_text() == "fast"
assert os.getcwd() == "/etc/olc-test"
pathlib.Path("/tmp/scratch").write_text("writable emptyDir")
try:
    pathlib.Path("/etc/olc-test/written-to-root").write_text("x")
    raise SystemExit("root filesystem was writable")
except OSError:
    pass
pathlib.Path("/dev/termination-log").write_text('{"result": "ok"}')
print("all good")
"""


def test_job_runs_to_complete(control_plane: ControlPlane, namespace: str) -> None:
    setup_objects(control_plane, namespace)
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(job("ok", CHECK_SCRIPT)))
    finished = wait_job(control_plane, namespace, "ok")
    pod = pod_of(control_plane, namespace, "ok")
    state = pod["status"]["containerStatuses"][0]["state"]  # type: ignore[index]
    assert state["terminated"]["exitCode"] == 0, state
    assert state["terminated"]["message"] == '{"result": "ok"}'
    assert any(c["type"] == "Complete" for c in finished["status"]["conditions"])
    logs = control_plane.kubectl("-n", namespace, "logs", "job/ok").stdout
    assert "all good" in logs


def test_failing_pod_fails_the_job_with_exit_code_and_message(
    control_plane: ControlPlane, namespace: str
) -> None:
    setup_objects(control_plane, namespace)
    script = "import pathlib,sys; pathlib.Path('/dev/termination-log').write_text('it broke'); sys.exit(7)"
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(job("bad", script)))
    finished = wait_job(control_plane, namespace, "bad")
    assert any(c["type"] == "Failed" for c in finished["status"]["conditions"])
    pod = pod_of(control_plane, namespace, "bad")
    assert pod["status"]["phase"] == "Failed"  # type: ignore[index]
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]  # type: ignore[index]
    assert terminated["exitCode"] == 7
    assert terminated["message"] == "it broke"


def test_missing_secret_waits_then_runs(control_plane: ControlPlane, namespace: str) -> None:
    control_plane.kubectl("-n", namespace, "create", "configmap", "settings", "--from-literal=mode=fast")
    control_plane.kubectl(
        "-n", namespace, "apply", "-f", "-", input=json.dumps(job("late", "print('late ok')"))
    )

    def waiting_reason() -> str | None:
        pods = json.loads(control_plane.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
        statuses = pods[0].get("status", {}).get("containerStatuses", []) if pods else []
        reason = statuses[0]["state"].get("waiting", {}).get("reason") if statuses else None
        return str(reason) if reason else None

    wait_for(
        lambda: waiting_reason() == "CreateContainerConfigError",
        timeout=30,
        interval=0.3,
        what="the pod to wait with CreateContainerConfigError",
    )
    control_plane.kubectl(
        "-n", namespace, "create", "secret", "generic", "creds", "--from-literal=password=x"
    )
    finished = wait_job(control_plane, namespace, "late")
    assert any(c["type"] == "Complete" for c in finished["status"]["conditions"])


def test_deleting_a_running_pod_kills_its_process(control_plane: ControlPlane, namespace: str) -> None:
    setup_objects(control_plane, namespace)
    script = f"import time; time.sleep(600)  # {namespace}"
    control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(job("slow", script)))

    def running_pods() -> list[dict[str, Any]] | None:
        pods: list[dict[str, Any]] = json.loads(
            control_plane.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout
        )["items"]
        return pods if pods and pods[0].get("status", {}).get("phase") == "Running" else None

    pods = wait_for(running_pods, timeout=30, interval=0.3, what="the pod to run")
    pod_dir = control_plane.dir / "kubelet" / "pods" / pods[0]["metadata"]["uid"]
    assert (pod_dir / "volumes" / "secret" / "password").exists()
    # The pod's phase can say Running a moment before the kubelet has started its process.
    wait_for(lambda: processes_running(script), timeout=30, interval=0.2, what="the pod's process")
    control_plane.kubectl("-n", namespace, "delete", "job", "slow", "--cascade=foreground", "--timeout=30s")
    pods = json.loads(control_plane.kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    assert pods == []
    assert not processes_running(script)
    # The pod's folder, with its Secret volume, is gone too.
    assert not pod_dir.exists()


def processes_running(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
    return found


def test_restricted_namespace_rejects_privileged_pods(control_plane: ControlPlane, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "priv"},
        "spec": {"containers": [{"name": "c", "image": "x", "command": ["true"]}]},
    }
    result = control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(pod), check=False)
    assert result.returncode != 0
    assert "violates PodSecurity" in result.stderr
