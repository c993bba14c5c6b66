"""Benchmark: metadata extraction on a generated catalog (issue 3, section 6).

    .venv/bin/python bench/extract.py                     # PostgreSQL, 2,000 tables x 20 columns, 20 schemas
    .venv/bin/python bench/extract.py --large             # 10,000 tables
    .venv/bin/python bench/extract.py --latency-ms 2      # via a loopback proxy adding 2 ms per round trip
    .venv/bin/python bench/extract.py --technology mariadb   (or sqlite)

It starts a throwaway server (PostgreSQL or MariaDB from the Debian packages; SQLite is a file), generates
the catalog, then measures, each in its own process so that peak memory is the run's own:
  (c) floor    one raw catalog query returning the same columns (driver cursor, no model);
  (a) ours     the extractor (`connector_extractors.extract.extract`), the whole model built;
  (m) multi    SQLAlchemy multi-reflection alone (the extractor's generic path);
  (b) baseline a per-table Inspector walk: get_columns, get_pk_constraint, get_foreign_keys,
               get_table_comment for each table (what DataHub and OpenMetadata do).
Times include opening the connection. It prints the ratios b/a and a/c and peak memory (max RSS).
Goals: a within 3 x c; peak memory under 500 MB at 10,000 tables.

Then, as whole processes (what a user runs; issue 13), alternating, `--repeat` rounds, medians quoted:
  (d) dry run  `online-connector-extract --dry-run --output FILE`;
  (i) import   `online-connector-extract` pushing to the DataGalaxy simulator (its own process, reset
               before each run so that every run creates the whole tree);
  (d0) before  with `--compare-root DIR`: the dry run of another checkout's extractor (say the previous
               commit, `git worktree add DIR REV`), same interpreter and packages, alternating with (d);
  (h) DataHub  `datahub ingest` of its postgres source (file sink, profiling off), when installed:
               `--datahub-venv DIR` uses DIR/bin/datahub and creates that venv first if it is missing
               (`pip install 'acryl-datahub[postgres]'` from the package index, outside the project's venv).
Each is timed like `/usr/bin/time -v`: wall clock, CPU (user + system) and peak RSS of the child from
`os.wait4`. Printed ratios: h/d (goal >= 30), d/h peak memory (goal <= 1/3), i/d (goal <= 2).

    .venv/bin/python bench/extract.py --whole-only --datahub-venv ~/.cache/online-connector/datahub-venv
    .venv/bin/python bench/extract.py --growth --whole-only   # 2,000 and 10,000 tables side by side

`--growth` builds both catalogs in one server and alternates dry runs of each: 10,000 / 2,000 time
(goal <= 5.5) and the large run's peak memory (goal < 500 MB). `--keep-output DIR` keeps one dry run's
JSON (DIR/dry-run-<tables>.json) and its content hash, to compare two versions byte for byte.
"""

# ruff: noqa: E402 - the imports follow the sys.path fix below, on purpose
from __future__ import annotations

import os
import sys

# Python puts a script's folder first on sys.path, where a script named like a standard module would
# shadow it. Move the folder to the end before importing anything else.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE] + [_HERE]

import argparse
import json
import resource
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from connector_extractors.datagalaxy.throttle import DOCUMENTED_RATE, Throttle
from connector_testbed.measuring import run_measured

COLUMN_TYPES = {
    "postgresql": [
        "integer", "bigint", "varchar(100)", "text", "numeric(12,2)", "timestamp", "date", "boolean",
        "jsonb", "uuid", "double precision", "char(3)", "smallint", "timestamptz", "bytea", "text[]",
        "varchar(20)", "numeric(5,0)", "interval", "time",
    ],
    "mariadb": [
        "int", "bigint", "varchar(100)", "text", "decimal(12,2)", "datetime", "date", "tinyint(1)",
        "json", "char(36)", "double", "char(3)", "smallint", "timestamp NULL", "blob", "mediumtext",
        "varchar(20)", "decimal(5,0)", "time", "year",
    ],
    "sqlite": [
        "INTEGER", "BIGINT", "VARCHAR(100)", "TEXT", "NUMERIC(12,2)", "TIMESTAMP", "DATE", "BOOLEAN",
        "JSON", "VARCHAR(36)", "DOUBLE", "CHAR(3)", "SMALLINT", "DATETIME", "BLOB", "TEXT",
        "VARCHAR(20)", "NUMERIC(5,0)", "VARCHAR(30)", "TIME",
    ],
}  # fmt: skip


