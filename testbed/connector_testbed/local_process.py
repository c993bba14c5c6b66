"""Running a throwaway database server process on loopback: free ports, a non-root user, clean teardown.

Shared by `PostgresServer` and `MariaDBServer`. A server started here always listens on 127.0.0.1 only,
keeps its data in a temporary folder that is removed on stop, and runs in its own process group so
that stopping it leaves no stray process behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ServiceUser:
    """The account a server process runs as: the current one, or a system account when we are root."""

    uid: int
    gid: int
    name: str

    @property
    def switches(self) -> bool:
        return self.uid != os.geteuid()

    @property
    def user_arg(self) -> int | None:
        """For subprocess's `user=`/`group=`: None keeps the current account."""
        return self.uid if self.switches else None

    @property
    def group_arg(self) -> int | None:
        return self.gid if self.switches else None

    @property
    def extra_groups_arg(self) -> list[int] | None:
        return [] if self.switches else None

    def own(self, path: Path) -> None:
        """Give `path` (recursively) to this account, so that the server can write there."""
        if not self.switches:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, self.uid, self.gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.gid, follow_symlinks=False)


def service_user(preferred: Sequence[str]) -> ServiceUser:
    """The current user, unless it is root: then the first existing account of `preferred`, or `nobody`.

    PostgreSQL refuses to run as root; running MariaDB as root works but is not what anyone deploys.
    """
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServiceUser(entry.pw_uid, entry.pw_gid, entry.pw_name)
    for name in [*preferred, "nobody"]:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return ServiceUser(entry.pw_uid, entry.pw_gid, entry.pw_name)
    raise RuntimeError("no non-root account to run the database server as (tried: nobody)")


def run_checked(args: Sequence[str], user: ServiceUser, what: str, timeout: float = 120) -> None:
    """Run a setup command (initdb, mariadb-install-db) as `user`; raise with its output if it fails."""
    result = subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd="/",
        user=user.user_arg,
        group=user.group_arg,
        extra_groups=user.extra_groups_arg,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def start_server(args: Sequence[str], user: ServiceUser, log_path: Path) -> subprocess.Popen[bytes]:
    """Start the server in its own process group, output to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
            user=user.user_arg,
            group=user.group_arg,
            extra_groups=user.extra_groups_arg,
        )


def wait_until_ready(
    proc: subprocess.Popen[bytes], probe: Callable[[], bool], log_path: Path, timeout: float = 60
) -> None:
    """Poll `probe` until it returns True; fail early with the server log if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_tail(log_path)}")
        if probe():
            return
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout:.0f}s:\n{_tail(log_path)}")


def stop_server(proc: subprocess.Popen[bytes] | None, graceful: signal.Signals, timeout: float = 30) -> None:
    """Ask the server to stop with `graceful`, then kill its whole process group if it lingers."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(graceful)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Children that outlived their parent (they should not) go with the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def remove_tree(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
