"""`peering.enabled`: the operator runs with kopf peering instead of standalone, and the chart's RBAC
lets it keep its peering record alive. Kopf's peering CRDs are a prerequisite that the chart does not
install; this test declares minimal equivalents of them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.fixtures.helm import (
    ChartOperator,
    Helm,
    HelmRelease,
    installed_release,
    running_chart_operator,
)
from tests.support.scenarios import condition, get_connection
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e
PEERING = "olc-peering"
PEERING_OBJECT = {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}}


def peering_crd(kind: str, plural: str, scope: str) -> dict[str, object]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kopf.dev"},
        "spec": {
            "group": "kopf.dev",
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def peering_release(control_plane: ControlPlane, helm: Helm) -> Iterator[HelmRelease]:
    for kind, plural, scope in (
        ("KopfPeering", "kopfpeerings", "Namespaced"),
        ("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
    ):
        control_plane.kubectl("apply", "-f", "-", input=json.dumps(peering_crd(kind, plural, scope)))
        control_plane.kubectl(
            "wait", "--for=condition=Established", "--timeout=60s", f"crd/{plural}.kopf.dev"
        )
    values = {"peering": {"enabled": True, "name": PEERING}, "tests": {"attempts": 2}}
    with installed_release(control_plane, helm, "peer", values) as release:
        control_plane.kubectl(
            "apply",
            "-n",
            release.watched,
            "-f",
            "-",
            input=json.dumps(
                {"apiVersion": "kopf.dev/v1", "kind": "KopfPeering", "metadata": {"name": PEERING}}
            ),
        )
        yield release


@pytest.fixture
def peered_operator(
    control_plane: ControlPlane, peering_release: HelmRelease, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChartOperator]:
    log_path = tmp_path_factory.mktemp("peered-operator") / "operator.log"
    with running_chart_operator(control_plane, peering_release, log_path) as operator:
        yield operator


def test_the_operator_keeps_its_peering_record_with_the_charts_rights(
    control_plane: ControlPlane, peered_operator: ChartOperator
) -> None:
    release = peered_operator.release
    env = peered_operator.env
    assert env["OLC_PEERING"] == PEERING
    assert env["OLC_STANDALONE"] == "false"

    def peers() -> dict[str, object]:
        out = control_plane.kubectl("get", "kopfpeering", PEERING, "-n", release.watched, "-o", "json").stdout
        status: dict[str, object] = json.loads(out).get("status") or {}
        return status

    recorded = wait_for(peers, timeout=60, what="the operator's entry in the KopfPeering")
    assert len(recorded) == 1, recorded

    # And it handles connections while peered.
    connection = {
        "apiVersion": "connectors.datagalaxy.com/v1alpha1",
        "kind": "OnlineConnection",
        "metadata": {"name": "peered"},
        "spec": {
            "source": {"technology": "sqlite", "path": "/tmp/none.db"},
            "target": {
                "apiUrl": "https://api.datagalaxy.com/v2",
                "tokenSecretRef": {"name": "absent", "key": "token"},
                "workspace": "W",
                "sourceName": "S",
            },
        },
    }
    control_plane.kubectl("apply", "-n", release.watched, "-f", "-", input=json.dumps(connection))

    def not_ready_reason() -> str | None:
        ready = condition(get_connection(control_plane, release.watched, "peered"), "Ready")
        return ready["reason"] if ready and ready["status"] == "False" else None

    assert wait_for(not_ready_reason, timeout=60, what="a Ready condition") == "SecretNotFound"
    log = peered_operator.log()
    assert "Forbidden" not in log, log[-3000:]


def test_helm_test_fails_when_the_operator_is_down(
    control_plane: ControlPlane, helm: Helm, peering_release: HelmRelease
) -> None:
    result = helm.run(
        "test",
        peering_release.name,
        "--namespace",
        peering_release.namespace,
        "--timeout",
        "90s",
        kubeconfig=control_plane.kubeconfig,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    assert "Failed" in result.stdout + result.stderr


def test_helm_test_passes_when_it_is_up(
    control_plane: ControlPlane, helm: Helm, peered_operator: ChartOperator
) -> None:
    release = peered_operator.release
    result = helm.run(
        "test",
        release.name,
        "--namespace",
        release.namespace,
        "--logs",
        "--timeout",
        "90s",
        kubeconfig=control_plane.kubeconfig,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "metrics ok" in result.stdout
