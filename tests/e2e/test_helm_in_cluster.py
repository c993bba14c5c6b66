"""The chart's operator Deployment runs *in the cluster*: its pod, started by the process kubelet with a
bound ServiceAccount token (in-cluster configuration), reconciles a connection and runs an import.

This test starts its own control plane with the deployment and replicaset controllers, so that the
Deployment really becomes a pod; the shared control plane runs the operator as a local process instead.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from connector_testbed.ports import free_port
from connector_testbed.simulator.seed import VALID_TOKEN
from connector_testbed.simulator.server import SimulatorServer
from tests.fixtures.helm import CHART, Helm, create_restricted_namespace
from tests.support.manifests import ShopDatabase, connection_manifest, secrets_manifest
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e
RUN = "connectors.datagalaxy.com/run-requested"


@pytest.fixture(scope="module")
def own_control_plane() -> Iterator[ControlPlane]:
    with ControlPlane(extra_controllers=("deployment-controller", "replicaset-controller")) as plane:
        yield plane


def test_the_operator_deployment_runs_an_import_in_cluster(
    own_control_plane: ControlPlane,
    helm: Helm,
    shop_database: ShopDatabase,
    datagalaxy_simulator: SimulatorServer,
) -> None:
    cp = own_control_plane
    system = create_restricted_namespace(cp, "olc-system")
    team = create_restricted_namespace(cp, "olc-team")
    values = {
        "image": {
            "operator": {"repository": "online-connector-operator", "tag": "test"},
            "extractor": {"repository": "online-connector-extractor", "tag": "test"},
        },
        "watch": {"namespaces": [team]},
        "operator": {"healthPort": free_port()},
        "metrics": {"port": free_port()},
    }
    release = f"olc{secrets.token_hex(2)}"
    helm.run(
        "install",
        release,
        str(CHART),
        "--namespace",
        system,
        "--values",
        str(helm.values_file(values)),
        "--wait",
        "--timeout",
        "120s",
        kubeconfig=cp.kubeconfig,
    )

    def operator_pod() -> dict[str, Any] | None:
        pods = json.loads(cp.kubectl("get", "pods", "-n", system, "-o", "json").stdout)["items"]
        running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
        return running[0] if running else None

    pod = wait_for(operator_pod, timeout=60, interval=0.5, what="the operator pod to run")
    account = pod["spec"]["serviceAccountName"]
    accounts = json.loads(cp.kubectl("get", "serviceaccounts", "-n", system, "-o", "json").stdout)["items"]
    assert account in {a["metadata"]["name"] for a in accounts}

    cp.kubectl("apply", "-n", team, "-f", "-", input=secrets_manifest(shop_database.password, VALID_TOKEN))
    cp.kubectl(
        "apply",
        "-n",
        team,
        "-f",
        "-",
        input=connection_manifest("shop", shop_database, datagalaxy_simulator.url),
    )

    def connection() -> dict[str, Any]:
        body: dict[str, Any] = json.loads(cp.kubectl("get", "olc", "shop", "-n", team, "-o", "json").stdout)
        return body

    def ready() -> bool:
        conditions = connection().get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    wait_for(ready, timeout=60, interval=0.5, what="Ready=True from the in-cluster operator")
    cp.kubectl("annotate", "olc", "shop", "-n", team, f"{RUN}=in-cluster-1", "--overwrite")
    record = wait_for(
        lambda: connection().get("status", {}).get("lastRun"),
        timeout=120,
        interval=0.5,
        what="the run's result",
    )
    assert record["result"] == "Succeeded", record
    assert record["objects"] > 10, record

    log = cp.kubectl("logs", "-n", system, pod["metadata"]["name"]).stdout
    assert "403" not in log, log[-3000:]
    assert "Forbidden" not in log, log[-3000:]
    assert shop_database.password not in log
    helm.run("uninstall", release, "--namespace", system, "--wait", kubeconfig=cp.kubeconfig)
