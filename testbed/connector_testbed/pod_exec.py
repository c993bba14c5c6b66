"""Runs inside a pod's private mount namespace: bind-mounts the pod's volumes, then execs the container.

Invoked by the process kubelet as `unshare --mount --propagation private python -m connector_testbed.pod_exec
SPEC.json`. The spec holds the mounts, the working directory, argv and env (with resolved secrets, so the
kubelet writes it with mode 0600 in the pod's private folder and this program deletes it before exec).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _mount(source: str, target: str, flags: int) -> None:
    if _libc.mount(source.encode(), target.encode(), None, flags, None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} -> {target}: {os.strerror(errno)}")


def bind(source: str, target: str, read_only: bool) -> None:
    _mount(source, target, MS_BIND | MS_REC)
    if read_only:
        _mount(source, target, MS_BIND | MS_REMOUNT | MS_RDONLY)


def _is_below(path: str, target: str) -> bool:
    """Is `path` strictly inside `target`?"""
    return os.path.commonpath([path, target]) == os.path.normpath(target) and os.path.normpath(
        path
    ) != os.path.normpath(target)


def main() -> None:
    spec_path = Path(sys.argv[1])
    spec = json.loads(spec_path.read_text())
    spec_path.unlink()
    # Open every source first: a volume mounted over /tmp would otherwise hide sources that live under /tmp.
    handles = [os.open(mount["source"], os.O_PATH) for mount in spec["mounts"]]
    targets = [str(mount["target"]) for mount in spec["mounts"]]
    # Host paths the container's command needs (the Python environment, this project's sources) that a
    # volume is about to hide (a checkout under /tmp with an emptyDir on /tmp): bound back afterwards.
    shadowed = [
        path
        for path in spec.get("preserve", [])
        if os.path.isdir(path) and any(_is_below(path, target) for target in targets)
    ]
    kept = [os.open(path, os.O_PATH) for path in shadowed]
    for handle, mount in zip(handles, spec["mounts"], strict=True):
        bind(f"/proc/self/fd/{handle}", mount["target"], bool(mount.get("readOnly")))
    for handle, path in zip(kept, shadowed, strict=True):
        os.makedirs(path, exist_ok=True)
        bind(f"/proc/self/fd/{handle}", path, read_only=False)
    for handle in handles + kept:
        os.close(handle)
    if spec.get("readOnlyRootFilesystem"):
        # Per-mount read-only flag on the root mount of this namespace only (after the binds: a bind copies
        # its source mount's flags); the volumes mounted above stay writable.
        _mount("/", "/", MS_BIND | MS_REMOUNT | MS_RDONLY)
    workdir = spec.get("workingDir") or "/"
    os.chdir(workdir)
    argv: list[str] = spec["argv"]
    env: dict[str, str] = spec["env"]
    try:
        os.execvpe(argv[0], argv, env)  # noqa: S606
    except OSError as error:
        message = f"failed to start container process {argv[0]!r}: {error.strerror}"
        Path(spec["terminationMessageFile"]).write_text(message)
        print(message, file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
