"""The control plane leaves nothing behind: not on a normal exit, not on SIGTERM, not on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys, time
from connector_testbed.control_plane import ControlPlane
with ControlPlane(log=False) as cp:
    print(cp.dir, flush=True)
    time.sleep(600)
"""


def processes_using(directory: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if directory in cmdline:
            found.append(cmdline)
    return found


def start() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "testbed")}
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    directory = process.stdout.readline().strip()
    assert directory, "the control plane did not start"
    assert processes_using(directory), "no control-plane process found"
    return process, directory


def wait_gone(directory: str, timeout: float = 20) -> None:
    wait_for(
        lambda: not processes_using(directory),
        timeout=timeout,
        interval=0.2,
        what=f"every process using {directory} to exit",
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_tears_everything_down(sig: signal.Signals) -> None:
    process, directory = start()
    process.send_signal(sig)
    process.wait(timeout=30)
    wait_gone(directory)
    assert not Path(directory).exists()


def test_sigkill_leaves_no_process_and_the_folder_is_swept_next_time() -> None:
    process, directory = start()
    process.kill()
    process.wait(timeout=10)
    wait_gone(directory)
    from connector_testbed.control_plane import sweep_stale_dirs

    sweep_stale_dirs()
    assert not Path(directory).exists()
