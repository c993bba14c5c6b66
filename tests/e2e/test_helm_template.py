"""`helm template` with several value sets, validated by the testbed's API server (`--dry-run=server`):
schemas, admission and the restricted Pod Security Standard of the namespaces they land in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.fixtures.helm import Doc, Helm, create_restricted_namespace, dumps

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def namespaces(control_plane: ControlPlane) -> Iterator[tuple[str, str, str]]:
    created = tuple(
        create_restricted_namespace(control_plane, prefix) for prefix in ("tpl", "tpl-a", "tpl-b")
    )
    yield created  # type: ignore[misc]
    for ns in created:
        control_plane.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def value_sets(release_ns: str, team_a: str, team_b: str) -> dict[str, Doc]:
    digest = "sha256:" + "c" * 64
    return {
        "defaults": {},
        "namespaced": {"watch": {"namespaces": [team_a, team_b]}},
        "hardened": {
            "watch": {"namespaces": [team_a]},
            "image": {"extractor": {"repository": "registry.example.com/olc-extractor", "digest": digest}},
            "security": {"requireSecretLabel": True, "allowedApiHosts": ["*.datagalaxy.com"]},
            "networkPolicy": {
                "enabled": True,
                "apiServer": {"cidrs": ["10.0.0.1/32"], "ports": [443, 6443]},
                "metricsFrom": ["monitoring"],
                "extractor": {
                    "namespaces": [team_a, team_b],
                    "datagalaxy": {"cidrs": ["203.0.113.0/24"], "ports": [443]},
                    "sources": [{"cidrs": ["10.20.0.0/16", "192.168.1.10/32"], "ports": [5432, 1433]}],
                },
            },
        },
        "peering-and-knobs": {
            "peering": {"enabled": True},
            "operator": {"extraEnv": [{"name": "X", "value": "1"}]},
            "metrics": {"enabled": False, "service": {"enabled": False}},
            "podDisruptionBudget": {"enabled": False},
            "rbac": {"aggregateToAdmin": False, "aggregateToView": False},
            "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
            "replicaCount": 0,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        },
        "renamed": {
            "fullnameOverride": "olc",
            "serviceAccount": {"name": "olc-operator"},
            "extractor": {"serviceAccount": {"name": "olc-jobs", "namespaces": [team_b]}},
        },
    }


CASES = ["defaults", "namespaced", "hardened", "peering-and-knobs", "renamed"]


@pytest.mark.parametrize("case", CASES)
def test_rendered_chart_is_accepted_by_the_api_server(
    control_plane: ControlPlane, helm: Helm, namespaces: tuple[str, str, str], case: str
) -> None:
    release_ns = namespaces[0]
    values = value_sets(*namespaces)[case]
    docs = helm.template(values, release=f"tpl-{CASES.index(case)}", namespace=release_ns)
    assert docs
    result = control_plane.kubectl("apply", "--dry-run=server", "-f", "-", input=dumps(docs), check=False)
    assert result.returncode == 0, f"{case}: the API server refused the chart:\n{result.stderr}"
    # Restricted namespaces answer with a warning for any workload that would violate the profile.
    assert "PodSecurity" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    applied = [line for line in result.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == len(docs), result.stdout


def test_a_privileged_override_is_refused_before_reaching_the_cluster(helm: Helm) -> None:
    values: dict[str, Any] = {"securityContext": {"privileged": True}}
    result = helm.template_text(values, check=False)
    assert result.returncode != 0
    assert "/securityContext/privileged" in result.stderr


def test_the_helm_test_pod_passes_restricted_admission(
    control_plane: ControlPlane, helm: Helm, namespaces: tuple[str, str, str]
) -> None:
    docs = [d for d in helm.template(namespace=namespaces[0]) if d["kind"] == "Pod"]
    assert len(docs) == 1
    result = control_plane.kubectl(
        "create", "--dry-run=server", "-n", namespaces[0], "-f", "-", input=dumps(docs), check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_operator_pod_passes_restricted_enforcement(
    control_plane: ControlPlane, helm: Helm, namespaces: tuple[str, str, str]
) -> None:
    """Admission enforces Pod Security on pods, not on Deployments: create the Deployment's pod itself."""
    release_ns = namespaces[0]
    deployment = next(d for d in helm.template(namespace=release_ns) if d["kind"] == "Deployment")
    template = deployment["spec"]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "operator-pod-check",
            "namespace": release_ns,
            "labels": template["metadata"]["labels"],
        },
        "spec": template["spec"],
    }
    result = control_plane.kubectl("create", "--dry-run=server", "-f", "-", input=dumps([pod]), check=False)
    assert result.returncode == 0, result.stderr
    # And the check is real: the same pod without its security settings is refused.
    loose = json.loads(json.dumps(pod))
    del loose["spec"]["securityContext"]
    del loose["spec"]["containers"][0]["securityContext"]
    refused = control_plane.kubectl(
        "create", "--dry-run=server", "-f", "-", input=dumps([loose]), check=False
    )
    assert refused.returncode != 0
    assert "violates PodSecurity" in refused.stderr
