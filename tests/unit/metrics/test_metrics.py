"""The operator's Prometheus endpoint, scraped over HTTP the way Prometheus does."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector_operator import metrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def server() -> Iterator[metrics.MetricsServer]:
    metrics.reset()
    running = metrics.start_metrics_server(0, addr="127.0.0.1")
    yield running
    running.stop()
    metrics.reset()


def scrape(server: metrics.MetricsServer) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples[(metric, tuple(sorted(labels.items())))]


def has(samples: Samples, metric: str, /, **labels: str) -> bool:
    return (metric, tuple(sorted(labels.items()))) in samples


def test_runs_duration_objects_and_last_success_are_scraped(server: metrics.MetricsServer) -> None:
    metrics.record_run("sales", "pg", "Succeeded", 42.0, 120, finished_at=1_700_000_000.0)
    metrics.record_run("sales", "pg", "Failed", 3.0, 0, finished_at=1_700_000_100.0)
    metrics.record_run("sales", "pg", "PartialSuccess", 10.0, 30, finished_at=1_700_000_200.0)

    samples = scrape(server)

    conn = {"namespace": "sales", "name": "pg"}
    assert value(samples, "online_connector_runs_total", **conn, result="Succeeded") == 1
    assert value(samples, "online_connector_runs_total", **conn, result="Failed") == 1
    assert value(samples, "online_connector_runs_total", **conn, result="PartialSuccess") == 1
    assert value(samples, "online_connector_run_duration_seconds_count", **conn) == 3
    assert value(samples, "online_connector_run_duration_seconds_sum", **conn) == 55.0
    assert value(samples, "online_connector_run_duration_seconds_bucket", **conn, le="5.0") == 1
    assert value(samples, "online_connector_objects_pushed_total", **conn) == 150
    # A failed run does not move the last success; a partial success does.
    assert value(samples, "online_connector_last_success_timestamp_seconds", **conn) == 1_700_000_200.0


def test_a_failed_first_run_has_no_last_success(server: metrics.MetricsServer) -> None:
    metrics.record_run("sales", "mysql", "Failed", None, 0)
    samples = scrape(server)
    assert (
        value(samples, "online_connector_runs_total", namespace="sales", name="mysql", result="Failed") == 1
    )
    assert not has(
        samples, "online_connector_last_success_timestamp_seconds", namespace="sales", name="mysql"
    )
    assert not has(samples, "online_connector_run_duration_seconds_count", namespace="sales", name="mysql")


def test_connections_by_ready_state(server: metrics.MetricsServer) -> None:
    metrics.set_ready("a", "one", True)
    metrics.set_ready("a", "two", True)
    metrics.set_ready("b", "three", False)
    metrics.set_ready("b", "four", None)
    metrics.set_ready("a", "two", False)  # a transition moves it, it does not add a connection

    samples = scrape(server)

    assert value(samples, "online_connector_connections", ready="true") == 1
    assert value(samples, "online_connector_connections", ready="false") == 2
    assert value(samples, "online_connector_connections", ready="unknown") == 1
    assert value(samples, "online_connector_connection_ready", namespace="a", name="one") == 1
    assert value(samples, "online_connector_connection_ready", namespace="a", name="two") == 0
    assert not has(samples, "online_connector_connection_ready", namespace="b", name="four")


def test_forget_drops_every_series_of_a_deleted_connection(server: metrics.MetricsServer) -> None:
    metrics.record_run("a", "gone", "Succeeded", 1.0, 5)
    metrics.set_ready("a", "gone", True)
    metrics.set_ready("a", "kept", True)

    metrics.forget("a", "gone")
    metrics.forget("a", "never-seen")  # harmless

    samples = scrape(server)
    assert not [key for key in samples if ("name", "gone") in key[1]]
    assert value(samples, "online_connector_connections", ready="true") == 1
    assert value(samples, "online_connector_connection_ready", namespace="a", name="kept") == 1


def test_process_metrics_are_exported(server: metrics.MetricsServer) -> None:
    samples = scrape(server)
    assert any(name == "process_resident_memory_bytes" for name, _ in samples)
    assert all(value(samples, "online_connector_connections", ready=s) == 0 for s in metrics.READY_STATES)


def test_the_address_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLC_METRICS_ADDRESS", "127.0.0.1")
    running = metrics.start_metrics_server(0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/metrics", timeout=5) as response:
            assert b"online_connector_connections" in response.read()
    finally:
        running.stop()
