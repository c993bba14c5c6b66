"""TCP relays from the pod network's gateway address to servers that listen on loopback only.

The throwaway PostgreSQL/MariaDB servers and the DataGalaxy simulator bind 127.0.0.1, which a pod on a
real node cannot reach: its loopback is its own. A relay listens on the node's bridge address (reachable
from every pod, not from other machines) and copies bytes both ways, so the servers keep their safe
loopback binding and the fast tiers stay unchanged.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class PortRelay:
    """Forward `listen_host:listen_port` (0: a free port) to `127.0.0.1:target_port`; `port` is the
    listening port."""

    def __init__(
        self, listen_host: str, target_port: int, target_host: str = "127.0.0.1", listen_port: int = 0
    ) -> None:
        self.target = (target_host, target_port)
        self._server = socket.create_server((listen_host, listen_port))
        self.host = listen_host
        self.port = int(self._server.getsockname()[1])
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name=f"relay-{self.port}")
        self._thread.start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            with contextlib.suppress(OSError):
                source.close()

    def close(self) -> None:
        self._closing.set()
        with contextlib.suppress(OSError):
            self._server.close()
