"""The committed CRD is generated from the models and reads well with `kubectl explain`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from connector_operator import crd_generate, models

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"


def _walk(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        found += _walk(sub, f"{path}.{name}")
    if "items" in node:
        found += _walk(node["items"], f"{path}[]")
    return found


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(crd_generate.CRD_PATH.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def test_committed_crd_is_current() -> None:
    assert crd_generate.CRD_PATH.read_text() == crd_generate.render(), (
        "crds/onlineconnections.yaml is stale: run python -m connector_operator.crd_generate --write"
    )
    assert crd_generate.REFERENCE_PATH.read_text() == crd_generate.render_reference(), (
        "docs/crd-reference.md is stale: run python -m connector_operator.crd_generate --write"
    )
    assert crd_generate.main(["--check"]) == 0


def test_every_field_has_a_description() -> None:
    schema = _schema()
    missing = [
        path
        for path, node in _walk(schema["properties"]["spec"], "spec")
        + _walk(schema["properties"]["status"], "status")
        if not path.endswith("[]") and not node.get("description")
    ]
    assert missing == []


def test_schema_is_structural() -> None:
    for path, node in _walk(_schema(), ""):
        assert "$ref" not in node, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), path
        assert not ("properties" in node and "additionalProperties" in node), path
        assert "default" not in node, path


def test_names_and_columns() -> None:
    crd = yaml.safe_load(crd_generate.CRD_PATH.read_text())
    names = crd["spec"]["names"]
    assert crd["metadata"]["name"] == "onlineconnections.connectors.datagalaxy.com"
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "OnlineConnection",
        "onlineconnections",
        ["olc"],
        ["datagalaxy"],
    )
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")]
    assert columns == ["Source", "Schedule", "Ready", "Last Run", "Result", "Objects", "Age"]


def test_secret_refs_have_no_namespace() -> None:
    spec = _schema()["properties"]["spec"]["properties"]
    assert set(spec["source"]["properties"]["passwordSecretRef"]["properties"]) == {"name", "key"}
    assert set(spec["target"]["properties"]["tokenSecretRef"]["properties"]) == {"name", "key"}


def test_conditions_are_a_list_map() -> None:
    conditions = _schema()["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]


def test_cel_rules_guard_their_cost_with_bounds() -> None:
    for path, node in _walk(_schema(), ""):
        if node.get("x-kubernetes-validations") and node["type"] == "object":
            for name, sub in node.get("properties", {}).items():
                if sub["type"] == "string":
                    assert "maxLength" in sub or "enum" in sub, f"{path}.{name}"


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("onlineconnection*.yaml")), ids=lambda p: p.name)
def test_valid_samples_pass_the_models(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    models.OnlineConnectionSpec.model_validate(doc["spec"])


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", sorted((SAMPLES / "invalid").glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_samples_fail_the_models_on_the_named_field(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    with pytest.raises(ValidationError) as info:
        models.OnlineConnectionSpec.model_validate(doc["spec"])
    field = _expected(path).removeprefix("spec.").split(".")
    located = [".".join(str(p) for p in e["loc"]) for e in info.value.errors()]
    messages = " ".join(e["msg"] for e in info.value.errors())
    assert any(loc.startswith(".".join(field[:1])) for loc in located), located
    assert field[-1] in " ".join(located) + messages, (located, messages)
