"""Benchmark: push a catalog of 200,000 columns to the DataGalaxy simulator.

    .venv/bin/python bench/push.py [--columns 200000] [--columns-per-table 100] [--missing report]

The simulator runs in its own process (as in the demo), so this process's CPU time is the client's:
building the JSON batches, hashing, httpx and response parsing. Printed: objects/s, requests, the
client's CPU share of the wall time, the simulator's own handling time, and memory (peak RSS over the
model's RSS, next to the largest batch). Goals (issue 4): client share < 1/4 of the wall time; memory
bounded by one batch plus the extracted model.
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--columns", type=int, default=200_000)
    parser.add_argument("--columns-per-table", type=int, default=100)
    parser.add_argument("--missing", choices=["ignore", "report", "delete"], default="report")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

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
        first = timed_push(sim, metadata, target, missing_objects=args.missing)
        first_rss = rss_mb()
        second = timed_push(sim, metadata, target, missing_objects=args.missing)
        third = timed_push(
            sim, metadata, target, missing_objects=args.missing, previous_content_hash=second["hash"]
        )
        by_route = sim.stats()["byRoute"]
    limits = BatchLimits()
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
