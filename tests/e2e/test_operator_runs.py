"""Runs end to end: operator, extractor (process kubelet), real PostgreSQL, DataGalaxy simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_testbed.simulator.seed import REVOKED_TOKEN, VALID_TOKEN
from tests.support.scenarios import TEST_REQUESTED as TEST
from tests.support.scenarios import Scenario, condition

pytestmark = pytest.mark.e2e


def test_happy_path_on_demand(scenario: Scenario) -> None:
    scenario.apply()
    record = scenario.run_and_wait()
    assert (record["result"], record["warnings"]) == ("Succeeded", 0), record  # not PartialSuccess
    assert record["objects"] > 10, record
    assert record["trigger"] == "manual"
    assert record["push"]["created"] > 0
    body = scenario.get()
    status = body["status"]
    assert status["lastSuccessfulRun"]["job"] == record["job"]
    assert status["consecutiveFailures"] == 0
    assert condition(body, "LastRunSucceeded")["status"] == "True"  # type: ignore[index]
    assert condition(body, "Running")["status"] == "False"  # type: ignore[index]
    assert [h["job"] for h in status["history"]] == [record["job"]]
    assert any(e["reason"] == "RunSucceeded" for e in scenario.events())
    tree = scenario.sim.version_tree("Demo")
    assert "Shop shop" in json.dumps(tree)
    row = scenario.cp.kubectl("get", "olc", "shop", "-n", scenario.ns).stdout.splitlines()[1].split()
    assert record["result"] in row
    assert str(record["objects"]) in row
    # The Job: owned by the connection, restricted pod, no token, secrets by reference only.
    job = next(j for j in scenario.jobs() if j["metadata"]["name"] == record["job"])
    assert job["metadata"]["ownerReferences"][0]["kind"] == "OnlineConnection"
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert scenario.db.password not in json.dumps(job)
    assert VALID_TOKEN not in json.dumps(job)


def test_connection_test_good_and_bad_source(scenario: Scenario) -> None:
    scenario.apply()
    good = scenario.wait_test(scenario.request(annotation=TEST))
    assert good["result"] == "Succeeded", good
    tested = condition(scenario.get(), "ConnectionTested")
    assert tested is not None
    assert tested["status"] == "True"
    assert "Shop shop" not in json.dumps(scenario.sim.tree()), "a connection test must import nothing"
    scenario.apply(password="wrong-password")
    bad = scenario.wait_test(scenario.request(annotation=TEST))
    assert (bad["result"], bad["reason"]) == ("Failed", "AuthenticationFailed"), bad
    tested = condition(scenario.get(), "ConnectionTested")
    assert tested is not None
    assert (tested["status"], tested["reason"]) == ("False", "AuthenticationFailed")
    assert "lastRun" not in scenario.get()["status"]


def test_wrong_password_is_reported_and_never_leaked(scenario: Scenario) -> None:
    leaked = "Wr0ng-Pa55word-xyz"
    scenario.apply(password=leaked)
    record = scenario.run_and_wait()
    assert (record["result"], record["reason"]) == ("Failed", "AuthenticationFailed"), record
    body = scenario.get()
    assert body["status"]["consecutiveFailures"] == 1
    last = condition(body, "LastRunSucceeded")
    assert last is not None
    assert (last["status"], last["reason"]) == ("False", "AuthenticationFailed")
    # Not retried: the pod failure policy fails the Job on the first authentication error.
    job = next(j for j in scenario.jobs() if j["metadata"]["name"] == record["job"])
    assert job["status"].get("failed") == 1
    events = scenario.events()
    assert any(e["reason"] == "RunFailed" for e in events)
    pod_logs = scenario.cp.kubectl("logs", f"job/{record['job']}", "-n", scenario.ns, check=False).stdout
    for where, text in {
        "status": json.dumps(body),
        "events": json.dumps(events),
        "operator log": scenario.op.log(),
        "job spec": json.dumps(job),
        "pod log": pod_logs,
    }.items():
        assert leaked not in text, f"the password leaked into the {where}"


def test_unreachable_host(scenario: Scenario) -> None:
    scenario.apply(source={"host": "127.0.0.1", "port": 1}, run={"backoffLimit": 0})
    record = scenario.run_and_wait()
    assert (record["result"], record["reason"]) == ("Failed", "SourceUnreachable"), record


def test_revoked_token(scenario: Scenario) -> None:
    scenario.apply(token=REVOKED_TOKEN)
    record = scenario.run_and_wait()
    assert (record["result"], record["reason"]) == ("Failed", "TokenRejected"), record
    assert REVOKED_TOKEN not in json.dumps(scenario.get()) + json.dumps(scenario.events())


def test_burst_of_5xx_is_retried(scenario: Scenario) -> None:
    scenario.apply()
    scenario.sim.set_faults(fail_next=4, error_status=503)
    record = scenario.run_and_wait()
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    # The extractor met the four 503s and retried each one itself: one pod, no failure the Job had to retry.
    stats = scenario.sim.stats()
    assert stats["byStatus"].get("503") == 4, stats
    job = scenario.job(record["job"])
    assert job["status"].get("succeeded") == 1, job["status"]
    assert not job["status"].get("failed"), job["status"]
    # And the import went through after the burst.
    assert record["push"]["created"] > 0, record
    assert "Shop shop" in json.dumps(scenario.sim.version_tree("Demo"))


def test_cli_run_test_status_logs(scenario: Scenario) -> None:
    import subprocess
    import sys
    from pathlib import Path

    scenario.apply()
    cli = str(Path(sys.executable).parent / "online-connector")

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli, *args], env=scenario.cp.env(), capture_output=True, text=True, timeout=300, check=False
        )

    ran = call("run", "shop", "-n", scenario.ns, "--wait")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Succeeded" in ran.stdout or "PartialSuccess" in ran.stdout
    tested = call("test", "shop", "-n", scenario.ns, "--wait", "--timeout", "120")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    detail = call("status", "shop", "-n", scenario.ns)
    assert detail.returncode == 0, detail.stderr
    assert "Last runs:" in detail.stdout
    assert "LastRunSucceeded" in detail.stdout
    listing = call("status", "-n", scenario.ns)
    assert "shop" in listing.stdout
    assert "postgresql" in listing.stdout
    logs = call("logs", "shop", "-n", scenario.ns)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.strip()
    assert scenario.db.password not in logs.stdout
    helped = call("extract", "--help")
    assert helped.returncode == 0
    assert "online-connector-extract" in helped.stdout


def test_a_run_over_its_deadline_is_a_timeout(scenario: Scenario) -> None:
    scenario.apply(run={"timeoutSeconds": 30, "backoffLimit": 0})
    scenario.sim.set_faults(latency_ms=20000)
    record = scenario.run_and_wait(timeout=120)
    assert (record["result"], record["reason"]) == ("Failed", "Timeout"), record
    last = condition(scenario.get(), "LastRunSucceeded")
    assert last is not None
    assert last["reason"] == "Timeout"


def test_schema_and_table_filters_and_include_options_reach_the_extractor(scenario: Scenario) -> None:
    scenario.apply(
        filters={"schemas": {"include": ["sales"]}, "tables": {"exclude": ["invoice", "sales\\.order_line"]}},
        include={"views": False},
        strict=True,
        missingObjects="ignore",
    )
    record = scenario.run_and_wait()
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    if record["result"] == "PartialSuccess":  # foreign keys to filtered-out tables are warnings
        assert record["warnings"] > 0, record
    assert record["counts"]["tables"] == 2, record  # sales.customer and sales.order_header
    assert record["counts"].get("views", 0) == 0, record
    tables = set(_names_of_type(scenario.sim.version_tree("Demo"), ("table", "view")))
    assert {"customer", "order_header"} <= tables, tables
    assert not tables & {"invoice", "order_line", "customer_revenue", "warehouse", "employee"}, tables


def _names_of_type(node: Any, kinds: tuple[str, ...]) -> list[str]:
    """Technical names of the tree's entities whose type is one of `kinds` (case-insensitive)."""
    found: list[str] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).lower() in kinds:
            found.append(str(node.get("technicalName") or node.get("name")))
        for value in node.values():
            found += _names_of_type(value, kinds)
    elif isinstance(node, list):
        for item in node:
            found += _names_of_type(item, kinds)
    return found
