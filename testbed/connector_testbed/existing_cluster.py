"""An existing cluster used in place of the local control plane (same client surface as ControlPlane)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


class ExistingCluster:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.dir = Path(tempfile.mkdtemp(prefix="olc-existing-"))
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise FileNotFoundError("kubectl not found")
        self._kubectl = kubectl

    @property
    def bin_dir(self) -> Path:
        """Where helm lives (built from its Go module like the control plane)."""
        from connector_testbed.binaries import ensure_binaries  # noqa: PLC0415

        return ensure_binaries(with_helm=True).directory

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._kubectl, f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def api_client(self) -> ApiClient:
        from kubernetes import config  # noqa: PLC0415

        client: ApiClient = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return client

    def issue_token(self, namespace: str, service_account: str, duration: str = "2h") -> str:
        return self.kubectl(
            "create", "token", service_account, "-n", namespace, f"--duration={duration}"
        ).stdout.strip()

    def kubeconfig_for_token(self, token: str, name: str = "sa") -> Path:
        config = yaml.safe_load(self.kubeconfig.read_text())
        config["users"] = [{"name": name, "user": {"token": token}}]
        for context in config.get("contexts", []):
            context["context"]["user"] = name
        path = self.dir / f"kubeconfig-{name}"
        path.write_text(yaml.safe_dump(config))
        return path
