"""Secrets read per reference (no Secret watch) and the periodic re-check, on the fake Kubernetes.

Issue 10, "RBAC on metadata only": the operator GETs only the Secrets a connection names, keeps no
value, maps 404/403 to a reason, and re-checks failing (and, less often, Ready) connections so that
a Secret created, fixed, deleted or emptied later changes Ready without an edit of the connection.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from typing import Any

import pytest

from connector_operator import naming, secret_reads, secret_recheck
from connector_operator.operator_state import OperatorState
from connector_operator.reconcile import reconcile
from connector_operator.secrets_check import ALLOW_USE_LABEL, SecretInfo
from connector_operator.settings import Settings
from tests.support.manifests import connection_spec
from tests.unit.operator.fake_kube import FakeKube

NS = "team"
PASSWORD = "pw-value-never-kept"
TOKEN = "token-value-never-kept"


def spec(**source_extra: Any) -> dict[str, Any]:
    return connection_spec(source=source_extra)


def secret(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    return {"metadata": {"name": name, "namespace": NS, "labels": labels or {}}, "data": encoded}


class World:
    def __init__(self, **settings: Any) -> None:
        self.kube = FakeKube()
        self.state = OperatorState(
            settings=Settings(metrics_port=-1, **settings), kube_factory=lambda: self.kube
        )

    def connection(self, name: str = "shop", **source_extra: Any) -> None:
        self.kube.add(
            "connection", {"metadata": {"name": name, "namespace": NS}, "spec": spec(**source_extra)}
        )
        self.reconcile(name)

    def reconcile(self, name: str = "shop") -> None:
        body = self.kube.get("connection", NS, name)
        assert body is not None
        reconcile(self.state, body, self.state.secrets(NS))

    def ready(self, name: str = "shop") -> tuple[str, str, str]:
        body = self.kube.get("connection", NS, name)
        assert body is not None
        [found] = [c for c in body["status"]["conditions"] if c["type"] == "Ready"]
        return found["status"], found["reason"], found["message"]

    def index(self) -> dict[tuple[str, str], list[str]]:
        """What kopf's `connections_with_secrets` index holds for the current connections."""
        found: dict[tuple[str, str], list[str]] = {}
        for body in self.kube.of_kind("connection"):
            for key, value in secret_recheck.index_entry(body).items():
                found.setdefault(key, []).append(value)
        return found

    def both_secrets(self) -> None:
        self.kube.add("secret", secret("dg", {"token": TOKEN}))
        self.kube.add("secret", secret("db", {"password": PASSWORD}))


@pytest.fixture
def world() -> World:
    return World()


def test_only_the_referenced_secrets_are_read_and_no_value_is_kept(world: World) -> None:
    world.both_secrets()
    world.kube.add("secret", secret("unrelated", {"x": "y"}))
    world.connection()
    assert world.ready()[:2] == ("True", "Configured")
    assert world.kube.calls[("get", "secret")] == 2, "one GET per reference"
    assert world.kube.calls[("list", "secret")] == 0
    info = secret_reads.read(world.kube, NS, "db")
    assert info == SecretInfo(keys=frozenset({"password"}), labels={})
    assert PASSWORD not in repr(dataclasses.asdict(info))


@pytest.mark.parametrize(
    ("db_secret", "reason", "words"),
    [
        (None, "SecretNotFound", ["'db'", "spec.source.passwordSecretRef", "not found"]),
        (secret("db", {"wrong": "x"}), "SecretKeyMissing", ["'db'", "no key 'password'"]),
        (secret("db", {"password": "\n"}), "SecretValueEmpty", ["'db'", "key 'password' is empty"]),
        (
            secret("db", {"password": PASSWORD}, {ALLOW_USE_LABEL: "datagalaxy-token"}),
            "SecretRoleMismatch",
            ["'db'", "may not be used as the source password"],
        ),
    ],
)
def test_verdicts_from_a_get(
    world: World, db_secret: dict[str, Any] | None, reason: str, words: list[str]
) -> None:
    world.kube.add("secret", secret("dg", {"token": TOKEN}))
    if db_secret is not None:
        world.kube.add("secret", db_secret)
    world.connection()
    status, found, message = world.ready()
    assert (status, found) == ("False", reason)
    for word in words:
        assert word in message