# -- catalog generation ---------------------------------------------------------------------------------


def table_ddl(technology: str, schema: str, index: int, columns: int, per_schema: int) -> list[str]:
    """CREATE TABLE (+ comments) for table `index` of `schema`: PK, an FK to the previous table every 5th."""
    q = "`" if technology == "mariadb" else '"'
    name = f"t{index:05d}"
    qualified = f"{q}{schema}{q}.{q}{name}{q}" if technology != "sqlite" else f"{q}{schema}_{name}{q}"
    types = COLUMN_TYPES[technology]
    cols = [f"id {'INTEGER' if technology == 'sqlite' else 'bigint'} NOT NULL PRIMARY KEY"]
    for c in range(1, columns):
        ctype = types[c % len(types)]
        not_null = " NOT NULL" if c % 4 == 0 else ""
        comment = f" COMMENT 'column {c}'" if technology == "mariadb" and c % 7 == 0 else ""
        cols.append(f"c{c:02d} {ctype}{not_null}{comment}")
    if index % 5 == 4:
        previous = f"t{index - 1:05d}"
        target = (
            f"{q}{schema}{q}.{q}{previous}{q}" if technology != "sqlite" else f"{q}{schema}_{previous}{q}"
        )
        cols.append(f"FOREIGN KEY (c01) REFERENCES {target} (id)")
    table_comment = f" COMMENT 'table {index}'" if technology == "mariadb" and index % 10 == 0 else ""
    statements = [f"CREATE TABLE {qualified} ({', '.join(cols)}){table_comment}"]
    if technology == "postgresql" and index % 10 == 0:
        statements.append(f"COMMENT ON TABLE {qualified} IS 'table {index}'")
        statements.append(f"COMMENT ON COLUMN {qualified}.c07 IS 'column 7'")
    return statements


def schema_names(count: int) -> list[str]:
    return [f"s{i:02d}" for i in range(count)]


def generate(technology: str, server: Any, database: str, *, tables: int, columns: int, schemas: int) -> None:
    started = time.monotonic()
    per_schema = tables // schemas
    for s, schema in enumerate(schema_names(schemas)):
        statements: list[str] = []
        for i in range(per_schema):
            statements += table_ddl(technology, schema, s * per_schema + i, columns, per_schema)
        if technology == "postgresql":
            server.execute(database, f"CREATE SCHEMA {schema};\n" + ";\n".join(statements))
        elif technology == "mariadb":
            server.create_database(schema)
            server.execute(schema, ";\n".join(statements))
        else:
            with sqlite3.connect(server) as conn:
                conn.executescript(";\n".join(statements) + ";")
    print(
        f"generated {tables} tables x {columns} columns in {schemas} schemas "
        f"in {time.monotonic() - started:.1f}s"
    )


# -- measured workers (each runs in its own process) ----------------------------------------------


def floor_query(technology: str, config: dict[str, Any], password: str | None) -> int:
    source = config["source"]
    schemas = list(config["filters"]["schemas"]["include"])
    if technology == "postgresql":
        import psycopg

        from connector_extractors.inspection.postgresql import COLUMNS_SQL  # noqa: F401 - same facets

        sql = """
        SELECT n.nspname, c.relname, a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), d.description
        FROM pg_catalog.pg_attribute a
        JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        LEFT JOIN pg_catalog.pg_description d
               ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass
              AND d.objsubid = a.attnum
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0
          AND NOT a.attisdropped
        """
        with psycopg.connect(
            host=source["host"],
            port=source["port"],
            dbname=source["database"],
            user=source["username"],
            password=password,
        ) as conn:
            return len(conn.execute(sql, (schemas,)).fetchall())
    if technology == "mariadb":
        import pymysql

        conn = pymysql.connect(
            host=source["host"], port=source["port"], user=source["username"], password=password or ""
        )
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE,"
                    " IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA IN %s",
                    (tuple(schemas),),
                )
                return len(cur.fetchall())
        finally:
            conn.close()
    conn_ = sqlite3.connect(f"file:{source['path']}?mode=ro", uri=True)
    try:
        rows = conn_.execute(
            'SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk FROM sqlite_master m'
            " JOIN pragma_table_info(m.name) p WHERE m.type IN ('table', 'view')"
        ).fetchall()
        return len(rows)
    finally:
        conn_.close()


