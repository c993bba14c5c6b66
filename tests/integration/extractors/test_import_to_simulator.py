"""The whole run through the entry point: real PostgreSQL -> extractor -> DataGalaxy simulator.

Import, re-import (Unchanged with the previous hash), --check with a target, a rejected token; the
token and the password never appear in any output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector_testbed.postgres import PostgresServer
from connector_testbed.simulator import SimulatorServer
from connector_testbed.simulator.seed import REVOKED_TOKEN, VALID_TOKEN
from tests.integration.extractors.catalogs import POSTGRES_SQL
from tests.integration.extractors.runner import Run, run_extractor

pytestmark = pytest.mark.integration
DB = "olc_extract_push"


@pytest.fixture(scope="module")
def shop(postgres_server: PostgresServer) -> PostgresServer:
    postgres_server.create_database(DB)
    postgres_server.execute(DB, POSTGRES_SQL)
    return postgres_server


def config(pg: PostgresServer, sim: SimulatorServer, **overrides: Any) -> dict[str, Any]:
    return {
        "connection": "team-a/shop",
        "source": {
            "technology": "postgresql",
            "host": pg.host,
            "port": pg.port,
            "database": DB,
            "username": pg.admin_user,
        },
        "target": {"apiUrl": sim.url, "workspace": "Demo", "sourceName": "shop"},
        **overrides,
    }


def run(tmp_path: Path, pg: PostgresServer, cfg: dict[str, Any], *args: str, token: str = VALID_TOKEN) -> Run:
    result = run_extractor(
        tmp_path, cfg, *args, env={"OLC_SOURCE_PASSWORD": pg.admin_password, "OLC_DATAGALAXY_TOKEN": token}
    )
    for text in (result.stdout, result.stderr, result.termination_text):
        assert pg.admin_password not in text
        assert token not in text
    return result


def test_import_then_unchanged_reimport(
    shop: PostgresServer, datagalaxy_simulator: SimulatorServer, tmp_path: Path
) -> None:
    first = run(tmp_path, shop, config(shop, datagalaxy_simulator))
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.summary is not None
    assert first.summary.result == "Succeeded", first.summary.message
    assert first.summary.push is not None
    assert first.summary.push.created > 0
    assert first.summary.counts["tables"] == 9
    assert "pushed" in first.stdout
    again = run(
        tmp_path, shop, config(shop, datagalaxy_simulator, previousContentHash=first.summary.content_hash)
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.summary is not None
    assert again.summary.result == "Unchanged"
    assert again.summary.content_hash == first.summary.content_hash


def test_check_resolves_the_target(
    shop: PostgresServer, datagalaxy_simulator: SimulatorServer, tmp_path: Path
) -> None:
    result = run(tmp_path, shop, config(shop, datagalaxy_simulator), "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary.mode == "check"
    assert "Demo" in result.summary.message
    assert all(not workspace["sources"] for workspace in datagalaxy_simulator.tree())  # nothing imported


def test_rejected_token(shop: PostgresServer, datagalaxy_simulator: SimulatorServer, tmp_path: Path) -> None:
    result = run(tmp_path, shop, config(shop, datagalaxy_simulator), "--check", token=REVOKED_TOKEN)
    assert result.returncode == 8, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary.error_category == "TokenRejected"
