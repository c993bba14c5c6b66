"""`--dry-run --show-tree`: the exact requests a push would send, printed, nothing written."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from connector_extractors import __main__ as entry
from connector_extractors.datagalaxy.bulktree import BatchLimits
from connector_extractors.datagalaxy.preview import render
from connector_extractors.datagalaxy.vocabulary import Vocabulary
from tests.fixtures.simulator import sample_metadata


def _requests(lines: list[str]) -> list[tuple[str, object]]:
    """(`#` header, parsed JSON body) pairs of a preview."""
    pairs = []
    for header, body in itertools.pairwise(lines):
        if header.startswith("# POST") or header.startswith("# PUT"):
            pairs.append((header, json.loads(body)))
    return pairs


def test_the_preview_is_every_batch_and_every_key_request() -> None:
    vocabulary = Vocabulary("postgresql", {"sql_type": "Technical data type"})
    lines = list(render(sample_metadata(), "shop", vocabulary, limits=BatchLimits(max_entities=10)))
    requests = _requests(lines)
    trees = [body for header, body in requests if header.startswith("# POST /sources/bulktree/")]
    assert len(trees) > 1
    for tree in trees:
        assert isinstance(tree, dict)
        assert tree["technologyCode"] == "postgresql"
        assert all("technologyCode" not in schema for schema in tree["children"])
    column = trees[0]["children"][0]["children"][0]["children"][0]  # type: ignore[index]
    assert "Technical data type" in column
    routes = [header.split()[2] for header, _ in requests if header.startswith("# PUT")]
    assert routes == [
        "/sources/{versionId}/{sourceId}/primaryKeys",
        "/sources/{versionId}/{sourceId}/foreignKeys",
        "/sources/{versionId}/{sourceId}/foreignKeys",
    ]


def test_show_tree_on_a_dry_run_without_a_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLC_TERMINATION_MESSAGE_PATH", str(tmp_path / "termination-log"))
    for name in ("OLC_RUN_CONFIG", "OLC_DATAGALAXY_TOKEN", "OLC_DATAGALAXY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as conn:
        conn.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT UNIQUE);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT REFERENCES customers (email));"
        )
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"source": {"technology": "sqlite", "path": str(database)}}))
    assert entry.main(["--config", str(config), "--dry-run", "--show-tree"]) == 0
    out = capsys.readouterr().out
    assert "# no target or token" in out
    assert "# POST /sources/bulktree/{versionId}" in out
    assert '"isMandatory"' in out
    assert "# not sent: Foreign key" in out
    assert "not the primary key (id) of main.customers" in out