def per_table_baseline(config: dict[str, Any], password: str | None) -> int:
    from sqlalchemy import inspect

    from connector_extractors.extract import open_session
    from connector_extractors.run_config import RunConfig

    cfg = RunConfig.model_validate(config)
    columns = 0
    with open_session(cfg, password, fast=False) as session:
        insp = inspect(session.connection)
        for schema in session.visible_schemas():
            for table in insp.get_table_names(schema=schema):
                columns += len(insp.get_columns(table, schema=schema))
                insp.get_pk_constraint(table, schema=schema)
                insp.get_foreign_keys(table, schema=schema)
                if session.connection.dialect.supports_comments:
                    insp.get_table_comment(table, schema=schema)
    return columns


def ours(config: dict[str, Any], password: str | None, fast: bool) -> int:
    from connector_extractors.extract import extract
    from connector_extractors.run_config import RunConfig

    result = extract(RunConfig.model_validate(config), password, fast=fast)
    return result.metadata.counts()["columns"]


def worker(mode: str) -> None:
    config = json.loads(os.environ["OLC_RUN_CONFIG"])
    password = os.environ.get("OLC_SOURCE_PASSWORD")
    technology = config["source"]["technology"]
    # Import everything first: interpreter and library start-up are not part of any measurement.
    import psycopg  # noqa: F401
    import pymysql  # noqa: F401
    import sqlalchemy
    import sqlalchemy.dialects.mysql.pymysql
    import sqlalchemy.dialects.postgresql.psycopg
    import sqlalchemy.dialects.sqlite.pysqlite  # noqa: F401

    import connector_extractors.extract
    import connector_extractors.inspection  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if mode == "floor":
        columns = floor_query(technology, config, password)
    elif mode == "ours":
        columns = ours(config, password, fast=True)
    elif mode == "multi":
        columns = ours(config, password, fast=False)
    else:
        columns = per_table_baseline(config, password)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "start_mb": before, "columns": columns}))


def measure(mode: str, config: dict[str, Any], password: str | None, repeat: int) -> dict[str, Any]:
    """Best of `repeat` runs of worker `mode`, each a fresh process."""
    env = {**os.environ, "OLC_RUN_CONFIG": json.dumps(config), "OLC_SOURCE_PASSWORD": password or ""}
    env["OLC_LOG_LEVEL"] = "WARNING"
    best: dict[str, Any] | None = None
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", mode], env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise SystemExit(f"worker {mode} failed:\n{proc.stdout}\n{proc.stderr}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


# -- whole processes (issue 13) -----------------------------------------------------------------------

DATAHUB_PACKAGE = "acryl-datahub[postgres]"


def extractor_command() -> list[str]:
    """The console script a user runs, from this interpreter's venv."""
    script = Path(sys.executable).with_name("online-connector-extract")
    return [str(script)] if script.exists() else [sys.executable, "-m", "connector_extractors"]


def ensure_datahub(venv: Path) -> Path:
    """DIR/bin/datahub, creating the venv and installing DataHub's postgres source first when missing."""
    program = venv / "bin" / "datahub"
    if not program.exists():
        print(f"creating {venv} and installing {DATAHUB_PACKAGE} (a few minutes)…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", DATAHUB_PACKAGE], check=True
        )
    return program


def datahub_recipe(config: dict[str, Any], folder: Path) -> Path:
    """A recipe for DataHub's postgres source on the same schemas; the password comes via ${VAR}."""
    source = config["source"]
    recipe = folder / "datahub-recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "source": {
                    "type": "postgres",
                    "config": {
                        "host_port": f"{source['host']}:{source['port']}",
                        "database": source["database"],
                        "username": source["username"],
                        "password": "${OLC_SOURCE_PASSWORD}",
                        "schema_pattern": {
                            "allow": [f"^{s}$" for s in config["filters"]["schemas"]["include"]]
                        },
                        "profiling": {"enabled": False},
                    },
                },
                "sink": {"type": "file", "config": {"filename": str(folder / "datahub-out.json")}},
            }
        )
    )
    return recipe


