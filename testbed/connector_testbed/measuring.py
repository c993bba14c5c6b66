"""Whole-process figures for the benchmarks: wall clock, CPU and peak memory of one child command.

What `/usr/bin/time -v` reports, read from `os.wait4` so that no extra tool is needed: the child's own
user + system CPU and its peak resident set, not the benchmark's.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path


def run_measured(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one command to its end: `wall` and `cpu` seconds, `peak_mb`; exits with its stderr on failure."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"{Path(argv[0]).name} failed (exit {proc.returncode}):\n{text}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}
