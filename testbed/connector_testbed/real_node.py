"""A real node for the e2e tier: kubelet, containerd, runc, CNI, kube-proxy and kube-scheduler.

The process kubelet (connector_testbed.kubelet) runs a pod's command from the virtual environment, which is
fast but proves nothing about the images. A real node runs the images that `make images` builds, under the
restrictions users get: numeric non-root user, read-only root filesystem, no capabilities, memory limits
enforced by the kernel (an OOM kill is an OOM kill), the operator reaching the API server through the
`kubernetes` Service with its ServiceAccount token. It is made of the same Kubernetes version as the
control plane (built from the same Go module set) and Debian's containerd, runc and CNI plugins.

    with RealNodeCluster(images=ensure_images().all) as cluster:
        cluster.plane.kubectl("get", "nodes")      # one Ready node
        relay = cluster.node.expose(54321)         # a loopback server, reachable from pods

Pods reach the host through the node's bridge address (`node.gateway`); the API server listens there.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from connector_testbed import certs
from connector_testbed.binaries import ensure_node_binaries
from connector_testbed.containerd import CNI_BIN_DIR, PAUSE_IMAGE, Containerd
from connector_testbed.control_plane import ControlPlane, ControlPlaneError
from connector_testbed.port_relay import PortRelay
from connector_testbed.ports import free_port
from connector_testbed.processes import spawn, stop

REAL_NODE_NAME = "real-node"
READY_TIMEOUT = 120.0


class PodNetwork:
    """A Linux bridge with a /24 for pods; made before the API server starts so it can listen on it."""

    def __init__(self) -> None:
        self.bridge = f"olc-{secrets.token_hex(4)}"
        self.subnet = self._free_subnet()
        self.gateway = str(next(self.subnet.hosts()))

    @staticmethod
    def _free_subnet() -> ipaddress.IPv4Network:
        routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout
        used = []
        for line in routes.splitlines():
            with contextlib.suppress(ValueError):
                used.append(ipaddress.ip_network(line.split()[0], strict=False))
        for _ in range(200):
            candidate = ipaddress.IPv4Network(f"10.244.{secrets.randbelow(256)}.0/24")
            if not any(candidate.overlaps(network) for network in used if network.prefixlen > 0):
                return candidate
        raise ControlPlaneError("no free /24 in 10.244.0.0/16 for the pod network")

    def create(self) -> None:
        prefix = self.subnet.prefixlen
        for command in (
            ["ip", "link", "add", "name", self.bridge, "type", "bridge"],
            ["ip", "addr", "add", f"{self.gateway}/{prefix}", "dev", self.bridge],
            ["ip", "link", "set", self.bridge, "up"],
        ):
            subprocess.run(command, check=True, capture_output=True)

    def delete(self) -> None:
        subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)

    def conflist(self, data_dir: Path) -> str:
        return json.dumps(
            {
                "cniVersion": "0.4.0",
                "name": self.bridge,
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": self.bridge,
                        "isGateway": True,
                        "ipMasq": False,
                        "hairpinMode": True,
                        "ipam": {
                            "type": "host-local",
                            "ranges": [[{"subnet": str(self.subnet), "gateway": self.gateway}]],
                            "routes": [{"dst": "0.0.0.0/0"}],
                            "dataDir": str(data_dir),
                        },
                    },
                    {"type": "portmap", "capabilities": {"portMappings": True}},
                ],
            },
            indent=2,
        )


class RealNode:
    """kubelet + containerd + kube-proxy + kube-scheduler against a ControlPlane started with
    `kubelet=False, advertise_address=network.gateway`."""

    def __init__(self, plane: ControlPlane, network: PodNetwork, *, images: tuple[str, ...] = ()) -> None:
        self.plane = plane
        self.network = network
        self.images = images
        self.name = REAL_NODE_NAME
        self.dir = Path()  # plane.dir / "node", once the control plane has made its folder
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._relays: list[PortRelay] = []
        self.containerd: Containerd | None = None
        self.started_seconds = 0.0

    @property
    def gateway(self) -> str:
        return self.network.gateway

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> RealNode:
        started = time.monotonic()
        self.bin_dir = ensure_node_binaries()
        self.dir = self.plane.dir / "node"
        if not (CNI_BIN_DIR / "bridge").exists():
            raise ControlPlaneError(
                f"CNI plugins missing in {CNI_BIN_DIR}: run scripts/install-container-runtime.sh"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        cni_conf = self.dir / "net.d"
        cni_conf.mkdir(exist_ok=True)
        (cni_conf / "10-olc.conflist").write_text(self.network.conflist(self.dir / "ipam"))
        self.containerd = Containerd(self.dir / "containerd", cni_conf, self.plane.logs_dir)
        self.containerd.start()
        self._import_images()
        self.plane.say("containerd ready; images imported")
        self._start_kubelet()
        self._start_proxy()
        self._start_scheduler()
        self._wait_ready()
        self.started_seconds = time.monotonic() - started
        self.plane.say(f"real node {self.name} Ready in {self.started_seconds:.1f} s")
        return self

    def stop(self) -> None:
        for relay in self._relays:
            relay.close()
        self._relays.clear()
        self._drain_pods()
        for name, process in reversed(self._processes):
            stop(process, timeout=10)
            self.plane.say(f"stopped {name}")
        self._processes.clear()
        if self.containerd is not None:
            self.containerd.stop()
        self._unmount_all()
        proxy = self.bin_dir / "kube-proxy" if hasattr(self, "bin_dir") else None
        if proxy is not None and proxy.exists():
            subprocess.run([str(proxy), "--cleanup"], capture_output=True, check=False, timeout=60)

    # -- components ---------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        self._processes.append((name, spawn(args, log_file=self.plane.logs_dir / f"{name}.log")))

    def _check_alive(self) -> None:
        for name, process in self._processes:
            if process.poll() is not None:
                tail = (self.plane.logs_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise ControlPlaneError(f"{name} exited with code {process.returncode}:\n{tail}")

    def _import_images(self) -> None:
        assert self.containerd is not None
        inspect = subprocess.run(
            ["docker", "image", "inspect", PAUSE_IMAGE], capture_output=True, check=False
        )
        if inspect.returncode != 0:
            self._make_pause_image()
        self.containerd.import_from_docker(PAUSE_IMAGE, *self.images)

    def _make_pause_image(self) -> None:
        """The sandbox image: one static program that waits for SIGTERM, as `docker import` of one file."""
        with tempfile.TemporaryDirectory(prefix="olc-pause-") as folder:
            archive = Path(folder) / "pause.tar"
            subprocess.run(
                ["tar", "-C", str(self.bin_dir), "--owner=0", "--group=0", "-cf", str(archive), "pause"],
                check=True,
            )
            subprocess.run(
                ["docker", "import", "--change", 'ENTRYPOINT ["/pause"]', "--change", "USER 65535:65535",
                 str(archive), PAUSE_IMAGE],
                check=True, capture_output=True,
            )  # fmt: skip

    def _start_kubelet(self) -> None:
        pki = self.plane.dir / "pki"
        assert self.containerd is not None
        certs.make_serving_cert(
            pki, "real-kubelet", f"DNS:{self.name},DNS:localhost,IP:{self.gateway},IP:127.0.0.1"
        )
        self.kubelet_port = free_port()
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # This machine runs cgroup v1, which the kubelet refuses by default since 1.35.
            "failCgroupV1": False,
            "cgroupDriver": "cgroupfs",
            "containerRuntimeEndpoint": f"unix://{self.containerd.socket}",
            "address": self.gateway,
            "port": self.kubelet_port,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": free_port(),
            "tlsCertFile": str(pki / "real-kubelet.crt"),
            "tlsPrivateKeyFile": str(pki / "real-kubelet.key"),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "podCIDR": str(self.network.subnet),
            "podLogsDir": str(self.dir / "pod-logs"),
            "failSwapOn": False,
            "resolvConf": "/etc/resolv.conf",
            "serializeImagePulls": False,
            # The imported images cannot be pulled again: never collect them.
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "syncFrequency": "10s",
            "nodeStatusUpdateFrequency": "5s",
        }
        path = self.dir / "kubelet-config.json"
        path.write_text(json.dumps(config, indent=2))
        self._spawn(
            "kubelet",
            [
                str(self.bin_dir / "kubelet"),
                f"--config={path}",
                f"--kubeconfig={self.plane.kubeconfig}",
                f"--root-dir={self.dir / 'kubelet'}",
                f"--hostname-override={self.name}",
                f"--node-ip={self.gateway}",
                "--v=1",
            ],
        )
        self.plane.say(f"kubelet starting (node {self.name}, {self.gateway}:{self.kubelet_port})")

    def _start_proxy(self) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(self.plane.kubeconfig)},
            "mode": "iptables",
            "clusterCIDR": str(self.network.subnet),
            "hostnameOverride": self.name,
            "healthzBindAddress": f"127.0.0.1:{free_port()}",
            "metricsBindAddress": f"127.0.0.1:{free_port()}",
            # Leave the host's conntrack sysctls alone.
            "conntrack": {
                "maxPerCore": 0,
                "min": 0,
                "tcpEstablishedTimeout": "0s",
                "tcpCloseWaitTimeout": "0s",
            },
            "iptables": {"localhostNodePorts": False},
        }
        path = self.dir / "kube-proxy-config.json"
        path.write_text(json.dumps(config, indent=2))
        self._spawn("kube-proxy", [str(self.bin_dir / "kube-proxy"), f"--config={path}"])

    def _start_scheduler(self) -> None:
        kubeconfig = str(self.plane.kubeconfig)
        self._spawn(
            "kube-scheduler",
            [
                str(self.bin_dir / "kube-scheduler"),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
            ],
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self._check_alive()
            status, body = self.plane.get(f"/api/v1/nodes/{self.name}")
            if status == 200:
                conditions = json.loads(body).get("status", {}).get("conditions", [])
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    return
            time.sleep(0.5)
        raise ControlPlaneError(f"node {self.name} not Ready within {READY_TIMEOUT:.0f} s")

    # -- helpers for tests ---------------------------------------------------------------------------
    def expose(self, port: int) -> PortRelay:
        """Make a server on 127.0.0.1:`port` reachable from pods at `gateway:relay.port`."""
        relay = PortRelay(self.gateway, port)
        self._relays.append(relay)
        return relay

    def import_images(self, *images: str) -> None:
        assert self.containerd is not None
        self.containerd.import_from_docker(*images)

    # -- teardown ---------------------------------------------------------------------------------
    def _drain_pods(self) -> None:
        """Let the kubelet stop every pod (sandboxes, network namespaces, volume mounts) before it stops."""
        if not any(name == "kubelet" and p.poll() is None for name, p in self._processes):
            return
        self.plane.kubectl(
            "delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force", "--wait=false",
            check=False, timeout=30,
        )  # fmt: skip
        assert self.containerd is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.containerd.ctr("tasks", "ls", "-q", check=False).stdout.strip():
                return
            time.sleep(0.5)

    def _unmount_all(self) -> None:
        """Lazily unmount what is left under the node's folder (deepest first), so it can be removed."""
        prefix = str(self.dir) + "/"
        mounts = []
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mounts").read_text().splitlines():
                target = line.split()[1].replace("\\040", " ")
                if target.startswith(prefix):
                    mounts.append(target)
        for target in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", target], capture_output=True, check=False)


class RealNodeCluster:
    """A control plane with one real node, started and stopped together."""

    def __init__(
        self, *, images: tuple[str, ...] = (), log: bool = True, extra_controllers: tuple[str, ...] = ()
    ) -> None:
        self.network = PodNetwork()
        self.plane = ControlPlane(
            kubelet=False,
            log=log,
            advertise_address=self.network.gateway,
            extra_controllers=extra_controllers,
        )
        self.node = RealNode(self.plane, self.network, images=images)

    def __enter__(self) -> RealNodeCluster:
        self.network.create()
        try:
            self.plane.start()
            self.node.start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.node.stop()
        finally:
            self.plane.stop()
            self.network.delete()
