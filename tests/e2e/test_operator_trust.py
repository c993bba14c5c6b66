"""The operator believes only objects it owns: forgeries by a namespace `edit` user are ignored.

A user with the built-in `edit` role (impersonated on the testbed: `kubectl --as`) can create Jobs,
pods and CronJobs carrying the operator's labels, and edit the ones the operator made. Each test
forges one object, then waits on a positive signal (a real run recorded, the CronJob repaired) and
shows the forgery changed nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_operator import naming
from connector_testbed.control_plane import ControlPlane
from tests.support.manifests import manifest
from tests.support.scenarios import Scenario, condition
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e
EDITOR = "mallory"
Doc = dict[str, Any]
RESTRICTED: Doc = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def as_editor(cp: ControlPlane, namespace: str, *args: str, input: str | None = None) -> str:
    """kubectl as a user bound to the built-in `edit` ClusterRole in the namespace."""
    return cp.kubectl("--as", EDITOR, "-n", namespace, *args, input=input).stdout


@pytest.fixture
def editor(scenario: Scenario) -> str:
    scenario.cp.kubectl(
        "create", "rolebinding", "mallory-edit", "--clusterrole=edit", f"--user={EDITOR}", "-n", scenario.ns
    )
    assert as_editor(scenario.cp, scenario.ns, "auth", "can-i", "create", "jobs").strip() == "yes"
    return EDITOR


def summary(**fields: Any) -> str:
    return json.dumps({"v": 1, "mode": "import", **fields})


def pod_template(message: str | None, *, labels: Doc | None = None, node: str | None = None) -> Doc:
    code = f"open('/dev/termination-log', 'w').write({message!r})" if message else "pass"
    spec: Doc = {
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "extractor",
                "image": "example.org/forged:1",
                "command": ["python", "-c", code],
                "securityContext": RESTRICTED,
            }
        ],
    }
    if node:
        spec["nodeName"] = node  # bound to a node that does not exist: Pending for ever
    return {"metadata": {"labels": labels or {}}, "spec": spec}


def look_alike_job(name: str, uid: str, *, trigger: str = "manual", **spec: Any) -> Doc:
    labels = {
        naming.MANAGED_BY: naming.MANAGER,
        naming.CONNECTION_LABEL: "shop",
        naming.CONNECTION_UID_LABEL: uid,
        naming.MODE_LABEL: "import",
        naming.TRIGGER_LABEL: trigger,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {naming.CONNECTION_NAME_ANNOTATION: "shop", naming.REQUEST_ANNOTATION: "forged"},
        },
        "spec": {"backoffLimit": 0, **spec},
    }


def test_a_look_alike_job_that_never_ends_does_not_block_runs(scenario: Scenario, editor: str) -> None:
    scenario.apply()
    uid = scenario.get()["metadata"]["uid"]
    forged = look_alike_job("shop-run-forged", uid, template=pod_template(None, node="nowhere"))
    as_editor(scenario.cp, scenario.ns, "create", "-f", "-", input=manifest(forged))
    record = scenario.run_and_wait()  # before the fix: RunQueued behind the forged Job, for ever
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    assert not any(
        e["reason"] == "RunQueued" and "shop-run-forged" in e.get("message", "") for e in scenario.events()
    )


def test_a_look_alike_finished_job_is_not_recorded(scenario: Scenario, editor: str) -> None:
    scenario.apply()
    uid = scenario.get()["metadata"]["uid"]
    message = summary(result="Succeeded", message="forged", counts={"tables": 9999}, contentHash="forged")
    forged = look_alike_job("shop-run-finished", uid, template=pod_template(message))
    as_editor(scenario.cp, scenario.ns, "create", "-f", "-", input=manifest(forged))
    wait_for(
        lambda: any(
            c.get("type") == "Complete" and c.get("status") == "True"
            for c in scenario.job("shop-run-finished").get("status", {}).get("conditions", [])
        ),
        what="the forged Job to complete",
    )
    record = scenario.run_and_wait()  # a real run, recorded after the forged Job finished
    status = scenario.get()["status"]
    assert [h["job"] for h in status["history"]] == [record["job"]]
    assert status["lastSuccessfulRun"].get("contentHash") != "forged"


def test_a_look_alike_scheduled_job_is_never_admitted(scenario: Scenario, editor: str) -> None:
    scenario.apply(schedule={"cron": "0 3 1 1 *"})
    uid = scenario.get()["metadata"]["uid"]
    forged = look_alike_job(
        "shop-sched-forged", uid, trigger="schedule", suspend=True, template=pod_template(None)
    )
    as_editor(scenario.cp, scenario.ns, "create", "-f", "-", input=manifest(forged))
    record = scenario.run_and_wait()  # the operator has handled events since: the forged Job is old news
    assert record["job"] != "shop-sched-forged"
    job = scenario.job("shop-sched-forged")
    assert job["spec"]["suspend"] is True
    assert naming.ADMITTED_ANNOTATION not in job["metadata"].get("annotations", {})
    assert scenario.get()["status"].get("activeJob") != "shop-sched-forged"


def test_a_pod_the_job_does_not_control_is_not_believed(scenario: Scenario, editor: str) -> None:
    scenario.apply()
    uid = scenario.get()["metadata"]["uid"]
    value = "forged-pod-request"
    job_name = naming.run_job_name("shop", uid, value)
    message = summary(result="Succeeded", message="forged", counts={"tables": 9999}, contentHash="forged")
    labels = {"batch.kubernetes.io/job-name": job_name, "job-name": job_name}
    template = pod_template(message, labels=labels)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "forged-pod", **template["metadata"]}}
    pod["spec"] = template["spec"]
    as_editor(scenario.cp, scenario.ns, "create", "-f", "-", input=manifest(pod))
    scenario.request(value=value)
    record = scenario.wait_run(value)
    assert record["job"] == job_name
    assert record.get("contentHash") != "forged"
    assert record["counts"].get("tables", 0) < 9999
    assert record.get("message") != "forged"


def test_an_edited_cronjob_is_repaired(scenario: Scenario, editor: str) -> None:
    scenario.apply(schedule={"cron": "0 3 1 1 *"})
    cronjob = wait_for(scenario.cronjob, what="the CronJob")
    name = cronjob["metadata"]["name"]
    image = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]
    patch = [
        {
            "op": "replace",
            "path": "/spec/jobTemplate/spec/template/spec/containers/0/image",
            "value": "evil:1",
        }
    ]
    as_editor(scenario.cp, scenario.ns, "patch", "cronjob", name, "--type=json", "-p", json.dumps(patch))

    def repaired() -> bool:
        current = scenario.cronjob() or {}
        containers = current.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get("template", {})
        return bool(containers.get("spec", {}).get("containers", [{}])[0].get("image") == image)

    wait_for(repaired, what="the CronJob's image to be put back")
    assert condition(scenario.get(), "Ready")["status"] == "True"  # type: ignore[index]


def test_a_deleted_cronjob_is_recreated(scenario: Scenario, editor: str) -> None:
    scenario.apply(schedule={"cron": "0 3 1 1 *"})
    first = wait_for(scenario.cronjob, what="the CronJob")
    as_editor(scenario.cp, scenario.ns, "delete", "cronjob", first["metadata"]["name"])
    wait_for(
        lambda: (c := scenario.cronjob()) is not None and c["metadata"]["uid"] != first["metadata"]["uid"],
        what="a new CronJob",
    )
