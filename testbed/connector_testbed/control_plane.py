"""A real local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, process kubelet.

Everything listens on free loopback ports, lives in one temporary folder and is torn down on exit, also
when a test fails or the process is interrupted (children get a parent-death signal).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from connector_testbed import certs
from connector_testbed.binaries import Binaries, ensure_binaries
from connector_testbed.ports import free_port
from connector_testbed.processes import spawn, stop

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

CONTROLLERS = (
    "job-controller",
    "cronjob-controller",
    "garbage-collector-controller",
    "ttl-after-finished-controller",
    "namespace-controller",
    "pod-garbage-collector-controller",
    "clusterrole-aggregation-controller",
)
NODE_NAME = "process-node"
START_TIMEOUT = float(os.environ.get("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT", "60"))


class ControlPlaneError(RuntimeError):
    pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_dirs() -> None:
    """Remove folders of earlier control planes whose owner was killed before it could clean up."""
    for candidate in Path(tempfile.gettempdir()).glob("olc-testbed-*"):
        owner = candidate / "owner.pid"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if not _pid_alive(pid):
            shutil.rmtree(candidate, ignore_errors=True)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that `with ControlPlane()` blocks (and pytest) still tear down."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


class ControlPlane:
    """Start with `with ControlPlane() as cp:`; `cp.kubeconfig` is all kubectl, kopf and clients need."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        kubelet: bool = True,
        log: bool = True,
        extra_controllers: tuple[str, ...] = (),
        advertise_address: str | None = None,
    ) -> None:
        # A real node (connector_testbed.real_node) needs the API server on an address that pods reach,
        # the `kubernetes` Service's endpoints, ServiceAccount admission (projected tokens) and the
        # controllers that make `default` ServiceAccounts and `kube-root-ca.crt` and manage node taints.
        self.advertise_address = advertise_address
        if advertise_address is not None:
            extra_controllers = (
                *extra_controllers,
                "serviceaccount-controller",
                "root-ca-certificate-publisher-controller",
                "node-lifecycle-controller",  # lifts the kubelet's initial not-ready taint
            )
        self._extra_controllers = extra_controllers
        self._requested_dir = workdir
        self._with_kubelet = kubelet
        self._log = log
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.dir = Path()
        self.binaries: Binaries | None = None
        self.token = ""
        self.server = ""
        self.kubeconfig = Path()
        self.started_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def bin_dir(self) -> Path:
        assert self.binaries is not None
        return self.binaries.directory

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    def say(self, message: str) -> None:
        if self._log:
            print(f"[testbed +{time.monotonic() - self._t0:5.1f}s] {message}", file=sys.stderr, flush=True)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self.binaries = ensure_binaries(with_helm=False, log=self._log)
        if self._requested_dir is not None:
            self.dir = self._requested_dir
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            sweep_stale_dirs()
            self.dir = Path(tempfile.mkdtemp(prefix="olc-testbed-"))
        (self.dir / "owner.pid").write_text(str(os.getpid()))
        _exit_on_sigterm()
        self.logs_dir.mkdir(exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - self._t0
        self.say(f"control plane ready in {self.started_seconds:.1f} s; KUBECONFIG={self.kubeconfig}")

    def _start(self) -> None:
        pki = self.dir / "pki"
        pki.mkdir()
        certs.make_ca(pki)
        address_san = f",IP:{self.advertise_address}" if self.advertise_address else ""
        certs.make_serving_cert(
            pki,
            "apiserver",
            f"DNS:localhost,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.0.0.1{address_san}",
        )
        certs.make_client_cert(pki, "apiserver-kubelet-client", "system:masters")
        certs.make_serving_cert(pki, "kubelet", f"DNS:localhost,DNS:{NODE_NAME},IP:127.0.0.1")
        certs.make_service_account_keys(pki)
        self.token = secrets.token_hex(16)
        (pki / "tokens.csv").write_text(f"{self.token},admin,admin-uid,system:masters\n")
        self._start_etcd()
        self._start_apiserver(pki)
        self._write_kubeconfig(pki)
        self._wait_ready()
        self._start_controller_manager()
        if self._with_kubelet:
            self._start_kubelet(pki)
        self._wait_namespace("default")

    def stop(self) -> None:
        for name, process in reversed(self._processes):
            stop(process, timeout=10)
            if self._log:
                self.say(f"stopped {name}")
        self._processes.clear()
        if self.dir and self._requested_dir is None and self.dir.name.startswith("olc-testbed-"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- components ------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        process = spawn(args, log_file=self.logs_dir / f"{name}.log", env=env)
        self._processes.append((name, process))

    def _check_alive(self) -> None:
        for name, process in self._processes:
            if process.poll() is not None:
                tail = (self.logs_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise ControlPlaneError(f"{name} exited with code {process.returncode}:\n{tail}")

    def _start_etcd(self) -> None:
        self.etcd_port, peer = free_port(), free_port()
        self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=testbed",
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=testbed=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                "--listen-metrics-urls=",
            ],
        )
        self.say(f"etcd starting on 127.0.0.1:{self.etcd_port}")

    def _start_apiserver(self, pki: Path) -> None:
        self.api_port = free_port()
        address = self.advertise_address or "127.0.0.1"
        self.server = f"https://{address}:{self.api_port}"
        real_node = self.advertise_address is not None
        self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                f"--bind-address={address}",
                f"--advertise-address={address}",
                f"--secure-port={self.api_port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                *([] if real_node else ["--disable-admission-plugins=ServiceAccount"]),
                "--enable-admission-plugins=PodSecurity" + (",ServiceAccount" if real_node else ""),
                "--allow-privileged=false",
                f"--endpoint-reconciler-type={'lease' if real_node else 'none'}",
                f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--profiling=false",
            ],
        )
        self.say(f"kube-apiserver starting on {self.server}")

    def _write_kubeconfig(self, pki: Path) -> None:
        self.ca_file = pki / "ca.crt"
        self.kubeconfig = self.dir / "kubeconfig"
        self.kubeconfig.write_text(self.kubeconfig_text(self.token, user="admin"))
        self.kubeconfig.chmod(0o600)

    def kubeconfig_text(self, token: str, *, user: str) -> str:
        return (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: testbed\n  cluster:\n    server: {self.server}\n"
            f"    certificate-authority: {self.ca_file}\n"
            f"users:\n- name: {user}\n  user:\n    token: {token}\n"
            f"contexts:\n- name: testbed\n  context:\n    cluster: testbed\n    user: {user}\n"
            "    namespace: default\ncurrent-context: testbed\n"
        )

    def _start_controller_manager(self) -> None:
        kubeconfig = str(self.kubeconfig)
        self._spawn(
            "kube-controller-manager",
            [
                str(self.bin_dir / "kube-controller-manager"),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                f"--root-ca-file={self.ca_file}",  # published as kube-root-ca.crt (projected tokens)
                f"--controllers={','.join(CONTROLLERS + self._extra_controllers)}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                "--concurrent-job-syncs=20",
                "--concurrent-cron-job-syncs=10",
                "--terminated-pod-gc-threshold=500",
            ],
        )
        self.say("kube-controller-manager starting")

    def _start_kubelet(self, pki: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")]
        )
        self._spawn(
            "kubelet",
            [
                sys.executable,
                "-m",
                "connector_testbed.kubelet",
                f"--kubeconfig={self.kubeconfig}",
                f"--node-name={NODE_NAME}",
                f"--root={self.dir / 'kubelet'}",
                f"--tls-cert={pki / 'kubelet.crt'}",
                f"--tls-key={pki / 'kubelet.key'}",
            ],
            env=env,
        )
        self.say("process kubelet starting")

    # -- waiting ---------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.server + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, context=self._ssl_context(), timeout=5) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    self.say("kube-apiserver ready")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ControlPlaneError(f"kube-apiserver not ready within {START_TIMEOUT:.0f} s")

    def _wait_namespace(self, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive()
            status, _ = self.get(f"/api/v1/namespaces/{name}")
            node_ok = not self._with_kubelet or self.get(f"/api/v1/nodes/{NODE_NAME}")[0] == 200
            if status == 200 and node_ok:
                return
            time.sleep(0.2)
        raise ControlPlaneError(f"namespace {name} or node {NODE_NAME} did not appear")

    # -- clients ---------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        assert self.binaries is not None
        env["PATH"] = os.pathsep.join(
            [str(self.binaries.kubectl.parent), str(self.bin_dir), env.get("PATH", "")]
        )
        return env

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        assert self.binaries is not None
        result = subprocess.run(
            [str(self.binaries.kubectl), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise ControlPlaneError(
                f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def api_client(self) -> ApiClient:
        from kubernetes import config  # noqa: PLC0415 - optional heavy import

        client: ApiClient = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return client

    def issue_token(self, namespace: str, service_account: str, duration: str = "2h") -> str:
        """A token for a ServiceAccount, issued by the API server (TokenRequest)."""
        result = self.kubectl("create", "token", service_account, "-n", namespace, f"--duration={duration}")
        return result.stdout.strip()

    def kubeconfig_for_token(self, token: str, name: str = "sa") -> Path:
        path = self.dir / f"kubeconfig-{name}-{secrets.token_hex(4)}"
        path.write_text(self.kubeconfig_text(token, user=name))
        path.chmod(0o600)
        return path

    def describe(self) -> dict[str, Any]:
        return {"server": self.server, "kubeconfig": str(self.kubeconfig), "dir": str(self.dir)}
