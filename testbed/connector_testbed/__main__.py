"""CLI of the testbed: `python -m connector_testbed build|up|down|status|demo`."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from connector_testbed.binaries import cache_root, ensure_binaries, ensure_node_binaries
from connector_testbed.control_plane import ControlPlane


def state_dir() -> Path:
    return Path(os.environ.get("ONLINE_CONNECTOR_TESTBED_DIR") or cache_root() / "testbed")


def cmd_build(args: argparse.Namespace) -> int:
    binaries = ensure_binaries(with_helm=True)
    node = ensure_node_binaries()  # the real node's kubelet, kube-proxy, kube-scheduler and pause
    print(f"binaries in {binaries.directory} (real node's in {node}); kubectl {binaries.kubectl}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run a control plane in the foreground until SIGTERM (what `up` starts in the background)."""
    directory = Path(args.dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with ControlPlane(directory) as plane:
        (directory / "ready").write_text(str(plane.kubeconfig))
        stop.wait()
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    directory = state_dir()
    pid_file = directory / "supervisor.pid"
    if pid_file.exists() and _alive(int(pid_file.read_text())):
        print(f"export KUBECONFIG={directory / 'kubeconfig'}")
        print("# the testbed is already up", file=sys.stderr)
        return 0
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    ensure_binaries(with_helm=False)
    with (directory / "supervisor.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "connector_testbed", "serve", "--dir", str(directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
                ),
            },
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (directory / "ready").exists():
            print(f"export KUBECONFIG={directory / 'kubeconfig'}")
            return 0
        if process.poll() is not None:
            print((directory / "supervisor.log").read_text()[-3000:], file=sys.stderr)
            return 1
        time.sleep(0.2)
    print("the testbed did not become ready in 120 s", file=sys.stderr)
    return 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def cmd_down(args: argparse.Namespace) -> int:
    directory = state_dir()
    pid_file = directory / "supervisor.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)
    print("testbed down")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    directory = state_dir()
    pid_file = directory / "supervisor.pid"
    up = pid_file.exists() and _alive(int(pid_file.read_text())) and (directory / "ready").exists()
    print(f"testbed {'up' if up else 'down'}" + (f": KUBECONFIG={directory / 'kubeconfig'}" if up else ""))
    return 0 if up else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from connector_testbed.demo import run_demo  # noqa: PLC0415 - pulls in the databases and the simulator

    return run_demo(keep=args.keep)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connector_testbed", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "build", help="build (or find in the cache) the control plane, real node and helm binaries"
    )
    sub.add_parser("up", help="start a control plane in the background; prints the export KUBECONFIG line")
    sub.add_parser("down", help="stop the background control plane and remove its files")
    sub.add_parser("status", help="is the background control plane up?")
    serve = sub.add_parser("serve", help="run a control plane in the foreground until SIGTERM")
    serve.add_argument("--dir", required=True)
    demo = sub.add_parser("demo", help="the main job end to end on the embedded default")
    demo.add_argument("--keep", action="store_true", help="leave everything running at the end")
    args = parser.parse_args(argv)
    handlers = {
        "build": cmd_build,
        "up": cmd_up,
        "down": cmd_down,
        "status": cmd_status,
        "serve": cmd_serve,
        "demo": cmd_demo,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
