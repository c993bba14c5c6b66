"""On a real node (kubelet, containerd, runc, CNI, kube-proxy) with the images `make images` builds: the
chart installed with image overrides, the operator running in its container with its ServiceAccount and
in-cluster configuration, imports run by extractor pods from the extractor image, in namespaces that
enforce the restricted Pod Security Standard.

The PostgreSQL server and the DataGalaxy simulator listen on the host's loopback; the real node makes them
reachable from pods at the same 127.0.0.1 URLs (RealNode.expose), which the CRD requires for plain http.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector_testbed.images import Images, ensure_images
from connector_testbed.real_node import RealNodeCluster
from connector_testbed.simulator.seed import VALID_TOKEN
from connector_testbed.simulator.server import SimulatorServer
from tests.fixtures.helm import CHART, Helm, HelmError, create_restricted_namespace
from tests.support.manifests import ShopDatabase, connection_manifest, secrets_manifest
from tests.support.wait import wait_for

pytestmark = pytest.mark.e2e
RUN = "connectors.datagalaxy.com/run-requested"
SOURCE_TLS_IN_CRD = "tls:" in (CHART / "crds" / "onlineconnections.yaml").read_text()


@dataclasses.dataclass
class Installed:
    cluster: RealNodeCluster
    images: Images
    system: str
    team: str
    database: ShopDatabase
    api_url: str
    simulator: SimulatorServer

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        return self.cluster.plane.kubectl(*args, input=input, check=check).stdout

    def get(self, *args: str) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.kubectl("get", *args, "-o", "json"))
        return body

    def connection(self, name: str) -> dict[str, Any]:
        return self.get("olc", name, "-n", self.team)

    def apply_connection(self, name: str, **spec: Any) -> None:
        # The testbed's PostgreSQL serves no TLS, and the extractor requires it unless told otherwise
        # (`source.tls.mode`, once the CRD has the field).
        if SOURCE_TLS_IN_CRD:
            spec.setdefault("source", {"tls": {"mode": "disable"}})
        manifest = connection_manifest(name, self.database, self.api_url, **spec)
        self.kubectl("apply", "-n", self.team, "-f", "-", input=manifest)
        wait_for(
            lambda: self._ready(name),
            timeout=60,
            interval=0.5,
            what=f"{name} Ready=True from the in-cluster operator",
        )

    def _ready(self, name: str) -> bool:
        conditions = self.connection(name).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def run(self, name: str) -> str:
        request = f"real-{secrets.token_hex(3)}"
        self.kubectl("annotate", "olc", name, "-n", self.team, f"{RUN}={request}", "--overwrite")
        return request

    def finished_run(self, name: str, timeout: float = 180) -> dict[str, Any]:
        def recorded() -> dict[str, Any] | None:
            status = self.connection(name).get("status", {})
            last: dict[str, Any] | None = status.get("lastRun")
            return last if last and not status.get("activeJob") else None

        return wait_for(recorded, timeout=timeout, interval=0.5, what=f"the run of {name} to be recorded")

    def explain(self, record: dict[str, Any]) -> str:
        logs = self.kubectl("logs", "-n", self.team, f"job/{record['job']}", "--tail=30", check=False)
        return f"{json.dumps(record)}\n{logs}"

    def extractor_pods(self, job: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get("pods", "-n", self.team, "-l", f"job-name={job}")["items"]
        return items


def diagnose(cluster: RealNodeCluster, namespace: str) -> str:
    """What a failed install looks like from the cluster: pods, their events, the node's logs."""
    plane = cluster.plane
    parts = [
        plane.kubectl("get", "pods", "-A", "-o", "wide", check=False).stdout,
        plane.kubectl("describe", "pods", "-n", namespace, check=False).stdout[-2500:],
        plane.kubectl(
            "logs",
            "-n",
            namespace,
            "--all-containers",
            "--tail=40",
            "-l",
            "app.kubernetes.io/name",
            check=False,
        ).stdout,
    ]
    for name in ("kubelet", "containerd"):
        lines = (plane.logs_dir / f"{name}.log").read_text(errors="replace").splitlines()
        errors = [line for line in lines if line.startswith("E") or "level=error" in line]
        parts.append(f"--- {name} errors\n" + "\n".join(errors[-20:]))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def installed(
    helm: Helm,
    shop_database: ShopDatabase,
    _datagalaxy_simulator_session: SimulatorServer,
) -> Iterator[Installed]:
    images = ensure_images()
    controllers = ("deployment-controller", "replicaset-controller")
    with RealNodeCluster(images=images.all, extra_controllers=controllers) as cluster:
        # The pods reach the host's loopback servers at the same 127.0.0.1 URLs (real_node.expose).
        cluster.node.expose(shop_database.port)
        simulator = _datagalaxy_simulator_session
        cluster.node.expose(simulator.port)
        database, api_url = shop_database, simulator.url
        plane = cluster.plane
        system = create_restricted_namespace(plane, "olc-system")
        team = create_restricted_namespace(plane, "olc-team")
        operator_repo, operator_tag = images.operator.rsplit(":", 1)
        extractor_repo, extractor_tag = images.extractor.rsplit(":", 1)
        values = {
            "image": {
                "operator": {"repository": operator_repo, "tag": operator_tag, "pullPolicy": "Never"},
                "extractor": {"repository": extractor_repo, "tag": extractor_tag},
            },
            "watch": {"namespaces": [team]},
        }
        try:
            helm.run(
                "install", "olc", str(CHART), "--namespace", system,
                "--values", str(helm.values_file(values)), "--wait", "--timeout", "180s",
                kubeconfig=plane.kubeconfig,
            )  # fmt: skip
        except HelmError as error:
            raise HelmError(f"{error}\n{diagnose(cluster, system)}") from None
        plane.kubectl("apply", "-n", team, "-f", "-", input=secrets_manifest(database.password, VALID_TOKEN))
        yield Installed(cluster, images, system, team, database, api_url, simulator)