class WholeProcesses:
    """The commands measured as whole processes, their configuration files in one temporary folder."""

    def __init__(
        self, folder: Path, config: dict[str, Any], password: str | None, root: Path | None = None
    ) -> None:
        self.folder = folder
        self.config = config
        self.env = {
            **os.environ,
            "OLC_SOURCE_PASSWORD": password or "",
            "OLC_TERMINATION_MESSAGE_PATH": str(folder / "termination-log"),
            "DATAHUB_TELEMETRY_ENABLED": "false",
        }
        self.env.pop("OLC_LOG_LEVEL", None)  # the default level, as a user runs it
        if root is not None:  # another checkout's extractor: its source folders before the editable install
            self.env["PYTHONPATH"] = os.pathsep.join(str(root / part) for part in ("extractors", "testbed"))
        self.output = folder / "dry-run.json"
        self.simulator: Any = None
        # Another checkout runs as `python -m` (its __main__ block, as its own console script would): the
        # venv's console script names this checkout's entry function, which an older one may not have.
        self.command = extractor_command() if root is None else [sys.executable, "-m", "connector_extractors"]

    def _config_file(self, name: str, config: dict[str, Any]) -> Path:
        path = self.folder / name
        path.write_text(json.dumps({"connection": "bench/extract", **config}))
        return path

    def summary(self) -> dict[str, Any]:
        text = (self.folder / "termination-log").read_text()
        return dict(json.loads(text)) if text else {}

    def dry_run(self) -> dict[str, float]:
        config = self._config_file("dry-run.json.config", self.config)
        argv = [*self.command, "--config", str(config), "--dry-run", "--output", str(self.output)]
        return run_measured(argv, self.env)

    def import_run(self) -> dict[str, float]:
        """Extract and push to the simulator (another process), reset first: every run creates it all."""
        from connector_testbed.simulator.seed import VALID_TOKEN

        assert self.simulator is not None
        self.simulator.reset()
        target = {"apiUrl": self.simulator.url, "workspace": "Demo", "sourceName": "bench"}
        config = self._config_file("import.json.config", {**self.config, "target": target})
        before = self.simulator.stats()
        figures = run_measured(
            [*self.command, "--config", str(config)], {**self.env, "OLC_DATAGALAXY_TOKEN": VALID_TOKEN}
        )
        after = self.simulator.stats()
        figures["server"] = float(after["serverSeconds"] - before["serverSeconds"])
        # Simulated service time (throttle delays, latency_ms, ms_per_mib), reported apart from handling.
        figures["waited"] = float(after.get("waitedSeconds", 0.0) - before.get("waitedSeconds", 0.0))
        figures["throttled"] = float(after.get("throttled", 0) - before.get("throttled", 0))
        figures["requests"] = float(after["requests"] - before["requests"])
        # The target's reads that the CLI makes while the extraction runs: workspace (and version), the
        # owner check (the first GET /v2/sources), technologies, attributes. The rest follow the extraction.
        routes = {r: n - before["byRoute"].get(r, 0) for r, n in after["byRoute"].items()}
        figures["target_reads"] = float(
            sum(n for r, n in routes.items() if r.startswith(TARGET_READS))
            + min(routes.get("GET /v2/sources", 0), 1)
        )
        summary = self.summary()
        if summary.get("result") != "Succeeded":
            raise SystemExit(f"import run did not succeed: {summary}")
        figures["created"] = float(summary.get("push", {}).get("created", 0))
        return figures

    def datahub(self, program: Path) -> dict[str, float]:
        recipe = datahub_recipe(self.config, self.folder)
        return run_measured([str(program), "ingest", "-c", str(recipe)], self.env)


