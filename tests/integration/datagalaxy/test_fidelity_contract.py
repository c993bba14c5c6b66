"""The client speaks DataGalaxy's vocabulary: checked against the strict simulator in both of its modes.

Whether the real service refuses an unknown attribute key (400) or silently drops it is not documented,
so every test here runs with the simulator doing either; what we send must land, readable back, in both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target
from connector_extractors.datagalaxy.bulktree import column_sizes
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import Column, ForeignKey, PrimaryKey, Schema, SourceMetadata, Table
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer
from tests.fixtures.simulator import sample_metadata

from .conftest import make_target

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., DataGalaxyClient]
WRITES = ("POST ", "PUT ", "DELETE ")


@pytest.fixture(params=["refuse", "drop"])
def attribute_mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def strict_simulator(attribute_mode: str, datagalaxy_simulator: SimulatorServer) -> SimulatorServer:
    datagalaxy_simulator.set_limits(unknown_attributes=attribute_mode)
    return datagalaxy_simulator


def _api(sim: SimulatorServer) -> httpx.Client:
    return httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {VALID_TOKEN}"}, timeout=30)


def _create_field_attribute(sim: SimulatorServer, name: str) -> None:
    with _api(sim) as api:
        created = api.post("/attributes/Field", json={"name": name, "format": "Text"})
    assert created.status_code == 201, created.text


def _fields(sim: SimulatorServer, version_id: str, source_id: str) -> dict[str, dict[str, Any]]:
    with _api(sim) as api:
        page = api.get(
            "/fields",
            params={
                "versionId": version_id,
                "parentId": source_id,
                "includeAttributes": "true",
                "limit": 5000,
            },
        ).json()
    return {item["path"]: item["attributes"] for item in page["results"]}


def _writes(sim: SimulatorServer) -> int:
    return sum(n for route, n in sim.stats()["byRoute"].items() if route.startswith(WRITES))


def test_every_column_facet_lands_under_a_real_key(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    _create_field_attribute(strict_simulator, "Technical data type")
    _create_field_attribute(strict_simulator, "Default value")
    _create_field_attribute(strict_simulator, "Allowed values")
    client = client_factory()
    target = make_target(strict_simulator)
    resolved = resolve_target(client, target)
    metadata = sample_metadata()
    mood = Column("mood", 9, "mood", "string", True, enum_values=("sad", "ok", "it's fine, really"))
    metadata.schemas[0].tables[0].columns.append(mood)
    outcome = push_metadata(client, resolved, metadata, target)
    assert outcome.warnings == []
    assert outcome.source_id is not None
    fields = _fields(strict_simulator, resolved.version_id, outcome.source_id)
    columns = [(s, t, c) for s in metadata.schemas for t in s.tables for c in t.columns]
    assert len(fields) == len(columns)
    for schema, table, column in columns:
        read = fields[f"\\shop\\{schema.name}\\{table.name}\\{column.name}"]
        size, precision = column_sizes(column)
        assert read.get("size") == size
        assert read.get("dataTypePrecisionSize") == precision
        assert read["isMandatory"] is (not column.nullable)
        assert read["order"] == column.position
        assert read["technicalComments"] == (column.comment or "")
        assert read["Technical data type"] == column.sql_type
        assert read["Default value"] == (column.default or "")
        labels = read.get("Allowed values")
        assert (json.loads(labels) if labels else None) == (list(column.enum_values or ()) or None)
        assert read["columnDataType"]


def test_without_the_custom_attributes_the_sql_type_is_left_out_without_a_warning(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(strict_simulator)
    resolved = resolve_target(client, target)
    outcome = push_metadata(client, resolved, sample_metadata(), target)
    assert outcome.warnings == []
    assert outcome.source_id is not None
    for attributes in _fields(strict_simulator, resolved.version_id, outcome.source_id).values():
        assert set(attributes) <= {
            "columnDataType",
            "size",
            "dataTypePrecisionSize",
            "isMandatory",
            "order",
            "technicalComments",
        }


def test_the_old_invented_keys_are_refused_or_dropped(
    strict_simulator: SimulatorServer, attribute_mode: str
) -> None:
    column = {"name": "c", "type": "Column", "isNullable": True, "technicalDataType": "int"}
    body = {
        "name": "raw",
        "type": "Relational",
        "children": [
            {"name": "s", "type": "Model", "children": [{"name": "t", "type": "Table", "children": [column]}]}
        ],
    }
    version = strict_simulator.seed.workspaces[0].version_id("1")
    with _api(strict_simulator) as api:
        answer = api.post(f"/sources/bulktree/{version}", json=body)
    if attribute_mode == "refuse":
        assert answer.status_code == 400
        assert "'isNullable'" in answer.json()["error"]["message"]
    else:
        assert answer.status_code == 200
        tree = strict_simulator.version_tree("Demo")
        [source] = tree["sources"]
        assert source["children"][0]["children"][0]["children"][0]["attributes"] == {}


def _keyed_metadata() -> SourceMetadata:
    def cols() -> list[Column]:
        return [
            Column("id", 1, "integer", "integer", False),
            Column("code", 2, "text", "string", False),
            Column("ref_id", 3, "integer", "integer", True),
        ]

    parents = [
        Table(f"parent_{n}", "table", cols(), primary_key=PrimaryKey(f"parent_{n}_pk", ("id",)))
        for n in range(6)
    ]
    bare = Table("bare", "table", cols())
    child = Table(
        "child",
        "table",
        cols(),
        primary_key=PrimaryKey("child_pk", ("id",)),
        foreign_keys=[
            *(ForeignKey(f"fk_{n}", ("ref_id",), "s", f"parent_{n}", ("id",)) for n in range(6)),
            ForeignKey("fk_to_unique", ("code",), "s", "parent_0", ("code",)),
            ForeignKey("fk_to_bare", ("ref_id",), "s", "bare", ("id",)),
        ],
    )
    return SourceMetadata("postgresql", "db", [Schema("s", [*parents, bare, child])])


def test_foreign_keys_to_a_unique_column_or_a_table_without_primary_key_are_skipped_and_named(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(strict_simulator)
    outcome = push_metadata(client, resolve_target(client, target), _keyed_metadata(), target)
    assert len(outcome.warnings) == 2
    assert any("fk_to_unique" in w and "not the primary key" in w for w in outcome.warnings)
    assert any("fk_to_bare" in w and "has no primary key" in w for w in outcome.warnings)
    names = {fk["name"] for fk in strict_simulator.version_tree("Demo")["foreignKeys"]}
    assert names == {f"fk_{n}" for n in range(6)}


def test_one_poisoned_key_row_does_not_cost_the_others(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    strict_simulator.set_faults(refused_keys=["fk_3"])
    client = client_factory()
    target = make_target(strict_simulator)
    outcome = push_metadata(client, resolve_target(client, target), _keyed_metadata(), target)
    names = {fk["name"] for fk in strict_simulator.version_tree("Demo")["foreignKeys"]}
    assert names == {f"fk_{n}" for n in range(6)} - {"fk_3"}
    assert outcome.refused_keys == ["foreign key fk_3 of \\s\\child (to \\s\\parent_3)"]
    assert any("fk_3" in w and "cannot be imported" in w for w in outcome.warnings)


def test_an_unknown_technology_code_is_a_field_named_error_before_anything_is_written(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(strict_simulator).model_copy(update={"technology_code": "postgres"})
    resolved = resolve_target(client, target)
    with pytest.raises(ConnectorError) as caught:
        push_metadata(client, resolved, sample_metadata(), target)
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert "spec.target.technologyCode 'postgres'" in caught.value.message
    assert "'postgresql'" in caught.value.message
    assert _writes(strict_simulator) == 0
    assert strict_simulator.version_tree("Demo")["sources"] == []


def test_technology_code_is_resolved_and_sent_on_the_top_node_only(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(strict_simulator).model_copy(update={"technology_code": "azuresql"})
    push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    [source] = strict_simulator.version_tree("Demo")["sources"]
    assert source["attributes"]["technologyCode"] == "azuresql"
    unknown = SourceMetadata("duckdb", "db", sample_metadata().schemas)
    outcome = push_metadata(
        client, resolve_target(client, target), unknown, make_target(strict_simulator, source="d")
    )
    assert any("no technology for 'duckdb'" in w for w in outcome.warnings)
    source = next(s for s in strict_simulator.version_tree("Demo")["sources"] if s["technicalName"] == "d")
    assert "technologyCode" not in source["attributes"]


def _backslash_metadata(*, both: bool) -> SourceMetadata:
    def table(name: str, pk: str) -> Table:
        columns = [Column("id", 1, "integer", "integer", False)]
        return Table(name, "table", columns, primary_key=PrimaryKey(pk, ("id",)))

    others = [table("other", "other_pk")]
    schemas = [
        Schema("x\\y", [table("z", "one_pk")]),
        Schema("x", [table("y\\z", "two_pk")] if both else others),
    ]
    return SourceMetadata("postgresql", "db", schemas)


def test_backslash_names_never_collide_and_ambiguous_matches_are_never_guessed(
    strict_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(strict_simulator)
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, _backslash_metadata(both=True), target, missing_objects="delete")
    assert first.failed_objects == 0
    tables = [
        t for s in strict_simulator.version_tree("Demo")["sources"][0]["children"] for t in s["children"]
    ]
    assert sorted(t["technicalName"] for t in tables) == ["y\\z", "z"]  # two objects, one path
    assert {t["path"] for t in tables} == {"\\shop\\x\\y\\z"}
    assert any("Primary key of x\\y.z skipped" in w for w in first.warnings)
    assert strict_simulator.version_tree("Demo")["primaryKeys"] == []
    # x."y\\z" goes: which of the two listed objects it was cannot be told from the path: none is deleted.
    second = push_metadata(
        client, resolved, _backslash_metadata(both=False), target, missing_objects="delete"
    )
    assert any("cannot be told" in w for w in second.warnings)
    left = [t for s in strict_simulator.version_tree("Demo")["sources"][0]["children"] for t in s["children"]]
    assert sorted(t["technicalName"] for t in left) == ["other", "y\\z", "z"]