def test_a_secret_without_the_role_label_is_not_allowed_when_labels_are_required() -> None:
    world = World(require_secret_label=True)
    world.both_secrets()
    world.connection()
    assert world.ready()[:2] == ("False", "SecretNotAllowed")


def test_a_forbidden_get_is_secret_not_allowed_naming_the_secret(world: World) -> None:
    world.both_secrets()
    world.kube.fail("get", "secret", 403)
    world.connection()
    status, reason, message = world.ready()
    assert (status, reason) == ("False", "SecretNotAllowed")
    assert "'db'" in message
    assert "forbidden" in message


def test_the_ca_secret_is_read_too(world: World) -> None:
    world.both_secrets()
    world.connection(tls={"mode": "verify-full", "caSecretRef": {"name": "ca", "key": "ca.crt"}})
    status, reason, message = world.ready()
    assert (status, reason) == ("False", "SecretNotFound")
    assert "spec.source.tls.caSecretRef" in message
    world.kube.add("secret", secret("ca", {"ca.crt": "-----BEGIN CERTIFICATE-----"}))
    world.reconcile()
    assert world.ready()[:2] == ("True", "Configured")


def test_the_index_marks_failing_and_ready_connections(world: World) -> None:
    world.connection()
    assert world.index() == {(NS, "shop"): [secret_recheck.FAILING]}
    assert secret_recheck.due(world.index(), everything=False) == [(NS, "shop")]
    world.both_secrets()
    world.reconcile()
    assert world.index() == {(NS, "shop"): [secret_recheck.READY]}
    assert secret_recheck.due(world.index(), everything=False) == []
    assert secret_recheck.due(world.index(), everything=True) == [(NS, "shop")]


def test_a_recheck_makes_a_connection_ready_once_its_secret_exists(world: World) -> None:
    world.kube.add("secret", secret("dg", {"token": TOKEN}))
    world.connection()
    assert world.ready()[1] == "SecretNotFound"
    world.kube.add("secret", secret("db", {"password": PASSWORD}))
    secret_recheck.recheck(world.state, secret_recheck.due(world.index(), everything=False))
    assert world.ready()[:2] == ("True", "Configured")


def test_a_recheck_survives_an_api_error_on_one_connection(world: World) -> None:
    world.connection("a")
    world.connection("b")
    world.both_secrets()
    world.kube.fail("get", "secret", 500)
    secret_recheck.recheck(world.state, secret_recheck.due(world.index(), everything=False))
    assert world.ready("b")[:2] == ("True", "Configured")


async def _until(world: World, name: str, wanted: tuple[str, str], index: dict[Any, Any]) -> None:
    for _ in range(400):
        index.clear()
        index.update(world.index())  # kopf keeps its index current the same way
        if world.ready(name)[:2] == wanted:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{name} never became {wanted}: {world.ready(name)}")


def test_the_loop_rechecks_failing_connections_and_reverifies_ready_ones() -> None:
    world = World(secret_recheck_seconds=0.01, secret_reverify_seconds=0.05)
    world.kube.add("secret", secret("dg", {"token": TOKEN}))
    world.connection()

    async def scenario() -> None:
        index: dict[Any, Any] = world.index()
        task = asyncio.create_task(secret_recheck.run(world.state, index))
        try:
            world.kube.add("secret", secret("db", {"password": PASSWORD}))
            await _until(world, "shop", ("True", "Configured"), index)
            world.kube.edit("secret", NS, "db", {"data": {"password": ""}})  # emptied later
            await _until(world, "shop", ("False", "SecretValueEmpty"), index)
            del world.kube.objects[("secret", NS, "db")]
            await _until(world, "shop", ("False", "SecretNotFound"), index)
        finally:
            task.cancel()

    asyncio.run(scenario())


def test_a_run_request_reads_the_secrets_again_before_creating_a_job(world: World) -> None:
    world.both_secrets()
    world.connection()
    assert world.ready()[0] == "True"
    world.kube.edit("secret", NS, "dg", {"data": {"token": ""}})  # no watch: nobody noticed yet
    world.kube.annotate_connection(NS, "shop", naming.RUN_REQUESTED, "r1")
    world.reconcile()
    assert world.kube.of_kind("job") == []
    assert world.ready()[:2] == ("False", "SecretValueEmpty")
    assert world.kube.event_reasons() == ["RunRejected"]
