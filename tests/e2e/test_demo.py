"""The README's first command: `make demo` (python -m connector_testbed demo) tells the whole story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_a_connection_end_to_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector_testbed", "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("testbed", "operator", "extractors")),
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "run result Succeeded" in output
    # `kubectl get onlineconnections` shows the result, and the simulator received the tree.
    assert "Succeeded   71" in output
    assert "Table order_line" in output
    assert "FK invoice_order_id_line_no_fkey" in output
