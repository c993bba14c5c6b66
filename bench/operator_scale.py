# ruff: noqa: E402 - sys.path is fixed before the other imports (see below)
"""Benchmark of the operator on the testbed: reconcile many connections, start on-demand runs.

    python bench/operator_scale.py [--connections 500] [--runs 100]

Prints (and writes to bench/results/operator.json):
* the time from the first create until every connection has a current `observedGeneration` and
  a Ready condition (goal: 500 within 60 s);
* request-to-Job latency for on-demand runs, p50 and p95 (goal: p95 under 2 s), measured from the
  annotation patch to the Job's ADDED watch event;
* the operator's peak resident memory (VmHWM; goal: under 300 MB).

The control plane runs without the process kubelet: the Jobs' pods stay Pending, so the figures
measure the operator and not the machine's ability to run 100 imports at once.
"""

from __future__ import annotations

import sys

# Run as a script, this file's folder comes first on sys.path, where a script named like a standard
# module would shadow it: drop the folder before importing anything else.
sys.path[:] = [p for p in sys.path if p.rstrip("/") != __file__.rpartition("/")[0]]

import argparse
import json
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client

from connector_testbed.control_plane import ControlPlane

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "olc-bench"
GROUP, VERSION, PLURAL = "connectors.datagalaxy.com", "v1alpha1", "onlineconnections"
RUN = "connectors.datagalaxy.com/run-requested"


def manifest(index: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "OnlineConnection",
        "metadata": {"name": f"conn-{index:04d}", "namespace": NAMESPACE},
        "spec": {
            "source": {
                "technology": "postgresql",
                "host": f"db-{index % 17}.example.internal",
                "database": "sales",
                "username": "reader",
                "passwordSecretRef": {"name": "db", "key": "password"},
            },
            "target": {
                "apiUrl": "https://api.datagalaxy.com/v2",
                "tokenSecretRef": {"name": "dg", "key": "token"},
                "workspace": "Bench",
                "sourceName": f"Source {index}",
            },
            **({"schedule": {"cron": f"{index % 60} 3 * * *"}} if index % 5 == 0 else {}),
        },
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reconciled(items: list[dict[str, Any]]) -> int:
    count = 0
    for item in items:
        status = item.get("status") or {}
        ready = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
        if ready and status.get("observedGeneration") == item["metadata"]["generation"]:
            count += 1
    return count


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(connections: int, runs: int, settle: float = 1.0) -> dict[str, Any]:
    results: dict[str, Any] = {"connections": connections, "runs": runs}
    with ControlPlane(kubelet=False) as cp:
        cp.kubectl("apply", "--server-side", "-f", str(ROOT / "crds" / "onlineconnections.yaml"))
        cp.kubectl("wait", "--for=condition=Established", "crd/onlineconnections.connectors.datagalaxy.com")
        cp.kubectl("create", "namespace", NAMESPACE)
        for name, key in (("db", "password"), ("dg", "token")):
            cp.kubectl("create", "secret", "generic", name, "-n", NAMESPACE, f"--from-literal={key}=bench")
        env = {**cp.env(), "OLC_METRICS_PORT": "0", "OLC_STANDALONE": "true", "OLC_LIVENESS": ""}
        log_path = cp.dir / "operator.log"
        with log_path.open("wb") as log:
            operator = subprocess.Popen(
                [sys.executable, "-m", "connector_operator"], env=env, stdout=log, stderr=log
            )
        try:
            api = cp.api_client()
            custom = client.CustomObjectsApi(api)
            time.sleep(3)  # the operator's startup (login, CRD scan, initial listings)
            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(
                    pool.map(
                        lambda i: custom.create_namespaced_custom_object(
                            GROUP, VERSION, NAMESPACE, PLURAL, manifest(i)
                        ),
                        range(connections),
                    )
                )
            created = time.monotonic() - started
            while True:
                listed: Any = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, PLURAL)
                items = listed["items"]
                done = reconciled(items)
                if done >= connections:
                    break
                if time.monotonic() - started > 600:
                    raise TimeoutError(f"only {done}/{connections} reconciled after 600 s")
                time.sleep(0.2)
            results["create_seconds"] = round(created, 2)
            results["all_reconciled_seconds"] = round(time.monotonic() - started, 2)
            print(
                f"{connections} connections created in {created:.1f} s; all reconciled after "
                f"{results['all_reconciled_seconds']:.1f} s",
                flush=True,
            )

            seen: dict[str, float] = {}
            batch = client.BatchV1Api(api)
            stop = threading.Event()

            def watch_jobs() -> None:
                # Raw JSON lines, no model objects: the watcher must not lag behind the events it times.
                response: Any = batch.list_namespaced_job(
                    NAMESPACE, watch=True, timeout_seconds=600, _preload_content=False
                )
                buffer = b""
                for chunk in response.stream(65536):
                    buffer += chunk
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        if b'"ADDED"' not in line[:20]:
                            continue
                        received = time.monotonic()
                        annotations = json.loads(line)["object"]["metadata"].get("annotations") or {}
                        seen.setdefault(
                            annotations.get("connectors.datagalaxy.com/connection-name", ""), received
                        )
                    if stop.is_set():
                        response.close()
                        return

            watcher = threading.Thread(target=watch_jobs, daemon=True)
            watcher.start()
            time.sleep(settle)  # let the operator finish the bookkeeping of the mass creation
            requested: dict[str, float] = {}
            for index in range(runs):
                name = f"conn-{index * (connections // max(runs, 1)):04d}"
                requested[name] = time.monotonic()
                custom.patch_namespaced_custom_object(
                    GROUP,
                    VERSION,
                    NAMESPACE,
                    PLURAL,
                    name,
                    {"metadata": {"annotations": {RUN: f"bench-{index}"}}},
                )
                time.sleep(0.05)
            deadline = time.monotonic() + 120
            while len([n for n in requested if n in seen]) < runs and time.monotonic() < deadline:
                time.sleep(0.2)
            stop.set()
            latencies = [seen[n] - t for n, t in requested.items() if n in seen]
            results["latencies_in_request_order"] = [round(x, 3) for x in latencies]
            results["jobs_started"] = len(latencies)
            if latencies:
                results["request_to_job_p50_seconds"] = round(statistics.median(latencies), 3)
                results["request_to_job_p95_seconds"] = round(percentile(latencies, 0.95), 3)
                results["request_to_job_max_seconds"] = round(max(latencies), 3)
            results["operator_peak_rss_mb"] = round(peak_rss_mb(operator.pid), 1)
            results["operator_alive"] = operator.poll() is None
        finally:
            operator.terminate()
            try:
                operator.wait(timeout=15)
            except subprocess.TimeoutExpired:
                operator.kill()
            out = ROOT / "bench" / "results"
            out.mkdir(parents=True, exist_ok=True)
            (out / "operator.log").write_bytes(log_path.read_bytes())
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds between reconciliation and the runs"
    )
    args = parser.parse_args()
    results = run(args.connections, args.runs, args.settle)
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "operator.json").write_text(json.dumps(results, indent=2) + "\n")
    goals = {
        "all reconciled within 60 s": results["all_reconciled_seconds"] <= 60 or args.connections != 500,
        "p95 request-to-Job under 2 s": results.get("request_to_job_p95_seconds", 99) < 2,
        "peak memory under 300 MB": results["operator_peak_rss_mb"] < 300,
        "every requested Job created": results.get("jobs_started") == args.runs,
    }
    for goal, met in goals.items():
        print(f"{'PASS' if met else 'FAIL'}  {goal}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
