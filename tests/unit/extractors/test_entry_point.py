"""The entry point's contract: configuration errors, secrets from env or file, summary and exit codes.

These run `main()` in-process on SQLite files (no server needed).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from connector_extractors import __main__ as entry
from connector_extractors.credentials import read_secret
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.run_summary import MAX_BYTES, RunSummary


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment whose termination message goes to a temporary file."""
    for name in ("OLC_RUN_CONFIG", "OLC_SOURCE_PASSWORD", "OLC_SOURCE_PASSWORD_FILE", "OLC_DATAGALAXY_TOKEN",
                 "OLC_DATAGALAXY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    termination = tmp_path / "termination-log"
    monkeypatch.setenv("OLC_TERMINATION_MESSAGE_PATH", str(termination))
    return termination


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));"
        )
    return path


def write_config(tmp_path: Path, data: Mapping[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return path


def summary_of(termination: Path) -> RunSummary:
    summary = RunSummary.from_termination_message(termination.read_text())
    assert summary is not None
    return summary


def test_dry_run_writes_metadata_summary_and_readable_report(
    env: Path, sqlite_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, {"source": {"technology": "sqlite", "path": str(sqlite_db)}})
    output = tmp_path / "metadata.json"
    assert entry.main(["--config", str(config), "--dry-run", "--output", str(output)]) == 0
    summary = summary_of(env)
    assert summary.result == "Succeeded"
    assert summary.counts["tables"] == 2
    assert summary.counts["foreignKeys"] == 1
    document = json.loads(output.read_text())
    assert document["contentHash"] == summary.content_hash
    assert [t["name"] for t in document["schemas"][0]["tables"]] == ["customers", "orders"]
    assert "Succeeded" in capsys.readouterr().out


def test_config_from_the_environment_and_check_mode(
    env: Path, sqlite_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "OLC_RUN_CONFIG",
        json.dumps({"mode": "check", "source": {"technology": "sqlite", "path": str(sqlite_db)}}),
    )
    assert entry.main([]) == 0
    summary = summary_of(env)
    assert summary.mode == "check"
    assert summary.counts == {"schemas": 1, "tables": 2}


def test_same_catalog_same_hash(env: Path, sqlite_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"source": {"technology": "sqlite", "path": str(sqlite_db)}})
    entry.main(["--config", str(config), "--dry-run"])
    first = summary_of(env).content_hash
    entry.main(["--config", str(config), "--dry-run"])
    assert summary_of(env).content_hash == first


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"source": {"technology": "db2"}}), json.dumps({"source": {}, "extra": 1})],
)
def test_invalid_configuration_exits_2(env: Path, tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert entry.main(["--config", str(path), "--dry-run"]) == 2
    summary = summary_of(env)
    assert summary.result == "Failed"
    assert summary.error_category == "InvalidConfiguration"


def test_missing_configuration_exits_2(env: Path) -> None:
    assert entry.main(["--dry-run"]) == 2
    assert "OLC_RUN_CONFIG" in summary_of(env).message


def test_import_without_target_says_how_to_preview(env: Path, sqlite_db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"source": {"technology": "sqlite", "path": str(sqlite_db)}})
    assert entry.main(["--config", str(config)]) == 2
    assert "--dry-run" in summary_of(env).message


TARGET = {"apiUrl": "https://dg.invalid/v2", "workspace": "Demo", "sourceName": "shop"}


