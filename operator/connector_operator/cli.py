"""`online-connector`: the operator and a small kubectl companion for OnlineConnections.

online-connector operator                 run the operator (same as python -m connector_operator)
online-connector run NAME [--wait]        request an import now
online-connector test NAME [--wait]       request a connection test
online-connector status [NAME]            a readable view of connections and their last runs
online-connector logs NAME                the last run's extractor log
online-connector extract ...              the extractor itself (online-connector-extract)
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from connector_extractors.run_summary import SUCCESSFUL_RESULTS
from connector_operator import naming


def _condition(body: dict[str, Any], kind: str) -> dict[str, Any]:
    for item in (body.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            return dict(item)
    return {}


def _ago(text: str | None, now: datetime | None = None) -> str:
    if not text:
        return "-"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 0:
        seconds = -seconds
        suffix = "from now"
    else:
        suffix = "ago"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} {suffix}"
    return f"{seconds}s {suffix}"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def format_list(items: list[dict[str, Any]], now: datetime | None = None) -> str:
    rows = [["NAMESPACE", "NAME", "SOURCE", "SCHEDULE", "READY", "LAST RUN", "RESULT", "OBJECTS", "FAILURES"]]
    for body in items:
        status = body.get("status") or {}
        last = status.get("lastRun") or {}
        ready = _condition(body, "Ready")
        rows.append(
            [
                body["metadata"]["namespace"],
                body["metadata"]["name"],
                str(((body.get("spec") or {}).get("source") or {}).get("technology", "-")),
                str(((body.get("spec") or {}).get("schedule") or {}).get("cron", "-")),
                f"{ready.get('status', 'Unknown')}"
                + (f" ({ready['reason']})" if ready.get("status") == "False" else ""),
                _ago(last.get("finishTime"), now),
                str(last.get("result", "-")),
                str(last.get("objects", "-")),
                str(status.get("consecutiveFailures", 0)),
            ]
        )
    return _table(rows) if len(rows) > 1 else "No OnlineConnections found."


def format_connection(body: dict[str, Any], now: datetime | None = None) -> str:
    status = body.get("status") or {}
    spec = body.get("spec") or {}
    meta = body["metadata"]
    source = spec.get("source") or {}
    target = spec.get("target") or {}
    lines = [
        f"Name:        {meta['namespace']}/{meta['name']}",
        f"Source:      {source.get('technology')} {source.get('host') or source.get('path') or ''}"
        f"{':' + str(source['port']) if source.get('port') else ''} {source.get('database') or ''}".rstrip(),
        f"Target:      {target.get('apiUrl')} workspace {target.get('workspace')!r}"
        f" source {target.get('sourceName')!r}",
    ]
    schedule = spec.get("schedule")
    if schedule:
        state = " (suspended)" if schedule.get("suspend") else ""
        lines.append(f"Schedule:    {schedule.get('cron')} {schedule.get('timeZone', 'UTC')}{state}")
        if status.get("nextScheduledRun"):
            lines.append(
                f"Next run:    {status['nextScheduledRun']} ({_ago(status['nextScheduledRun'], now)})"
            )
    else:
        lines.append("Schedule:    on demand only")
    lines.append("Conditions:")
    for item in status.get("conditions") or []:
        lines.append(
            f"  {item['type']:<17} {item['status']:<7} {item.get('reason', '')}: {item.get('message', '')}"
        )
    if status.get("activeJob"):
        lines.append(f"Running:     {status['activeJob']}")
    lines.append(f"Failures in a row: {status.get('consecutiveFailures', 0)}")
    history = status.get("history") or []
    if history:
        lines.append("Last runs:")
        rows = [
            [
                "JOB",
                "TRIGGER",
                "FINISHED",
                "DURATION",
                "RESULT",
                "REASON",
                "OBJECTS",
                "CREATED/UPDATED/DELETED",
            ]
        ]
        for run in history:
            push = run.get("push") or {}
            duration = run.get("durationSeconds")
            rows.append(
                [
                    run.get("job", ""),
                    run.get("trigger", ""),
                    _ago(run.get("finishTime"), now),
                    f"{duration:.0f}s" if isinstance(duration, int | float) else "-",
                    run.get("result", ""),
                    run.get("reason", ""),
                    str(run.get("objects", 0)),
                    f"{push.get('created', 0)}/{push.get('updated', 0)}/{push.get('deleted', 0)}"
                    if push
                    else "-",
                ]
            )
        lines.extend("  " + line for line in _table(rows).splitlines())
        message = history[0].get("message")
        if message:
            lines.append(f"Last message: {message}")
    else:
        lines.append("Last runs:   none yet")
    test = status.get("lastTest")
    if test:
        lines.append(
            f"Last test:   {test.get('result')} ({test.get('reason')}) {_ago(test.get('finishTime'), now)}"
        )
    return "\n".join(lines)


def _default_namespace() -> str:
    from kubernetes import config  # noqa: PLC0415 - only the commands that talk to a cluster need it

    try:
        _, active = config.list_kube_config_contexts()  # type: ignore[no-untyped-call]
        return str((active or {}).get("context", {}).get("namespace") or "default")
    except (config.ConfigException, OSError):
        return "default"


def _kube() -> Any:
    from connector_operator.kube import Kube  # noqa: PLC0415

    return Kube()


def _request(args: argparse.Namespace, annotation: str, record_key: str) -> int:
    kube = _kube()
    namespace = args.namespace or _default_namespace()
    if kube.get_connection(namespace, args.name) is None:
        print(f"OnlineConnection {namespace}/{args.name} not found", file=sys.stderr)
        return 2
    value = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    kube.annotate_connection(namespace, args.name, annotation, value)
    what = "run" if record_key == "lastRun" else "connection test"
    print(f"{what} requested for {namespace}/{args.name} ({annotation}={value})")
    if not args.wait:
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        body = kube.get_connection(namespace, args.name) or {}
        status = body.get("status") or {}
        record = status.get(record_key) or {}
        if record.get("request") == value:
            outcome = f"{record.get('result')} ({record.get('reason')})"
            print(f"{record.get('job')}: {outcome} {record.get('message', '')}")
            return 0 if record.get("result") in SUCCESSFUL_RESULTS else 1
        handled = (status.get("handledRequests") or {}).get("run" if record_key == "lastRun" else "test")
        ready = _condition(body, "Ready")
        if handled == value and ready.get("status") == "False" and not status.get("activeJob"):
            print(f"{what} not started: {ready.get('reason')}: {ready.get('message')}", file=sys.stderr)
            return 1
        time.sleep(1)
    print(f"timed out after {args.timeout:.0f}s waiting for the {what}", file=sys.stderr)
    return 3


def _status(args: argparse.Namespace) -> int:
    kube = _kube()
    if args.name:
        namespace = args.namespace or _default_namespace()
        body = kube.get_connection(namespace, args.name)
        if body is None:
            print(f"OnlineConnection {namespace}/{args.name} not found", file=sys.stderr)
            return 2
        print(format_connection(body))
        return 0
    namespace = None if args.all_namespaces else (args.namespace or _default_namespace())
    print(format_list(kube.list_connections(namespace)))
    return 0


def _logs(args: argparse.Namespace) -> int:
    kube = _kube()
    namespace = args.namespace or _default_namespace()
    body = kube.get_connection(namespace, args.name)
    if body is None:
        print(f"OnlineConnection {namespace}/{args.name} not found", file=sys.stderr)
        return 2
    status = body.get("status") or {}
    job = args.job or status.get("activeJob") or (status.get("lastRun") or {}).get("job")
    if not job:
        print(f"{namespace}/{args.name} has not run yet", file=sys.stderr)
        return 1
    pods = sorted(kube.list_pods(namespace, job), key=lambda p: p["metadata"].get("creationTimestamp", ""))
    if not pods:
        print(f"the pods of Job {job} are gone (the Job was pruned or its TTL expired)", file=sys.stderr)
        return 1
    pod = pods[-1]["metadata"]["name"]
    print(f"# {job} / pod {pod}", file=sys.stderr)
    sys.stdout.write(kube.pod_log(namespace, pod))
    return 0


def _extract(rest: Sequence[str]) -> int:
    program = shutil.which("online-connector-extract")
    if program:
        os.execvp(program, [program, *rest])  # noqa: S606 - replaces this process by design
    os.execvp(sys.executable, [sys.executable, "-m", "connector_extractors", *rest])  # noqa: S606
    return 1  # pragma: no cover - execvp does not return


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="online-connector", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    commands = parser.add_subparsers(dest="command", required=True)
    operator = commands.add_parser(
        "operator", help="run the operator (kopf); settings come from OLC_* variables"
    )
    operator.add_argument(
        "--verbose", action="store_true", help="log the operator's INFO messages and kopf's"
    )
    operator.add_argument(
        "--debug", action="store_true", help="log everything, including kopf's debug output"
    )
    for name, help_text in (("run", "request an import now"), ("test", "request a connection test")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("name")
        sub.add_argument("-n", "--namespace")
        sub.add_argument("--wait", action="store_true", help="wait for the outcome; exit 1 when it failed")
        sub.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
    status = commands.add_parser("status", help="connections and their last runs")
    status.add_argument("name", nargs="?")
    status.add_argument("-n", "--namespace")
    status.add_argument("-A", "--all-namespaces", action="store_true")
    logs = commands.add_parser("logs", help="the last run's extractor log")
    logs.add_argument("name")
    logs.add_argument("-n", "--namespace")
    logs.add_argument("--job", help="a specific Job instead of the last run")
    commands.add_parser("extract", help="run the extractor (arguments are passed on)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["extract"]:
        return _extract(arguments[1:])
    args = build_parser().parse_args(arguments)
    if args.command == "operator":
        from connector_operator.__main__ import run_operator  # noqa: PLC0415

        run_operator(verbose=args.verbose, debug=args.debug)
        return 0
    if args.command == "run":
        return _request(args, naming.RUN_REQUESTED, "lastRun")
    if args.command == "test":
        return _request(args, naming.TEST_REQUESTED, "lastTest")
    if args.command == "status":
        return _status(args)
    return _logs(args)


if __name__ == "__main__":
    raise SystemExit(main())
