"""The operator's core flows on a fake Kubernetes: request queue, scheduled-Job admission,
exactly-once recording, pruning and CronJob errors (milliseconds each, no cluster)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from connector_extractors.run_summary import RunSummary
from connector_operator import job_events, naming
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.secrets_check import SecretInfo
from connector_operator.settings import Settings
from tests.unit.operator.fake_kube import FakeKube

NS = "team"


def lookup(name: str) -> SecretInfo | None:
    return {"db": SecretInfo(frozenset({"password"})), "dg": SecretInfo(frozenset({"token"}))}.get(name)


def spec(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "source": {
            "technology": "postgresql",
            "host": "db.example.com",
            "database": "sales",
            "username": "reader",
            "passwordSecretRef": {"name": "db", "key": "password"},
        },
        "target": {
            "apiUrl": "https://api.datagalaxy.com/v2",
            "tokenSecretRef": {"name": "dg", "key": "token"},
            "workspace": "Sales",
            "sourceName": "Sales DB",
        },
    }
    raw.update(overrides)
    return raw


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
    assert ready["reason"] == "InvalidSpec"
    assert "spec.schedule" in ready["message"]


def test_an_unreadable_cron_string_makes_the_connection_not_ready(world: World) -> None:
    world.connection(schedule={"cron": "*/x * * * *"})
    assert world.condition("Ready")["status"] == "False"
    assert "spec.schedule" in world.condition("Ready")["message"]


def test_a_test_request_records_last_test(world: World) -> None:
    world.connection()
    world.request("t1", annotation=naming.TEST_REQUESTED)
    [job] = world.jobs()
    world.finish(job["metadata"]["name"], summary=RunSummary(result="Succeeded", message="ok"))
    assert world.status()["lastTest"]["result"] == "Succeeded"
    assert world.condition("ConnectionTested")["status"] == "True"
    assert json.dumps(world.status())  # plain JSON, as the API server stores it