def test_the_operator_runs_in_its_container_with_in_cluster_config(installed: Installed) -> None:
    pods = installed.get("pods", "-n", installed.system)["items"]
    (pod,) = [p for p in pods if p["status"].get("phase") == "Running"]
    (container,) = pod["status"]["containerStatuses"]
    assert container["image"].endswith(installed.images.operator), container
    assert container["ready"] is True
    assert pod["spec"]["nodeName"] == installed.cluster.node.name
    assert pod["status"]["podIP"] != installed.cluster.node.gateway  # its own network namespace
    # The ServiceAccount token came from a projected volume, and the API server is reached at the
    # `kubernetes` Service (kube-proxy), not at a host address.
    volumes = [v for v in pod["spec"]["volumes"] if "projected" in v]
    assert volumes, pod["spec"]["volumes"]
    log = installed.kubectl("logs", "-n", installed.system, pod["metadata"]["name"])
    assert "Forbidden" not in log, log[-3000:]


def test_an_import_end_to_end_from_the_extractor_image(installed: Installed) -> None:
    installed.simulator.reset()
    installed.apply_connection("shop")
    installed.run("shop")
    record = installed.finished_run("shop")
    assert record["result"] == "Succeeded", installed.explain(record)
    assert record["objects"] > 10, record
    (pod,) = installed.extractor_pods(record["job"])
    (container,) = pod["status"]["containerStatuses"]
    assert container["image"].endswith(installed.images.extractor), container
    assert container["state"]["terminated"]["exitCode"] == 0


def test_online_connector_logs_reads_the_container_log(installed: Installed) -> None:
    installed.apply_connection("shop")
    if not installed.connection("shop").get("status", {}).get("lastRun"):
        installed.run("shop")
    record = installed.finished_run("shop")
    env = {**os.environ, "KUBECONFIG": str(installed.cluster.plane.kubeconfig)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "online-connector"), "logs", "shop", "-n", installed.team],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"# {record['job']} / pod" in result.stderr
    assert "connector_extractors" in result.stdout, result.stdout  # the extractor's own log lines
    assert installed.database.password not in result.stdout


PROBE = """
import os, pathlib
status = dict(line.split(":", 1) for line in pathlib.Path("/proc/self/status").read_text().splitlines())
try:
    pathlib.Path("/written").write_text("x")
    root = "writable"
except OSError as error:
    root = f"errno {error.errno}"
pathlib.Path("/tmp/scratch").write_text("ok")
print(os.getuid(), os.getgid(), status["CapEff"].strip(), status["CapPrm"].strip(), root)
"""


