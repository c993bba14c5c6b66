"""The API server itself validates OnlineConnections with the generated CRD (structural schema and CEL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector_testbed.control_plane import ControlPlane

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("onlineconnection*.yaml")), ids=lambda p: p.name)
def test_valid_samples_are_accepted(
    control_plane: ControlPlane, olc_crd: str, namespace: str, path: Path
) -> None:
    result = control_plane.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(path), check=False)
    assert result.returncode == 0, result.stderr


def test_invalid_samples_are_rejected_naming_the_field(
    control_plane: ControlPlane, olc_crd: str, namespace: str
) -> None:
    failures = []
    for path in sorted((SAMPLES / "invalid").glob("*.yaml")):
        expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
        result = control_plane.kubectl(
            "apply", "--dry-run=server", "-n", namespace, "-f", str(path), check=False
        )
        if result.returncode == 0 or expected not in result.stderr:
            failures.append(
                f"{path.name}: expected an error naming {expected!r}, got: {result.stderr.strip()!r}"
            )
    assert failures == []


def test_http_api_url_is_accepted_for_localhost(
    control_plane: ControlPlane, olc_crd: str, namespace: str
) -> None:
    doc = (
        (SAMPLES / "onlineconnection-minimal.yaml")
        .read_text()
        .replace("https://api.datagalaxy.com/v2", "http://127.0.0.1:8080/v2")
    )
    result = control_plane.kubectl(
        "apply", "--dry-run=server", "-n", namespace, "-f", "-", input=doc, check=False
    )
    assert result.returncode == 0, result.stderr


def test_kubectl_explain_reads_the_descriptions(control_plane: ControlPlane, olc_crd: str) -> None:
    result = control_plane.kubectl("explain", "onlineconnection.spec.source.passwordSecretRef")
    assert "same namespace" in result.stdout
    assert "never put a password in the spec" in result.stdout


def test_short_name_and_category(control_plane: ControlPlane, olc_crd: str, namespace: str) -> None:
    control_plane.kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "onlineconnection-minimal.yaml"))
    assert "minimal" in control_plane.kubectl("get", "olc", "-n", namespace).stdout
    listing = control_plane.kubectl("get", "datagalaxy", "-n", namespace).stdout
    assert "minimal" in listing
    header = control_plane.kubectl("get", "olc", "-n", namespace).stdout.splitlines()[0].split()
    assert header[:4] == ["NAME", "SOURCE", "SCHEDULE", "READY"]
