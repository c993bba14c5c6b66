"""Issue 10 end to end: the real operator, a real extractor process, PostgreSQL over TLS, the simulator.

- Item 7: a token whose Secret value ends with a newline (`echo $T > f; kubectl create secret
  --from-file`) used to be quoted by httpx into the status, Events and logs; now the value is
  normalised where it is read, the run succeeds, and a leak scan of everything a namespace user or an
  operator admin can read (spec, status, Events, operator log, pod log, Job spec, ConfigMaps) finds no
  fragment of the token or of the password.
- The token Secret (labelled as such) used as the source password is `Ready=False`, naming the field.
- A Secret key that is empty is `Ready=False`, naming the Secret and the key.
"""

from __future__ import annotations

import json

import pytest

from connector_testbed.simulator.seed import VALID_TOKEN
from tests.support.manifests import ALLOW_USE, connection_manifest, manifest, secret
from tests.support.scenarios import Scenario, condition
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e
FRAGMENT = 8  # any run of this many characters of a secret counts as a leak


def fragments(value: str) -> set[str]:
    return {value[i : i + FRAGMENT] for i in range(max(1, len(value) - FRAGMENT + 1))}


def ready_reason(scenario: Scenario, name: str) -> tuple[str, str, str] | None:
    ready = condition(scenario.get(name), "Ready")
    if not ready or ready["status"] not in ("True", "False"):
        return None
    return ready["status"], ready["reason"], ready.get("message", "")


def test_a_token_ending_with_a_newline_works_and_nothing_leaks(scenario: Scenario) -> None:
    scenario.apply(token=VALID_TOKEN + "\r\n")
    record = scenario.run_and_wait()
    assert record["result"] in ("Succeeded", "PartialSuccess"), record
    ns = scenario.ns
    texts = {
        "connection (spec and status)": json.dumps(scenario.get()),
        "events": scenario.cp.kubectl("get", "events", "-n", ns, "-o", "json").stdout,
        "operator log": scenario.op.log(),
        "jobs": scenario.cp.kubectl("get", "jobs", "-n", ns, "-o", "json").stdout,
        "pods": scenario.cp.kubectl("get", "pods", "-n", ns, "-o", "json").stdout,
        "configmaps": scenario.cp.kubectl("get", "configmaps", "-n", ns, "-o", "json").stdout,
        "pod log": scenario.cp.kubectl("logs", f"job/{record['job']}", "-n", ns, check=False).stdout,
    }
    for secret_value in (VALID_TOKEN, scenario.db.password):
        for where, text in texts.items():
            leaked = [part for part in fragments(secret_value) if part in text]
            assert not leaked, f"a fragment of a secret leaked into the {where}"


def test_the_token_secret_used_as_a_password_is_not_ready(scenario: Scenario) -> None:
    scenario.apply()
    token_secret = secret("dg-as-both", {"token": VALID_TOKEN}, labels={ALLOW_USE: "datagalaxy-token"})
    scenario.kubectl_apply(manifest(token_secret))
    source = {"passwordSecretRef": {"name": "dg-as-both", "key": "token"}}
    scenario.kubectl_apply(connection_manifest("misused", scenario.db, scenario.sim.url, source=source))
    verdict = wait_for(lambda: ready_reason(scenario, "misused"), what="Ready decided")
    status, reason, message = verdict
    assert (status, reason) == ("False", "SecretRoleMismatch")
    assert "spec.source.passwordSecretRef" in message
    assert not scenario.jobs() or all("misused" not in j["metadata"]["name"] for j in scenario.jobs())


def test_an_empty_secret_key_is_not_ready_naming_secret_and_key(scenario: Scenario) -> None:
    scenario.apply()
    empty = secret("empty-token", {"token": ""})
    scenario.kubectl_apply(manifest(empty))
    target = {"tokenSecretRef": {"name": "empty-token", "key": "token"}}
    scenario.kubectl_apply(connection_manifest("empty", scenario.db, scenario.sim.url, target=target))
    status, reason, message = wait_for(lambda: ready_reason(scenario, "empty"), what="Ready decided")
    assert (status, reason) == ("False", "SecretValueEmpty")
    assert "'empty-token'" in message
    assert "'token'" in message
