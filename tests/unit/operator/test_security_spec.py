"""Issue 10 on the spec side: options allowlist, strict apiUrl, Secret roles, source hosts, empty keys.

The models mirror the CEL rules the API server enforces (tests/e2e/test_security_apply.py checks those by
server-side dry run); readiness (`secrets_check.evaluate`) adds what only the operator can know.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from pydantic import ValidationError

from connector_extractors.profiles import PROFILES
from connector_operator.models import OnlineConnectionSpec, Source
from connector_operator.secrets_check import (
    ALLOW_USE_LABEL,
    SecretInfo,
    evaluate,
    secret_info,
    source_host_allowed,
)
from connector_operator.settings import Settings
from tests.support.manifests import connection_spec

SPEC: dict[str, Any] = connection_spec()
SECRETS = {"db": SecretInfo(frozenset({"password"})), "dg": SecretInfo(frozenset({"token"}))}


def with_changes(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = spec
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return spec


@pytest.mark.parametrize(
    ("technology", "options", "field"),
    [
        ("mysql", {"init_command": "DELETE FROM t"}, "init_command"),
        ("mysql", {"local_infile": "1"}, "local_infile"),
        ("postgresql", {"host": "decoy"}, "host"),
        ("postgresql", {"sslmode": "disable"}, "sslmode"),
        ("mysql", {"passwd": "x"}, "passwd"),
        ("sqlserver", {"conn_properties": "x"}, "conn_properties"),
        ("postgresql", {"keepalives_idle": "ten"}, "keepalives_idle"),
    ],
)
def test_options_outside_the_allowlist_are_refused_naming_the_field(
    technology: str, options: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError, match=rf"source\.options\.{field}"):
        Source.model_validate({"technology": technology, "host": "h", "options": options})


def test_the_crd_rules_come_from_the_profiles() -> None:
    rules = [r["rule"] for r in Source.model_json_schema()["x-kubernetes-validations"]]
    for technology, profile in PROFILES.items():
        assert any(f"self.technology != '{technology}'" in rule for rule in rules)
        for name in profile.option_names:
            assert any(f"'{name}'" in rule for rule in rules)


def test_tls_is_required_by_default_and_sqlserver_cannot_verify() -> None:
    assert Source.model_validate({"technology": "postgresql", "host": "h"}).tls.mode == "require"
    with pytest.raises(ValidationError, match=r"source\.tls\.mode"):
        Source.model_validate({"technology": "sqlserver", "host": "h", "tls": {"mode": "verify-full"}})


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@api.datagalaxy.com/v2",
        "https://:@api.datagalaxy.com/v2",
        "https://:::::/v2",
        "https://api.datagalaxy.com:99999/v2",
        "https://api.datagalaxy.com:0/v2",
        "https:///v2",
        "https://api.datagalaxy.com/v2?x=1",
    ],
)
def test_api_url_is_parsed_strictly(url: str) -> None:
    with pytest.raises(ValidationError, match="apiUrl"):
        OnlineConnectionSpec.model_validate(with_changes(target__apiUrl=url))


def test_a_good_api_url_passes() -> None:
    for url in ("https://api.datagalaxy.com/v2", "https://10.0.0.1:8443/v2", "http://127.0.0.1:8080/v2"):
        OnlineConnectionSpec.model_validate(with_changes(target__apiUrl=url))


def test_one_secret_never_serves_both_roles() -> None:
    spec = with_changes(target__tokenSecretRef={"name": "db", "key": "token"})
    with pytest.raises(ValidationError, match="different Secrets"):
        OnlineConnectionSpec.model_validate(spec)
    assert evaluate(spec, SECRETS.get, Settings()).reason == "InvalidSpec"


def test_the_token_secret_used_as_a_password_is_not_ready() -> None:
    lookup = {
        "db": SecretInfo(frozenset({"password"}), {ALLOW_USE_LABEL: "datagalaxy-token"}),
        "dg": SecretInfo(frozenset({"token"}), {ALLOW_USE_LABEL: "datagalaxy-token"}),
    }
    verdict = evaluate(SPEC, lookup.get, Settings())  # even without requireSecretLabel
    assert not verdict.ready
    assert verdict.reason == "SecretRoleMismatch"
    assert "spec.source.passwordSecretRef" in verdict.message


def test_with_labels_required_true_is_not_a_role() -> None:
    lookup = {
        "db": SecretInfo(frozenset({"password"}), {ALLOW_USE_LABEL: "true"}),
        "dg": SecretInfo(frozenset({"token"}), {ALLOW_USE_LABEL: "datagalaxy-token"}),
    }
    verdict = evaluate(SPEC, lookup.get, Settings(require_secret_label=True))
    assert verdict.reason == "SecretNotAllowed"
    assert "source-password" in verdict.message


def test_an_empty_key_is_not_ready_and_names_secret_and_key() -> None:
    body = {"metadata": {"name": "dg"}, "data": {"token": base64.b64encode(b"\n").decode()}}
    lookup = {**SECRETS, "dg": secret_info(body)}
    verdict = evaluate(SPEC, lookup.get, Settings())
    assert verdict.reason == "SecretValueEmpty"
    assert "'dg'" in verdict.message
    assert "'token'" in verdict.message


def test_secret_info_keeps_no_value() -> None:
    body = {"metadata": {"labels": {"a": "b"}}, "data": {"token": base64.b64encode(b"s3cr3t").decode()}}
    info = secret_info(body)
    assert info.keys == {"token"}
    assert not info.empty_keys
    assert "czNjcjN0" not in repr(info)
    assert "s3cr3t" not in repr(info)


def test_source_host_allowlist() -> None:
    allowed = ("10.0.0.0/8", "*.databases.svc.cluster.local")
    assert source_host_allowed("10.1.2.3", allowed)
    assert source_host_allowed("shop.databases.svc.cluster.local", allowed)
    assert not source_host_allowed("rogue.example.com", allowed)
    assert not source_host_allowed("192.168.1.1", allowed)
    assert source_host_allowed("anything", ())
    verdict = evaluate(SPEC, SECRETS.get, Settings(allowed_source_hosts=allowed))
    assert verdict.reason == "SourceHostNotAllowed"
    assert "spec.source.host" in verdict.message


def test_settings_read_the_source_host_allowlist() -> None:
    settings = Settings.from_env({"OLC_ALLOWED_SOURCE_HOSTS": "10.0.0.0/8, *.corp"})
    assert settings.allowed_source_hosts == ("10.0.0.0/8", "*.corp")
