"""The simulator's CLI.

    python -m connector_testbed.simulator serve --port 8099 --state /tmp/dg.sqlite
    python -m connector_testbed.simulator show --state /tmp/dg.sqlite

`serve` prints `listening on http://HOST:PORT/v2` on stdout once it accepts connections, logs one line
per request on stderr, and exits cleanly (status 0) on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from connector_testbed.simulator.faults import Faults, Limits, Switchboard
from connector_testbed.simulator.seed import Seed
from connector_testbed.simulator.serving import SimulatorHTTPServer
from connector_testbed.simulator.show import render_tree
from connector_testbed.simulator.store import Store


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    seed = Seed.from_file(Path(args.seed)) if args.seed else Seed()
    faults, limits = Faults(), Limits()
    if args.switches:
        switches = json.loads(Path(args.switches).read_text())
        faults = Faults(**switches.get("faults", {}))
        limits = Limits(**switches.get("limits", {}))
    store = Store(Path(args.state), seed)
    httpd = SimulatorHTTPServer((args.host, args.port), store, Switchboard(faults, limits))

    def stop(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("connector_testbed.simulator").info("signal %d: stopping", signum)
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = str(httpd.server_address[0]), int(httpd.server_address[1])
    print(f"listening on http://{host}:{port}/v2", flush=True)
    if not args.quiet:
        print(f"state: {args.state}; tokens: see connector_testbed.simulator.seed", file=sys.stderr)
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
        store.close()
    return 0


def _show(args: argparse.Namespace) -> int:
    path = Path(args.state)
    if not path.exists():
        print(f"no state file at {path}", file=sys.stderr)
        return 2
    store = Store(path, Seed(), apply_seed=False)  # do not re-apply a seed over the file
    try:
        versions = store.tree()
    finally:
        store.close()
    print(json.dumps(versions, indent=2) if args.json else render_tree(versions))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connector_testbed.simulator", description="A faithful DataGalaxy API simulator"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    serve.add_argument("--state", required=True, help="SQLite file holding what was imported")
    serve.add_argument("--seed", help="JSON file with workspaces and tokens (default: the built-in seed)")
    serve.add_argument("--switches", help="JSON file with initial faults and limits")
    serve.add_argument("--quiet", action="store_true", help="log only warnings")
    show = commands.add_parser("show", help="print the imported tree")
    show.add_argument("--state", required=True)
    show.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return _serve(args) if args.command == "serve" else _show(args)


if __name__ == "__main__":
    sys.exit(main())
