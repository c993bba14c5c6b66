"""One DataGalaxy target source belongs to one connection, on the real control plane: a second connection
naming the same target is not Ready and names the first; it takes over when the first leaves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.fixtures.operator import OperatorProcess
from tests.support.manifests import ShopDatabase, connection, connection_secrets, manifest
from tests.support.scenarios import condition, get_connection, jobs_in, request
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e

DB = ShopDatabase("127.0.0.1", 5432, "shop", "reader", "unused")
API = "http://127.0.0.1:9/v2"
SHARED = {"sourceName": "Shared shop"}


def ready(cp: ControlPlane, ns: str, name: str) -> tuple[str, str, str] | None:
    """(status, reason, message) of Ready once the current generation is observed."""
    body = get_connection(cp, ns, name)
    found = condition(body, "Ready")
    if found is None or body.get("status", {}).get("observedGeneration") != body["metadata"]["generation"]:
        return None
    return found["status"], found["reason"], found["message"]


def run_config_of_job(cp: ControlPlane, ns: str, name: str) -> dict[str, Any] | None:
    """The run configuration (OLC_RUN_CONFIG) of a Job of connection `name`, once there is one."""
    for job in jobs_in(cp, ns):
        if not any(r.get("name") == name for r in job["metadata"].get("ownerReferences", [])):
            continue
        for env in job["spec"]["template"]["spec"]["containers"][0]["env"]:
            if env["name"] == "OLC_RUN_CONFIG":
                config: dict[str, Any] = json.loads(env["value"])
                return config
    return None


def apply(cp: ControlPlane, ns: str, name: str, source_name: str) -> None:
    doc = connection(name, DB, API, target={"sourceName": source_name})
    cp.kubectl("apply", "-n", ns, "-f", "-", input=manifest(doc))


def test_the_first_connection_owns_a_target_and_the_next_takes_over_when_it_leaves(
    control_plane: ControlPlane, namespace: str, operator_process: OperatorProcess
) -> None:
    cp, ns = control_plane, namespace
    cp.kubectl("apply", "-n", ns, "-f", "-", input=manifest(*connection_secrets("pw", "t0ken")))
    apply(cp, ns, "first", "Shared shop")
    wait_for(lambda: (ready(cp, ns, "first") or ("",))[0] == "True", what="first Ready")

    apply(cp, ns, "second", "Shared shop")
    status = wait_for(lambda: ready(cp, ns, "second"), what="second's Ready condition")
    assert status[:2] == ("False", "TargetInUse")
    assert f"connection {ns}/first" in status[2]
    assert "'Shared shop'" in status[2]
    assert (ready(cp, ns, "first") or ("",))[0] == "True"

    apply(cp, ns, "second", "Own shop")  # another target: no conflict
    wait_for(lambda: (ready(cp, ns, "second") or ("",))[:2] == ("True", "Configured"), what="second Ready")
    apply(cp, ns, "second", "Shared shop")  # back: the first still owns it
    wait_for(lambda: (ready(cp, ns, "second") or ("",))[1:2] == ("TargetInUse",), what="TargetInUse again")

    cp.kubectl("delete", "olc", "first", "-n", ns)
    wait_for(
        lambda: (ready(cp, ns, "second") or ("",))[:2] == ("True", "Configured"),
        what="second takes over the target once the first is deleted",
    )

    # The owner marker the run will write names the cluster (kube-system's UID, read by the operator at
    # startup) and the connection, so that a re-created connection keeps its DataGalaxy source.
    request(cp, ns, "second")
    config = wait_for(lambda: run_config_of_job(cp, ns, "second"), what="a Job of second")
    kube_system = cp.kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout
    assert kube_system.strip()
    assert config["target"]["ownerCluster"] == kube_system.strip()
    assert config["target"]["ownerConnection"] == f"{ns}/second"
    assert config["target"]["ownerUid"] == get_connection(cp, ns, "second")["metadata"]["uid"]
