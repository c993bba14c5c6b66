"""The chart installed with `helm install`, and a connection that runs end to end with the operator
acting under the chart's ServiceAccount (a token the API server issued for it): the chart's RBAC, its
environment and its command are what is tested, together with the security settings it turns on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from connector_testbed.simulator.seed import VALID_TOKEN
from connector_testbed.simulator.server import SimulatorServer
from tests.fixtures.helm import CHART, ChartOperator, Helm, HelmRelease, http_get, running_chart_operator
from tests.support.argocd import run_health
from tests.support.manifests import ALLOW_USE as ALLOW
from tests.support.manifests import ShopDatabase, connection, connection_manifest, manifest, secrets_manifest
from tests.support.scenarios import (
    condition,
    events_of,
    get_connection,
    jobs_owned_by,
    request,
    request_handled,
    wait_recorded,
)
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def chart_operator(
    control_plane: ControlPlane, helm_release: HelmRelease, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChartOperator]:
    log_path = tmp_path_factory.mktemp("chart-operator") / "operator.log"
    with running_chart_operator(control_plane, helm_release, log_path) as operator:
        yield operator


def ready_condition(control_plane: ControlPlane, ns: str, name: str) -> dict[str, Any] | None:
    ready = condition(get_connection(control_plane, ns, name), "Ready")
    return ready if ready and ready["status"] in ("True", "False") else None


def refused_run(control_plane: ControlPlane, ns: str, name: str) -> None:
    """Request a run of a connection that is not Ready; wait until the operator has handled the request,
    then check that it started no Job and said why in a Warning Event."""
    value = request(control_plane, ns, name)
    wait_for(
        lambda: request_handled(get_connection(control_plane, ns, name), "run", value),
        what=f"the operator to handle run request {value} of {name}",
    )
    assert jobs_owned_by(control_plane, ns, name) == [], f"a Job was started for {name}"
    assert any(
        e["type"] == "Warning" and e["reason"] == "RunRejected" for e in events_of(control_plane, ns, name)
    )


def test_install_output_points_to_the_argocd_health_check(helm_release: HelmRelease) -> None:
    notes = helm_release.notes
    assert "resource.customizations.health.connectors.datagalaxy.com_OnlineConnection" in notes
    assert "docs/argocd/health.lua" in notes
    assert helm_release.watched in notes
    assert "Helm never upgrades the CRD" in notes


def test_a_connection_runs_end_to_end_with_the_charts_identity(
    control_plane: ControlPlane,
    chart_operator: ChartOperator,
    shop_database: ShopDatabase,
    datagalaxy_simulator: SimulatorServer,
) -> None:
    ns = chart_operator.release.watched
    control_plane.kubectl(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input=secrets_manifest(shop_database.password, VALID_TOKEN, labelled=True),
    )
    labels = {"team": "sales", "app.kubernetes.io/managed-by": "argocd"}
    body = connection("shop", shop_database, datagalaxy_simulator.url, labels=labels)
    control_plane.kubectl("apply", "-n", ns, "-f", "-", input=manifest(body))
    applied = get_connection(control_plane, ns, "shop")
    ready = wait_for(lambda: ready_condition(control_plane, ns, "shop"), timeout=60, what="shop Ready")
    assert ready["status"] == "True", ready

    value = request(control_plane, ns, "shop")
    record = wait_recorded(control_plane, ns, "shop", value, timeout=180)
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    assert record["objects"] > 10, record
    assert "Shop shop" in json.dumps(datagalaxy_simulator.version_tree("Demo"))

    # The Job ran under the chart's extractor account, which holds no token.
    job = json.loads(control_plane.kubectl("get", "job", record["job"], "-n", ns, "-o", "json").stdout)
    pod = job["spec"]["template"]["spec"]
    assert pod.get("serviceAccountName") == chart_operator.release.extractor_account
    assert pod["automountServiceAccountToken"] is False
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "online-connector-extractor:test"

    # Metrics on the chart's port.
    metrics = chart_operator.metrics()
    assert (
        f'online_connector_runs_total{{name="shop",namespace="{ns}",result="{record["result"]}"}} 1.0'
        in metrics
    )
    assert "online_connector_last_success_timestamp_seconds" in metrics

    # No drift for GitOps: the operator changed neither the spec (generation unchanged) nor the labels.
    after = get_connection(control_plane, ns, "shop")
    assert after["metadata"]["generation"] == applied["metadata"]["generation"]
    assert after["spec"] == applied["spec"]
    assert after["metadata"]["labels"] == applied["metadata"]["labels"]
    operator_keys = {
        k
        for k in after["metadata"].get("annotations", {})
        if k not in applied["metadata"].get("annotations", {})
    }
    assert all("connectors.datagalaxy.com" in key for key in operator_keys), operator_keys

    # The Argo CD health check reads the real status as Healthy.
    status, message = run_health(get_connection(control_plane, ns, "shop"))
    assert status == "Healthy", message

    # The chart's RBAC was enough: no request of the operator was refused.
    log = chart_operator.log()
    assert "Forbidden" not in log, log[-3000:]
    assert " 403" not in log, log[-3000:]


def test_an_unlabelled_secret_is_not_used(
    control_plane: ControlPlane,
    chart_operator: ChartOperator,
    shop_database: ShopDatabase,
    datagalaxy_simulator: SimulatorServer,
) -> None:
    ns = chart_operator.release.watched
    control_plane.kubectl(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input=secrets_manifest(shop_database.password, VALID_TOKEN, labelled=False, prefix="plain-"),
    )
    body = connection("unlabelled", shop_database, datagalaxy_simulator.url)
    body["spec"]["source"]["passwordSecretRef"]["name"] = "plain-shop-db"
    body["spec"]["target"]["tokenSecretRef"]["name"] = "plain-dg-token"
    control_plane.kubectl("apply", "-n", ns, "-f", "-", input=manifest(body))
    ready = wait_for(lambda: ready_condition(control_plane, ns, "unlabelled"), what="unlabelled Ready")
    assert (ready["status"], ready["reason"]) == ("False", "SecretNotAllowed"), ready
    assert ALLOW in ready["message"]
    assert run_health(get_connection(control_plane, ns, "unlabelled"))[0] == "Degraded"
    refused_run(control_plane, ns, "unlabelled")

    # Labelling the Secrets (an explicit opt-in) makes the same connection Ready.
    for secret, role in (("plain-shop-db", "source-password"), ("plain-dg-token", "datagalaxy-token")):
        control_plane.kubectl("label", "secret", secret, "-n", ns, f"{ALLOW}={role}")
    wait_for(
        lambda: (
            (condition(get_connection(control_plane, ns, "unlabelled"), "Ready") or {}).get("status")
            == "True"
        ),
        timeout=60,
        what="Ready after labelling",
    )


def test_an_api_host_outside_the_allowlist_gets_no_token(
    control_plane: ControlPlane,
    chart_operator: ChartOperator,
    shop_database: ShopDatabase,
    datagalaxy_simulator: SimulatorServer,
) -> None:
    ns = chart_operator.release.watched
    control_plane.kubectl(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input=secrets_manifest(shop_database.password, VALID_TOKEN, labelled=True),
    )
    elsewhere = datagalaxy_simulator.url.replace("127.0.0.1", "localhost")
    assert "localhost" in elsewhere
    control_plane.kubectl(
        "apply", "-n", ns, "-f", "-", input=connection_manifest("elsewhere", shop_database, elsewhere)
    )
    ready = wait_for(lambda: ready_condition(control_plane, ns, "elsewhere"), what="elsewhere Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ApiHostNotAllowed"), ready
    refused_run(control_plane, ns, "elsewhere")


def test_a_secret_of_another_namespace_cannot_be_referenced(
    control_plane: ControlPlane, helm_release: HelmRelease, shop_database: ShopDatabase
) -> None:
    body = connection("cross", shop_database, "https://api.datagalaxy.com/v2")
    body["spec"]["source"]["passwordSecretRef"]["namespace"] = "kube-system"
    result = control_plane.kubectl(
        "apply", "-n", helm_release.watched, "-f", "-", input=manifest(body), check=False
    )
    assert result.returncode != 0
    assert "namespace" in result.stderr
    assert "unknown field" in result.stderr


def test_helm_test_checks_the_running_operator(
    control_plane: ControlPlane, helm: Helm, chart_operator: ChartOperator
) -> None:
    release = chart_operator.release
    result = helm.run(
        "test",
        release.name,
        "--namespace",
        release.namespace,
        "--logs",
        "--timeout",
        "120s",
        kubeconfig=control_plane.kubeconfig,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "Succeeded" in result.stdout
    assert "metrics ok" in result.stdout


def test_the_documented_upgrade_path(
    control_plane: ControlPlane, helm: Helm, chart_operator: ChartOperator
) -> None:
    """docs/installation.md: apply the CRD server-side first (Helm never upgrades crds/), then upgrade."""
    release = chart_operator.release
    crd = CHART / "crds" / "onlineconnections.yaml"
    control_plane.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(crd))
    control_plane.kubectl(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/onlineconnections.connectors.datagalaxy.com",
    )
    result = helm.run(
        "upgrade",
        release.name,
        str(CHART),
        "--namespace",
        release.namespace,
        "--reuse-values",
        "--timeout",
        "120s",
        kubeconfig=control_plane.kubeconfig,
    )
    assert "has been upgraded" in result.stdout
    history = json.loads(
        helm.run(
            "history",
            release.name,
            "--namespace",
            release.namespace,
            "-o",
            "json",
            kubeconfig=control_plane.kubeconfig,
        ).stdout
    )
    assert [entry["revision"] for entry in history][-1] == 2
    assert history[-1]["status"] == "deployed"
    # The operator keeps working through it (its rights did not change).
    assert http_get(f"http://127.0.0.1:{release.health_port}/healthz")[0] == 200
