"""The operator's core flows on a fake Kubernetes: request queue, scheduled-Job admission,
exactly-once recording, pruning and CronJob errors (milliseconds each, no cluster)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from connector_extractors.run_summary import RunSummary
from connector_operator import cronjob_watch, job_events, job_tracking, naming
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.secrets_check import SecretInfo
from connector_operator.settings import Settings
from tests.support.manifests import connection_spec
from tests.unit.operator.fake_kube import FakeKube

NS = "team"


def lookup(name: str) -> SecretInfo | None:
    return {"db": SecretInfo(frozenset({"password"})), "dg": SecretInfo(frozenset({"token"}))}.get(name)


def spec(**overrides: Any) -> dict[str, Any]:
    return connection_spec(**overrides)


class World:
    """A fake cluster, the operator state on it, and shortcuts for what users and controllers do."""

    def __init__(self) -> None:
        self.kube = FakeKube()
        self.state = OperatorState(settings=Settings(metrics_port=-1), kube_factory=lambda: self.kube)

    def connection(self, name: str = "shop", **overrides: Any) -> dict[str, Any]:
        body = self.kube.add(
            "connection", {"metadata": {"name": name, "namespace": NS}, "spec": spec(**overrides)}
        )
        self.reconcile(name)
        return body

    def body(self, name: str = "shop") -> dict[str, Any]:
        found = self.kube.get("connection", NS, name)
        assert found is not None
        return found

    def status(self, name: str = "shop") -> dict[str, Any]:
        status: dict[str, Any] = self.body(name).get("status") or {}
        return status

    def condition(self, kind: str, name: str = "shop") -> dict[str, Any]:
        found = [c for c in self.status(name).get("conditions") or [] if c["type"] == kind]
        assert found, f"no {kind} condition"
        return dict(found[0])

    def reconcile(self, name: str = "shop") -> None:
        reconcile(self.state, self.body(name), lookup)

    def request(self, value: str, name: str = "shop", annotation: str = naming.RUN_REQUESTED) -> None:
        self.kube.annotate_connection(NS, name, annotation, value)
        self.reconcile(name)

    def jobs(self) -> list[dict[str, Any]]:
        return self.kube.of_kind("job")

    def job_event(self, name: str, *, deleted: bool = False) -> None:
        job = self.kube.get("job", NS, name)
        assert job is not None
        if job_events.needs_work(job, deleted):
            job_events.handle_job(self.state, job, lookup, deleted)

    def finish(self, name: str, *, succeeded: bool = True, summary: RunSummary | None = None) -> None:
        message = summary.model_dump_json(by_alias=True) if summary else ""
        self.kube.finish_job(NS, name, succeeded=succeeded, message=message)
        self.job_event(name)

    def scheduled_job(self, name: str = "shop-sched-1") -> str:
        cronjob = self.kube.get("cronjob", NS, naming.cronjob_name("shop"))
        assert cronjob is not None
        template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
        template["metadata"].update(
            name=name,
            namespace=NS,
            ownerReferences=[
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": cronjob["metadata"]["name"],
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                }
            ],
        )
        self.kube.add("job", template)
        self.job_event(name)
        return name


@pytest.fixture
def world() -> World:
    return World()


def test_a_request_starts_one_job_and_marks_the_run_active(world: World) -> None:
    world.connection()
    assert world.condition("Ready")["status"] == "True"
    world.request("r1")
    [job] = world.jobs()
    assert world.status()["activeJob"] == job["metadata"]["name"]
    assert world.status()["handledRequests"] == {"run": "r1"}
    assert world.condition("Running")["status"] == "True"
    assert world.kube.event_reasons() == ["RunStarted"]
    world.reconcile()  # the same request again: nothing new
    assert len(world.jobs()) == 1


def test_a_second_request_waits_for_the_active_run_then_starts(world: World) -> None:
    world.connection()
    world.request("r1")
    [first] = world.jobs()
    world.request("r2")
    world.reconcile()
    assert len(world.jobs()) == 1, "one run at a time"
    assert world.kube.event_reasons().count("RunQueued") == 1, "one notice per waiting request"
    world.finish(first["metadata"]["name"])
    names = {j["metadata"]["name"] for j in world.jobs()}
    assert len(names) == 2, "the queued request starts once the first run is recorded"
    assert world.status()["handledRequests"]["run"] == "r2"


def test_a_request_on_a_connection_that_is_not_ready_is_rejected_once(world: World) -> None:
    world.connection(target={**spec()["target"], "tokenSecretRef": {"name": "missing", "key": "token"}})
    assert world.condition("Ready")["reason"] == "SecretNotFound"
    world.request("r1")
    world.reconcile()
    assert world.jobs() == []
    assert world.kube.event_reasons() == ["RunRejected"]
    assert world.status()["handledRequests"] == {"run": "r1"}


def test_a_finished_run_is_recorded_exactly_once(world: World) -> None:
    world.connection()
    world.request("r1")
    [job] = world.jobs()
    name = job["metadata"]["name"]
    summary = RunSummary(result="Succeeded", message="pushed 3 objects", counts={"tables": 3})
    world.finish(name, summary=summary)
    world.job_event(name)  # the same event again (a resync, a restart)
    world.kube.objects[("job", NS, name)]["metadata"]["annotations"].pop(naming.RECORDED_ANNOTATION)
    world.job_event(name)  # even without the "recorded" annotation
    world.job_event(name, deleted=True)
    status = world.status()
    assert [h["job"] for h in status["history"]] == [name]
    assert status["lastRun"]["result"] == "Succeeded"
    assert status["lastRun"]["objects"] == 3
    assert "activeJob" not in status
    assert world.condition("Running")["status"] == "False"
    assert world.kube.event_reasons().count("RunSucceeded") == 1


def test_recording_survives_a_conflicting_writer(world: World) -> None:
    world.connection()
    world.request("r1")
    [job] = world.jobs()
    world.kube.fail("replace", "status", 409, times=2)
    world.finish(job["metadata"]["name"])
    assert world.status()["lastRun"]["job"] == job["metadata"]["name"]


def test_a_job_deleted_before_it_finished_is_recorded_as_failed(world: World) -> None:
    world.connection()
    world.request("r1")
    [job] = world.jobs()
    world.kube.delete_job(NS, job["metadata"]["name"])
    job_events.handle_job(world.state, job, lookup, deleted=True)
    assert world.status()["lastRun"]["reason"] == "JobDeleted"
    assert world.status()["consecutiveFailures"] == 1


def test_old_recorded_jobs_are_pruned_to_the_history_limit(world: World) -> None:
    world.connection(run={"historyLimit": 2})
    names = []
    for value in ("r1", "r2", "r3", "r4"):
        world.request(value)
        name = world.status()["activeJob"]
        names.append(name)
        world.finish(name)
    left = {j["metadata"]["name"] for j in world.jobs()}
    assert len(left) == 2
    assert [h["job"] for h in world.status()["history"]] == list(reversed(names))[:2]


def test_a_scheduled_job_is_admitted_when_idle(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    assert world.kube.get("cronjob", NS, naming.cronjob_name("shop")) is not None
    assert world.status()["nextScheduledRun"]
    name = world.scheduled_job()
    job = world.kube.get("job", NS, name)
    assert job is not None
    assert job["spec"]["suspend"] is False
    assert job["metadata"]["annotations"][naming.ADMITTED_ANNOTATION] == "true"
    assert world.status()["activeJob"] == name


def test_a_scheduled_job_is_skipped_while_a_run_is_active(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    world.request("r1")
    name = world.scheduled_job()
    assert world.kube.get("job", NS, name) is None
    assert "ScheduledRunSkipped" in world.kube.event_reasons()


def test_a_scheduled_job_is_skipped_when_the_schedule_is_suspended(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    world.kube.edit("connection", NS, "shop", {"spec": {"schedule": {"cron": "0 2 * * *", "suspend": True}}})
    name = world.scheduled_job()
    assert world.kube.get("job", NS, name) is None


def test_removing_the_schedule_deletes_the_cronjob_once(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    world.kube.edit("connection", NS, "shop", {"spec": {"schedule": None}})
    world.reconcile()
    world.reconcile()
    assert world.kube.get("cronjob", NS, naming.cronjob_name("shop")) is None
    assert world.kube.calls[("delete", "cronjob")] == 1


def test_a_cronjob_refused_by_the_api_server_makes_the_connection_not_ready(world: World) -> None:
    world.kube.fail("create", "cronjob", 422, message="spec.schedule: Invalid value")
    world.connection(schedule={"cron": "0 2 * * *"})
    ready = world.condition("Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "SpecRejected"
    assert "spec.schedule" in ready["message"]


def test_an_unreadable_cron_string_makes_the_connection_not_ready(world: World) -> None:
    world.connection(schedule={"cron": "*/x * * * *"})
    assert world.condition("Ready")["status"] == "False"
    assert "spec.schedule" in world.condition("Ready")["message"]
    world.reconcile()
    assert world.kube.event_reasons() == ["InvalidSpec"], "one Event, not one per reconcile"


def test_a_test_request_records_last_test(world: World) -> None:
    world.connection()
    world.request("t1", annotation=naming.TEST_REQUESTED)
    [job] = world.jobs()
    world.finish(job["metadata"]["name"], summary=RunSummary(result="Succeeded", message="ok"))
    assert world.status()["lastTest"]["result"] == "Succeeded"
    assert world.condition("ConnectionTested")["status"] == "True"
    assert json.dumps(world.status())  # plain JSON, as the API server stores it


# --- wedged inputs -------------------------------------------------------------------------------


def test_a_job_the_api_server_refuses_makes_the_connection_not_ready_without_retrying(world: World) -> None:
    world.connection()
    refusal = "Job.batch is invalid: spec.template.spec.containers[0].resources.requests: Invalid value"
    world.kube.fail("create", "job", 422, message=refusal)
    world.request("r1")  # no exception: nothing for kopf to retry
    ready = world.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SpecRejected")
    assert ready["message"].startswith("run Job refused: spec.run.resources")
    assert world.status()["handledRequests"]["run"] == "r1"
    assert "RunRejected" in world.kube.event_reasons()
    world.reconcile()
    assert world.kube.calls[("create", "job")] == 1, "the same request is not tried again"
    assert world.condition("Ready")["reason"] == "SpecRejected", "until the spec changes"
    assert world.kube.event_reasons().count("SpecRejected") == 1
    world.request("r2")
    assert world.kube.calls[("create", "job")] == 1, "a refused spec starts nothing"
    world.kube.edit("connection", NS, "shop", {"spec": {"strict": True}})
    world.request("r3")
    assert world.condition("Ready")["status"] == "True", "a new generation gets a new chance"
    assert len(world.jobs()) == 1


def test_a_transient_api_error_is_raised_for_a_retry(world: World) -> None:
    world.connection()
    world.kube.fail("create", "job", 503)
    with pytest.raises(ApiException):
        world.request("r1")
    world.reconcile()
    assert len(world.jobs()) == 1


def test_integer_quantities_are_rendered_as_strings(world: World) -> None:
    world.connection(run={"resources": {"requests": {"cpu": 1}, "limits": {"memory": "1Gi", "cpu": 2}}})
    world.request("r1")
    [job] = world.jobs()
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi", "cpu": "2"}}


@pytest.mark.parametrize("value", ["x" * 200_000, "tab\tinside", " padded "])
def test_an_unusable_request_value_is_rejected_once_and_never_stored(world: World, value: str) -> None:
    world.connection()
    world.request(value)
    world.reconcile()
    assert world.jobs() == []
    assert world.kube.event_reasons() == ["RunRejected"]
    handled = world.status()["handledRequests"]["run"]
    assert handled.startswith("invalid-")
    assert len(json.dumps(world.status())) < 4096


def test_each_request_value_is_handled_once_even_a_then_b_then_a(world: World) -> None:
    world.connection()
    world.request("A")
    world.finish(world.status()["activeJob"])
    world.request("B")
    world.finish(world.status()["activeJob"])
    world.request("A")
    status = world.status()
    assert "activeJob" not in status
    assert world.condition("Running")["status"] == "False"
    assert len(world.jobs()) == 2
    assert world.kube.event_reasons()[-1] == "RunRejected"


# --- trust only owned objects ----------------------------------------------------------------------


def forged_job(name: str, uid: str = "u-forger", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {
                naming.MANAGED_BY: naming.MANAGER,
                naming.MODE_LABEL: "import",
                naming.TRIGGER_LABEL: "manual",
                **labels,
            },
            "annotations": {naming.CONNECTION_NAME_ANNOTATION: "shop"},
            "ownerReferences": [{"kind": "Deployment", "name": "x", "uid": uid, "controller": True}],
        },
        "spec": {"template": {"spec": {"containers": [{"name": "extractor", "image": "evil"}]}}},
    }


def test_a_look_alike_job_neither_blocks_runs_nor_gets_recorded(world: World) -> None:
    body = world.connection()
    uid = body["metadata"]["uid"]
    world.kube.add("job", forged_job("forged", **{naming.CONNECTION_UID_LABEL: uid}))
    world.state.jobs.attach(
        {
            (uid, "import"): [
                job_tracking.index_entry(world.kube.get("job", NS, "forged") or {})[(uid, "import")]
            ]
        }
    )
    world.request("r1")
    assert world.status()["activeJob"] != "forged"
    assert len(world.jobs()) == 2, "the forged Job does not block the run"
    forged = RunSummary(result="Succeeded", message="forged").model_dump_json(by_alias=True)
    world.kube.finish_job(NS, "forged", message=forged)
    world.job_event("forged")
    assert "history" not in world.status() or not world.status()["history"]


def test_a_scheduled_job_with_a_changed_template_is_not_admitted(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    cronjob = world.kube.objects[("cronjob", NS, naming.cronjob_name("shop"))]
    original = copy.deepcopy(cronjob["spec"])
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:1"
    name = world.scheduled_job()
    assert world.kube.get("job", NS, name) is None
    assert "ScheduledRunSkipped" in world.kube.event_reasons()
    cronjob["spec"] = original


def test_a_job_of_a_look_alike_cronjob_is_ignored(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    job = forged_job("shop-sched-forged", **{naming.TRIGGER_LABEL: "schedule"})
    job["metadata"]["ownerReferences"] = [
        {"kind": "CronJob", "name": naming.cronjob_name("shop"), "uid": "not-the-cronjob", "controller": True}
    ]
    job["spec"]["suspend"] = True
    world.kube.add("job", job)
    world.job_event("shop-sched-forged")
    stored = world.kube.get("job", NS, "shop-sched-forged")
    assert stored is not None
    assert stored["spec"]["suspend"] is True, "never admitted"
    assert "activeJob" not in world.status()


def test_a_pod_the_job_does_not_control_is_not_believed(world: World) -> None:
    world.connection()
    world.request("r1")
    name = world.status()["activeJob"]
    world.kube.add(
        "pod",
        {
            "metadata": {
                "name": "forged-pod",
                "namespace": NS,
                "labels": {"batch.kubernetes.io/job-name": name},
            },
            "status": {
                "containerStatuses": [
                    {
                        "name": "extractor",
                        "state": {
                            "terminated": {
                                "exitCode": 0,
                                "finishedAt": "2026-11-25T11:00:00Z",
                                "message": RunSummary(
                                    result="Succeeded", message="forged", contentHash="evil"
                                ).model_dump_json(by_alias=True),
                            }
                        },
                    }
                ]
            },
        },
    )
    world.finish(name, summary=RunSummary(result="Succeeded", message="real"))
    assert world.status()["lastRun"]["message"] == "real"
    assert world.status()["lastRun"].get("contentHash") != "evil"


def test_an_edited_cronjob_is_repaired(world: World) -> None:
    now = [1000.0]
    world.state.clock = lambda: now[0]
    world.connection(schedule={"cron": "0 2 * * *"})
    key = ("cronjob", NS, naming.cronjob_name("shop"))
    pod_spec = world.kube.objects[key]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod_spec["hostNetwork"] = True  # an edit that keeps the spec-hash annotation
    pod_spec["dnsPolicy"] = "ClusterFirst"  # a server default: not drift
    cronjob = world.kube.get(*key)
    assert cronjob is not None
    assert cronjob_watch.needs_repair(world.state, cronjob, deleted=False)
    cronjob_watch.repair(world.state, cronjob, lookup)
    repaired = world.kube.objects[key]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert "hostNetwork" not in repaired
    assert not cronjob_watch.needs_repair(world.state, world.kube.get(*key) or {}, deleted=False)


def test_a_deleted_cronjob_is_recreated(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    key = ("cronjob", NS, naming.cronjob_name("shop"))
    cronjob = world.kube.objects.pop(key)
    assert cronjob_watch.needs_repair(world.state, cronjob, deleted=True)
    cronjob_watch.repair(world.state, cronjob, lookup)
    assert key in world.kube.objects


def test_a_look_alike_cronjob_in_the_way_is_replaced(world: World) -> None:
    world.kube.add(
        "cronjob",
        {
            "metadata": {"name": naming.cronjob_name("shop"), "namespace": NS, "annotations": {}},
            "spec": {"schedule": "* * * * *"},
        },
    )
    world.connection(schedule={"cron": "0 2 * * *"})
    cronjob = world.kube.get("cronjob", NS, naming.cronjob_name("shop"))
    assert cronjob is not None
    assert cronjob["spec"]["schedule"] == "0 2 * * *"
    assert cronjob["metadata"]["ownerReferences"][0]["kind"] == "OnlineConnection"


def test_after_a_job_finishes_the_connection_is_read_once(world: World) -> None:
    world.connection()
    world.request("r1")
    name = world.status()["activeJob"]
    world.kube.finish_job(NS, name, message=RunSummary(result="Succeeded").model_dump_json(by_alias=True))
    before = world.kube.calls[("get", "connection")]
    world.job_event(name)
    assert world.kube.calls[("get", "connection")] - before == 1


@pytest.mark.parametrize(
    "resources",
    [
        {"requests": {"cpu": "-1"}},
        {"requests": {"cpu": -1}},
        {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
        {"requests": {"cpu": 2}, "limits": {"cpu": "1500m"}},
    ],
)
def test_resources_the_api_server_would_refuse_are_an_invalid_spec(
    world: World, resources: dict[str, Any]
) -> None:
    world.connection(run={"resources": resources})
    ready = world.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "spec.run.resources" in ready["message"]
    world.request("r1")
    assert world.jobs() == []


def test_a_schedule_broken_by_an_edit_removes_the_old_cronjob(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    world.kube.edit("connection", NS, "shop", {"spec": {"schedule": {"cron": "CRON_TZ=Asia/Tokyo 0 * * *"}}})
    world.reconcile()
    ready = world.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert world.kube.get("cronjob", NS, naming.cronjob_name("shop")) is None, (
        "no stale schedule keeps firing"
    )
    assert "nextScheduledRun" not in world.status()


def test_events_without_drift_do_not_use_up_the_repair_allowance(world: World) -> None:
    world.connection(schedule={"cron": "0 2 * * *"})
    key = ("cronjob", NS, naming.cronjob_name("shop"))
    unchanged = world.kube.get(*key) or {}
    for _ in range(3):  # status updates by the CronJob controller
        assert not cronjob_watch.needs_repair(world.state, unchanged, deleted=False)
    assert cronjob_watch.needs_repair(world.state, unchanged, deleted=True)
