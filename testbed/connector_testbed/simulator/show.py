"""Render what was imported as an indented text tree (for `simulator show` and the demo)."""

from __future__ import annotations

from typing import Any

_SHOWN_ATTRIBUTES = (
    "technologyCode",
    "columnDataType",
    "size",
    "dataTypePrecisionSize",
    "isMandatory",
    "order",
)


def _describe(node: dict[str, Any]) -> str:
    attributes = node.get("attributes", {})
    shown = [f"{key}={attributes[key]}" for key in _SHOWN_ATTRIBUTES if attributes.get(key) is not None]
    label = f"{node['type']} {node['technicalName']}"
    if node["name"] != node["technicalName"]:
        label += f" ({node['name']})"
    return label + (f"  [{', '.join(shown)}]" if shown else "")


def render_tree(versions: list[dict[str, Any]], include_empty: bool = False) -> str:
    lines: list[str] = []
    for version in versions:
        if not version["sources"] and not include_empty:
            continue
        lines.append(f"Workspace {version['workspace']} / version {version['version']}")
        stack = [(node, 1) for node in reversed(version["sources"])]
        while stack:
            node, depth = stack.pop()
            lines.append("  " * depth + _describe(node))
            stack.extend((child, depth + 1) for child in reversed(node["children"]))
        for pk in version["primaryKeys"]:
            lines.append(f"  PK {pk['name']}: {pk['table_path']}.{pk['column_name']} (#{pk['pk_order']})")
        for fk in version["foreignKeys"]:
            lines.append(
                f"  FK {fk['name']}: {fk['table_path']}.{fk['column_name']} -> "
                f"{fk['referred_table_path']}.{fk['referred_column_name']}"
            )
    return "\n".join(lines) if lines else "(nothing imported)"
