"""Readiness rules, conditions, cron predictions and settings: pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector_operator import conditions, cron
from connector_operator.secrets_check import ALLOW_USE_LABEL, SecretInfo, api_host_allowed, evaluate
from connector_operator.settings import Settings
from tests.support.manifests import connection_spec

SPEC: dict[str, Any] = connection_spec()
AS_PASSWORD = {ALLOW_USE_LABEL: "source-password"}
AS_TOKEN = {ALLOW_USE_LABEL: "datagalaxy-token"}


def secrets(**found: SecretInfo) -> Any:
    return found.get


def test_ready_when_everything_is_there() -> None:
    verdict = evaluate(
        SPEC, secrets(db=SecretInfo(frozenset({"password"})), dg=SecretInfo(frozenset({"token"}))), Settings()
    )
    assert (verdict.ready, verdict.reason) == (True, "Configured")


def test_secret_not_found_names_the_secret() -> None:
    verdict = evaluate(SPEC, secrets(dg=SecretInfo(frozenset({"token"}))), Settings())
    assert (verdict.ready, verdict.reason) == (False, "SecretNotFound")
    assert "'db'" in verdict.message


def test_secret_key_missing() -> None:
    verdict = evaluate(
        SPEC, secrets(db=SecretInfo(frozenset({"pw"})), dg=SecretInfo(frozenset({"token"}))), Settings()
    )
    assert verdict.reason == "SecretKeyMissing"
    assert "'password'" in verdict.message


def test_invalid_spec_names_the_field() -> None:
    bad = {**SPEC, "target": {**SPEC["target"], "apiUrl": "http://example.com/v2"}}
    verdict = evaluate(bad, secrets(), Settings())
    assert verdict.reason == "InvalidSpec"
    assert "apiUrl" in verdict.message


def test_secret_label_required() -> None:
    lookup = secrets(db=SecretInfo(frozenset({"password"}), AS_PASSWORD), dg=SecretInfo(frozenset({"token"})))
    assert evaluate(SPEC, lookup, Settings(require_secret_label=True)).reason == "SecretNotAllowed"
    lookup = secrets(
        db=SecretInfo(frozenset({"password"}), AS_PASSWORD), dg=SecretInfo(frozenset({"token"}), AS_TOKEN)
    )
    assert evaluate(SPEC, lookup, Settings(require_secret_label=True)).ready


def test_api_host_globs() -> None:
    assert api_host_allowed("https://api.datagalaxy.com/v2", ())
    assert api_host_allowed("https://eu.api.datagalaxy.com/v2", ("*.datagalaxy.com",))
    assert not api_host_allowed("https://evil.example/v2", ("*.datagalaxy.com", "127.0.0.1"))
    verdict = evaluate(SPEC, secrets(), Settings(allowed_api_hosts=("*.example.org",)))
    assert verdict.reason == "ApiHostNotAllowed"


def test_condition_transition_time_only_moves_on_flips() -> None:
    first = conditions.set_condition(
        [], conditions.ready(False, "SecretNotFound", "m", generation=1), now="t1"
    )
    same = conditions.set_condition(
        first, conditions.ready(False, "SecretKeyMissing", "m2", generation=2), now="t2"
    )
    assert same[0].last_transition_time == "t1"
    assert same[0].reason == "SecretKeyMissing"
    assert same[0].observed_generation == 2
    flipped = conditions.set_condition(
        same, conditions.ready(True, "Configured", "ok", generation=2), now="t3"
    )
    assert flipped[0].last_transition_time == "t3"
    more = conditions.set_condition(flipped, conditions.idle(""), now="t3")
    assert [c.type for c in more] == ["Ready", "Running"]


def test_every_reason_is_documented_once() -> None:
    documented = [d.reason for d in conditions.REASONS]
    places = [(d.reason, d.where) for d in conditions.REASONS]
    assert len(places) == len(set(places))
    for vocabulary in (conditions.Reason, conditions.EventReason):
        assert set(vocabulary) <= set(documented), vocabulary
    assert "`OOMKilled`" in conditions.reasons_table()


AFTER = datetime(2026, 11, 25, 10, 7, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "zone", "expected"),
    [
        ("* * * * *", None, "2026-11-25T10:08:00"),
        ("*/15 * * * *", None, "2026-11-25T10:15:00"),
        ("0 2 * * *", "Europe/Paris", "2026-11-26T01:00:00"),
        ("@hourly", None, "2026-11-25T11:00:00"),
        ("30 9 * * mon-fri", None, "2026-11-26T09:30:00"),
        ("0 0 1 jan *", None, "2027-01-01T00:00:00"),
        ("0 12 13 * 5", None, "2026-11-27T12:00:00"),
        ("5/20 * * * ?", None, "2026-11-25T10:25:00"),
        ("@every 1h30m", None, "2026-11-25T11:37:30"),
    ],
)
def test_cron_next_run(expression: str, zone: str | None, expected: str) -> None:
    assert cron.next_run(expression, zone, AFTER).strftime("%Y-%m-%dT%H:%M:%S") == expected


@pytest.mark.parametrize(
    "expression",
    [
        "* * * *",
        "61 * * * *",
        "* * * * * *",
        "a b c d e",
        "*/0 * * * *",
        # refused by the CronJob controller's parser too (robfig/cron ParseStandard, API validation)
        "*/x * * * *",
        "² * * * *",
        "CRON_TZ=Asia/Tokyo 0 * * *",
        "TZ=UTC 0 * * * *",
        "0 0 * * 7",
        "@DAILY",
        "@every",
        "@every 5 minutes",
        "1/2/3 * * * *",
    ],
)
def test_cron_rejects_bad_expressions(expression: str) -> None:
    with pytest.raises(cron.CronError):
        cron.next_run(expression, None, AFTER)


def test_cron_rejects_unknown_zone() -> None:
    with pytest.raises(cron.CronError):
        cron.next_run("@daily", "Mars/Olympus", AFTER)


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "OLC_EXTRACTOR_IMAGE": "img:1",
            "OLC_REQUIRE_SECRET_LABEL": "true",
            "OLC_ALLOWED_API_HOSTS": "*.datagalaxy.com, localhost",
            "OLC_WATCH_NAMESPACES": "a,b",
            "OLC_METRICS_PORT": "9191",
        }
    )
    assert settings.extractor_image == "img:1"
    assert settings.require_secret_label
    assert settings.allowed_api_hosts == ("*.datagalaxy.com", "localhost")
    assert settings.watch_namespaces == ("a", "b")
    assert settings.metrics_port == 9191
    defaults = Settings.from_env({})
    assert defaults.extractor_service_account is None
    assert defaults.liveness == "http://0.0.0.0:8080/healthz"
