"""The two images built from this work tree (`make images`), for tests that run real containers.

The build itself is `scripts/build-images.sh` (base image, wheelhouse, `docker build`, all cached), so
that `make images`, CI and the tests build the same way; this module runs it once per process and
answers with the image references.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPOSITORY_ROOT / "scripts" / "build-images.sh"


class ImageBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Images:
    operator: str
    extractor: str
    build_seconds: float

    @property
    def all(self) -> tuple[str, str]:
        return (self.operator, self.extractor)


@functools.cache
def ensure_images(*, log: bool = True) -> Images:
    """Build (or reuse) both images; `$PYTHON_IMAGE` picks the base, as for `make images`."""
    if not BUILD_SCRIPT.exists():
        raise ImageBuildError(f"{BUILD_SCRIPT} is missing: the images build from a work tree")
    env = dict(os.environ)
    env.setdefault("PY", sys.executable)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        cwd=REPOSITORY_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if log else subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ImageBuildError(f"scripts/build-images.sh failed (exit {result.returncode}): {result.stderr}")
    operator, extractor = result.stdout.split()[-2:]
    return Images(operator, extractor, time.monotonic() - started)


def docker_run(image: str, *args: str, entrypoint: str | None = None, timeout: float = 120) -> str:
    """Run a throwaway container with the image's own user; returns stdout, raises on failure."""
    command = ["docker", "run", "--rm"]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    result = subprocess.run(
        [*command, image, *args], capture_output=True, text=True, check=False, timeout=timeout
    )
    if result.returncode != 0:
        raise ImageBuildError(f"{image} {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout
