"""Schedules, suspend, one run at a time, an operator killed mid-run, and deletion."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.support.scenarios import Scenario, condition
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e


def cronjob(scenario: Scenario) -> dict[str, Any] | None:
    return scenario.cronjob()


def test_schedule_fires(scenario: Scenario) -> None:
    scenario.apply(schedule={"cron": "* * * * *", "timeZone": "Europe/Paris"})
    created = cronjob(scenario)
    assert created is not None
    assert created["spec"]["timeZone"] == "Europe/Paris"
    assert created["spec"]["suspend"] is False
    assert scenario.get()["status"]["nextScheduledRun"].endswith(":00Z")

    def scheduled() -> dict[str, Any] | None:
        last = scenario.get().get("status", {}).get("lastRun") or {}
        return last if last.get("trigger") == "schedule" else None

    record = wait_for(scheduled, timeout=150, interval=1, what="a scheduled run")
    assert record["result"] in ("Succeeded", "PartialSuccess"), record


def test_suspend_stops_future_runs(scenario: Scenario) -> None:
    scenario.apply(schedule={"cron": "* * * * *", "suspend": True})
    wait_for(lambda: cronjob(scenario), what="the CronJob")
    assert cronjob(scenario)["spec"]["suspend"] is True  # type: ignore[index]
    assert "nextScheduledRun" not in scenario.get()["status"]
    scenario.apply(schedule={"cron": "* * * * *", "suspend": False})
    wait_for(lambda: cronjob(scenario)["spec"]["suspend"] is False, what="the CronJob resumed")  # type: ignore[index]
    scenario.apply(schedule={"cron": "* * * * *", "suspend": True})
    wait_for(lambda: cronjob(scenario)["spec"]["suspend"] is True, what="the CronJob suspended")  # type: ignore[index]


def test_two_quick_requests_run_one_at_a_time(scenario: Scenario) -> None:
    scenario.apply()
    scenario.sim.set_faults(latency_ms=300)
    overlaps: list[list[str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            active = [
                j["metadata"]["name"]
                for j in scenario.jobs()
                if j["metadata"]["labels"].get("connectors.datagalaxy.com/mode") == "import"
                and not j["spec"].get("suspend")
                and not any(
                    c["type"] in ("Complete", "Failed") for c in j.get("status", {}).get("conditions", [])
                )
            ]
            if len(active) > 1:
                overlaps.append(active)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        first = scenario.request(value="first")
        time.sleep(0.3)
        second = scenario.request(value="second")
        scenario.wait_run(first, timeout=180)
        scenario.wait_run(second, timeout=180)
    finally:
        stop.set()
        watcher.join()
    assert overlaps == []
    history = [h["request"] for h in scenario.get()["status"]["history"]]
    assert history == ["second", "first"]
    assert any(e["reason"] == "RunQueued" for e in scenario.events())


def test_operator_killed_during_a_run_records_the_result_once(scenario: Scenario) -> None:
    scenario.apply()
    scenario.sim.set_faults(latency_ms=400)
    request = scenario.request()
    wait_for(lambda: scenario.get()["status"].get("activeJob"), what="the run to start")
    scenario.op.kill()
    job_name = scenario.get()["status"]["activeJob"]

    def finished() -> bool:
        job = next(j for j in scenario.jobs() if j["metadata"]["name"] == job_name)
        return any(c["type"] in ("Complete", "Failed") for c in job.get("status", {}).get("conditions", []))

    wait_for(finished, timeout=180, interval=0.5, what="the Job to finish while the operator is down")
    assert "lastRun" not in scenario.get()["status"]
    scenario.op.start()
    record = scenario.wait_run(request)
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    scenario.op.restart()  # a second restart must not record it again
    # The positive signal that the restarted operator has gone through the finished Job (its Job watch
    # lists it first): a later run, requested after the restart, is recorded.
    scenario.sim.set_faults(latency_ms=0)
    later = scenario.wait_run(scenario.request())
    status = scenario.get()["status"]
    assert [h["job"] for h in status["history"]] == [later["job"], job_name]
    outcomes = [
        e
        for e in scenario.events()
        if e["reason"] in ("RunSucceeded", "RunPartiallySucceeded", "RunUnchanged")
        and e["message"].startswith(f"{job_name}:")
    ]
    assert len(outcomes) == 1, outcomes
    assert condition(scenario.get(), "Running")["status"] == "False"  # type: ignore[index]


def test_deletion_cleans_everything_up_without_the_operator(scenario: Scenario) -> None:
    scenario.apply(schedule={"cron": "0 3 * * *"})
    scenario.run_and_wait()
    assert scenario.jobs()
    assert cronjob(scenario)
    scenario.op.kill()
    scenario.cp.kubectl("delete", "olc", "shop", "-n", scenario.ns, "--timeout=30s")
    wait_for(lambda: not scenario.jobs() and cronjob(scenario) is None, timeout=60, what="garbage collection")


def test_scheduled_job_waits_for_admission_and_is_skipped_during_a_run(scenario: Scenario) -> None:
    scenario.apply(schedule={"cron": "0 0 1 1 *"})
    wait_for(lambda: cronjob(scenario), what="the CronJob")
    scenario.sim.set_faults(latency_ms=500)
    request = scenario.request()
    wait_for(lambda: scenario.get()["status"].get("activeJob"), what="the manual run to start")
    # What the CronJob controller does at the scheduled time, done now:
    scenario.cp.kubectl("create", "job", "--from=cronjob/shop-sched", "sched-while-busy", "-n", scenario.ns)
    wait_for(
        lambda: any(e["reason"] == "ScheduledRunSkipped" for e in scenario.events()),
        what="the scheduled run to be skipped",
    )
    wait_for(
        lambda: "sched-while-busy" not in [j["metadata"]["name"] for j in scenario.jobs()],
        what="the skipped Job to be deleted",
    )
    scenario.wait_run(request, timeout=180)
    scenario.sim.set_faults(latency_ms=0)
    scenario.cp.kubectl("create", "job", "--from=cronjob/shop-sched", "sched-when-idle", "-n", scenario.ns)

    def recorded() -> dict[str, Any] | None:
        last = scenario.get()["status"].get("lastRun") or {}
        return last if last.get("job") == "sched-when-idle" else None

    record = wait_for(recorded, timeout=120, interval=0.5, what="the admitted scheduled run")
    assert record["trigger"] == "schedule"
    assert record["result"] in ("Succeeded", "PartialSuccess", "Unchanged"), record
    history = [h["job"] for h in scenario.get()["status"]["history"]]
    assert "sched-while-busy" not in history


def test_a_running_job_deleted_by_hand_is_recorded_as_failed(scenario: Scenario) -> None:
    scenario.apply()
    scenario.sim.set_faults(latency_ms=1000)
    request = scenario.request()
    job = wait_for(lambda: scenario.get()["status"].get("activeJob"), what="the run to start")
    scenario.cp.kubectl("delete", "job", job, "-n", scenario.ns, "--wait=false")
    record = scenario.wait_run(request)
    assert (record["result"], record["reason"]) == ("Failed", "JobDeleted"), record
    body = scenario.get()
    assert "activeJob" not in body["status"]
    assert condition(body, "Running")["status"] == "False"  # type: ignore[index]
    scenario.sim.set_faults(latency_ms=0)
    again = scenario.run_and_wait()
    assert again["result"] in ("Succeeded", "PartialSuccess"), again