TARGET_READS = ("GET /v2/workspaces", "GET /v2/technologies", "GET /v2/attributes")
THROTTLE_SPACING = Throttle(DOCUMENTED_RATE).interval  # the client's default spacing of request starts


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def measure_whole(
    config: dict[str, Any], password: str | None, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    """Dry run, import run and DataHub's source, alternating for `--repeat` rounds; medians."""
    from connector_testbed.simulator import SimulatorServer

    datahub = None
    if args.datahub_venv and config["source"]["technology"] == "postgresql":
        datahub = ensure_datahub(Path(args.datahub_venv).expanduser())
    elif args.datahub and config["source"]["technology"] == "postgresql":
        found = shutil.which("datahub")
        datahub = Path(found) if found else None
        if datahub is None:
            print("DataHub (acryl-datahub) is not installed: peer skipped (--datahub-venv DIR installs it)")
    runs: dict[str, list[dict[str, float]]] = {"before": [], "dry": [], "import": [], "datahub": []}
    folder = Path(tempfile.mkdtemp(prefix="olc-bench-whole-"))
    try:
        commands = WholeProcesses(folder, config, password)
        before = None
        if args.compare_root:
            (folder / "before").mkdir()
            before = WholeProcesses(folder / "before", config, password, Path(args.compare_root).resolve())
        with SimulatorServer(mode="process") as simulator:
            commands.simulator = simulator
            for round_ in range(args.repeat):
                if before is not None:
                    runs["before"].append(before.dry_run())
                runs["dry"].append(commands.dry_run())
                if round_ == 0 and args.keep_output:
                    keep(commands, args)
                runs["import"].append(commands.import_run())
                if datahub is not None:
                    runs["datahub"].append(commands.datahub(datahub))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {name: medians(found) for name, found in runs.items() if found}


def keep(commands: WholeProcesses, args: argparse.Namespace) -> None:
    """Keep one dry run's JSON and content hash (to compare two versions of the extractor byte for byte)."""
    import hashlib

    folder = Path(args.keep_output)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"dry-run-{args.tables}.json"
    shutil.copyfile(commands.output, kept)
    digest = hashlib.sha256(kept.read_bytes()).hexdigest()
    content_hash = commands.summary().get("contentHash")
    (folder / f"dry-run-{args.tables}.hash").write_text(f"contentHash {content_hash}\nfile sha256:{digest}\n")
    print(f"kept {kept} (file sha256:{digest[:16]}…, contentHash {content_hash})")


def measure_growth(
    small: dict[str, Any], large: dict[str, Any], password: str | None, repeat: int
) -> dict[str, dict[str, float]]:
    """Dry runs of the small and the large catalog, alternating; medians."""
    runs: dict[str, list[dict[str, float]]] = {"small": [], "large": []}
    folder = Path(tempfile.mkdtemp(prefix="olc-bench-growth-"))
    try:
        for _ in range(repeat):
            for name, config in (("small", small), ("large", large)):
                sub = folder / name
                sub.mkdir(exist_ok=True)
                runs[name].append(WholeProcesses(sub, config, password).dry_run())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {name: medians(found) for name, found in runs.items()}


def report_whole(figures: dict[str, dict[str, float]], in_process: dict[str, Any] | None) -> None:
    labels = {
        "before": "(d0) dry run of --compare-root",
        "dry": "(d) dry run, --output FILE",
        "import": "(i) import run to the simulator",
        "datahub": "(h) DataHub postgres source",
    }
    print("\n  whole processes (medians):               wall        CPU    peak RSS")
    for key, label in labels.items():
        if key in figures:
            r = figures[key]
            print(f"  {label:<36} {r['wall']:8.3f} s {r['cpu']:8.3f} s {r['peak_mb']:7.0f} MB")
    d, i = figures["dry"], figures["import"]
    if "before" in figures:
        b = figures["before"]
        print(f"  d0/d = {b['wall'] / d['wall']:.2f} (wall); memory d/d0 = {d['peak_mb'] / b['peak_mb']:.2f}")
    if in_process is not None:
        share = in_process["seconds"] / d["wall"]
        print(
            f"  in-process extract() / whole dry run = {share:.2f}  (the rest: start-up, serialising, output)"
        )
    print(
        f"  i/d = {i['wall'] / d['wall']:.2f}  (goal: <= 2); the import created {i['created']:.0f} objects"
        f" in {i['requests']:.0f} requests, {i['server']:.2f}s of them in the simulator"
    )
    print(
        f"  of the simulator's time, {i['waited']:.2f}s is simulated waiting (throttle delays on"
        f" {i['throttled']:.0f} requests, latency_ms, ms_per_mib), the rest its own handling"
    )
    after = i["requests"] - i["target_reads"]
    floor = max(after - 1, 0) * THROTTLE_SPACING
    print(
        f"  the client spaces request starts {THROTTLE_SPACING * 1000:.0f} ms apart (DataGalaxy's documented"
        f" {DOCUMENTED_RATE:g}/s, 5 % margin): the {after:.0f} requests after the extraction take"
        f" >= {floor:.2f} s however fast the service; i - d = {i['wall'] - d['wall']:.2f} s;"
        f" i/d floor = 1 + {floor:.2f}/d = {1 + floor / d['wall']:.2f}"
    )
    if "datahub" in figures:
        h = figures["datahub"]
        print(f"  h/d = {h['wall'] / d['wall']:.1f}  (goal: >= 30)")
        print(f"  d/h peak memory = {d['peak_mb'] / h['peak_mb']:.2f}  (goal: <= 0.33)")


def report_growth(figures: dict[str, dict[str, float]], small: int, large: int) -> None:
    s, g = figures["small"], figures["large"]
    print("\n  growth, whole dry runs (medians):        wall        CPU    peak RSS")
    for tables, r in ((small, s), (large, g)):
        print(f"  {f'{tables:,} tables':<36} {r['wall']:8.3f} s {r['cpu']:8.3f} s {r['peak_mb']:7.0f} MB")
    print(f"  {large:,} / {small:,} tables: time x{g['wall'] / s['wall']:.2f}  (goal: <= 5.5)")
    print(f"  peak memory at {large:,} tables: {g['peak_mb']:.0f} MB  (goal: < 500 MB)")


# -- orchestration ----------------------------------------------------------------------------------


@contextmanager
def source(technology: str, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Start the server (or make the file), generate the catalog; yields the RunConfig source and secrets."""
    schemas = schema_names(args.schemas)
    if technology == "postgresql":
        from connector_testbed.postgres import PostgresServer

        with PostgresServer(settings={"max_locks_per_transaction": "512"}) as pg:
            pg.create_database("bench")
            generate(technology, pg, "bench", tables=args.tables, columns=args.columns, schemas=args.schemas)
            pg.execute("bench", "ANALYZE")
            yield {
                "source": {"technology": "postgresql", "host": pg.host, "port": pg.port, "database": "bench",
                           "username": pg.admin_user, "tls": {"mode": "disable"}},  # a loopback test server
                "password": pg.admin_password,
                "server": "PostgreSQL " + pg.query("bench", "SHOW server_version")[0][0],
                "schemas": schemas,
                "handle": pg,
            }  # fmt: skip
    elif technology == "mariadb":
        from connector_testbed.mariadb import MariaDBServer

        with MariaDBServer(extra_args=["--innodb-file-per-table=0", "--table-definition-cache=20000"]) as db:
            generate(technology, db, "", tables=args.tables, columns=args.columns, schemas=args.schemas)
            yield {
                "source": {
                    "technology": "mariadb",
                    "host": db.host,
                    "port": db.port,
                    "username": db.admin_user,
                    "tls": {"mode": "disable"},  # a loopback test server
                },
                "password": db.admin_password,
                "server": "MariaDB " + db.query(None, "SELECT VERSION()")[0][0],
                "schemas": schemas,
            }
    else:
        folder = Path(tempfile.mkdtemp(prefix="olc-bench-"))
        try:
            path = folder / "bench.sqlite"
            generate(technology, str(path), "", tables=args.tables, columns=args.columns, schemas=1)
            yield {
                "source": {"technology": "sqlite", "path": str(path)},
                "password": None,
                "server": "SQLite " + sqlite3.sqlite_version,
                "schemas": ["main"],
            }
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--technology", choices=["postgresql", "mariadb", "sqlite"], default="postgresql")
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=21)
    parser.add_argument("--schemas", type=int, default=20)
    parser.add_argument("--large", action="store_true", help="10,000 tables")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added round-trip latency (proxy)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast measurement (best kept)")
    parser.add_argument("--skip-baseline", action="store_true", help="skip the slow per-table walk")
    parser.add_argument(
        "--datahub", action="store_true", help="also run DataHub's postgres source if on PATH"
    )
    parser.add_argument(
        "--datahub-venv", help="DataHub's venv (created with acryl-datahub[postgres] when missing)"
    )
    parser.add_argument("--whole-only", action="store_true", help="only the whole-process figures")
    parser.add_argument("--in-process-only", action="store_true", help="skip the whole-process figures")
    parser.add_argument(
        "--growth", action="store_true", help="dry runs of 2,000 and 10,000 tables side by side (PostgreSQL)"
    )
    parser.add_argument("--compare-root", help="also time the dry run of this checkout's extractor (d0)")
    parser.add_argument("--keep-output", help="keep one dry run's JSON and content hash in this folder")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.large:
        args.tables = 10_000
    if args.technology == "sqlite":
        args.schemas = 1

    with ExitStack() as stack:
        info = stack.enter_context(source(args.technology, args))
        src = dict(info["source"])
        if args.latency_ms and args.technology != "sqlite":
            from delay_proxy import DelayProxy

            proxy = stack.enter_context(DelayProxy(src["host"], src["port"], args.latency_ms))
            src["host"], src["port"] = proxy.host, proxy.port
        config = {"source": src, "filters": {"schemas": {"include": info["schemas"]}}}
        password = info["password"]
        results: dict[str, dict[str, Any]] = {}
        if not args.whole_only:
            results["floor"] = measure("floor", config, password, args.repeat)
            results["ours"] = measure("ours", config, password, args.repeat)
            results["multi"] = measure("multi", config, password, 1)
            if not args.skip_baseline:
                results["baseline"] = measure("baseline", config, password, 1)
            report(args, info["server"], results)
        else:
            print(
                f"\n{info['server']}: {args.tables} tables x {args.columns} columns in {args.schemas} schemas"
            )
        if not args.in_process_only:
            whole = measure_whole(config, password, args)
            report_whole(whole, results.get("ours"))
        if args.growth and args.technology == "postgresql":
            large_tables = 10_000 if args.tables < 10_000 else args.tables * 5
            pg = info["handle"]
            pg.create_database("bench_large")
            generate(
                "postgresql",
                pg,
                "bench_large",
                tables=large_tables,
                columns=args.columns,
                schemas=args.schemas,
            )
            pg.execute("bench_large", "ANALYZE")
            large = {**config, "source": {**config["source"], "database": "bench_large"}}
            growth = measure_growth(config, large, password, args.repeat)
            report_growth(growth, args.tables, large_tables)


def report(args: argparse.Namespace, server: str, results: dict[str, dict[str, Any]]) -> None:
    latency = f", +{args.latency_ms:g} ms per round trip" if args.latency_ms else ""
    total_columns = results["ours"]["columns"]
    print(
        f"\n{server}: {args.tables} tables x {args.columns} columns in {args.schemas} schemas "
        f"({total_columns} columns){latency}"
    )
    labels = {
        "floor": "(c) floor: one raw catalog query",
        "ours": "(a) ours: the extractor (in process)",
        "multi": "    SQLAlchemy multi-reflection",
        "baseline": "(b) per-table Inspector baseline",
    }
    for key, label in labels.items():
        if key in results:
            r = results[key]
            print(
                f"  {label:<36} {r['seconds']:8.3f} s   peak {r['peak_mb']:6.0f} MB"
                f"   ({r['columns']} columns)"
            )
    a, c = results["ours"]["seconds"], results["floor"]["seconds"]
    print(f"  a/c = {a / c:.2f}  (goal: within 3)")
    print(f"  multi-reflection / c = {results['multi']['seconds'] / c:.2f}")
    if "baseline" in results:
        print(f"  b/a = {results['baseline']['seconds'] / a:.1f}  (per-table baseline / ours)")
    print(
        f"  peak memory of the extractor: {results['ours']['peak_mb']:.0f} MB"
        " (goal: < 500 MB at 10,000 tables)"
    )


if __name__ == "__main__":
    main()
