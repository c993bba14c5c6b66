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

ME = Owner("team/shop", cluster="c-1", uid="0b5a-uid")
OLD_FORM = "online-connector:0b5a-uid:team/shop"  # written by the previous version


def source(external_id: str | None) -> TargetSource:
    return TargetSource("id", "\\shop", external_id)


def test_the_marker_names_the_cluster_and_the_connection_and_round_trips() -> None:
    assert ME.marker == "online-connector:cluster=c-1:team/shop"
    assert parse_marker(ME.marker) == Owner("team/shop", cluster="c-1")
    assert parse_marker("crm-42") is None
    assert parse_marker("online-connector:") is None
    assert parse_marker("online-connector:cluster=:team/shop") is None


def test_the_previous_uid_form_still_parses() -> None:
    assert parse_marker(OLD_FORM) == Owner("team/shop", uid="0b5a-uid")
    # without a cluster id (it could not be read), the marker keeps the previous form
    assert Owner("team/shop", uid="0b5a-uid").marker == OLD_FORM


def test_the_owner_comes_from_the_target_configuration() -> None:
    base = {"apiUrl": "https://x", "workspace": "W", "sourceName": "S"}
    assert owner_of(TargetConfig.model_validate(base)) is None
    configured = TargetConfig.model_validate(
        {**base, "ownerCluster": "c-1", "ownerConnection": "ns/c", "ownerUid": "u1"}
    )
    assert owner_of(configured) == Owner("ns/c", cluster="c-1", uid="u1")
    only_uid = TargetConfig.model_validate({**base, "ownerUid": "u1", "ownerConnection": "ns/c"})
    assert owner_of(only_uid) == Owner("ns/c", uid="u1")


@pytest.mark.parametrize(
    "found",
    [
        None,
        source(None),
        source(ME.marker),
        source(OLD_FORM),  # the previous version's marker, same UID: an upgrade
    ],
)
def test_who_may_write(found: TargetSource | None) -> None:
    check_owner(found, ME, "shop")


def test_a_re_created_connection_may_write_but_not_through_an_old_uid_marker() -> None:
    recreated = Owner("team/shop", cluster="c-1", uid="new-uid")  # same cluster and name, new UID
    check_owner(source(ME.marker), recreated, "shop")
    with pytest.raises(DataGalaxyError, match="belongs to connection team/shop \\(uid 0b5a-uid\\)"):
        check_owner(source(OLD_FORM), recreated, "shop")


@pytest.mark.parametrize(
    ("found", "me", "words"),
    [
        (
            source("online-connector:cluster=c-1:elsewhere/b"),
            ME,
            "belongs to connection elsewhere/b in cluster c-1",
        ),
        (
            source("online-connector:cluster=c-2:team/shop"),
            ME,
            "belongs to connection team/shop in cluster c-2 (this run: team/shop in cluster c-1)",
        ),
        (
            source("online-connector:other-uid:team/shop"),
            ME,
            "belongs to connection team/shop (uid other-uid)",
        ),
        (source(ME.marker), None, "belongs to connection team/shop in cluster c-1"),
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
