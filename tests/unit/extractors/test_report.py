"""The readable summary on stdout."""

from __future__ import annotations

from connector_extractors.report import render
from connector_extractors.run_summary import PushCounts, RunSummary


def test_success_with_push_and_warnings() -> None:
    summary = RunSummary(
        result="PartialSuccess",
        message="Extracted 2 schemas; pushed.",
        counts={"schemas": 2, "tables": 3, "primaryKeys": 1},
        push=PushCounts(created=4, updated=1),
        durationSeconds=1.5,
        warnings=[f"sales.t{i}: columns could not be read" for i in range(30)],
        contentHash="sha256:abc",
    )
    text = render(summary)
    assert text.splitlines()[0] == "Online Connector import: PartialSuccess in 1.50s"
    assert "found:    2 schemas, 3 tables, 1 primary keys" in text
    assert "4 created, 1 updated" in text
    assert "warnings: 30" in text
    assert "… and 10 more" in text
    assert "sha256:abc" in text


def test_failure() -> None:
    text = render(
        RunSummary(mode="check", result="Failed", errorCategory="SourceUnreachable", message="Cannot reach")
    )
    assert "check: Failed" in text
    assert "error:    SourceUnreachable" in text
    assert "found:" not in text
