"""`make demo`: the operator's main job, end to end, on the embedded default.

A local control plane, a PostgreSQL server holding a realistic sample schema, the DataGalaxy simulator,
the operator; then a Secret and an OnlineConnection applied with kubectl, a run requested, the result in
`kubectl get onlineconnections`, and the tree that the simulator received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from connector_testbed.control_plane import ControlPlane
from connector_testbed.postgres import PostgresServer
from connector_testbed.processes import spawn, stop
from connector_testbed.simulator.seed import VALID_TOKEN
from connector_testbed.simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SQL = Path(__file__).parent / "sample_data" / "shop.sql"
NAMESPACE = "datagalaxy-demo"


def step(title: str) -> None:
    print(f"\n\033[1m==> {title}\033[0m", flush=True)


def show(cp: ControlPlane, *args: str) -> None:
    print(f"$ kubectl {' '.join(args)}", flush=True)
    result = cp.kubectl(*args, check=False)
    print(result.stdout.rstrip() or result.stderr.rstrip(), flush=True)


def connection_yaml(db: PostgresServer, sim: SimulatorServer) -> str:
    return f"""apiVersion: connectors.datagalaxy.com/v1alpha1
kind: OnlineConnection
metadata:
  name: shop
  namespace: {NAMESPACE}
spec:
  source:
    technology: postgresql
    host: {db.host}
    port: {db.port}
    database: shop
    username: datagalaxy_reader
    passwordSecretRef: {{name: shop-db-credentials, key: password}}
  target:
    apiUrl: {sim.url}
    tokenSecretRef: {{name: datagalaxy-token, key: token}}
    workspace: Demo
    sourceName: Shop
  schedule:
    cron: "0 2 * * *"
    timeZone: Europe/Paris
"""


def secrets_yaml(reader_password: str) -> str:
    return f"""apiVersion: v1
kind: Secret
metadata: {{name: shop-db-credentials, namespace: {NAMESPACE}}}
type: Opaque
stringData: {{password: "{reader_password}"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: datagalaxy-token, namespace: {NAMESPACE}}}
type: Opaque
stringData: {{token: "{VALID_TOKEN}"}}
"""


def wait_for(cp: ControlPlane, jsonpath: str, predicate: object, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    value = ""
    while time.monotonic() < deadline:
        value = cp.kubectl(
            "-n", NAMESPACE, "get", "olc", "shop", "-o", f"jsonpath={jsonpath}", check=False
        ).stdout
        if callable(predicate) and predicate(value):
            return value
        time.sleep(0.5)
    raise TimeoutError(f"{what}: still {value!r} after {timeout:.0f} s")


def run_demo(keep: bool = False) -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="olc-demo-"))
    step("Starting a local Kubernetes control plane (etcd, apiserver, controller-manager, process kubelet)")
    with ControlPlane() as cp, PostgresServer() as db:
        step(f"PostgreSQL {db.port}: loading the sample 'shop' database")
        db.create_database("shop")
        db.execute("shop", SAMPLE_SQL.read_text())
        reader_password = os.urandom(12).hex()
        db.create_user("datagalaxy_reader", reader_password)
        db.execute(
            "shop",
            "GRANT USAGE ON SCHEMA sales, inventory, hr TO datagalaxy_reader;"
            " GRANT SELECT ON ALL TABLES IN SCHEMA sales, inventory, hr TO datagalaxy_reader",
        )
        step("Starting the DataGalaxy simulator")
        with SimulatorServer(work / "datagalaxy.sqlite", mode="process") as sim:
            print(f"DataGalaxy API (simulated): {sim.url}")
            step("Installing the OnlineConnection CRD and starting the operator")
            cp.kubectl("apply", "--server-side", "-f", str(ROOT / "crds" / "onlineconnections.yaml"))
            cp.kubectl(
                "wait", "--for=condition=Established", "crd/onlineconnections.connectors.datagalaxy.com"
            )
            env = {**cp.env(), "PYTHONUNBUFFERED": "1", "OLC_METRICS_PORT": "0", "OLC_STANDALONE": "true"}
            operator = spawn(
                [sys.executable, "-m", "connector_operator"], log_file=work / "operator.log", env=env
            )
            try:
                step(f"Applying a Secret and an OnlineConnection in namespace {NAMESPACE}")
                cp.kubectl("create", "namespace", NAMESPACE)
                cp.kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
                cp.kubectl("apply", "-f", "-", input=secrets_yaml(reader_password))
                manifest = connection_yaml(db, sim)
                print(manifest)
                cp.kubectl("apply", "-f", "-", input=manifest)
                wait_for(
                    cp, '{.status.conditions[?(@.type=="Ready")].status}', lambda v: v == "True", 60, "Ready"
                )
                show(cp, "get", "onlineconnections", "-n", NAMESPACE)
                step("Requesting a run: online-connector run shop --wait")
                cli = Path(sys.executable).parent / "online-connector"
                print(f"$ online-connector run shop -n {NAMESPACE} --wait", flush=True)
                subprocess.run(
                    [str(cli), "run", "shop", "-n", NAMESPACE, "--wait", "--timeout", "180"],
                    env=cp.env(),
                    check=False,
                    timeout=240,
                )
                result = wait_for(cp, "{.status.lastRun.result}", bool, 30, "run result")
                show(cp, "get", "jobs", "-n", NAMESPACE)
                show(cp, "get", "onlineconnections", "-n", NAMESPACE)
                show(
                    cp,
                    "get",
                    "events",
                    "-n",
                    NAMESPACE,
                    "--field-selector=involvedObject.kind=OnlineConnection",
                )
                last_run = cp.kubectl(
                    "-n", NAMESPACE, "get", "olc", "shop", "-o", "jsonpath={.status.lastRun}"
                )
                print(json.dumps(json.loads(last_run.stdout or "{}"), indent=2))
                step("What DataGalaxy (the simulator) received")
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "connector_testbed.simulator",
                        "show",
                        "--state",
                        str(sim.state_path),
                    ],
                    check=False,
                )
                print(f"\nDemo finished in {time.monotonic() - started:.0f} s: run result {result}.")
                if keep:
                    print(f"\nEverything keeps running; KUBECONFIG={cp.kubeconfig}. Press Ctrl-C to stop.")
                    while True:
                        time.sleep(3600)
                return 0 if result in ("Succeeded", "Unchanged", "PartialSuccess") else 1
            except KeyboardInterrupt:
                return 0
            except Exception as error:
                print(f"demo failed: {error}", file=sys.stderr)
                print((work / "operator.log").read_text(errors="replace")[-4000:], file=sys.stderr)
                return 1
            finally:
                stop(operator)