def test_the_target_is_prepared_while_the_extraction_runs(
    env: Path, sqlite_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extraction waits for the target's preparation to start: it only can if both run at once."""
    from connector_extractors import extract as extract_module
    from connector_extractors import push as push_module

    preparing = threading.Event()
    real_extract = extract_module.extract

    def prepare(config: object, token: object) -> object:
        preparing.set()
        raise ConnectorError(ErrorCategory.TARGET_UNAVAILABLE, "DataGalaxy is down (test)")

    def extract(*args: Any, **kwargs: Any) -> Any:
        assert preparing.wait(10), "the target's preparation did not start during the extraction"
        return real_extract(*args, **kwargs)

    monkeypatch.setattr(push_module, "prepare", prepare)
    monkeypatch.setattr(extract_module, "extract", extract)
    monkeypatch.setenv("OLC_DATAGALAXY_TOKEN", "dg-token")
    config = write_config(
        tmp_path, {"source": {"technology": "sqlite", "path": str(sqlite_db)}, "target": TARGET}
    )
    assert (
        entry.main(["--config", str(config)])
        == ConnectorError(ErrorCategory.TARGET_UNAVAILABLE, "").exit_code
    )
    assert "DataGalaxy is down (test)" in summary_of(env).message  # raised after the extraction succeeded


def test_a_failed_extraction_does_not_wait_for_the_target(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DataGalaxy unreachable and retrying (here: never answering) does not hold a failed run back."""
    from connector_extractors import push as push_module

    release = threading.Event()

    def prepare(config: object, token: object) -> object:
        release.wait(60)
        raise ConnectorError(ErrorCategory.TARGET_UNAVAILABLE, "DataGalaxy is down (test)")

    monkeypatch.setattr(push_module, "prepare", prepare)
    monkeypatch.setattr(entry, "_exit_on_sigterm", lambda: None)  # signal handlers: main thread only
    monkeypatch.setenv("OLC_DATAGALAXY_TOKEN", "dg-token")
    source = {"technology": "sqlite", "path": str(tmp_path / "absent.db")}
    config = write_config(tmp_path, {"source": source, "target": TARGET})
    codes: list[int] = []
    run = threading.Thread(target=lambda: codes.append(entry.main(["--config", str(config)])), daemon=True)
    run.start()
    run.join(10)
    release.set()
    assert codes == [2], "the failed run waited for the target's preparation"
    assert "absent.db" in summary_of(env).message


def test_an_extraction_failure_wins_over_a_target_failure(env: Path, tmp_path: Path) -> None:
    """No token (the target's failure) and no database file (the extraction's): the source is named."""
    missing = tmp_path / "absent.db"
    config = write_config(
        tmp_path, {"source": {"technology": "sqlite", "path": str(missing)}, "target": TARGET}
    )
    assert entry.main(["--config", str(config)]) == 2
    summary = summary_of(env)
    assert summary.error_category == ErrorCategory.INVALID_CONFIGURATION.value
    assert "absent.db" in summary.message
    assert "token" not in summary.message.lower()


def test_internal_errors_exit_1_without_secrets(
    env: Path, sqlite_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLC_SOURCE_PASSWORD", "hunter2-secret")

    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("bug while holding hunter2-secret")

    from connector_extractors import extract as extract_module  # imported by the entry point when used

    monkeypatch.setattr(extract_module, "extract", boom)
    config = write_config(tmp_path, {"source": {"technology": "sqlite", "path": str(sqlite_db)}})
    assert entry.main(["--config", str(config), "--dry-run"]) == 1
    text = env.read_text()
    assert "InternalError" in text
    assert "hunter2-secret" not in text


def test_strict_mode_turns_warnings_into_failure(
    env: Path, sqlite_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector_extractors import extract as extract_module
    from connector_extractors.inspection import generic

    real = generic.GenericReader._columns

    def flaky(self: generic.GenericReader, reflected: object) -> object:
        raise RuntimeError("cannot read this table")

    monkeypatch.setattr(generic.GenericReader, "_columns", flaky)
    monkeypatch.setattr(
        extract_module, "reader_for", lambda conn, tech, fast=True: generic.GenericReader(conn, tech)
    )
    base = {"source": {"technology": "sqlite", "path": str(sqlite_db)}}
    # A table that cannot be read is a warning: the run is a partial success...
    assert entry.main(["--config", str(write_config(tmp_path, base)), "--dry-run"]) == 0
    summary = summary_of(env)
    assert summary.result == "PartialSuccess"
    assert summary.warnings[0].startswith("main.customers: columns could not be read")
    assert summary.warning_count == 2
    # ...and a failure in strict mode.
    assert entry.main(["--config", str(write_config(tmp_path, {**base, "strict": True})), "--dry-run"]) == 7
    assert summary_of(env).error_category == "ExtractionFailed"
    monkeypatch.setattr(generic.GenericReader, "_columns", real)


def test_secrets_from_environment_or_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OLC_X", raising=False)
    monkeypatch.delenv("OLC_X_FILE", raising=False)
    assert read_secret("OLC_X") is None
    secret_file = tmp_path / "password"
    secret_file.write_text("from-file\n")
    monkeypatch.setenv("OLC_X_FILE", str(secret_file))
    assert read_secret("OLC_X") == "from-file"
    monkeypatch.setenv("OLC_X", "from-env")
    assert read_secret("OLC_X") == "from-env"
    monkeypatch.delenv("OLC_X")
    monkeypatch.setenv("OLC_X_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConnectorError) as error:
        read_secret("OLC_X")
    assert error.value.category is ErrorCategory.INVALID_CONFIGURATION


def test_summary_with_many_warnings_fits_the_termination_message(env: Path) -> None:
    summary = RunSummary(result="PartialSuccess", warnings=[f"table {i}: " + "x" * 300 for i in range(500)])
    entry.write_summary(summary)
    assert len(env.read_bytes()) <= MAX_BYTES
    assert summary_of(env).warning_count == 500
