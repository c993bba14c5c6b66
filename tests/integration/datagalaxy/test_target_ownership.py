"""One target source belongs to one connection, in DataGalaxy itself (the simulator over HTTP):
the owner marker on the source, refusals that write nothing, and the verified unchanged-content skip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, ResolvedTarget, push_metadata, resolve_target
from connector_extractors.datagalaxy.ownership import MARKER_PREFIX
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import Schema, SourceMetadata
from connector_extractors.push import resolve_only
from connector_extractors.run_config import RunConfig, SourceConfig, TargetConfig
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer
from tests.fixtures.simulator import sample_metadata

from .conftest import make_target

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., DataGalaxyClient]


CLUSTER = "c-1"


def owned_by(sim: SimulatorServer, uid: str, connection: str, cluster: str | None = CLUSTER) -> TargetConfig:
    return make_target(sim).model_copy(
        update={"owner_cluster": cluster, "owner_uid": uid, "owner_connection": connection}
    )


def marker_of_a() -> str:
    return f"{MARKER_PREFIX}cluster={CLUSTER}:team/a"


def source_node(sim: SimulatorServer) -> dict[str, Any]:
    demo = next(v for v in sim.tree() if v["workspace"] == "Demo")
    return next(s for s in demo["sources"] if s["technicalName"] == "shop")


def object_count(node: dict[str, Any]) -> int:
    return sum(1 + object_count(child) for child in node["children"])


def writes(sim: SimulatorServer) -> int:
    return sum(n for route, n in sim.stats()["byRoute"].items() if not route.startswith("GET "))


def created_by_hand(client: DataGalaxyClient, sim: SimulatorServer, **attributes: str) -> ResolvedTarget:
    """Source "shop" made by someone else (`POST /sources`), empty, with these attributes."""
    resolved = resolve_target(client, make_target(sim))
    body = {"name": "shop", "technicalName": "shop", "type": "Relational", **attributes}
    client.send_json("POST", f"/sources/{resolved.version_id}", body)
    return resolved


def only_the_audit_schema() -> SourceMetadata:
    metadata = sample_metadata()
    return SourceMetadata(
        metadata.technology, metadata.database, [Schema("audit", metadata.schemas[0].tables)]
    )


def test_the_first_push_marks_the_source_with_its_owner(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    marker = source_node(datagalaxy_simulator)["attributes"]["externalId"]
    assert marker == f"{MARKER_PREFIX}cluster={CLUSTER}:team/a"


def test_a_re_created_connection_pushes_again_into_its_own_source(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    """Deleted and re-created under the same name (Argo CD, `kubectl delete -f && apply -f`): a new UID,
    the same cluster and namespace/name, so the same owner."""
    client = client_factory()
    before = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, before), sample_metadata(), before)
    again = owned_by(datagalaxy_simulator, "uid-a2", "team/a")
    outcome = push_metadata(
        client, resolve_target(client, again), only_the_audit_schema(), again, missing_objects="delete"
    )
    assert outcome.counts.deleted > 0  # it may even delete in its own source
    assert [m["technicalName"] for m in source_node(datagalaxy_simulator)["children"]] == ["audit"]
    assert source_node(datagalaxy_simulator)["attributes"]["externalId"] == marker_of_a()


def test_the_same_connection_name_in_another_cluster_is_refused(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, a), sample_metadata(), a, missing_objects="delete")
    writes_before = writes(datagalaxy_simulator)
    elsewhere = owned_by(datagalaxy_simulator, "uid-z", "team/a", cluster="c-2")
    with pytest.raises(ConnectorError) as refused:
        push_metadata(
            client,
            resolve_target(client, elsewhere),
            only_the_audit_schema(),
            elsewhere,
            missing_objects="delete",
        )
    assert refused.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert "belongs to connection team/a in cluster c-1 (this run: team/a in cluster c-2)" in (
        refused.value.message
    )
    assert writes(datagalaxy_simulator) == writes_before


def test_a_marker_of_the_previous_version_is_taken_over_only_by_its_uid(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    """Upgrade: the source carries `online-connector:<uid>:<ns>/<name>`; the same connection (same UID)
    keeps it and the marker is rewritten in the new form; a re-created one (new UID) is refused."""
    client = client_factory()
    old = owned_by(datagalaxy_simulator, "uid-a", "team/a", cluster=None)
    push_metadata(client, resolve_target(client, old), sample_metadata(), old)
    assert source_node(datagalaxy_simulator)["attributes"]["externalId"] == f"{MARKER_PREFIX}uid-a:team/a"

    recreated = owned_by(datagalaxy_simulator, "uid-a2", "team/a")
    with pytest.raises(ConnectorError, match=r"belongs to connection team/a \(uid uid-a\)"):
        push_metadata(client, resolve_target(client, recreated), sample_metadata(), recreated)

    upgraded = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, upgraded), sample_metadata(), upgraded)
    assert source_node(datagalaxy_simulator)["attributes"]["externalId"] == marker_of_a()
    push_metadata(client, resolve_target(client, recreated), sample_metadata(), recreated)  # now it may


def test_another_connection_can_neither_write_nor_delete_in_an_owned_source(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, a), sample_metadata(), a, missing_objects="delete")
    before = object_count(source_node(datagalaxy_simulator))
    writes_before = writes(datagalaxy_simulator)

    b = owned_by(datagalaxy_simulator, "uid-b", "other/b")
    with pytest.raises(ConnectorError) as refused:
        push_metadata(client, resolve_target(client, b), only_the_audit_schema(), b, missing_objects="delete")
    assert refused.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert "belongs to connection team/a" in refused.value.message
    assert "nothing was written" in refused.value.message
    assert writes(datagalaxy_simulator) == writes_before  # not one write, let alone a delete
    assert object_count(source_node(datagalaxy_simulator)) == before


def test_a_run_that_names_no_owner_cannot_write_into_an_owned_source(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, a), sample_metadata(), a)
    anonymous = make_target(datagalaxy_simulator)
    with pytest.raises(ConnectorError, match="belongs to connection team/a"):
        push_metadata(client, resolve_target(client, anonymous), sample_metadata(), anonymous)


def test_a_source_whose_external_id_is_not_a_marker_is_left_alone(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    resolved = created_by_hand(client, datagalaxy_simulator, externalId="crm-42")
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    writes_before = writes(datagalaxy_simulator)
    with pytest.raises(ConnectorError, match="externalId 'crm-42', which is not an Online Connector marker"):
        push_metadata(client, resolved, sample_metadata(), a)
    assert writes(datagalaxy_simulator) == writes_before


def test_an_unmarked_existing_source_is_claimed(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    resolved = created_by_hand(client, datagalaxy_simulator)
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolved, sample_metadata(), a)
    assert (
        source_node(datagalaxy_simulator)["attributes"]["externalId"]
        == f"{MARKER_PREFIX}cluster={CLUSTER}:team/a"
    )


def test_the_owner_pushes_again_when_objects_were_deleted_behind_its_back(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    resolved = resolve_target(client, a)
    first = push_metadata(client, resolved, sample_metadata(), a)
    full = object_count(source_node(datagalaxy_simulator))
    orders = next(
        t
        for m in source_node(datagalaxy_simulator)["children"]
        for t in m["children"]
        if t["technicalName"] == "orders"
    )
    client.send_json("DELETE", f"/structures/bulk/{resolved.version_id}", [orders["id"]])
    assert object_count(source_node(datagalaxy_simulator)) == full - 4  # the table and its 3 columns

    second = push_metadata(client, resolved, sample_metadata(), a, previous_content_hash=first.content_hash)
    assert not second.unchanged
    assert second.counts.created == 4
    assert object_count(source_node(datagalaxy_simulator)) == full

    third = push_metadata(client, resolved, sample_metadata(), a, previous_content_hash=second.content_hash)
    assert third.unchanged  # the target holds everything again: the cheap check lets the skip happen


def test_a_deleted_schema_is_noticed_too(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    resolved = resolve_target(client, a)
    first = push_metadata(client, resolved, sample_metadata(), a)
    audit = next(m for m in source_node(datagalaxy_simulator)["children"] if m["technicalName"] == "audit")
    client.send_json("DELETE", f"/containers/bulk/{resolved.version_id}", [audit["id"]])
    again = push_metadata(client, resolved, sample_metadata(), a, previous_content_hash=first.content_hash)
    assert not again.unchanged
    assert any(m["technicalName"] == "audit" for m in source_node(datagalaxy_simulator)["children"])


def test_the_connection_test_reports_a_source_owned_by_another_connection(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    a = owned_by(datagalaxy_simulator, "uid-a", "team/a")
    push_metadata(client, resolve_target(client, a), sample_metadata(), a)
    writes_before = writes(datagalaxy_simulator)
    b = owned_by(datagalaxy_simulator, "uid-b", "other/b")
    config = RunConfig(source=SourceConfig(technology="sqlite", path="/x.db"), target=b, mode="check")
    with pytest.raises(ConnectorError, match="belongs to connection team/a"):
        resolve_only(config, VALID_TOKEN)
    assert "version" in resolve_only(RunConfig(source=config.source, target=a, mode="check"), VALID_TOKEN)
    assert writes(datagalaxy_simulator) == writes_before
