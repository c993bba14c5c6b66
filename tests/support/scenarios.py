"""Scenarios on the testbed: an OnlineConnection applied with its Secrets, runs and connection tests
requested through annotations, and what the operator wrote back (status, conditions, Events, Jobs).

Reading helpers (`get_connection`, `condition`, `events_of`, `jobs_in`) work on any control plane; the
`Scenario` ties one namespace, the shop database, the DataGalaxy simulator and an operator process
together (the `scenario` fixture in tests/fixtures/operator.py builds it).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from connector_testbed.control_plane import ControlPlane
from connector_testbed.simulator.seed import VALID_TOKEN
from tests.support.manifests import GROUP, Doc, ShopDatabase, connection_manifest, secrets_manifest
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from connector_testbed.simulator.server import SimulatorServer
    from tests.fixtures.operator import OperatorProcess

RUN_REQUESTED = f"{GROUP}/run-requested"
TEST_REQUESTED = f"{GROUP}/test-requested"
FINISHED = ("Complete", "Failed")


def get_connection(cp: ControlPlane, namespace: str, name: str) -> Doc:
    result = cp.kubectl("get", "olc", name, "-n", namespace, "-o", "json")
    doc: Doc = json.loads(result.stdout)
    return doc


def condition(body: Doc, kind: str) -> Doc | None:
    """The condition of that type in the object's status, None when there is none yet."""
    for item in body.get("status", {}).get("conditions", []):
        if item.get("type") == kind:
            return dict(item)
    return None


def events_of(cp: ControlPlane, namespace: str, name: str) -> list[Doc]:
    """The Events about the object called `name` in the namespace."""
    out = cp.kubectl(
        "get", "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}", "-o", "json"
    ).stdout
    items: list[Doc] = json.loads(out)["items"]
    return items


def jobs_in(cp: ControlPlane, namespace: str) -> list[Doc]:
    out = cp.kubectl("get", "jobs", "-n", namespace, "-o", "json").stdout
    items: list[Doc] = json.loads(out)["items"]
    return items


def jobs_owned_by(cp: ControlPlane, namespace: str, name: str) -> list[str]:
    """Names of the Jobs whose owner is the object called `name`."""
    return [
        job["metadata"]["name"]
        for job in jobs_in(cp, namespace)
        if any(ref.get("name") == name for ref in job["metadata"].get("ownerReferences", []))
    ]


def job_finished(job: Doc) -> bool:
    return any(
        c["type"] in FINISHED and c.get("status") == "True"
        for c in job.get("status", {}).get("conditions", [])
    )


def request_handled(body: Doc, key: str, value: str) -> bool:
    """Whether the operator has taken the `key` ("run" or "test") request `value` into account: started it
    or refused it. The positive signal to wait on before asserting that a request started nothing."""
    handled = (body.get("status") or {}).get("handledRequests") or {}
    return bool(handled.get(key) == value)


def request(
    cp: ControlPlane, namespace: str, name: str, annotation: str = RUN_REQUESTED, value: str | None = None
) -> str:
    """Ask for a run (or, with TEST_REQUESTED, a connection test), with a fresh value unless one is given;
    return the value."""
    value = value or f"r{time.monotonic_ns()}"
    cp.kubectl("annotate", "olc", name, "-n", namespace, f"{annotation}={value}", "--overwrite")
    return value


def wait_recorded(
    cp: ControlPlane,
    namespace: str,
    name: str,
    request: str,
    *,
    record: str = "lastRun",
    timeout: float = 120,
) -> Doc:
    """The `status.lastRun` (or, with record="lastTest", `status.lastTest`) record of that request, once
    the operator has written it."""

    def done() -> Doc | None:
        last: Doc = get_connection(cp, namespace, name).get("status", {}).get(record) or {}
        return last if last.get("request") == request else None

    return wait_for(done, timeout=timeout, interval=0.5, what=f"{record} of {name} for request {request}")


class Scenario:
    """One connection "shop" (or others by name) in a test namespace, driven like a user would."""

    def __init__(
        self, cp: ControlPlane, ns: str, db: ShopDatabase, sim: SimulatorServer, op: OperatorProcess
    ) -> None:
        self.cp, self.ns, self.db, self.sim, self.op = cp, ns, db, sim, op

    def apply(
        self, name: str = "shop", password: str | None = None, token: str = VALID_TOKEN, **spec: Any
    ) -> None:
        """Apply the Secrets and the connection, and wait until the connection is Ready."""
        self.kubectl_apply(secrets_manifest(password or self.db.password, token))
        self.kubectl_apply(connection_manifest(name, self.db, self.sim.url, **spec))
        wait_for(lambda: self.ready(name), what=f"{name} Ready")

    def kubectl_apply(self, text: str) -> None:
        """`kubectl apply -n <ns> -f -` of a manifest, as a namespace user does."""
        self.cp.kubectl("apply", "-n", self.ns, "-f", "-", input=text)

    def ready(self, name: str = "shop") -> bool:
        ready = condition(self.get(name), "Ready")
        return bool(ready and ready["status"] == "True")

    def get(self, name: str = "shop") -> Doc:
        return get_connection(self.cp, self.ns, name)

    def request(self, name: str = "shop", annotation: str = RUN_REQUESTED, value: str | None = None) -> str:
        return request(self.cp, self.ns, name, annotation, value)

    def run_and_wait(self, name: str = "shop", timeout: float = 120) -> Doc:
        value = self.request(name)
        return self.wait_run(value, name, timeout)

    def wait_run(self, request: str, name: str = "shop", timeout: float = 120) -> Doc:
        """The `status.lastRun` record of that request, once the operator has written it."""
        return wait_recorded(self.cp, self.ns, name, request, timeout=timeout)

    def wait_test(self, request: str, name: str = "shop", timeout: float = 90) -> Doc:
        """The `status.lastTest` record of that request, once the operator has written it."""
        return wait_recorded(self.cp, self.ns, name, request, record="lastTest", timeout=timeout)

    def jobs(self) -> list[Doc]:
        return jobs_in(self.cp, self.ns)

    def job(self, name: str) -> Doc:
        return next(j for j in self.jobs() if j["metadata"]["name"] == name)

    def events(self, name: str = "shop") -> list[Doc]:
        return events_of(self.cp, self.ns, name)

    def cronjob(self) -> Doc | None:
        """The namespace's CronJob (a scenario has at most one scheduled connection)."""
        out = self.cp.kubectl("get", "cronjobs", "-n", self.ns, "-o", "json").stdout
        items: list[Doc] = json.loads(out)["items"]
        return items[0] if items else None
