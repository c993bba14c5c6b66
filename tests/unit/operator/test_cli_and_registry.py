"""The CLI's readable views and dispatch, and the handler registry (no finalizer-causing handlers)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from connector_operator import cli

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY: dict[str, Any] = {
    "metadata": {"name": "shop", "namespace": "team"},
    "spec": {
        "source": {"technology": "postgresql", "host": "db", "port": 5432, "database": "shop"},
        "target": {"apiUrl": "https://api.datagalaxy.com/v2", "workspace": "W", "sourceName": "Shop"},
        "schedule": {"cron": "0 2 * * *", "timeZone": "Europe/Paris"},
    },
    "status": {
        "conditions": [{"type": "Ready", "status": "True", "reason": "Configured", "message": "ok"}],
        "nextScheduledRun": "2026-11-26T01:00:00Z",
        "consecutiveFailures": 0,
        "lastRun": {
            "job": "shop-run-1",
            "result": "Succeeded",
            "objects": 42,
            "finishTime": "2026-11-25T11:58:00Z",
        },
        "history": [
            {
                "job": "shop-run-1",
                "trigger": "manual",
                "finishTime": "2026-11-25T11:58:00Z",
                "durationSeconds": 12.3,
                "result": "Succeeded",
                "reason": "Succeeded",
                "objects": 42,
                "push": {"created": 40, "updated": 2, "deleted": 0},
                "message": "pushed 42 objects",
            }
        ],
    },
}


def test_list_view() -> None:
    text = cli.format_list([BODY], now=NOW)
    header, row = text.splitlines()
    assert header.split()[:3] == ["NAMESPACE", "NAME", "SOURCE"]
    assert "shop" in row
    assert "2m ago" in row
    assert "Succeeded" in row
    assert "42" in row
    assert cli.format_list([]) == "No OnlineConnections found."


def test_detail_view() -> None:
    text = cli.format_connection(BODY, now=NOW)
    assert "Schedule:    0 2 * * * Europe/Paris" in text
    assert "Next run:    2026-11-26T01:00:00Z (13h from now)" in text
    assert "shop-run-1" in text
    assert "40/2/0" in text
    assert "12s" in text
    assert "Last message: pushed 42 objects" in text


def test_extract_execs_the_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []

    def fake_exec(program: str, args: list[str]) -> None:
        calls.append((program, args))
        raise SystemExit(0)

    monkeypatch.setattr(os, "execvp", fake_exec)
    with pytest.raises(SystemExit):
        cli.main(["extract", "--check", "--config", "x.json"])
    program, args = calls[0]
    assert args[-3:] == ["--check", "--config", "x.json"]
    assert program.endswith(("online-connector-extract", "python", "python3"))


def test_parser_knows_every_command() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run", "shop", "--wait"]).wait
    assert parser.parse_args(["status", "-A"]).all_namespaces
    assert parser.parse_args(["logs", "shop", "-n", "x"]).namespace == "x"


def test_no_handler_adds_a_finalizer() -> None:
    import kopf
    from kopf._core.intents import registries

    from connector_operator import handlers  # noqa: F401 - registers the handlers

    registry = registries.get_default_registry()
    changing = registry._changing.get_all_handlers()
    assert changing, "the connection handlers are registered"
    assert not [h for h in changing if h.reason == kopf.Reason.DELETE]
    assert not [h for h in changing if h.requires_finalizer]
    assert not registry._spawning.get_all_handlers(), "daemons and timers add finalizers"
