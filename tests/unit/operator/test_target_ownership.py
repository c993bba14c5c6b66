"""One DataGalaxy target source belongs to one connection: the rule, then the reconcile on a fake cluster."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from connector_operator import conditions
from connector_operator.job_builder import Connection, pod_template
from connector_operator.models import OnlineConnectionSpec
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.run_config_render import render, render_json
from connector_operator.secrets_check import SecretInfo
from connector_operator.settings import Settings
from connector_operator.target_ownership import (
    Claim,
    TargetClaims,
    conflict,
    index_entry,
    normalised_url,
    owner,
    ownership_key,
)
from tests.support.manifests import connection_spec
from tests.unit.operator.fake_kube import FakeKube


def target(**overrides: Any) -> dict[str, Any]:
    target: dict[str, Any] = connection_spec(target=overrides)["target"]
    return target


def body(name: str, created: str, namespace: str = "team", **target_overrides: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}",
                     "creationTimestamp": created},
        "spec": {"target": target(**target_overrides)},
    }  # fmt: skip


def test_the_identity_is_url_workspace_version_and_source() -> None:
    base = ownership_key({"target": target()})
    assert base is not None
    assert ownership_key({"target": target(apiUrl="HTTPS://API.DataGalaxy.com/v2/")}) == base
    assert ownership_key({"target": target(sourceName="Other")}) != base
    assert ownership_key({"target": target(workspace="HR")}) != base
    assert ownership_key({"target": target(version="2")}) != base
    assert ownership_key({"target": target(apiUrl="https://eu.datagalaxy.com/v2")}) != base
    assert ownership_key({"target": {"workspace": "Sales"}}) is None  # incomplete: claims nothing
    assert ownership_key({}) is None
    assert normalised_url("https://Host:8443/v2//") == "https://host:8443/v2"


def test_the_oldest_owns_then_namespace_then_name() -> None:
    a = Claim("2026-11-25T10:00:00Z", "team", "b", "1")
    b = Claim("2026-11-25T10:00:00Z", "team", "a", "2")
    c = Claim("2026-11-25T09:00:00Z", "zzz", "z", "3")
    assert owner([a, b, c]) == c
    assert owner([a, b]) == b
    assert owner([]) is None


def test_the_later_connection_is_told_which_one_owns_the_target() -> None:
    first, second = body("first", "2026-11-25T10:00:00Z"), body("second", "2026-11-25T11:00:00Z", "other")
    claims = [*index_entry(first).values(), *index_entry(second).values()]
    assert conflict(first, claims) is None
    message = conflict(second, claims)
    assert message is not None
    assert message.startswith("spec.target: DataGalaxy source 'Sales DB' in workspace 'Sales'")
    assert "connection team/first" in message


class Cluster:
    """A fake cluster with a kopf-like index of claims, and the operator state on it."""

    def __init__(self) -> None:
        self.kube = FakeKube()
        self.state = OperatorState(settings=Settings(metrics_port=-1), kube_factory=lambda: self.kube)
        self.index: dict[str, list[Claim]] = defaultdict(list)
        self.state.targets.attach(self.index)

    def reindex(self) -> None:
        self.index.clear()
        for connection in self.kube.of_kind("connection"):
            for key, claim in index_entry(connection).items():
                self.index[key].append(claim)

    def add(self, name: str, namespace: str = "team", **target_overrides: Any) -> None:
        spec = connection_spec(target=target_overrides)
        self.kube.add("connection", {"metadata": {"name": name, "namespace": namespace}, "spec": spec})
        self.reindex()
        self.reconcile(name, namespace)

    def reconcile(self, name: str, namespace: str = "team") -> None:
        found = self.kube.get("connection", namespace, name)
        assert found is not None
        reconcile(self.state, found, lookup)

    def ready(self, name: str, namespace: str = "team") -> dict[str, Any]:
        found = self.kube.get("connection", namespace, name)
        assert found is not None
        return next(c for c in found["status"]["conditions"] if c["type"] == conditions.ConditionType.READY)


def lookup(name: str) -> SecretInfo | None:
    return {"db": SecretInfo(frozenset({"password"})), "dg": SecretInfo(frozenset({"token"}))}.get(name)


def test_a_second_connection_on_the_same_target_is_not_ready() -> None:
    cluster = Cluster()
    cluster.add("first")
    cluster.add("second", namespace="elsewhere")
    assert cluster.ready("first")["status"] == "True"
    second = cluster.ready("second", "elsewhere")
    assert (second["status"], second["reason"]) == ("False", conditions.Reason.TARGET_IN_USE)
    assert "team/first" in second["message"]
    cluster.reconcile("first")  # reconciling the owner again changes nothing
    assert cluster.ready("first")["status"] == "True"


def test_when_the_owner_leaves_the_next_one_owns_the_target() -> None:
    cluster = Cluster()
    cluster.add("first")
    cluster.add("second")
    cluster.kube.edit("connection", "team", "first", {"spec": {"target": {"sourceName": "Elsewhere"}}})
    cluster.reindex()
    cluster.reconcile("first")
    waiting = cluster.state.targets.take_left()
    assert [c.name for c in waiting] == ["second"]
    assert cluster.state.targets.take_left() == []  # each once
    for claim in waiting:
        cluster.reconcile(claim.name, claim.namespace)
    assert cluster.ready("second")["status"] == "True"
    assert cluster.ready("first")["status"] == "True"


def test_a_deleted_owner_hands_the_target_to_the_next() -> None:
    claims = TargetClaims()
    first, second = body("first", "2026-11-25T10:00:00Z"), body("second", "2026-11-25T11:00:00Z")
    index = {k: [c] for k, c in index_entry(first).items()}
    for key, claim in index_entry(second).items():
        index[key].append(claim)
    claims.attach(index)
    assert claims.check(second) is not None
    waiting = claims.departed(first)  # the index may still hold the deleted connection's claim
    assert [c.name for c in waiting] == ["second"]
    assert claims.check(second) is None


def test_the_run_configuration_names_the_owner_for_the_marker() -> None:
    spec = OnlineConnectionSpec.model_validate(connection_spec())
    config = render(spec, namespace="team", name="shop", uid="uid-1", cluster_id="c-1")
    assert config.target is not None
    assert (config.target.owner_cluster, config.target.owner_connection, config.target.owner_uid) == (
        "c-1",
        "team/shop",
        "uid-1",
    )
    anonymous = render(spec, namespace="team", name="shop")
    assert anonymous.target is not None
    assert anonymous.target.owner_uid is None
    assert '"ownerUid"' not in render_json(anonymous)
    assert '"ownerCluster"' not in render_json(anonymous)
    pod = pod_template(
        Connection(name="shop", namespace="team", uid="uid-7"),
        spec,
        Settings(metrics_port=-1, cluster_id="c-9"),
        mode="import",
        trigger="manual",
    )
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    config_json = next(v for v in env.values() if v and '"ownerUid"' in v)
    assert '"ownerUid":"uid-7"' in config_json
    assert '"ownerCluster":"c-9"' in config_json
