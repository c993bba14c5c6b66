"""The readable form of a run summary, printed on stdout at the end of every run."""

from __future__ import annotations

from connector_extractors.run_summary import RunSummary

_COUNT_LABELS = {
    "schemas": "schemas",
    "tables": "tables",
    "views": "views",
    "columns": "columns",
    "primaryKeys": "primary keys",
    "foreignKeys": "foreign keys",
}


def render(summary: RunSummary, max_warnings: int = 20) -> str:
    lines = [f"Online Connector {summary.mode}: {summary.result} in {summary.duration_seconds:.2f}s"]
    if summary.error_category:
        lines.append(f"  error:    {summary.error_category}")
    if summary.message:
        lines.append(f"  message:  {summary.message}")
    if summary.counts:
        parts = [f"{value} {_COUNT_LABELS.get(key, key)}" for key, value in summary.counts.items()]
        lines.append(f"  found:    {', '.join(parts)}")
    if summary.push is not None:
        push = summary.push
        lines.append(
            f"  pushed:   {push.created} created, {push.updated} updated, {push.unchanged} unchanged, "
            f"{push.deleted} deleted, {push.missing} missing from the source"
        )
    if summary.content_hash:
        lines.append(f"  hash:     {summary.content_hash}")
    total = max(summary.warning_count, len(summary.warnings))
    if total:
        lines.append(f"  warnings: {total}")
        lines.extend(f"    - {warning}" for warning in summary.warnings[:max_warnings])
        if total > min(len(summary.warnings), max_warnings):
            lines.append(f"    … and {total - min(len(summary.warnings), max_warnings)} more")
    return "\n".join(lines)
