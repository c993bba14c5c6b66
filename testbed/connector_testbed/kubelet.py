"""The process kubelet: a test-only node agent that runs pods as local processes.

It registers a Ready Node, binds pending pods to it (there is no scheduler), runs each pod's containers as
local processes in a private mount namespace (so volume and termination-message paths exist for that
process only), and reports real pod status: Running, then Succeeded or Failed with each container's exit
code and termination message. A pod that is deleted gets its processes killed. It serves container logs
over HTTPS so that `kubectl logs` works. Only `restartPolicy: Never` pods terminate; `Always`/`OnFailure`
containers are restarted in place with `restartCount` incremented.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from connector_testbed.kube_rest import JSON, KubeRest
from connector_testbed.pod_spec import ConfigError, ContainerPlan, Mount, PodPlanner

log = logging.getLogger("process-kubelet")
MAX_TERMINATION_MESSAGE = 4096
SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# What a container's command needs from the host: the Python environment and this project's sources.
PRESERVED_PATHS = sorted(
    {
        str(Path(sys.prefix).resolve()),
        str(Path(sys.base_prefix).resolve()),
        str(Path(__file__).resolve().parents[2]),
    }
)


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_exec_command(spec_file: Path) -> tuple[list[str], dict[str, str]]:
    """argv and env that run `connector_testbed.pod_exec` on a spec in a private mount namespace."""
    prefix = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    args = ["unshare", *prefix, "--mount", "--propagation", "private", "--", sys.executable, "-m",
            "connector_testbed.pod_exec", str(spec_file)]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    return args, env


class MountPoints:
    """Creates the host paths that a pod's bind mounts need (`/dev/termination-log`, the service-account
    folder, volume targets) and leaves them in place.

    They are never removed: unlinking a file or folder that is a mount point in another mount namespace
    detaches that mount there (Linux 3.18 and later). Another kubelet's pod on the same machine (a second
    test session, the demo, an in-cluster test) could then lose its termination-message file between its
    start and its exit, and its run would be recorded without a summary. The paths are empty files and
    folders, as a real node has them under its container root filesystems.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, target: str, is_file: bool) -> None:
        with self._lock:
            path = Path(target)
            if path.exists():
                return
            if is_file:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            else:
                path.mkdir(parents=True, exist_ok=True)


