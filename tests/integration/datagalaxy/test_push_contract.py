"""The client against the simulator: target resolution, the pushed tree, keys, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target
from connector_extractors.datagalaxy.bulktree import BatchLimits
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import Schema, SourceMetadata
from connector_testbed.simulator import SimulatorServer
from tests.fixtures.simulator import sample_metadata, wide_metadata

from .conftest import make_target

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., DataGalaxyClient]


def _find(node: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        node = next(c for c in node["children"] if c["technicalName"] == name)
    return node


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(n["children"]) for n in nodes)


def test_resolves_the_default_version_of_an_unversioned_workspace(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    resolved = resolve_target(client_factory(), make_target(datagalaxy_simulator, "Demo"))
    demo = datagalaxy_simulator.seed.workspaces[0]
    assert (resolved.workspace_id, resolved.version_id) == (demo.id, demo.version_id("1"))
    assert resolved.warnings == ()


def test_a_version_named_for_an_unversioned_workspace_is_ignored_with_a_warning(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    resolved = resolve_target(client_factory(), make_target(datagalaxy_simulator, "Demo", "v9"))
    assert resolved.version_name == "1"
    assert "ignored" in resolved.warnings[0]


def test_resolves_a_named_version_of_a_versioned_workspace(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    resolved = resolve_target(client_factory(), make_target(datagalaxy_simulator, "Versioned", "v2"))
    assert resolved.version_id == datagalaxy_simulator.seed.workspaces[1].version_id("v2")


@pytest.mark.parametrize(
    ("workspace", "version", "category"),
    [
        ("Nope", None, ErrorCategory.WORKSPACE_NOT_FOUND),
        ("demo", None, ErrorCategory.WORKSPACE_NOT_FOUND),
        ("Versioned", "v3", ErrorCategory.VERSION_NOT_FOUND),
        ("Versioned", None, ErrorCategory.VERSION_NOT_FOUND),
    ],
)
def test_unknown_workspaces_and_versions_are_categorised(
    datagalaxy_simulator: SimulatorServer,
    client_factory: ClientFactory,
    workspace: str,
    version: str | None,
    category: ErrorCategory,
) -> None:
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client_factory(), make_target(datagalaxy_simulator, workspace, version))
    assert caught.value.category is category
    if category is ErrorCategory.VERSION_NOT_FOUND:
        assert "'v1', 'v2'" in caught.value.message


def test_pushes_the_whole_tree_with_attributes(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    metadata = sample_metadata()
    outcome = push_metadata(client, resolve_target(client, target), metadata, target)
    counts = metadata.counts()
    expected_objects = 1 + counts["schemas"] + counts["tables"] + counts["views"] + counts["columns"]
    assert outcome.counts.created == expected_objects
    assert (outcome.counts.updated, outcome.counts.missing, outcome.failed_objects) == (0, 0, 0)
    assert not outcome.unchanged
    tree = datagalaxy_simulator.version_tree("Demo")
    [source] = tree["sources"]
    assert (source["type"], source["technicalName"]) == ("Relational", "shop")
    assert source["attributes"]["technologyCode"] == "postgresql"
    assert _count([source]) == expected_objects
    assert _find(source, "sales", "big_orders")["type"] == "View"
    assert _find(source, "sales", "customers")["attributes"]["technicalComments"] == "People who buy"
    email = _find(source, "sales", "customers", "email")
    assert email["type"] == "Column"
    assert email["attributes"] == {
        "columnDataType": "VariableString",
        "size": 255,
        "isMandatory": False,
        "order": 2,
        "technicalComments": "Login",
    }
    total = _find(source, "sales", "orders", "total")["attributes"]
    assert (total["columnDataType"], total["size"], total["dataTypePrecisionSize"]) == ("Decimal", 12, 2)
    assert _find(source, "sales", "customers", "country")["attributes"]["columnDataType"] == "FixedString"


def test_pushes_primary_and_foreign_keys_including_composite_ones(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    outcome = push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    tree = datagalaxy_simulator.version_tree("Demo")
    pks = {(pk["table_path"], pk["column_name"], pk["pk_order"], pk["name"]) for pk in tree["primaryKeys"]}
    assert ("\\shop\\sales\\order_lines", "line_no", 2, "pk_order_lines") in pks
    assert len(pks) == 5
    fks = {(fk["name"], fk["column_name"], fk["referred_column_name"]) for fk in tree["foreignKeys"]}
    assert fks == {
        ("orders_customer_fk", "customer_id", "id"),
        ("lines_order_fk", "order_id", "id"),
        ("shipments_line_fk", "order_id", "order_id"),
        ("shipments_line_fk", "line_no", "line_no"),
    }
    assert outcome.keys["created"] == 4 + 3
    assert outcome.warnings == []


def test_rejected_composite_foreign_keys_are_reported_and_the_rest_is_written(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(composite_foreign_keys=False)
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    outcome = push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    fks = {fk["name"] for fk in datagalaxy_simulator.version_tree("Demo")["foreignKeys"]}
    assert fks == {"orders_customer_fk", "lines_order_fk"}
    [warning] = outcome.warnings
    assert "composite foreign keys" in warning
    assert "not supported" in warning


def test_pushing_the_same_metadata_twice_writes_nothing_the_second_time(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, sample_metadata(), target)
    before = datagalaxy_simulator.stats()["byRoute"]
    second = push_metadata(
        client, resolved, sample_metadata(), target, previous_content_hash=first.content_hash
    )
    after = datagalaxy_simulator.stats()["byRoute"]
    assert second.unchanged
    assert second.content_hash == first.content_hash
    sent = {r: after[r] - before.get(r, 0) for r in after if after[r] != before.get(r)}
    assert sent == {
        "GET /v2/technologies": 1,  # what the target accepts
        "GET /v2/attributes": 1,
        "GET /v2/sources": 1,  # the owner marker
        "GET /v2/containers": 1,  # the target still holds its schemas and columns
        "GET /v2/fields": 1,
    }  # and no write


def test_without_a_previous_hash_a_second_push_only_reports_unchanged_objects(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, sample_metadata(), target)
    second = push_metadata(client, resolved, sample_metadata(), target)
    assert (second.counts.created, second.counts.updated) == (0, 0)
    assert second.counts.unchanged == first.counts.created
    assert second.keys["unchanged"] == first.keys["created"]


def test_a_changed_model_changes_the_hash_and_updates_in_place(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, sample_metadata(), target)
    changed = sample_metadata()
    table = changed.schemas[1].tables[0]  # sales.big_orders (schemas sorted: audit, sales)
    table.comment = "Orders over 2000"
    second = push_metadata(client, resolved, changed, target, previous_content_hash=first.content_hash)
    assert second.content_hash != first.content_hash
    assert (second.counts.created, second.counts.updated) == (0, 1)
    assert (
        _find(datagalaxy_simulator.version_tree("Demo")["sources"][0], "sales", "big_orders")["attributes"][
            "technicalComments"
        ]
        == "Orders over 2000"
    )


def test_the_hash_depends_on_the_target(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = make_target(datagalaxy_simulator, source="shop")
    b = make_target(datagalaxy_simulator, source="shop2")
    resolved = resolve_target(client, a)
    first = push_metadata(client, resolved, sample_metadata(), a)
    second = push_metadata(client, resolved, sample_metadata(), b, previous_content_hash=first.content_hash)
    assert not second.unchanged
    assert second.counts.created == first.counts.created


def test_batches_stay_within_limits_and_rebuild_the_same_tree(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(max_entities=100, max_bytes=20_000)
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    metadata = wide_metadata(tables=30, columns_per_table=12, schemas=2)
    outcome = push_metadata(
        client,
        resolve_target(client, target),
        metadata,
        target,
        batch_limits=BatchLimits(max_entities=100, max_bytes=20_000),
    )
    expected = 1 + 2 + 60 + 60 * 12
    assert outcome.counts.created == expected
    assert outcome.counts.unchanged == 0
    assert datagalaxy_simulator.stats()["byRoute"]["POST /v2/sources/bulktree/{id}"] >= 9
    assert _count(datagalaxy_simulator.version_tree("Demo")["sources"]) == expected


def test_a_source_without_schemas_is_created_with_the_single_source_route(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    empty = SourceMetadata(technology="postgresql", database="empty", schemas=[])
    outcome = push_metadata(client, resolve_target(client, target), empty, target)
    assert outcome.counts.created == 1
    assert [s["technicalName"] for s in datagalaxy_simulator.version_tree("Demo")["sources"]] == ["shop"]
    again = push_metadata(client, resolve_target(client, target), empty, target)
    assert (again.counts.created, again.counts.unchanged) == (0, 1)


def test_an_empty_schema_is_pushed_as_a_model(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    metadata = SourceMetadata(technology="postgresql", database="x", schemas=[Schema("empty", [])])
    push_metadata(client, resolve_target(client, target), metadata, target)
    [source] = datagalaxy_simulator.version_tree("Demo")["sources"]
    assert [(c["type"], c["technicalName"]) for c in source["children"]] == [("Model", "empty")]


def test_pushes_into_the_named_version_only(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator, "Versioned", "v2")
    push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    assert datagalaxy_simulator.version_tree("Versioned", "v2")["sources"]
    assert not datagalaxy_simulator.version_tree("Versioned", "v1")["sources"]


def test_non_ascii_and_awkward_names_round_trip(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    from connector_extractors.metadata import Column, ForeignKey, PrimaryKey, Table

    customers = Table(
        "客户 table",
        "table",
        [Column("名前", 1, "text", "string", False), Column("id", 2, "int", "integer", False)],
        primary_key=PrimaryKey(None, ("id",)),
    )
    orders = Table(
        'orders "quoted"',
        "table",
        [Column("customer id", 1, "int", "integer", True)],
        foreign_keys=[ForeignKey(None, ("customer id",), "données", "客户 table", ("id",))],
    )
    metadata = SourceMetadata("postgresql", "db", [Schema("données", [customers, orders])])
    client = client_factory()
    target = make_target(datagalaxy_simulator, source="Entrepôt")
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, metadata, target, missing_objects="delete")
    assert first.counts.created == 1 + 1 + 2 + 3
    assert first.warnings == []
    again = push_metadata(client, resolved, metadata, target, missing_objects="delete")
    assert (again.counts.created, again.counts.missing, again.keys["missing"]) == (0, 0, 0)
    tree = datagalaxy_simulator.version_tree("Demo")
    assert _find(tree["sources"][0], "données", "客户 table", "名前")["type"] == "Column"
    assert [fk["name"] for fk in tree["foreignKeys"]] == ['fk_orders "quoted"_customer id']
