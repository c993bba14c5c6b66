"""`SimulatorServer`: start the simulator on a free loopback port, in a thread or as a subprocess.

Either way it is driven the same way, over HTTP (`/_admin/*`), so a test can switch faults on a
simulator that runs in another process exactly as it does on one in its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from connector_testbed.simulator.faults import Faults, Limits, Switchboard
from connector_testbed.simulator.seed import Seed
from connector_testbed.simulator.serving import SimulatorHTTPServer
from connector_testbed.simulator.store import Store

HOST = "127.0.0.1"


class SimulatorServer:
    def __init__(
        self,
        state_path: Path | None = None,
        *,
        seed: Seed | None = None,
        faults: Faults | None = None,
        limits: Limits | None = None,
        mode: Literal["thread", "process"] = "thread",
        port: int = 0,
        log_path: Path | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="dgsim-")
            state_path = Path(self._tmp.name) / "state.sqlite"
        self.state_path = state_path
        self.seed = seed or Seed()
        self._faults = faults or Faults()
        self._limits = limits or Limits()
        self.mode = mode
        self._port = port
        self.log_path = log_path  # process mode: the simulator's request log (default: next to its config)
        self._log_file: Any = None
        self._httpd: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None
        self._admin: httpx.Client | None = None
        self._config_tmp: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        if self.mode == "thread":
            store = Store(self.state_path, self.seed)
            self._httpd = SimulatorHTTPServer(
                (HOST, self._port), store, Switchboard(self._faults, self._limits)
            )
            self.port = self._httpd.server_address[1]
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="dg-simulator", daemon=True
            )
            self._thread.start()
        else:
            self._start_process()
        self._admin = httpx.Client(base_url=self.root_url, timeout=30.0)
        return self

    def _start_process(self) -> None:
        self._config_tmp = tempfile.TemporaryDirectory(prefix="dgsim-config-")
        config_dir = Path(self._config_tmp.name)
        seed_file = config_dir / "seed.json"
        seed_file.write_text(self.seed.to_json())
        switches_file = config_dir / "switches.json"
        switches_file.write_text(json.dumps({"faults": asdict(self._faults), "limits": asdict(self._limits)}))
        command = [
            sys.executable,
            "-m",
            "connector_testbed.simulator",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self._port),
            "--state",
            str(self.state_path),
            "--seed",
            str(seed_file),
            "--switches",
            str(switches_file),
        ]
        if self.log_path is None:
            self.log_path = config_dir / "simulator.log"
        self._log_file = self.log_path.open("a")
        env = dict(os.environ)
        roots = [str(Path(__file__).resolve().parents[2])]
        env["PYTHONPATH"] = os.pathsep.join(roots + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log_file, text=True, env=env
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("listening on "):
            self._process.kill()
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1].split("/")[0])

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.store.close()
            self._httpd = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._config_tmp is not None:
            self._config_tmp.cleanup()
            self._config_tmp = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------------
    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL, as a DataGalaxy environment shows it (ends in /v2)."""
        return f"{self.root_url}/v2"

    # -- control ----------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        assert self._admin is not None, "the simulator is not started"
        response = self._admin.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Forget every imported object, clear faults and rate-limit counters, restore the seed."""
        self._call("POST", "/_admin/reset")

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/_admin/faults", changes)
        return result

    def set_limits(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/_admin/limits", changes)
        return result

    def tree(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/_admin/tree")
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/_admin/stats")
        return result

    def version_tree(self, workspace: str, version: str | None = None) -> dict[str, Any]:
        """The imported tree of one workspace version (the default version when not named)."""
        for entry in self.tree():
            if entry["workspace"] != workspace:
                continue
            if version is None:
                ws = next(w for w in self.seed.workspaces if w.name == workspace)
                version = ws.default_version or ws.versions[0]
            if entry["version"] == version:
                return entry
        raise KeyError(f"{workspace}/{version}")

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._call("GET", "/_admin/health")
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
