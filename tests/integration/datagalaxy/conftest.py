"""Shared helpers of the client ↔ simulator contract tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connector_extractors.datagalaxy import DataGalaxyClient
from connector_extractors.datagalaxy.retry import RetryPolicy
from connector_extractors.run_config import TargetConfig
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer

FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, quota_wait=0.05)


def make_target(
    sim: SimulatorServer, workspace: str = "Demo", version: str | None = None, source: str = "shop"
) -> TargetConfig:
    return TargetConfig(apiUrl=sim.url, workspace=workspace, version=version, sourceName=source)


@pytest.fixture
def client_factory(datagalaxy_simulator: SimulatorServer) -> Iterator[Callable[..., DataGalaxyClient]]:
    clients: list[DataGalaxyClient] = []

    def make(token: str = VALID_TOKEN, **kwargs: object) -> DataGalaxyClient:
        kwargs.setdefault("requests_per_second", 0)
        kwargs.setdefault("retry", FAST_RETRY)
        client = DataGalaxyClient(datagalaxy_simulator.url, token, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
