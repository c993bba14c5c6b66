"""Start-up: each mode of the entry point imports only what it uses (issue 13).

A fresh interpreter runs the entry point in-process on a SQLite file, then lists `sys.modules`: a dry
run and a check without a target must not load the DataGalaxy client (httpx), the operator's libraries
or any database driver other than the one the source needs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# Modules a run against SQLite has no use for: the push client and its HTTP stack, the operator side,
# and every other technology's driver.
NOT_FOR_A_LOCAL_RUN = (
    "httpx",
    "httpcore",
    "connector_extractors.datagalaxy",
    "kopf",
    "kubernetes",
    "connector_operator",
    "psycopg",
    "psycopg2",
    "pymysql",
    "duckdb",
    "oracledb",
    "pymssql",
    "snowflake",
)

PROBE = """
import json, sys
from connector_extractors.__main__ import main
code = main(sys.argv[1:])
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""


def imported_by(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    database = tmp_path / "start-up.sqlite"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)")
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"source": {"technology": "sqlite", "path": str(database)}}))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("extractors", "operator", "testbed")),
        "OLC_TERMINATION_MESSAGE_PATH": str(tmp_path / "termination-log"),
        "OLC_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    return int(answer["exit"]), set(answer["modules"])


def unexpected(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in NOT_FOR_A_LOCAL_RUN
        or m in NOT_FOR_A_LOCAL_RUN
        or m.startswith("connector_extractors.datagalaxy")
    )


@pytest.mark.parametrize(
    "args",
    [("--dry-run", "--output", "-"), ("--dry-run",), ("--check",)],
    ids=["dry-run-to-stdout", "dry-run", "check-without-target"],
)
def test_a_local_run_imports_neither_the_push_client_nor_other_drivers(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, modules = imported_by(tmp_path, *args)
    assert code == 0
    assert "connector_extractors.extract" in modules  # the probe did run the extraction
    assert unexpected(modules) == []


def test_a_dry_run_does_not_load_the_check_or_the_push_step(tmp_path: Path) -> None:
    code, modules = imported_by(tmp_path, "--dry-run")
    assert code == 0
    assert "connector_extractors.check" not in modules
    assert "connector_extractors.push" not in modules


@pytest.mark.parametrize("output", ["file", "stdout"])
def test_the_console_entry_exits_fast_with_everything_written(tmp_path: Path, output: str) -> None:
    """`run()` skips the interpreter's teardown: the output, the summary, the report and the log lines
    must all be out before it, and the exit code must be main()'s."""
    database = tmp_path / "exit.sqlite"
    with sqlite3.connect(database) as conn:
        tables = (f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name TEXT);" for i in range(300))
        conn.executescript("".join(tables))
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"source": {"technology": "sqlite", "path": str(database)}}))
    termination = tmp_path / "termination-log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("extractors", "operator", "testbed")),
        "OLC_TERMINATION_MESSAGE_PATH": str(termination),
    }
    document = tmp_path / "metadata.json"
    target = str(document) if output == "file" else "-"
    probe = "from connector_extractors.__main__ import run; run()"
    proc = subprocess.run(
        [sys.executable, "-c", probe, "--config", str(config), "--dry-run", "--output", target],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = document.read_text() if output == "file" else proc.stdout[: proc.stdout.rindex("}") + 1]
    assert len(json.loads(written)["schemas"][0]["tables"]) == 300  # the whole document, flushed
    assert json.loads(termination.read_text())["result"] == "Succeeded"
    assert "Online Connector import: Succeeded" in proc.stdout  # the report, flushed
    assert "extracted 1 schemas, 300 tables" in proc.stderr  # the log, flushed

    config.write_text(json.dumps({"source": {"technology": "sqlite", "path": str(tmp_path / "absent.db")}}))
    failed = subprocess.run(
        [sys.executable, "-c", probe, "--config", str(config), "--dry-run"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert failed.returncode == 2
    assert json.loads(termination.read_text())["result"] == "Failed"
