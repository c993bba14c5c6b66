"""Unreachable sources: refused port, DNS failure, a server that never answers. All on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector_testbed.ports import free_port
from tests.integration.extractors.runner import run_extractor

pytestmark = pytest.mark.integration


def pg_config(host: str, port: int) -> dict[str, object]:
    return {
        "source": {"technology": "postgresql", "host": host, "port": port, "database": "x", "username": "u"},
        "timeouts": {"connectSeconds": 2},
    }


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP connections and then says nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


@pytest.mark.parametrize("technology", ["postgresql", "mariadb", "sqlserver", "oracle", "redshift"])
def test_refused_port(technology: str, tmp_path: Path) -> None:
    """Every installed driver accepts our connect options and its refusal is told apart (on loopback)."""
    port = free_port()
    config = pg_config("127.0.0.1", port)
    config["source"]["technology"] = technology  # type: ignore[index]
    run = run_extractor(tmp_path, config, "--check", env={"OLC_SOURCE_PASSWORD": "pw"})
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.summary is not None
    assert run.summary.error_category == "SourceUnreachable"
    assert f"127.0.0.1:{port}" in run.summary.message
    assert "refused" in run.summary.message
    assert "IP filtering" in run.summary.message


def test_dns_failure(tmp_path: Path) -> None:
    run = run_extractor(tmp_path, pg_config("no-such-host.invalid", 5432), "--check")
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.summary is not None
    assert "no-such-host.invalid" in run.summary.message
    assert "DNS" in run.summary.message


@pytest.mark.parametrize("technology", ["postgresql", "mariadb", "sqlserver", "oracle", "redshift"])
def test_server_that_never_answers_times_out(technology: str, silent_server: int, tmp_path: Path) -> None:
    config = pg_config("127.0.0.1", silent_server)
    config["source"]["technology"] = technology  # type: ignore[index]
    run = run_extractor(tmp_path, config, "--check", env={"OLC_SOURCE_PASSWORD": "pw"}, timeout=60)
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.summary is not None
    assert f"127.0.0.1:{silent_server}" in run.summary.message
    assert "time" in run.summary.message.lower()  # "timeout expired", "timed out"
