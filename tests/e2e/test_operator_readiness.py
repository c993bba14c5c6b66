"""The operator's first handlers: Ready conditions from the spec and the referenced Secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_testbed.control_plane import ControlPlane
from tests.fixtures.operator import OperatorProcess
from tests.support.manifests import connection_spec
from tests.support.scenarios import condition, get_connection
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e


def connection_doc(name: str, **spec_overrides: Any) -> str:
    spec = connection_spec(
        source={
            "host": "127.0.0.1",
            "port": 5432,
            "passwordSecretRef": {"name": "db-credentials", "key": "password"},
        },
        target={
            "apiUrl": "http://127.0.0.1:9/v2",
            "tokenSecretRef": {"name": "dg-token", "key": "token"},
            "sourceName": f"Sales DB {name}",  # one target source per connection
        },
    )
    spec.update(spec_overrides)
    return json.dumps(
        {
            "apiVersion": "connectors.datagalaxy.com/v1alpha1",
            "kind": "OnlineConnection",
            "metadata": {"name": name},
            "spec": spec,
        }
    )


def secret_doc(name: str, **data: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data})


def ready_reason(cp: ControlPlane, ns: str, name: str) -> tuple[str, str] | None:
    body = get_connection(cp, ns, name)
    ready = condition(body, "Ready")
    generation = body["metadata"]["generation"]
    if ready is None or body.get("status", {}).get("observedGeneration") != generation:
        return None
    return ready["status"], ready["reason"]


def test_missing_secret_then_created_turns_ready(
    control_plane: ControlPlane, namespace: str, operator_process: OperatorProcess
) -> None:
    cp, ns = control_plane, namespace
    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("dg-token", token="t0ken"))
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("sales"))
    assert wait_for(lambda: ready_reason(cp, ns, "sales"), what="a Ready condition") == (
        "False",
        "SecretNotFound",
    )
    message = condition(get_connection(cp, ns, "sales"), "Ready")
    assert message is not None
    assert "db-credentials" in message["message"]

    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("db-credentials", wrong="x"))
    wait_for(lambda: ready_reason(cp, ns, "sales") == ("False", "SecretKeyMissing"), what="SecretKeyMissing")

    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("db-credentials", password="s3cret-pw"))
    wait_for(lambda: ready_reason(cp, ns, "sales") == ("True", "Configured"), what="Ready=True")
    table = cp.kubectl("get", "olc", "-n", ns).stdout
    assert "True" in table.splitlines()[1]

    cp.kubectl("delete", "secret", "db-credentials", "-n", ns)
    wait_for(
        lambda: ready_reason(cp, ns, "sales") == ("False", "SecretNotFound"), what="SecretNotFound again"
    )


def test_kopf_bookkeeping_uses_the_operator_prefix_and_no_finalizer(
    control_plane: ControlPlane, namespace: str, operator_process: OperatorProcess
) -> None:
    cp, ns = control_plane, namespace
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("plain"))
    wait_for(lambda: ready_reason(cp, ns, "plain"), what="a Ready condition")
    body = get_connection(cp, ns, "plain")
    annotations = body["metadata"].get("annotations", {})
    assert not [a for a in annotations if a.startswith("kopf.zalando.org")]
    assert any(a.startswith("operator.connectors.datagalaxy.com/") for a in annotations), annotations
    assert not body["metadata"].get("finalizers")
    operator_process.kill()
    cp.kubectl("delete", "olc", "plain", "-n", ns, "--timeout=20s")


def test_secret_label_and_api_host_policies(
    control_plane: ControlPlane, namespace: str, operator_process: OperatorProcess
) -> None:
    cp, ns = control_plane, namespace
    operator_process.stop()
    operator_process.extra_env.update(
        OLC_REQUIRE_SECRET_LABEL="true", OLC_ALLOWED_API_HOSTS="*.datagalaxy.com"
    )
    operator_process.start()
    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("dg-token", token="t"))
    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("db-credentials", password="p"))
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("policy"))
    wait_for(
        lambda: ready_reason(cp, ns, "policy") == ("False", "ApiHostNotAllowed"), what="ApiHostNotAllowed"
    )
    patch = {"spec": {"target": {"apiUrl": "https://api.datagalaxy.com/v2"}}}
    cp.kubectl("patch", "olc", "policy", "-n", ns, "--type=merge", "-p", json.dumps(patch))
    wait_for(lambda: ready_reason(cp, ns, "policy") == ("False", "SecretNotAllowed"), what="SecretNotAllowed")
    for secret, role in (("dg-token", "datagalaxy-token"), ("db-credentials", "source-password")):
        cp.kubectl("label", "secret", secret, "-n", ns, f"connectors.datagalaxy.com/allow-use={role}")
    wait_for(lambda: ready_reason(cp, ns, "policy") == ("True", "Configured"), what="Ready after labelling")


def test_invalid_spec_the_schema_cannot_catch(
    control_plane: ControlPlane, namespace: str, operator_process: OperatorProcess
) -> None:
    cp, ns = control_plane, namespace
    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("dg-token", token="t"))
    cp.kubectl("apply", "-n", ns, "-f", "-", input=secret_doc("db-credentials", password="p"))
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("badcron", schedule={"cron": "99 * * * *"}))
    wait_for(lambda: ready_reason(cp, ns, "badcron") == ("False", "InvalidSpec"), what="InvalidSpec (cron)")
    ready = condition(get_connection(cp, ns, "badcron"), "Ready")
    assert ready is not None
    assert "spec.schedule" in ready["message"]
    zone = {"schedule": {"cron": "0 3 * * *", "timeZone": "Mars/Olympus_Mons"}}
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("badzone", **zone))
    wait_for(lambda: ready_reason(cp, ns, "badzone") == ("False", "InvalidSpec"), what="InvalidSpec (zone)")
    fixed = {"schedule": {"cron": "0 3 * * *", "timeZone": "Europe/Paris"}}
    cp.kubectl("apply", "-n", ns, "-f", "-", input=connection_doc("badzone", **fixed))
    wait_for(lambda: ready_reason(cp, ns, "badzone") == ("True", "Configured"), what="Ready once fixed")
