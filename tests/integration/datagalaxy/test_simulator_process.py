"""The simulator as a separate process (as the demo and the e2e tests run it): CLI, SIGTERM, show, state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target
from connector_extractors.run_config import TargetConfig
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer
from tests.fixtures.simulator import sample_metadata

pytestmark = pytest.mark.integration

ROOTS = [str(Path(__file__).resolve().parents[3] / d) for d in ("extractors", "testbed", "operator")]


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": os.pathsep.join(ROOTS)}


def _push(url: str) -> None:
    target = TargetConfig(apiUrl=url, workspace="Demo", sourceName="shop")
    with DataGalaxyClient(url, VALID_TOKEN, requests_per_second=8) as client:
        push_metadata(client, resolve_target(client, target), sample_metadata(), target)


def test_serve_logs_requests_keeps_state_on_disk_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "dg.sqlite"
    serve = subprocess.Popen(
        [sys.executable, "-m", "connector_testbed.simulator", "serve", "--port", "0", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert serve.stdout is not None
        line = serve.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split("listening on ", 1)[1].strip()
        _push(url)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=10) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    log = serve.stderr.read() if serve.stderr else ""
    assert "POST /v2/sources/bulktree/" in log
    assert VALID_TOKEN not in log

    shown = subprocess.run(
        [sys.executable, "-m", "connector_testbed.simulator", "show", "--state", str(state)],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
        timeout=30,
    ).stdout
    assert "Workspace Demo / version 1" in shown
    assert "Relational shop  [technologyCode=postgresql]" in shown
    assert "Column email  [columnDataType=VariableString, size=255, isMandatory=False" in shown
    assert "FK shipments_line_fk" in shown

    # Restarting on the same state file keeps what was imported.
    with SimulatorServer(state_path=state) as again:
        assert again.version_tree("Demo")["sources"][0]["technicalName"] == "shop"


def test_the_python_api_can_run_the_simulator_as_a_subprocess() -> None:
    with SimulatorServer(mode="process") as sim:
        assert sim.url.endswith("/v2")
        sim.set_faults(fail_next=1)
        assert httpx.get(f"{sim.url}/workspaces").status_code == 503
        _push(sim.url)
        assert sim.version_tree("Demo")["sources"]
        sim.reset()
        assert not sim.version_tree("Demo")["sources"]


def test_show_without_a_state_file_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "connector_testbed.simulator",
            "show",
            "--state",
            str(tmp_path / "none.sqlite"),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
    )
    assert result.returncode == 2
    assert "no state file" in result.stderr
