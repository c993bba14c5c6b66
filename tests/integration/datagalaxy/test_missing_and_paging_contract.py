"""Objects no longer in the source (report, delete, strictly under the target source) and paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target
from connector_extractors.metadata import SourceMetadata
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer
from tests.fixtures.simulator import sample_metadata, wide_metadata

from .conftest import make_target

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., DataGalaxyClient]


def _paths(nodes: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        out.add(node["path"])
        out |= _paths(node["children"])
    return out


def _shrunk() -> SourceMetadata:
    """The sample without schema `audit`, table `sales.shipments` and column `customers.country`."""
    metadata = sample_metadata()
    metadata.schemas = [s for s in metadata.schemas if s.name != "audit"]
    sales = metadata.schemas[0]
    sales.tables = [t for t in sales.tables if t.name != "shipments"]
    customers = next(t for t in sales.tables if t.name == "customers")
    customers.columns = [c for c in customers.columns if c.name != "country"]
    return metadata


GONE = {
    "\\shop\\audit",
    "\\shop\\audit\\events",
    "\\shop\\audit\\events\\id",
    "\\shop\\audit\\events\\payload",
    "\\shop\\sales\\shipments",
    "\\shop\\sales\\shipments\\id",
    "\\shop\\sales\\shipments\\order_id",
    "\\shop\\sales\\shipments\\line_no",
    "\\shop\\sales\\customers\\country",
}


def _push_other_sources(sim: SimulatorServer, client: DataGalaxyClient) -> None:
    """Objects that must never be touched: another source in the same version, the same source elsewhere."""
    other = make_target(sim, source="shop_archive")
    push_metadata(client, resolve_target(client, other), sample_metadata(), other)
    versioned = make_target(sim, "Versioned", "v1")
    push_metadata(client, resolve_target(client, versioned), sample_metadata(), versioned)


def test_missing_objects_are_counted_and_left_alone_by_default(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(client, resolved, sample_metadata(), target)
    outcome = push_metadata(client, resolved, _shrunk(), target)
    assert outcome.counts.missing == len(GONE)
    assert outcome.counts.deleted == 0
    assert any("no longer in the source" in w for w in outcome.warnings)
    assert _paths(datagalaxy_simulator.version_tree("Demo")["sources"]) >= GONE
    assert "DELETE /v2/structures/bulk/{id}" not in datagalaxy_simulator.stats()["byRoute"]


def test_ignore_mode_does_not_even_look(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(client, resolved, sample_metadata(), target, missing_objects="ignore")
    outcome = push_metadata(client, resolved, _shrunk(), target, missing_objects="ignore")
    assert outcome.counts.missing == 0
    assert "GET /v2/fields" not in datagalaxy_simulator.stats()["byRoute"]


def test_delete_mode_removes_exactly_the_missing_objects_under_the_target_source(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    _push_other_sources(datagalaxy_simulator, client)
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(client, resolved, sample_metadata(), target)
    before = {s["technicalName"]: _paths([s]) for s in datagalaxy_simulator.version_tree("Demo")["sources"]}
    versioned_before = _paths(datagalaxy_simulator.version_tree("Versioned", "v1")["sources"])

    outcome = push_metadata(client, resolved, _shrunk(), target, missing_objects="delete")

    assert outcome.counts.missing == len(GONE)
    assert outcome.counts.deleted == len(GONE)
    assert outcome.keys["missing"] == 0  # the keys of deleted tables went with them
    after = {s["technicalName"]: _paths([s]) for s in datagalaxy_simulator.version_tree("Demo")["sources"]}
    assert after["shop"] == before["shop"] - GONE
    assert after["shop_archive"] == before["shop_archive"]
    assert _paths(datagalaxy_simulator.version_tree("Versioned", "v1")["sources"]) == versioned_before
    tree = datagalaxy_simulator.version_tree("Demo")
    assert not [
        fk
        for fk in tree["foreignKeys"]
        if fk["name"] == "shipments_line_fk" and fk["table_path"].startswith("\\shop\\")
    ]
    routes = datagalaxy_simulator.stats()["byRoute"]
    assert routes["DELETE /v2/containers/bulk/{id}"] == 1  # the schema, its children went with it
    assert routes["DELETE /v2/structures/bulk/{id}"] == 1
    assert routes["DELETE /v2/fields/bulk/{id}"] == 1

    again = push_metadata(client, resolved, _shrunk(), target, missing_objects="delete")
    assert (again.counts.missing, again.counts.deleted, again.counts.created) == (0, 0, 0)


def _without_two_keys() -> SourceMetadata:
    metadata = sample_metadata()
    sales = metadata.schemas[1]
    next(t for t in sales.tables if t.name == "orders").foreign_keys = []
    next(t for t in sales.tables if t.name == "customers").primary_key = None
    return metadata


def test_keys_dropped_at_the_source_are_reported_then_deleted(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    _push_other_sources(datagalaxy_simulator, client)
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(client, resolved, sample_metadata(), target)

    def shop_keys() -> tuple[set[str], set[str]]:
        tree = datagalaxy_simulator.version_tree("Demo")
        return (
            {pk["name"] for pk in tree["primaryKeys"] if pk["table_path"].startswith("\\shop\\")},
            {fk["name"] for fk in tree["foreignKeys"] if fk["table_path"].startswith("\\shop\\")},
        )

    pks, fks = shop_keys()
    reported = push_metadata(client, resolved, _without_two_keys(), target)
    assert reported.keys["missing"] == 2
    assert reported.keys["deleted"] == 0
    assert any("dropped at the source" in w for w in reported.warnings)
    assert shop_keys() == (pks, fks)

    deleted = push_metadata(client, resolved, _without_two_keys(), target, missing_objects="delete")
    assert (deleted.keys["missing"], deleted.keys["deleted"]) == (2, 2)
    assert shop_keys() == (pks - {"customers_pkey"}, fks - {"orders_customer_fk"})
    archive = datagalaxy_simulator.version_tree("Demo")["foreignKeys"]
    assert any(fk["name"] == "orders_customer_fk" for fk in archive)  # the other source keeps its keys
    again = push_metadata(client, resolved, _without_two_keys(), target, missing_objects="delete")
    assert (again.keys["missing"], again.keys["deleted"]) == (0, 0)


def test_a_table_that_became_a_view_is_replaced(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(client, resolved, sample_metadata(), target)
    changed = sample_metadata()
    events = changed.schemas[0].tables[0]
    events.kind = "view"
    outcome = push_metadata(client, resolved, changed, target, missing_objects="delete")
    assert outcome.counts.created == 3  # the view and its two columns
    assert outcome.counts.deleted == 3  # the table and its two columns
    [source] = datagalaxy_simulator.version_tree("Demo")["sources"]
    audit = source["children"][0]
    assert [(t["type"], len(t["children"])) for t in audit["children"]] == [("View", 2)]


def test_lists_follow_next_page(datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    push_metadata(
        client, resolved, wide_metadata(tables=3, columns_per_table=7), target, missing_objects="ignore"
    )
    fields = list(client.iter_pages("/fields", {"versionId": resolved.version_id, "limit": 4}))
    assert len(fields) == 21
    assert len({f["id"] for f in fields}) == 21
    assert datagalaxy_simulator.stats()["byRoute"]["GET /v2/fields"] == 6


def test_versions_are_paged_too(datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory) -> None:
    client = client_factory()
    workspace = datagalaxy_simulator.seed.workspaces[1]
    versions = list(client.iter_pages(f"/workspaces/{workspace.id}/versions", {"limit": 1}))
    assert [v["versionName"] for v in versions] == ["v1", "v2"]


def test_the_simulator_validates_paging_parameters(datagalaxy_simulator: SimulatorServer) -> None:
    headers = {"Authorization": f"Bearer {VALID_TOKEN}"}
    version = datagalaxy_simulator.seed.workspaces[0].version_id("1")
    for params in ({"limit": "0"}, {"limit": "5001"}, {"page": "0"}, {"includeAttributes": "yes"}):
        response = httpx.get(
            f"{datagalaxy_simulator.url}/fields", params={"versionId": version, **params}, headers=headers
        )
        assert response.status_code == 400
        assert set(response.json()["error"]) == {"message", "status"}


def test_a_source_this_run_created_is_not_listed_back(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    """Nothing under a new source can be missing from the extraction: no listing, no key reads."""
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    first = push_metadata(client, resolved, sample_metadata(), target, missing_objects="delete")
    routes = datagalaxy_simulator.stats()["byRoute"]
    listed = [
        r for r in routes if r.startswith(("GET /v2/containers", "GET /v2/structures", "GET /v2/fields"))
    ]
    assert listed == []
    assert "GET /v2/sources/{id}/{id}/primaryKeys" not in routes
    assert (first.counts.missing, first.counts.deleted, first.keys["missing"]) == (0, 0, 0)
    assert first.counts.created == len(_paths(datagalaxy_simulator.version_tree("Demo")["sources"]))

    again = push_metadata(client, resolved, _shrunk(), target)  # the source exists now: compared
    assert again.counts.missing == len(GONE)
    routes = datagalaxy_simulator.stats()["byRoute"]
    assert routes["GET /v2/fields"] >= 1
    assert routes["GET /v2/sources/{id}/{id}/primaryKeys"] == 1  # the name the first push never used
