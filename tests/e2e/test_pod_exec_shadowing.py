"""A volume mounted over a folder that holds the project (a checkout under /tmp) must not hide it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from connector_testbed.kubelet import pod_exec_command

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_preserved_paths_survive_a_volume_mounted_above_them(tmp_path: Path) -> None:
    project = tmp_path / "checkout" / "project"
    project.mkdir(parents=True)
    (project / "marker").write_text("still here")
    empty_dir = tmp_path / "emptydir"
    empty_dir.mkdir()
    termination = tmp_path / "termination-log"
    termination.write_text("")
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "mounts": [{"source": str(empty_dir), "target": str(tmp_path / "checkout")}],
                "preserve": [str(project)],
                "workingDir": "/",
                "argv": ["cat", str(project / "marker")],
                "env": {"PATH": os.environ["PATH"]},
                "terminationMessageFile": str(termination),
            }
        )
    )
    args, env = pod_exec_command(spec)
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "still here"
    # Outside the pod's namespace nothing changed: the volume stayed empty except for the mount point.
    assert (project / "marker").exists()
