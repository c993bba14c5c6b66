"""The sample Argo CD Applications point at the real chart, with values that its schema accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.fixtures.helm import Helm

ROOT = Path(__file__).resolve().parents[3]
APPLICATION = ROOT / "docs" / "argocd" / "application.yaml"


def applications() -> list[dict[str, Any]]:
    docs = [doc for doc in yaml.safe_load_all(APPLICATION.read_text()) if doc]
    assert all(doc["apiVersion"] == "argoproj.io/v1alpha1" for doc in docs)
    assert all(doc["kind"] == "Application" for doc in docs)
    return docs


def test_the_operator_application_renders_the_chart_with_its_values(helm: Helm) -> None:
    operator = applications()[0]
    source = operator["spec"]["source"]
    assert (ROOT / source["path"] / "Chart.yaml").exists()
    assert source["helm"]["skipCrds"] is False
    docs = helm.template(source["helm"]["valuesObject"], release=source["helm"]["releaseName"])
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["OLC_REQUIRE_SECRET_LABEL"] == "true"
    assert any(d["kind"] == "ServiceMonitor" for d in docs)


def test_server_side_apply_and_self_heal() -> None:
    for app in applications():
        policy = app["spec"]["syncPolicy"]
        assert "ServerSideApply=true" in policy["syncOptions"]
        assert policy["automated"]["selfHeal"] is True
        assert "ignoreDifferences" not in app["spec"], "the operator causes no drift to ignore"
