"""Runs end to end: operator, extractor (through the process kubelet), real PostgreSQL, DataGalaxy simulator."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from connector_testbed.simulator.seed import REVOKED_TOKEN, VALID_TOKEN
from connector_testbed.simulator.server import SimulatorServer
from tests.fixtures.operator import (
    OperatorProcess,
    ShopDatabase,
    condition,
    connection_manifest,
    get_connection,
    secrets_manifest,
    wait_for,
)

pytestmark = pytest.mark.e2e
RUN = "connectors.datagalaxy.com/run-requested"
TEST = "connectors.datagalaxy.com/test-requested"


class Scenario:
    def __init__(
        self, cp: ControlPlane, ns: str, db: ShopDatabase, sim: SimulatorServer, op: OperatorProcess
    ):
        self.cp, self.ns, self.db, self.sim, self.op = cp, ns, db, sim, op

    def apply(
        self, name: str = "shop", password: str | None = None, token: str = VALID_TOKEN, **spec: Any
    ) -> None:
        self.cp.kubectl(
            "apply", "-n", self.ns, "-f", "-", input=secrets_manifest(password or self.db.password, token)
        )
        self.cp.kubectl(
            "apply", "-n", self.ns, "-f", "-", input=connection_manifest(name, self.db, self.sim.url, **spec)
        )
        wait_for(lambda: self.ready(name), what=f"{name} Ready")

    def ready(self, name: str) -> bool:
        ready = condition(self.get(name), "Ready")
        return bool(ready and ready["status"] == "True")

    def get(self, name: str = "shop") -> dict[str, Any]:
        return get_connection(self.cp, self.ns, name)

    def request(self, name: str = "shop", annotation: str = RUN, value: str | None = None) -> str:
        value = value or f"r{time.monotonic_ns()}"
        self.cp.kubectl("annotate", "olc", name, "-n", self.ns, f"{annotation}={value}", "--overwrite")
        return value

    def run_and_wait(self, name: str = "shop", timeout: float = 120) -> dict[str, Any]:
        value = self.request(name)
        return self.wait_run(value, name, timeout)

    def wait_run(self, request: str, name: str = "shop", timeout: float = 120) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            last = self.get(name).get("status", {}).get("lastRun") or {}
            return last if last.get("request") == request else None

        record: dict[str, Any] = wait_for(done, timeout=timeout, interval=0.5, what=f"run {request}")
        return record

    def wait_test(self, request: str, name: str = "shop", timeout: float = 90) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            last = self.get(name).get("status", {}).get("lastTest") or {}
            return last if last.get("request") == request else None

        record: dict[str, Any] = wait_for(done, timeout=timeout, interval=0.5, what=f"test {request}")
        return record

    def jobs(self) -> list[dict[str, Any]]:
        out = self.cp.kubectl("get", "jobs", "-n", self.ns, "-o", "json").stdout
        items: list[dict[str, Any]] = json.loads(out)["items"]
        return items

    def events(self, name: str = "shop") -> list[dict[str, Any]]:
        out = self.cp.kubectl(
            "get", "events", "-n", self.ns, "--field-selector", f"involvedObject.name={name}", "-o", "json"
        ).stdout
        items: list[dict[str, Any]] = json.loads(out)["items"]
        return items


@pytest.fixture
def scenario(
    control_plane: ControlPlane,
    namespace: str,
    shop_database: ShopDatabase,
    datagalaxy_simulator: SimulatorServer,
    operator_process: OperatorProcess,
) -> Scenario:
    return Scenario(control_plane, namespace, shop_database, datagalaxy_simulator, operator_process)


def test_happy_path_on_demand(scenario: Scenario) -> None:
    scenario.apply()
    record = scenario.run_and_wait()
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    assert record["objects"] > 10
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
    assert record["result"] in row and str(record["objects"]) in row
    # The Job: owned by the connection, restricted pod, no token, secrets by reference only.
    job = next(j for j in scenario.jobs() if j["metadata"]["name"] == record["job"])
    assert job["metadata"]["ownerReferences"][0]["kind"] == "OnlineConnection"
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert scenario.db.password not in json.dumps(job)
    assert VALID_TOKEN not in json.dumps(job)