def test_extractor_runs_as_65532_read_only_without_capabilities(installed: Installed) -> None:
    """The operator's own Job template, with the probe as command: what the extractor really gets."""
    jobs = installed.get("jobs", "-n", installed.team)["items"]
    assert jobs, "no Job to copy the extractor's pod template from"
    template = jobs[0]["spec"]["template"]
    container = template["spec"]["containers"][0]
    container["command"] = ["python", "-c", PROBE]
    container.pop("args", None)
    name = f"probe-{secrets.token_hex(3)}"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {**template["spec"], "restartPolicy": "Never"},
    }
    installed.kubectl("apply", "-n", installed.team, "-f", "-", input=json.dumps(pod))

    def done() -> str:
        phase: str = installed.get("pod", name, "-n", installed.team)["status"].get("phase", "")
        return phase if phase in ("Succeeded", "Failed") else ""

    assert wait_for(done, timeout=90, interval=0.5, what="the probe pod") == "Succeeded"
    uid, gid, effective, permitted, root = installed.kubectl("logs", "-n", installed.team, name).split(
        maxsplit=4
    )
    assert (uid, gid) == ("65532", "65532")
    assert int(effective, 16) == 0
    assert int(permitted, 16) == 0
    assert root.strip() == "errno 30"  # EROFS: the root filesystem is read-only


def test_the_namespace_enforces_restricted_pod_security(installed: Installed) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "rooted"},
        "spec": {
            "containers": [
                {"name": "c", "image": installed.images.extractor, "securityContext": {"runAsUser": 0}}
            ]
        },
    }
    result = installed.cluster.plane.kubectl(
        "apply", "-n", installed.team, "-f", "-", input=json.dumps(pod), check=False
    )
    assert result.returncode != 0
    assert "violates PodSecurity" in result.stderr
    assert "restricted:latest" in result.stderr


def test_a_memory_limit_kills_the_extractor(installed: Installed) -> None:
    installed.apply_connection("tiny", run={"backoffLimit": 0, "resources": {"limits": {"memory": "24Mi"}}})
    installed.run("tiny")
    record = installed.finished_run("tiny")
    (pod,) = installed.extractor_pods(record["job"])
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["reason"] == "OOMKilled", terminated
    assert terminated["exitCode"] == 137
    # The operator reports it as such, with a hint on spec.run.resources, and does not retry it.
    assert record["result"] == "Failed", record
    assert record["reason"] == "OOMKilled", record
    assert "spec.run.resources" in record["message"], record


def test_a_pod_deleted_mid_run_ends_the_run(installed: Installed) -> None:
    installed.simulator.reset()
    installed.simulator.set_faults(latency_ms=2000)
    try:
        installed.apply_connection("slow", run={"backoffLimit": 0, "timeoutSeconds": 900})
        installed.run("slow")

        def running_pod() -> str:
            job = installed.connection("slow").get("status", {}).get("activeJob")
            pods = installed.extractor_pods(job) if job else []
            running = [p for p in pods if p["status"].get("phase") == "Running"]
            return str(running[0]["metadata"]["name"]) if running else ""

        pod = wait_for(running_pod, timeout=90, interval=0.5, what="the extractor pod to run")
        wait_for(
            lambda: "connecting to" in installed.kubectl("logs", "-n", installed.team, pod, check=False),
            timeout=60, interval=0.5, what="the extractor to start its work",
        )  # fmt: skip
        started = time.monotonic()
        installed.kubectl("delete", "pod", pod, "-n", installed.team, "--wait=false")
        record = installed.finished_run("slow", timeout=120)  # the run's deadline is 900 s
        pods = [
            (p["metadata"]["name"], p["status"].get("phase"), p["status"].get("conditions"),
             p["status"].get("containerStatuses"))
            for p in installed.extractor_pods(record["job"])
        ]  # fmt: skip
        job = installed.get("job", record["job"], "-n", installed.team)
        assert record["result"] == "Failed", json.dumps(
            [record, job.get("status"), pods, job["spec"]], indent=1
        )
        assert time.monotonic() - started < 120
    finally:
        installed.simulator.set_faults(latency_ms=0)


def test_images_are_in_the_node_runtime(installed: Installed) -> None:
    containerd = installed.cluster.node.containerd
    assert containerd is not None
    for image in installed.images.all:
        assert containerd.has_image(image), image
    assert Path(installed.cluster.node.dir).exists()
