"""Generates the configuration reference in the docs from values.schema.json, values.yaml and the CRD.

    .venv/bin/python -m tests.unit.chart.docs_reference --write

rewrites the generated sections; test_docs_reference.py fails when they are stale.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "online-connector"
INSTALLATION = ROOT / "docs" / "installation.md"
CRD_REFERENCE = ROOT / "docs" / "onlineconnection-reference.md"
CRD = ROOT / "crds" / "onlineconnections.yaml"
BEGIN = "<!-- BEGIN GENERATED: values reference (python -m tests.unit.chart.docs_reference --write) -->"
END = "<!-- END GENERATED: values reference -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _type(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}` only"
    if "enum" in schema:
        return ", ".join(f"`{v}`" for v in schema["enum"])
    if "oneOf" in schema:
        return " or ".join(_type(s) for s in schema["oneOf"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if schema.get("x-kubernetes-int-or-string"):
        return "integer or string"
    return str(kind)


def _default(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, separators=(", ", ": "))
    return f"`{text}`" if len(text) <= 60 else "see values.yaml"


def _walk_values(schema: dict[str, Any], values: Any, prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for key, prop in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        value = values.get(key) if isinstance(values, dict) else None
        children = prop.get("properties")
        if children and prop.get("additionalProperties") is False:
            yield from _walk_values(prop, value, f"{path}.")
            continue
        yield path, _type(prop), _default(value), prop.get("description", "")


def values_reference() -> str:
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for path, kind, default, description in _walk_values(schema, values, ""):
        rows.append(f"| `{path}` | {_cell(kind)} | {_cell(default)} | {_cell(description)} |")
    return "\n".join(rows)


def _walk_crd(schema: dict[str, Any], prefix: str, required: set[str]) -> Iterator[tuple[str, str, str, str]]:
    for key, prop in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        constraints = []
        for name in ("minimum", "maximum", "minLength", "maxLength", "maxItems", "pattern"):
            if name in prop and not (name == "pattern" and len(str(prop[name])) > 40):
                shown = f"`{prop[name]}`" if name == "pattern" else prop[name]
                constraints.append(f"{name} {shown}")
        if "default" in prop and not isinstance(prop["default"], dict | list):
            constraints.append(f"default `{json.dumps(prop['default'])}`")
        flag = "yes" if key in required else ""
        yield path, _type(prop), flag, " ".join([prop.get("description", ""), "; ".join(constraints)]).strip()
        if prop.get("type") == "object" and "properties" in prop:
            yield from _walk_crd(prop, f"{path}.", set(prop.get("required", [])))
        elif prop.get("type") == "array" and "properties" in prop.get("items", {}):
            items = prop["items"]
            yield from _walk_crd(items, f"{path}[].", set(items.get("required", [])))


def crd_reference() -> str:
    crd = yaml.safe_load(CRD.read_text())
    version = crd["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    lines = [
        "# OnlineConnection reference",
        "",
        f"`{crd['spec']['group']}/{version['name']}`, kind `{crd['spec']['names']['kind']}`. Generated from",
        "`crds/onlineconnections.yaml` (itself generated from `connector_operator/models.py`) by",
        "`python -m tests.unit.chart.docs_reference --write`; do not edit by hand.",
    ]
    for part in ("spec", "status"):
        sub = schema["properties"][part]
        lines += [
            "",
            f"## {part}",
            "",
            _cell(sub.get("description", "")),
            "",
            "| Field | Type | Required | Description |",
            "|---|---|---|---|",
        ]
        for path, kind, flag, description in _walk_crd(sub, f"{part}.", set(sub.get("required", []))):
            lines.append(f"| `{path}` | {_cell(kind)} | {flag} | {_cell(description)} |")
    return "\n".join(lines) + "\n"


def installation_with_reference(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n\n" + values_reference() + "\n\n" + text[end:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the generated docs")
    args = parser.parse_args()
    installation = installation_with_reference(INSTALLATION.read_text())
    reference = crd_reference()
    if args.write:
        INSTALLATION.write_text(installation)
        CRD_REFERENCE.write_text(reference)
    else:
        print(installation)
        print(reference)


if __name__ == "__main__":
    main()
