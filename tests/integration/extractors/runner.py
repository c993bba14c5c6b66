"""Helpers for the extractor's integration tests: run the entry point, compare with golden files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector_extractors.metadata import SourceMetadata
from connector_extractors.run_summary import RunSummary

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "OLC_UPDATE_GOLDEN"
REPO = Path(__file__).resolve().parents[3]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    summary: RunSummary | None
    termination_text: str


def run_extractor(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Run:
    """`python -m connector_extractors --config FILE ARGS` in a subprocess, like the Job runs it."""
    config_file = tmp_path / "run-config.json"
    config_file.write_text(json.dumps(config))
    termination = tmp_path / "termination-log"
    termination.write_text("")
    pythonpath = os.pathsep.join(str(REPO / p) for p in ("extractors", "operator", "testbed"))
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": pythonpath,
        "OLC_TERMINATION_MESSAGE_PATH": str(termination),
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "connector_extractors", "--config", str(config_file), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    text = termination.read_text()
    return Run(proc.returncode, proc.stdout, proc.stderr, RunSummary.from_termination_message(text), text)


def golden_compare(name: str, metadata: SourceMetadata | dict[str, Any]) -> None:
    """Compare with golden/<name>.json; OLC_UPDATE_GOLDEN=1 rewrites the file instead."""
    document = metadata.to_dict() if isinstance(metadata, SourceMetadata) else metadata
    path = GOLDEN / f"{name}.json"
    rendered = json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_ENV) or not path.exists():
        if not os.environ.get(UPDATE_ENV):
            raise AssertionError(f"golden file {path} missing: run with {UPDATE_ENV}=1 to create it")
        path.write_text(rendered, encoding="utf-8")
        return
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(rendered) == expected, (
        f"extraction differs from {path} (diff the two; {UPDATE_ENV}=1 updates)"
    )


def without_sql_types(document: dict[str, Any]) -> dict[str, Any]:
    """A metadata document with SQL type spellings removed (fast path and SQLAlchemy spell them apart)."""
    copy: dict[str, Any] = json.loads(json.dumps(document))
    for schema in copy["schemas"]:
        for table in schema["tables"]:
            for column in table["columns"]:
                column.pop("sql_type")
    return copy
