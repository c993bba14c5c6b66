"""Benchmark: push a catalog of 200,000 columns to the DataGalaxy simulator.

    .venv/bin/python bench/push.py [--columns 200000] [--columns-per-table 100] [--missing report]
                                   [--max-entities 5000] [--max-bytes 8388608]

The simulator runs in its own process (as in the demo), so this process's CPU time is the client's:
building the JSON batches, hashing, httpx and response parsing. Printed: objects/s, requests, the
client's CPU share of the wall time, the simulator's own handling time, and memory (peak RSS over the
model's RSS, next to the largest batch). Goals (issue 4): client share < 1/4 of the wall time; memory
bounded by one batch plus the extracted model.

    .venv/bin/python bench/push.py --whole-process [--columns 200000] [--repeat 3]

`--whole-process` (issue 13) creates the same catalog in a throwaway PostgreSQL instead and runs the
extractor's command line on it, each run its own process: the import run (extract + push to the
simulator, reset before each run) alternating with the dry run (`--dry-run --output FILE`). Printed, as
medians: wall clock, CPU and peak RSS of each process (from `os.wait4`), the simulator's own handling
time and requests, and the ratio import/dry run (goal: <= 2).
"""

from __future__ import annotations

import os
import sys

# Run as `python bench/push.py`, this directory is sys.path[0]: drop it, so that a module in bench/
# (say a bench/operator.py) can never shadow the standard library.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for root in ("extractors", "testbed"):
    sys.path.insert(0, str(ROOT / root))

from connector_extractors.datagalaxy import DataGalaxyClient, push_metadata, resolve_target  # noqa: E402
from connector_extractors.datagalaxy.bulktree import BatchLimits, iter_batches, source_fields  # noqa: E402
from connector_extractors.metadata import Column, Schema, SourceMetadata, Table  # noqa: E402
from connector_extractors.run_config import TargetConfig  # noqa: E402
from connector_testbed.measuring import run_measured  # noqa: E402
from connector_testbed.simulator import VALID_TOKEN, SimulatorServer  # noqa: E402


def build_model(columns: int, per_table: int, tables_per_schema: int = 200) -> SourceMetadata:
    tables = columns // per_table
    schemas: list[Schema] = []
    for t in range(tables):
        if t % tables_per_schema == 0:
            schemas.append(Schema(f"schema_{len(schemas):03d}"))
        cols = [
            Column(
                name=f"column_{c:03d}",
                position=c + 1,
                sql_type="varchar(255)" if c % 3 else "bigint",
                type_family="string" if c % 3 else "integer",
                nullable=c != 0,
                length=255 if c % 3 else None,
                comment=f"Column {c} of table {t}" if c % 10 == 0 else None,
            )
            for c in range(per_table)
        ]
        schemas[-1].tables.append(
            Table(name=f"table_{t:05d}", kind="table", columns=cols, comment=f"Table number {t}")
        )
    return SourceMetadata(technology="postgresql", database="bench", schemas=schemas)


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_push(
    sim: SimulatorServer, metadata: SourceMetadata, target: TargetConfig, **kwargs: Any
) -> dict[str, Any]:
    before = sim.stats()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with DataGalaxyClient(sim.url, VALID_TOKEN, budget_seconds=1800, requests_per_second=8.0) as client:
        resolved = resolve_target(client, target)
        outcome = push_metadata(client, resolved, metadata, target, **kwargs)
        requests = client.requests_sent
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    after = sim.stats()
    server = after["serverSeconds"] - before["serverSeconds"]
    objects = outcome.counts.created + outcome.counts.updated + outcome.counts.unchanged
    return {
        "wall_s": round(wall, 2),
        "client_cpu_s": round(cpu, 2),
        "client_share": round(cpu / wall, 3),
        "server_s": round(server, 2),
        "requests": requests,
        "objects": objects,
        "objects_per_s": round(objects / wall) if wall else 0,
        "created": outcome.counts.created,
        "unchanged": outcome.counts.unchanged,
        "missing": outcome.counts.missing,
        "unchanged_run": outcome.unchanged,
        "hash": outcome.content_hash,
    }


