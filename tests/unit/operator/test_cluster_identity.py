"""The cluster id in DataGalaxy owner markers: the chart's clusterName, else the kube-system UID."""

from __future__ import annotations

import logging

import pytest

from connector_operator.cluster_identity import resolve_cluster_id as resolve
from connector_operator.settings import Settings


def never() -> str:
    raise AssertionError("the kube-system Namespace must not be read when clusterName is set")


def test_the_configured_cluster_name_wins_and_nothing_is_read() -> None:
    settings = Settings.from_env({"OLC_CLUSTER_NAME": "prod-eu-1"})
    assert resolve(settings, never).cluster_id == "prod-eu-1"


def test_without_a_name_the_kube_system_uid_is_the_cluster_id() -> None:
    settings = Settings.from_env({})
    assert settings.cluster_id is None
    assert resolve(settings, lambda: "9d3c-uid").cluster_id == "9d3c-uid"


def test_an_unreadable_kube_system_falls_back_to_uid_markers_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Forbidden(Exception):
        reason = "Forbidden"

    def refuse() -> str:
        raise Forbidden

    with caplog.at_level(logging.WARNING):
        assert resolve(Settings(), refuse).cluster_id is None
    assert "Forbidden" in caplog.text
    assert "clusterName" in caplog.text


@pytest.mark.parametrize("name", ["a:b", "ns/x", "-lead", "x" * 64, "sp ace"])
def test_a_cluster_name_that_cannot_stand_in_a_marker_is_refused_naming_the_setting(name: str) -> None:
    with pytest.raises(ValueError, match="clusterName"):
        Settings.from_env({"OLC_CLUSTER_NAME": name})
