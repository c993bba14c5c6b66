"""`helm lint --strict` and the values schema, offline."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.fixtures.helm import CHART, KUBE_VERSION, Helm


def test_lint_strict_passes_on_the_defaults(helm: Helm) -> None:
    result = helm.run("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION)
    assert "0 chart(s) failed" in result.stdout


def test_lint_strict_passes_with_everything_enabled(helm: Helm) -> None:
    values = helm.values_file(
        {
            "watch": {"namespaces": ["team-a", "team-b"]},
            "peering": {"enabled": True},
            "networkPolicy": {
                "enabled": True,
                "extractor": {"sources": [{"cidrs": ["10.1.0.0/16"], "ports": [5432]}]},
            },
            "metrics": {"serviceMonitor": {"enabled": True}},
            "security": {"requireSecretLabel": True, "allowedApiHosts": ["*.datagalaxy.com"]},
        }
    )
    helm.run("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, "--values", str(values))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": 2}, "/replicaCount"),
        (
            {"securityContext": {"allowPrivilegeEscalation": True}},
            "/securityContext/allowPrivilegeEscalation",
        ),
        ({"podSecurityContext": {"runAsNonRoot": False}}, "/podSecurityContext/runAsNonRoot"),
        ({"image": {"extractor": {"repository": "x", "digest": "latest"}}}, "/image/extractor/digest"),
        ({"watch": {"namespaces": ["Not_A_Namespace"]}}, "/watch/namespaces/0"),
        ({"security": {"allowedApiHosts": ["https://api.datagalaxy.com/v2"]}}, "/security/allowedApiHosts/0"),
        ({"metrics": {"port": 70000}}, "/metrics/port"),
        ({"clusterName": "prod:eu"}, "/clusterName"),  # a ':' would break the owner marker
        ({"wacth": {"namespaces": []}}, "additional properties 'wacth'"),
    ],
)
def test_the_schema_rejects_bad_values(helm: Helm, values: dict[str, object], complaint: str) -> None:
    result = helm.template_text(values, check=False)
    assert result.returncode != 0, "helm template accepted invalid values"
    assert complaint in result.stderr


def test_serviceaccount_name_is_required_when_not_created(helm: Helm) -> None:
    result = helm.template_text({"serviceAccount": {"create": False}}, check=False)
    assert result.returncode != 0
    assert "serviceAccount.name is required" in result.stderr


def test_the_packaged_chart_carries_the_crd_schema_and_test_hook(helm: Helm, tmp_path: Path) -> None:
    helm.run("package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("online-connector-*.tgz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    for member in (
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "README.md",
        "crds/onlineconnections.yaml",
        "templates/NOTES.txt",
        "templates/tests/test-operator.yaml",
    ):
        assert f"online-connector/{member}" in names, member