class PodWorker(threading.Thread):
    def __init__(self, kubelet: ProcessKubelet, pod: JSON) -> None:
        super().__init__(daemon=True, name=f"pod-{pod['metadata']['name']}")
        self.kubelet = kubelet
        self.pod = pod
        self.meta = pod["metadata"]
        self.path = f"/api/v1/namespaces/{self.meta['namespace']}/pods/{self.meta['name']}"
        self.dir = kubelet.root / "pods" / self.meta["uid"]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.deleted = threading.Event()
        self.statuses: dict[str, JSON] = {}
        self.restart_counts: dict[str, int] = {}

    # -- status ------------------------------------------------------------------------------------
    def _patch_status(
        self, phase: str, *, ready: bool = False, reason: str | None = None, message: str | None = None
    ) -> None:
        containers = self.pod["spec"]["containers"]
        conditions = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": self.started},
            {"type": "Initialized", "status": "True", "lastTransitionTime": self.started},
            {"type": "ContainersReady", "status": str(ready), "lastTransitionTime": now()},
            {"type": "Ready", "status": str(ready), "lastTransitionTime": now()},
        ]
        status: JSON = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": self.started,
            "conditions": conditions,
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": ready and "running" in self.statuses.get(c["name"], {}),
                    "started": "running" in self.statuses.get(c["name"], {}),
                    "restartCount": self.restart_counts.get(c["name"], 0),
                    "state": self.statuses.get(c["name"], {"waiting": {"reason": "ContainerCreating"}}),
                }
                for c in containers
            ],
            "reason": reason,
            "message": message,
        }
        self.kubelet.api.merge_patch(self.path + "/status", {"status": status})

    # -- run ---------------------------------------------------------------------------------------
    def run(self) -> None:
        self.started = now()
        try:
            self._run()
            if self.deleted.is_set() and not self.kubelet.stopping.is_set():
                self._report_deleted()
        except Exception:
            log.exception("pod %s/%s: kubelet error", self.meta["namespace"], self.meta["name"])
        finally:
            self.kubelet.forget(self.meta["uid"])

    def _report_deleted(self) -> None:
        """A pod deleted before it finished ends in a terminal phase, as with a real kubelet (since 1.27).

        The Job controller waits for that phase before it counts a terminating pod when the Job has a
        `podFailurePolicy` (the operator's Jobs do): without it the run would hang until its deadline.
        Containers that never ran are reported as the kubelet does: `ContainerStatusUnknown`, exit 137.
        """
        for container in self.pod["spec"]["containers"]:
            if "terminated" not in self.statuses.get(container["name"], {}):
                self.statuses[container["name"]] = {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was deleted.",
                        "startedAt": self.started,
                        "finishedAt": now(),
                    }
                }
        codes = [s["terminated"].get("exitCode", 1) for s in self.statuses.values() if "terminated" in s]
        phase = "Succeeded" if codes and all(code == 0 for code in codes) else "Failed"
        try:
            self._patch_status(phase)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 404:  # already gone: nothing left to report
                raise
        log.info("pod %s/%s deleted while running: %s", self.meta["namespace"], self.meta["name"], phase)

    def _prepare(self) -> tuple[PodPlanner, list[ContainerPlan]] | None:
        """Resolve env and volumes; wait (like CreateContainerConfigError) while a Secret is missing."""
        while not self.deleted.is_set():
            self.dir.mkdir(parents=True, exist_ok=True)
            self.dir.chmod(0o700)
            planner = PodPlanner(self.kubelet.api, self.pod, self.dir, "127.0.0.1", self.kubelet.api_port)
            try:
                volumes = planner.volumes()
                plans = [planner.plan(c, volumes) for c in self.pod["spec"]["containers"]]
                self._mount_service_account_token(plans)
                return planner, plans
            except ConfigError as error:
                for c in self.pod["spec"]["containers"]:
                    self.statuses[c["name"]] = {
                        "waiting": {"reason": "CreateContainerConfigError", "message": str(error)}
                    }
                self._patch_status("Pending")
                self.deleted.wait(2.0)
        return None

    def _mount_service_account_token(self, plans: list[ContainerPlan]) -> None:
        """What ServiceAccount admission and the kubelet do together: a bound token, the CA and the namespace.

        Only for pods that do not opt out with `automountServiceAccountToken: false`, and only when the
        ServiceAccount exists (the testbed runs no ServiceAccount controller, so `default` may not).
        """
        spec = self.pod["spec"]
        if spec.get("automountServiceAccountToken") is False:
            return
        account = spec.get("serviceAccountName") or "default"
        namespace = self.meta["namespace"]
        try:
            response = self.kubelet.api.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
                {
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenRequest",
                    "spec": {
                        "expirationSeconds": 3607,
                        "boundObjectRef": {
                            "apiVersion": "v1",
                            "kind": "Pod",
                            "name": self.meta["name"],
                            "uid": self.meta["uid"],
                        },
                    },
                },
            )
        except httpx.HTTPStatusError as error:
            log.info(
                "pod %s/%s: no service-account token (%s)",
                namespace,
                self.meta["name"],
                error.response.status_code,
            )
            return
        folder = self.dir / "volumes" / "kube-api-access"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "token").write_text(str((response or {})["status"]["token"]))
        (folder / "ca.crt").write_bytes(self.kubelet.api.ca_file.read_bytes())
        (folder / "namespace").write_text(namespace)
        for plan in plans:
            if not any(m.target == SERVICE_ACCOUNT_PATH for m in plan.mounts):
                plan.mounts.append(Mount(folder, SERVICE_ACCOUNT_PATH, read_only=True))

    def _run(self) -> None:
        prepared = self._prepare()
        if prepared is None:
            return
        _, plans = prepared
        for init in self.pod["spec"].get("initContainers") or []:
            planner = PodPlanner(self.kubelet.api, self.pod, self.dir, "127.0.0.1", self.kubelet.api_port)
            code, _ = self._run_container(planner.plan(init, planner.volumes()))
            if code != 0:
                self._patch_status("Failed", reason="InitContainerFailed")
                return
        threads = [threading.Thread(target=self._container_loop, args=(p,), daemon=True) for p in plans]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        if not self.deleted.is_set():
            self._patch_status("Running", ready=True)
        for thread in threads:
            thread.join()
        if self.deleted.is_set():
            return
        failed = any(s.get("terminated", {}).get("exitCode", 1) != 0 for s in self.statuses.values())
        self._patch_status("Failed" if failed else "Succeeded")
        log.info(
            "pod %s/%s %s", self.meta["namespace"], self.meta["name"], "Failed" if failed else "Succeeded"
        )

    def _container_loop(self, plan: ContainerPlan) -> None:
        policy = self.pod["spec"].get("restartPolicy", "Always")
        while True:
            code, _ = self._run_container(plan)
            if self.deleted.is_set() or policy == "Never" or (policy == "OnFailure" and code == 0):
                return
            self.restart_counts[plan.name] = self.restart_counts.get(plan.name, 0) + 1
            self._patch_status("Running", ready=False)
            if self.deleted.wait(min(10.0, 0.5 * 2 ** self.restart_counts[plan.name])):
                return

    def _run_container(self, plan: ContainerPlan) -> tuple[int, str]:
        self.kubelet.mounts.acquire(plan.working_dir, is_file=False)
        for mount in plan.mounts:
            self.kubelet.mounts.acquire(mount.target, mount.is_file)
        spec_file = self.dir / f"{plan.name}.spec.json"
        spec_file.touch(mode=0o600)
        spec_file.write_text(
            json.dumps(
                {
                    "mounts": [
                        {"source": str(m.source), "target": m.target, "readOnly": m.read_only}
                        for m in plan.mounts
                    ],
                    "workingDir": plan.working_dir,
                    "argv": plan.argv,
                    "env": plan.env,
                    "readOnlyRootFilesystem": plan.read_only_root,
                    "terminationMessageFile": str(plan.termination_file),
                    "preserve": PRESERVED_PATHS,
                }
            )
        )
        started = now()
        args, env = pod_exec_command(spec_file)
        with plan.log_file.open("ab") as log_handle:
            process = subprocess.Popen(
                args,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        self.processes[plan.name] = process
        self.statuses[plan.name] = {"running": {"startedAt": started}}
        log.info(
            "pod %s/%s container %s started: %s",
            self.meta["namespace"],
            self.meta["name"],
            plan.name,
            plan.argv[0],
        )
        code = process.wait()
        if code < 0:
            code = 128 - code
        message = plan.termination_file.read_bytes()[:MAX_TERMINATION_MESSAGE].decode(errors="replace")
        if not message and code != 0 and plan.termination_policy == "FallbackToLogsOnError":
            lines = plan.log_file.read_bytes()[-2048:].decode(errors="replace").splitlines()[-80:]
            message = "\n".join(lines)
        terminated: JSON = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": started,
            "finishedAt": now(),
        }
        if message:
            terminated["message"] = message
        self.statuses[plan.name] = {"terminated": terminated}
        return code, message

    def kill(self) -> None:
        self.deleted.set()
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 5
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class ProcessKubelet:
    def __init__(self, kubeconfig: Path, node_name: str, root: Path, tls: tuple[Path, Path] | None) -> None:
        self.api = KubeRest(kubeconfig)
        self.api_port = urllib.parse.urlparse(self.api.server).port or 443
        self.node_name = node_name
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.mounts = MountPoints()
        self.workers: dict[str, PodWorker] = {}
        self.finished: set[str] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.log_port = 0
        if tls is not None:
            self.log_port = self._serve_logs(tls)

    # -- node --------------------------------------------------------------------------------------
    def register_node(self) -> None:
        path = f"/api/v1/nodes/{self.node_name}"
        if self.api.get(path, ok404=True) is None:
            self.api.request(
                "POST",
                "/api/v1/nodes",
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": self.node_name,
                        "labels": {
                            "kubernetes.io/hostname": self.node_name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "type": "process-kubelet",
                        },
                    },
                },
            )
        resources = {"cpu": "1000", "memory": "1Ti", "pods": "1000", "ephemeral-storage": "1Ti"}
        self.api.merge_patch(
            path + "/status",
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "process kubelet is posting ready status",
                            "lastHeartbeatTime": now(),
                            "lastTransitionTime": now(),
                        }
                    ],
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": self.node_name},
                    ],
                    "capacity": resources,
                    "allocatable": resources,
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": self.log_port}},
                    "nodeInfo": {
                        "kubeletVersion": "v1.36.3-process",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                        "containerRuntimeVersion": "process://1",
                        "kernelVersion": os.uname().release,
                        "osImage": "process kubelet",
                        "kubeProxyVersion": "",
                        "machineID": "",
                        "systemUUID": "",
                        "bootID": "",
                    },
                }
            },
        )

    # -- pods --------------------------------------------------------------------------------------
    def forget(self, uid: str) -> None:
        with self.lock:
            self.workers.pop(uid, None)
            # Events queued before the pod finished may still arrive (a lagging watch): never act on them.
            self.finished.add(uid)

    def handle(self, pod: JSON) -> None:
        meta, spec = pod["metadata"], pod["spec"]
        uid = meta["uid"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        if meta.get("deletionTimestamp"):
            with self.lock:
                worker = self.workers.get(uid)
            if worker is not None:
                worker.kill()
                worker.join(timeout=10)
            # Like the real kubelet: a deleted pod's folder (Secret volumes, resolved env) goes away.
            shutil.rmtree(self.root / "pods" / uid, ignore_errors=True)
            if spec.get("nodeName") in (self.node_name, None, ""):
                try:
                    self.api.request(
                        "DELETE",
                        path,
                        {"gracePeriodSeconds": 0},
                        ok404=True,
                        params={"gracePeriodSeconds": "0"},
                    )
                except httpx.HTTPStatusError as error:
                    log.warning("deleting %s: %s", path, error)
            return
        if not spec.get("nodeName"):
            if spec.get("schedulerName", "default-scheduler") != "default-scheduler":
                return
            try:
                self.api.request(
                    "POST",
                    path + "/binding",
                    {
                        "apiVersion": "v1",
                        "kind": "Binding",
                        "metadata": {"name": meta["name"]},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name},
                    },
                )
            except httpx.HTTPStatusError as error:
                log.warning("binding %s: %s", path, error)
            return
        if spec["nodeName"] != self.node_name:
            return
        phase = (pod.get("status") or {}).get("phase", "Pending")
        with self.lock:
            if uid in self.workers or uid in self.finished:
                return
            if phase in ("Succeeded", "Failed"):
                return
            if phase == "Running":
                # Started by an earlier kubelet whose process is gone: report it lost.
                self.api.merge_patch(
                    path + "/status",
                    {
                        "status": {
                            "phase": "Failed",
                            "reason": "NodeRestart",
                            "message": "the process kubelet restarted",
                        }
                    },
                )
                return
            worker = PodWorker(self, pod)
            self.workers[uid] = worker
        worker.start()

    def run(self) -> None:
        self.register_node()
        log.info("node %s registered; logs on port %s", self.node_name, self.log_port)
        while not self.stopping.is_set():
            try:
                pods = self.api.get("/api/v1/pods") or {}
                for pod in pods.get("items", []):
                    self.handle(pod)
                version = pods.get("metadata", {}).get("resourceVersion", "")
                for event in self.api.watch("/api/v1/pods", {"resourceVersion": version}):
                    if self.stopping.is_set():
                        return
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self.handle(event["object"])
                    elif event["type"] == "ERROR":
                        break
            except (httpx.HTTPError, OSError) as error:
                if self.stopping.is_set():
                    return
                log.warning("watch interrupted (%s); relisting", error)
                time.sleep(0.5)

    def shutdown(self) -> None:
        self.stopping.set()
        with self.lock:
            workers = list(self.workers.values())
        for worker in workers:
            worker.kill()

    # -- logs --------------------------------------------------------------------------------------
    def _serve_logs(self, tls: tuple[Path, Path]) -> int:
        kubelet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "containerLogs":
                    self.send_error(404)
                    return
                _, namespace, name, container = parts
                query = urllib.parse.parse_qs(url.query)
                log_file = kubelet.find_log(namespace, name, container)
                if log_file is None:
                    self.send_error(404, "no logs for this container on this node")
                    return
                data = log_file.read_bytes()
                tail = query.get("tailLines")
                if tail:
                    data = b"".join(data.splitlines(keepends=True)[-int(tail[0]) :])
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return int(server.server_address[1])

    def find_log(self, namespace: str, name: str, container: str) -> Path | None:
        pod = self.api.get(f"/api/v1/namespaces/{namespace}/pods/{name}", ok404=True)
        if pod is None:
            return None
        path = self.root / "pods" / pod["metadata"]["uid"] / f"{container}.log"
        return path if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connector_testbed.kubelet")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--node-name", default="process-node")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    tls = (args.tls_cert, args.tls_key) if args.tls_cert and args.tls_key else None
    kubelet = ProcessKubelet(args.kubeconfig, args.node_name, args.root, tls)

    def stop(signum: int, frame: object) -> None:
        kubelet.shutdown()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kubelet.run()


if __name__ == "__main__":
    main()
