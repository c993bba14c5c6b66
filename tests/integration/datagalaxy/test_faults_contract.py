"""The client against the simulator's faults: tokens, 5xx, drops, latency, 429, quota, throttle, budget."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target
from connector_extractors.datagalaxy.bulktree import BatchLimits
from connector_extractors.datagalaxy.retry import RetryPolicy
from connector_extractors.datagalaxy.throttle import DOCUMENTED_RATE
from connector_extractors.errors import ConnectorError, ErrorCategory
from connector_extractors.metadata import Column, Schema, SourceMetadata, Table
from connector_testbed.simulator import (
    LEGACY_TOKEN,
    NO_ACCESS_TOKEN,
    REVOKED_TOKEN,
    VALID_TOKEN,
    SimulatorServer,
)
from tests.fixtures.simulator import sample_metadata, wide_metadata

from .conftest import FAST_RETRY, make_target

pytestmark = pytest.mark.integration

ClientFactory = Callable[..., DataGalaxyClient]


def _paths(nodes: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        out.append(node["path"] + "|" + node["type"])
        out.extend(_paths(node["children"]))
    return out


def _expected_objects(metadata: SourceMetadata) -> int:
    counts = metadata.counts()
    return 1 + counts["schemas"] + counts["tables"] + counts["views"] + counts["columns"]


# -- tokens -------------------------------------------------------------------------------------------


def test_a_revoked_token_is_rejected_without_retries(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(REVOKED_TOKEN, legacy_credentials=False)
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client, make_target(datagalaxy_simulator))
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED
    assert "HTTP 401" in caught.value.message
    assert client.requests_sent == 1


def test_a_revoked_token_stays_rejected_after_the_legacy_exchange_is_tried(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(REVOKED_TOKEN)
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client, make_target(datagalaxy_simulator))
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED
    assert datagalaxy_simulator.stats()["byRoute"]["GET /v2/credentials"] == 1


def test_a_legacy_integration_token_is_exchanged_for_an_access_token(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(LEGACY_TOKEN)
    target = make_target(datagalaxy_simulator)
    outcome = push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    assert outcome.counts.created == _expected_objects(sample_metadata())
    assert datagalaxy_simulator.stats()["byRoute"]["GET /v2/credentials"] == 1


def test_the_legacy_exchange_can_be_switched_off(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    with pytest.raises(ConnectorError) as caught:
        resolve_target(
            client_factory(LEGACY_TOKEN, legacy_credentials=False), make_target(datagalaxy_simulator)
        )
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED


def test_a_workspace_the_token_cannot_see_is_not_found_with_a_hint_about_access(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client_factory(NO_ACCESS_TOKEN), make_target(datagalaxy_simulator, "Demo"))
    assert caught.value.category is ErrorCategory.WORKSPACE_NOT_FOUND
    assert "'Versioned'" in caught.value.message
    assert caught.value.hint is not None
    assert "Access" in caught.value.hint


def test_writing_to_a_workspace_without_access_is_a_token_rejection(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    target = make_target(datagalaxy_simulator, "Demo")
    resolved = resolve_target(client_factory(), target)
    with pytest.raises(ConnectorError) as caught:
        push_metadata(client_factory(NO_ACCESS_TOKEN), resolved, sample_metadata(), target)
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED
    assert "HTTP 403" in caught.value.message


def test_a_token_refused_by_the_service_mid_run_is_a_token_rejection(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(legacy_credentials=False)
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    datagalaxy_simulator.set_faults(bad_token=True)
    with pytest.raises(ConnectorError) as caught:
        push_metadata(client, resolved, sample_metadata(), target)
    assert caught.value.category is ErrorCategory.TOKEN_REJECTED


def test_an_unknown_version_is_version_not_found(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    from connector_extractors.datagalaxy import ResolvedTarget

    client = client_factory()
    target = make_target(datagalaxy_simulator)
    gone = ResolvedTarget("ws", "00000000-0000-0000-0000-000000000000", "x")
    with pytest.raises(ConnectorError) as caught:
        push_metadata(client, gone, sample_metadata(), target)
    assert caught.value.category is ErrorCategory.VERSION_NOT_FOUND
    assert client.retries == 0


def test_a_wrong_api_url_is_a_configuration_error(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    target = make_target(datagalaxy_simulator)
    with (
        DataGalaxyClient(datagalaxy_simulator.root_url + "/v9", VALID_TOKEN, requests_per_second=0) as client,
        pytest.raises(ConnectorError) as caught,
    ):
        resolve_target(client, target)
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION


def test_the_token_never_appears_in_logs_errors_or_reprs(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    for token in (VALID_TOKEN, REVOKED_TOKEN, LEGACY_TOKEN, NO_ACCESS_TOKEN):
        datagalaxy_simulator.reset()
        datagalaxy_simulator.set_faults(fail_next=1, drop_next=1, rate_limit_next=1)
        client = client_factory(token)
        texts.append(repr(client))
        target = make_target(datagalaxy_simulator)
        try:
            resolved = resolve_target(client, target)
            push_metadata(client, resolved, sample_metadata(), target)
        except ConnectorError as error:
            texts += [str(error), repr(error), error.message, error.hint or ""]
    datagalaxy_simulator.set_faults(error_rate=1.0)
    try:
        resolve_target(client_factory(VALID_TOKEN, budget_seconds=1.0), make_target(datagalaxy_simulator))
    except ConnectorError as error:
        texts.append(str(error))
    everything = caplog.text + "\n".join(texts)
    assert "DataGalaxy" in everything  # the logs and errors were really captured
    for token in (VALID_TOKEN, REVOKED_TOKEN, LEGACY_TOKEN, NO_ACCESS_TOKEN, "dgsim-access-"):
        assert token not in everything


# -- retries --------------------------------------------------------------------------------------------


def test_5xx_answers_are_retried(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    datagalaxy_simulator.set_faults(fail_next=3, error_status=502)
    outcome = push_metadata(client, resolved, sample_metadata(), target)
    assert client.retries == 3
    assert outcome.counts.created == _expected_objects(sample_metadata())


def test_dropped_connections_are_retried(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    datagalaxy_simulator.set_faults(drop_next=2)
    outcome = push_metadata(client, resolved, sample_metadata(), target)
    assert client.retries == 2
    assert datagalaxy_simulator.stats()["dropped"] == 2
    assert outcome.counts.created == _expected_objects(sample_metadata())


def test_random_faults_still_converge(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory(retry=RetryPolicy(max_attempts=30, base_delay=0.001, max_delay=0.01))
    target = make_target(datagalaxy_simulator)
    datagalaxy_simulator.set_faults(error_rate=0.3, drop_rate=0.2, seed=7)
    resolved = resolve_target(client, target)
    metadata = wide_metadata(tables=20, columns_per_table=5, schemas=2)
    push_metadata(client, resolved, metadata, target, batch_limits=BatchLimits(max_entities=30))
    paths = _paths(datagalaxy_simulator.version_tree("Demo")["sources"])
    assert len(paths) == len(set(paths)) == _expected_objects(metadata)
    assert client.retries > 0


def test_slow_answers_time_out_and_are_retried_until_the_budget_is_spent(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_faults(latency_ms=400)
    client = client_factory(timeout_seconds=0.1, budget_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client, make_target(datagalaxy_simulator))
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    assert "ReadTimeout" in caught.value.message or "budget" in caught.value.message
    assert time.monotonic() - started < 3.0


def test_latency_under_the_timeout_is_only_slow(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_faults(latency_ms=50)
    resolved = resolve_target(client_factory(timeout_seconds=5), make_target(datagalaxy_simulator))
    assert resolved.version_name == "1"


def test_a_service_that_keeps_failing_ends_in_target_unavailable(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_faults(error_rate=1.0)
    client = client_factory(retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02))
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client, make_target(datagalaxy_simulator))
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    assert "4 attempt(s)" in caught.value.message
    assert client.requests_sent == 4


def test_the_time_budget_bounds_the_retries(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_faults(error_rate=1.0)
    client = client_factory(
        budget_seconds=0.5, retry=RetryPolicy(max_attempts=1000, base_delay=0.05, max_delay=0.2)
    )
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        resolve_target(client, make_target(datagalaxy_simulator))
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    assert time.monotonic() - started < 1.0


def test_400_answers_are_not_retried_and_carry_the_server_message(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(max_entities=5)
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    with pytest.raises(ConnectorError) as caught:
        push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    assert caught.value.category is ErrorCategory.PAYLOAD_REJECTED
    assert "Too many entities in one request: the limit is 5" in caught.value.message
    assert client.retries == 0


def test_a_rejected_batch_is_reported_and_the_other_batches_are_written(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    def table(name: str, comment: str | None = None) -> Table:
        columns = [Column(f"c{i}", i + 1, "int", "integer", True, comment=comment) for i in range(5)]
        return Table(name=name, kind="table", columns=columns)

    metadata = SourceMetadata(
        "postgresql", "db", [Schema("s", [table("a"), table("b", "x" * 3000), table("c")])]
    )
    datagalaxy_simulator.set_limits(max_bytes=4000)
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    outcome = push_metadata(
        client, resolve_target(client, target), metadata, target, batch_limits=BatchLimits(max_entities=8)
    )
    assert outcome.failed_objects == 8
    assert outcome.counts.created == 1 + 1 + 6 + 6
    assert any("exceeds the limit" in w for w in outcome.warnings)
    [source] = datagalaxy_simulator.version_tree("Demo")["sources"]
    assert [t["technicalName"] for t in source["children"][0]["children"]] == ["a", "c"]


# -- rate limits -----------------------------------------------------------------------------------------


def test_429_with_retry_after_is_honoured(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    waits: list[float] = []
    datagalaxy_simulator.set_limits(send_retry_after=True)  # not documented: behind a switch
    datagalaxy_simulator.set_faults(rate_limit_next=1)
    client = client_factory(sleep=waits.append)
    resolve_target(client, make_target(datagalaxy_simulator))
    assert waits == [pytest.approx(1.0, abs=0.05)] or (waits and waits[0] >= 1.0)
    assert client.retries == 1


def test_429_without_retry_after_is_retried_with_backoff(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    waits: list[float] = []
    datagalaxy_simulator.set_faults(rate_limit_next=2)
    client = client_factory(sleep=waits.append)
    resolve_target(client, make_target(datagalaxy_simulator))
    assert client.retries == 2
    assert len(waits) == 2
    assert all(0 < w <= FAST_RETRY.max_delay for w in waits)


def test_the_hourly_quota_blocks_then_lets_the_client_resume(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(quota_per_hour=3, block_seconds=1.0)
    # No Retry-After (the default): X-RateLimit-Remaining: 0 makes the client wait `quota_wait` per retry.
    client = client_factory(retry=RetryPolicy(base_delay=0.01, max_delay=0.02, quota_wait=0.3))
    target = make_target(datagalaxy_simulator)
    started = time.monotonic()
    outcome = push_metadata(client, resolve_target(client, target), sample_metadata(), target)
    assert outcome.counts.created == _expected_objects(sample_metadata())
    stats = datagalaxy_simulator.stats()
    assert stats["rateLimited"] >= 1
    assert time.monotonic() - started >= 1.0  # it waited for the block to end
    assert client.rate_limit_remaining is not None


def test_without_retry_after_a_spent_quota_falls_back_to_the_quota_wait(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    waits: list[float] = []
    datagalaxy_simulator.set_limits(quota_per_hour=1, block_seconds=0.0, send_retry_after=False)
    client = client_factory(
        sleep=waits.append, retry=RetryPolicy(base_delay=0.01, max_delay=0.02, quota_wait=7.0)
    )
    client.get_json("/workspaces")
    client.get_json("/workspaces")  # over quota: 429 with X-RateLimit-Remaining: 0, no Retry-After
    assert waits == [7.0]


def test_a_quota_block_longer_than_the_budget_fails_at_once(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(quota_per_hour=1, block_seconds=900, send_retry_after=True)
    client = client_factory(budget_seconds=30)
    client.get_json("/workspaces")
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        client.get_json("/workspaces")
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    assert "exceeds the budget" in caught.value.message
    assert time.monotonic() - started < 1.0


def test_the_self_throttle_keeps_under_the_service_throttle(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    datagalaxy_simulator.set_limits(throttle_rps=8)
    greedy = client_factory(requests_per_second=0)
    for _ in range(12):
        greedy.get_json("/workspaces")
    assert datagalaxy_simulator.stats()["throttled"] >= 1
    datagalaxy_simulator.reset()
    datagalaxy_simulator.set_limits(throttle_rps=8)
    polite = client_factory(requests_per_second=6)
    started = time.monotonic()
    for _ in range(12):
        polite.get_json("/workspaces")
    assert datagalaxy_simulator.stats()["throttled"] == 0
    assert time.monotonic() - started >= 11 / 6 - 0.05


@pytest.mark.parametrize("model", ["window", "spacing"])
def test_a_whole_push_is_never_throttled_whichever_way_the_rate_is_counted(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory, model: str
) -> None:
    """Both readings of "8 requests/s" (undocumented): the default client never earns the 500 ms delay."""
    datagalaxy_simulator.set_limits(throttle_rps=8, throttle_model=model)
    greedy = client_factory(requests_per_second=0)
    for _ in range(9):
        greedy.get_json("/workspaces")
    assert datagalaxy_simulator.stats()["throttled"] >= 1  # the model is on
    datagalaxy_simulator.reset()
    datagalaxy_simulator.set_limits(throttle_rps=8, throttle_model=model)
    client = client_factory(requests_per_second=DOCUMENTED_RATE)  # what a run uses (the client's default)
    target = make_target(datagalaxy_simulator)
    outcome = push_metadata(
        client, resolve_target(client, target), wide_metadata(tables=30, columns_per_table=5), target,
        batch_limits=BatchLimits(max_entities=20),
    )  # fmt: skip
    stats = datagalaxy_simulator.stats()
    assert stats["requests"] >= 12
    assert outcome.failed_objects == 0
    assert stats["throttled"] == 0


# -- interrupted pushes -------------------------------------------------------------------------------------


def test_a_batch_that_fails_half_way_is_retried_without_duplicates(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    datagalaxy_simulator.set_faults(mid_batch_fail_next=2)
    metadata = wide_metadata(tables=10, columns_per_table=8)
    outcome = push_metadata(client, resolved, metadata, target, batch_limits=BatchLimits(max_entities=40))
    paths = _paths(datagalaxy_simulator.version_tree("Demo")["sources"])
    assert len(paths) == len(set(paths)) == _expected_objects(metadata)
    assert client.retries == 2
    assert outcome.counts.created < _expected_objects(metadata)  # the half-written part came back unchanged
    assert outcome.counts.created + outcome.counts.unchanged >= _expected_objects(metadata) - 2


def test_answers_lost_after_the_server_committed_are_retried_without_duplicates(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    client = client_factory()
    target = make_target(datagalaxy_simulator)
    resolved = resolve_target(client, target)
    datagalaxy_simulator.set_faults(drop_after_next=3)
    metadata = sample_metadata()
    outcome = push_metadata(client, resolved, metadata, target)
    paths = _paths(datagalaxy_simulator.version_tree("Demo")["sources"])
    assert len(paths) == len(set(paths)) == _expected_objects(metadata)
    assert client.retries == 3
    assert outcome.counts.created + outcome.counts.unchanged >= _expected_objects(metadata) - 2
    assert len(datagalaxy_simulator.version_tree("Demo")["foreignKeys"]) == 4


def test_a_push_that_gives_up_converges_when_run_again(
    datagalaxy_simulator: SimulatorServer, client_factory: ClientFactory
) -> None:
    target = make_target(datagalaxy_simulator)
    metadata = sample_metadata()
    datagalaxy_simulator.set_faults(mid_batch_fail_next=100)
    failing = client_factory(retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01))
    resolved = resolve_target(failing, target)
    with pytest.raises(ConnectorError) as caught:
        push_metadata(failing, resolved, metadata, target)
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    written = _paths(datagalaxy_simulator.version_tree("Demo")["sources"])
    assert 0 < len(written) < _expected_objects(metadata)
    datagalaxy_simulator.set_faults(mid_batch_fail_next=0)
    outcome = push_metadata(client_factory(), resolved, metadata, target)
    paths = _paths(datagalaxy_simulator.version_tree("Demo")["sources"])
    assert len(paths) == len(set(paths)) == _expected_objects(metadata)
    assert outcome.counts.created == _expected_objects(metadata) - len(written)
    assert len(datagalaxy_simulator.version_tree("Demo")["foreignKeys"]) == 4
