"""The owner marker on a DataGalaxy source: its format and who may write (pure, no server)."""

from __future__ import annotations

import pytest

from connector_extractors.datagalaxy.errors import DataGalaxyError
from connector_extractors.datagalaxy.ownership import (
    Owner,
    TargetSource,
    check_owner,
    owner_of,
    parse_marker,
    with_marker,
)
from connector_extractors.run_config import TargetConfig

ME = Owner("0b5a-uid", "team/shop")


def source(external_id: str | None) -> TargetSource:
    return TargetSource("id", "\\shop", external_id)


def test_the_marker_round_trips() -> None:
    assert ME.marker == "online-connector:0b5a-uid:team/shop"
    assert parse_marker(ME.marker) == ME
    assert parse_marker("crm-42") is None
    assert parse_marker("online-connector:") is None


def test_the_owner_comes_from_the_target_configuration() -> None:
    base = {"apiUrl": "https://x", "workspace": "W", "sourceName": "S"}
    assert owner_of(TargetConfig.model_validate(base)) is None
    configured = TargetConfig.model_validate({**base, "ownerUid": "u1", "ownerConnection": "ns/c"})
    assert owner_of(configured) == Owner("u1", "ns/c")


@pytest.mark.parametrize("found", [None, source(None), source(ME.marker)])
def test_who_may_write(found: TargetSource | None) -> None:
    check_owner(found, ME, "shop")


@pytest.mark.parametrize(
    ("found", "me", "words"),
    [
        (source("online-connector:other-uid:elsewhere/b"), ME, "belongs to connection elsewhere/b"),
        (source(ME.marker), None, "belongs to connection team/shop"),
        (source("crm-42"), ME, "not an Online Connector marker"),
    ],
)
def test_who_may_not(found: TargetSource, me: Owner | None, words: str) -> None:
    with pytest.raises(DataGalaxyError) as refused:
        check_owner(found, me, "shop")
    assert words in refused.value.message
    assert "target.sourceName" in (refused.value.hint or "")


def test_the_marker_is_added_to_the_source_node_only_for_an_owner() -> None:
    node = {"name": "shop", "type": "Relational"}
    assert with_marker(node, None) is node
    assert with_marker(node, ME) == {**node, "externalId": ME.marker}
