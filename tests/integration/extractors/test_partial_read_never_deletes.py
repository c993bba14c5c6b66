"""A schema the login may no longer use is skipped with a warning, and is then not deleted from DataGalaxy:
with `missingObjects: delete`, a partial read only reports (real PostgreSQL -> extractor -> simulator)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from connector_testbed.postgres import PostgresServer
from connector_testbed.simulator import SimulatorServer
from connector_testbed.simulator.seed import VALID_TOKEN
from tests.integration.extractors.catalogs import POSTGRES_SQL
from tests.integration.extractors.runner import run_extractor

pytestmark = pytest.mark.integration
DB = "olc_partial_read"


@pytest.fixture(scope="module")
def shop(postgres_server: PostgresServer) -> PostgresServer:
    postgres_server.create_database(DB)
    postgres_server.execute(DB, POSTGRES_SQL)
    return postgres_server


def schemas_in_datagalaxy(sim: SimulatorServer) -> set[str]:
    demo = next(v for v in sim.tree() if v["workspace"] == "Demo")
    source = next(s for s in demo["sources"] if s["technicalName"] == "shop")
    return {model["technicalName"] for model in source["children"]}


def test_a_schema_without_usage_is_not_deleted_from_datagalaxy(
    shop: PostgresServer, datagalaxy_simulator: SimulatorServer, tmp_path: Path
) -> None:
    role, password = f"olc_lost_{secrets.token_hex(3)}", "lost-pw"
    shop.create_user(role, password)
    every = 'sales, "Mixed Case", "ünïcødé", empty_schema, public'
    shop.execute(
        DB, f"GRANT USAGE ON SCHEMA {every} TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA {every} TO {role}"
    )
    config: dict[str, Any] = {
        "source": {
            "technology": "postgresql",
            "host": shop.host,
            "port": shop.port,
            "database": DB,
            "username": role,
        },
        "target": {"apiUrl": datagalaxy_simulator.url, "workspace": "Demo", "sourceName": "shop"},
        "missingObjects": "delete",
    }
    env = {"OLC_SOURCE_PASSWORD": password, "OLC_DATAGALAXY_TOKEN": VALID_TOKEN}
    first = run_extractor(tmp_path, config, env=env)
    assert first.summary is not None, first.stderr
    assert first.summary.result == "Succeeded", first.summary.warnings
    before = schemas_in_datagalaxy(datagalaxy_simulator)
    assert "ünïcødé" in before

    shop.execute(DB, f'REVOKE USAGE ON SCHEMA "ünïcødé" FROM {role}')
    second = run_extractor(tmp_path, config, env=env)
    assert second.summary is not None, second.stderr
    assert second.summary.result == "PartialSuccess"
    assert any("schema ünïcødé: skipped" in w for w in second.summary.warnings)
    assert any("were not deleted: the extraction skipped some" in w for w in second.summary.warnings)
    assert schemas_in_datagalaxy(datagalaxy_simulator) == before  # reported, never deleted