def _whole_process(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """One command to its end: wall clock, CPU (user + system) and peak RSS of the child process."""
    figures = run_measured(argv, env)
    return {"wall_s": figures["wall"], "cpu_s": figures["cpu"], "peak_mb": figures["peak_mb"]}


def whole_process_import(columns: int, per_table: int, repeat: int) -> int:
    """The command line's import run and dry run on `build_model`'s catalog, created in PostgreSQL."""
    import statistics
    import tempfile

    from connector_testbed.postgres import PostgresServer

    metadata = build_model(columns, per_table)
    command = Path(sys.executable).with_name("online-connector-extract")
    runs: dict[str, list[dict[str, float]]] = {"dry": [], "import": []}
    with (
        PostgresServer(settings={"max_locks_per_transaction": "512"}) as pg,
        SimulatorServer(mode="process") as sim,
        tempfile.TemporaryDirectory(prefix="olc-bench-push-") as tmp,
    ):
        pg.create_database("bench")
        started = time.perf_counter()
        for schema in metadata.schemas:
            statements = [f'CREATE SCHEMA "{schema.name}"']
            for table in schema.tables:
                qualified = f'"{schema.name}"."{table.name}"'
                columns_sql = ", ".join(
                    f'"{c.name}" {c.sql_type}{"" if c.nullable else " NOT NULL"}' for c in table.columns
                )
                statements.append(f"CREATE TABLE {qualified} ({columns_sql})")
                statements.append(f"COMMENT ON TABLE {qualified} IS '{table.comment}'")
                statements += [
                    f"COMMENT ON COLUMN {qualified}.\"{c.name}\" IS '{c.comment}'"
                    for c in table.columns
                    if c.comment
                ]
            pg.execute("bench", ";\n".join(statements))
        pg.execute("bench", "ANALYZE")
        counts = metadata.counts()
        print(
            f"PostgreSQL catalog: {counts['tables']:,} tables, {counts['columns']:,} columns in "
            f"{counts['schemas']} schemas (created in {time.perf_counter() - started:.1f}s)"
        )
        folder = Path(tmp)
        source = {"technology": "postgresql", "host": pg.host, "port": pg.port, "database": "bench",
                  "username": pg.admin_user, "tls": {"mode": "disable"}}  # fmt: skip
        target = {"apiUrl": sim.url, "workspace": "Demo", "sourceName": "bench"}
        dry_config, import_config = folder / "dry.json", folder / "import.json"
        dry_config.write_text(json.dumps({"connection": "bench/push", "source": source}))
        import_config.write_text(json.dumps({"connection": "bench/push", "source": source, "target": target}))
        env = {**os.environ, "OLC_SOURCE_PASSWORD": pg.admin_password, "OLC_DATAGALAXY_TOKEN": VALID_TOKEN,
               "OLC_TERMINATION_MESSAGE_PATH": str(folder / "termination-log")}  # fmt: skip
        env.pop("OLC_LOG_LEVEL", None)
        for _ in range(repeat):
            runs["dry"].append(
                _whole_process(
                    [
                        str(command),
                        "--config",
                        str(dry_config),
                        "--dry-run",
                        "--output",
                        str(folder / "out.json"),
                    ],
                    env,
                )
            )
            sim.reset()
            before = sim.stats()
            figures = _whole_process([str(command), "--config", str(import_config)], env)
            after = sim.stats()
            summary = json.loads((folder / "termination-log").read_text())
            if summary.get("result") != "Succeeded":
                raise SystemExit(f"import run did not succeed: {summary}")
            figures["server_s"] = after["serverSeconds"] - before["serverSeconds"]
            figures["requests"] = after["requests"] - before["requests"]
            figures["created"] = summary["push"]["created"]
            runs["import"].append(figures)
    medians = {
        name: {k: statistics.median(r[k] for r in found) for k in found[0]} for name, found in runs.items()
    }
    dry, imported = medians["dry"], medians["import"]
    print(f"whole processes, medians of {repeat}:  wall        CPU    peak RSS")
    for label, r in (("dry run --output FILE", dry), ("import run to the simulator", imported)):
        print(f"  {label:<30} {r['wall_s']:8.2f} s {r['cpu_s']:8.2f} s {r['peak_mb']:7.0f} MB")
    print(
        f"  import run: {imported['created']:,.0f} objects created, {imported['requests']:.0f} requests, "
        f"simulator handling {imported['server_s']:.2f}s"
    )
    print(f"  import/dry run = {imported['wall_s'] / dry['wall_s']:.2f} (goal: <= 2)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--columns", type=int, default=200_000)
    parser.add_argument("--columns-per-table", type=int, default=100)
    parser.add_argument("--missing", choices=["ignore", "report", "delete"], default="report")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--max-entities", type=int, default=BatchLimits().max_entities, help="per batch")
    parser.add_argument("--max-bytes", type=int, default=BatchLimits().max_bytes, help="per batch")
    parser.add_argument("--whole-process", action="store_true", help="the command line on a real catalog")
    parser.add_argument("--repeat", type=int, default=3, help="with --whole-process: alternating rounds")
    args = parser.parse_args()
    if args.whole_process:
        return whole_process_import(args.columns, args.columns_per_table, args.repeat)
    limits = BatchLimits(args.max_entities, args.max_bytes)

    gc.collect()
    base_rss = rss_mb()
    model_start = time.perf_counter()
    metadata = build_model(args.columns, args.columns_per_table)
    model_seconds = time.perf_counter() - model_start
    gc.collect()
    model_rss = rss_mb()
    counts = metadata.counts()

    target = TargetConfig(apiUrl="http://127.0.0.1/v2", workspace="Demo", sourceName="bench")
    with SimulatorServer(mode="process") as sim:
        target = target.model_copy(update={"api_url": sim.url})
        first = timed_push(sim, metadata, target, missing_objects=args.missing, batch_limits=limits)
        first_rss = rss_mb()
        second = timed_push(sim, metadata, target, missing_objects=args.missing, batch_limits=limits)
        third = timed_push(
            sim,
            metadata,
            target,
            missing_objects=args.missing,
            previous_content_hash=second["hash"],
            batch_limits=limits,
        )
        by_route = sim.stats()["byRoute"]
    largest_batch = max(b.size for b in iter_batches(metadata, source_fields("bench", "postgresql"), limits))
    figures = {
        "model": {
            "columns": counts["columns"],
            "tables": counts["tables"],
            "schemas": counts["schemas"],
            "build_s": round(model_seconds, 2),
        },
        "batch_limits": {"max_entities": limits.max_entities, "max_bytes": limits.max_bytes},
        "largest_batch_mb": round(largest_batch / 1e6, 1),
        "memory_mb": {
            "interpreter": round(base_rss, 1),
            "model": round(model_rss - base_rss, 1),
            "peak_during_push_over_model": round(first_rss - model_rss, 1),
            "peak_total": round(rss_mb(), 1),
        },
        "first_push": first,
        "second_push_same_metadata": second,
        "third_push_with_previous_hash": third,
        "requests_by_route": by_route,
    }
    for key in ("first_push", "second_push_same_metadata", "third_push_with_previous_hash"):
        figures[key].pop("hash")
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"model: {counts['columns']:,} columns in {counts['tables']:,} tables, {counts['schemas']} schemas "
        f"(built in {model_seconds:.1f}s)"
    )
    print(
        f"batches: up to {limits.max_entities:,} entities / {limits.max_bytes / 2**20:.0f} MiB; "
        f"largest {largest_batch / 1e6:.1f} MB"
    )
    for label, run in (
        ("first push (creates)", first),
        ("second push (all unchanged)", second),
        ("third push (same hash)", third),
    ):
        print(
            f"{label}: {run['objects']:,} objects in {run['wall_s']}s = {run['objects_per_s']:,} objects/s; "
            f"{run['requests']} requests; client CPU {run['client_cpu_s']}s = "
            f"{run['client_share']:.0%} of wall; "
            f"simulator {run['server_s']}s; missing {run['missing']}"
        )
    memory = figures["memory_mb"]
    print(
        f"memory: model {memory['model']} MB; peak over the model during the push "
        f"{memory['peak_during_push_over_model']} MB (largest batch {largest_batch / 1e6:.1f} MB); "
        f"peak RSS {memory['peak_total']} MB"
    )
    goal = first["client_share"] < 0.25
    print(f"goal client share < 25%: {'met' if goal else 'NOT met'} ({first['client_share']:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
