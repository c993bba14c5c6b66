"""The throwaway servers of the testbed: loopback only, non-root, nothing left behind after stop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector_testbed.mariadb import MariaDBServer
from connector_testbed.postgres import PostgresServer

pytestmark = pytest.mark.integration


def _processes_under(folder: Path) -> dict[int, tuple[str, int]]:
    """{pid: (command line, real uid)} of the processes whose command line names `folder`."""
    found: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if str(folder) in cmdline:
            uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
            found[int(entry.name)] = (cmdline, uid)
    return found


@pytest.mark.parametrize("server_class", [PostgresServer, MariaDBServer])
def test_start_use_and_clean_stop(server_class: type[PostgresServer | MariaDBServer]) -> None:
    server = server_class()
    with server:
        folder = server.data_dir.parent
        assert folder.is_dir()
        server.create_database("scratch")
        server.execute("scratch", "CREATE TABLE t (id int)")
        assert server.query("scratch", "SELECT count(*) FROM t") == [(0,)]
        processes = _processes_under(folder)
        assert processes, "the server process should be visible"
        if os.geteuid() == 0:
            assert all(uid != 0 for _, uid in processes.values()), "the server must not run as root"
        assert any("127.0.0.1" in cmdline for cmdline, _ in processes.values()), "loopback only"
        assert server.host == "127.0.0.1"
    assert not folder.exists()
    assert _processes_under(folder) == {}
    assert not server.running
    server.stop()  # a second stop is harmless


def test_a_failed_start_cleans_up() -> None:
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("olc-pg-*"))
    server = PostgresServer(settings={"no_such_setting": "1"})
    with pytest.raises(RuntimeError, match="no_such_setting"):
        server.start()
    assert not server.running
    assert set(Path(tempfile.gettempdir()).glob("olc-pg-*")) <= before
