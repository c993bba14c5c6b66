"""The sample Argo CD Application for the operator renders the real chart with values its schema accepts."""

from __future__ import annotations

from tests.fixtures.helm import Helm
from tests.support.argocd import ROOT, applications


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
