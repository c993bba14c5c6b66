"""The Helm values reference in docs/installation.md, generated from values.schema.json and values.yaml.

Written by `python -m connector_operator.crd_generate --write` (`make crds`), with the CRD, its
chart copy and the other generated references; `--check` fails when the section is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "online-connector"
INSTALLATION = ROOT / "docs" / "installation.md"
BEGIN = "<!-- BEGIN GENERATED: values reference (python -m connector_operator.crd_generate --write) -->"
OLD_BEGIN = "<!-- BEGIN GENERATED: values reference (python -m tests.unit.chart.docs_reference --write) -->"
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


def installation_with_reference(text: str) -> str:
    text = text.replace(OLD_BEGIN, BEGIN)
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n\n" + values_reference() + "\n\n" + text[end:]
