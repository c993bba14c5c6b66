"""The HTTP layer: a threaded stdlib server, the fault and rate-limit gates, the admin endpoints.

Order of the gates for a `/v2` request: read the body (refusing one over the size limit), maybe drop
the connection, admit it through the rate limiter (429 when over quota, delayed when over the throttle),
injected 429s, latency, injected 5xx, then authentication and the route. `/_admin/*` skips every gate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connector_testbed.simulator import jsontext
from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.faults import Switchboard
from connector_testbed.simulator.ratelimit import RateLimiter
from connector_testbed.simulator.routes import Request, dispatch
from connector_testbed.simulator.store import Store

log = logging.getLogger("connector_testbed.simulator")
GATEWAY_TIMEOUT_PAGE = b"<html><body><h1>504 Gateway Time-out</h1></body></html>"


class GatewayTimeout(Exception):
    """The body is so large that the gateway in front of the API gives up waiting for the answer."""


_DISCARDABLE_BYTES = 256 * 1024 * 1024


@dataclass
class Stats:
    requests: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_route: dict[str, int] = field(default_factory=dict)
    server_seconds: float = 0.0  # time spent handling /v2 requests, throttle and latency included
    waited_seconds: float = 0.0  # of which simulated waiting: throttle delay, latency_ms, ms_per_mib
    dropped: int = 0
    throttled: int = 0  # requests delayed by the throttle
    rate_limited: int = 0  # requests refused with 429 because of the quota
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            self.by_route[route] = self.by_route.get(route, 0) + 1
            self.server_seconds += seconds

    def wait(self, seconds: float) -> None:
        """Sleep `seconds` of simulated service time, counted apart from the real handling."""
        time.sleep(seconds)
        with self.lock:
            self.waited_seconds += seconds

    def count(self, counter: str) -> None:
        with self.lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "byStatus": dict(self.by_status),
                "byRoute": dict(self.by_route),
                "serverSeconds": round(self.server_seconds, 4),
                "waitedSeconds": round(self.waited_seconds, 4),
                "dropped": self.dropped,
                "throttled": self.throttled,
                "rateLimited": self.rate_limited,
            }


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], store: Store, switches: Switchboard) -> None:
        super().__init__(address, SimulatorHandler)
        self.store = store
        self.switches = switches
        self.limiter = RateLimiter()
        self.stats = Stats()

    def reset(self) -> None:
        self.store.apply_seed(keep_objects=False)
        self.switches.reset()
        self.limiter.reset()
        self.stats = Stats()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


def _route_name(method: str, path: str) -> str:
    parts = [p for p in path.split("/") if p]
    shape = "/".join(p if p[:1].isalpha() and ":" not in p and len(p) < 30 else "{id}" for p in parts)
    return f"{method} /{shape}"


class SimulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm the body waited for the client's delayed
    # ACK of the headers (40 ms seen on loopback).
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer
    server_version = "DataGalaxySimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    # -- HTTP verbs ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json; charset=utf-8"))
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.server.stats.count("dropped")
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self, max_bytes: int) -> tuple[bytes, ApiError | None]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return b"", ApiError(400, "Invalid Content-Length")
        if length > max_bytes:
            if length <= _DISCARDABLE_BYTES:  # read it, so the client gets the answer, not a reset
                while length > 0:
                    length -= len(self.rfile.read(min(length, 1 << 20)) or b"\0" * length)
            else:
                self.close_connection = True  # the body is left unread
            limit_mb = max_bytes / (1024 * 1024)
            return b"", ApiError(400, f"The request payload exceeds the limit of {limit_mb:g} MB")
        return (self.rfile.read(length) if length else b""), None

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if path.startswith("/_admin/"):
            self._admin(method, path)
            return
        switches = self.server.switches
        limits = switches.limits
        raw, too_big = self._read_body(limits.max_bytes)
        status = 500
        try:
            if switches.take_drop():
                self._drop()
                status = 0
                return
            admission = self.server.limiter.admit(limits)
            headers = {"X-RateLimit-Remaining": str(admission.remaining)}
            try:
                status, payload = self._gates_and_route(
                    method, path, query, raw=raw, too_big=too_big, admission=admission
                )
                body = jsontext.encode(payload)
            except ApiError as error:
                status, body = error.status, error.body()
                headers |= error.headers
            except GatewayTimeout:  # the gateway's own page, not the API's JSON error body
                status, body = 504, GATEWAY_TIMEOUT_PAGE
                headers["Content-Type"] = "text/html"
            except Exception:  # a simulator bug must still answer, like a real 500
                log.exception("%s %s failed", method, path)
                status, body = 500, ApiError(500, "Internal server error").body()
            if switches.take_drop_after():
                self._drop()
                status = 0
                return
            self._send(status, body, headers)
        finally:
            elapsed = time.perf_counter() - started
            self.server.stats.record(_route_name(method, path), status, elapsed)
            log.info("%s %s -> %s %.1fms", method, self.path, status or "dropped", elapsed * 1000)

    def _gates_and_route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        *,
        raw: bytes,
        too_big: ApiError | None,
        admission: Any,
    ) -> tuple[int, Any]:
        switches = self.server.switches
        limits = switches.limits
        if not admission.allowed:
            self.server.stats.count("rate_limited")
            retry = {"Retry-After": str(math.ceil(admission.retry_after))} if limits.send_retry_after else {}
            raise ApiError(429, "Too many requests: the hourly quota is exhausted", retry)
        if admission.delay:
            self.server.stats.count("throttled")
            self.server.stats.wait(admission.delay)
        if switches.take_rate_limit():
            retry = {"Retry-After": "1"} if limits.send_retry_after else {}
            raise ApiError(429, "Too many requests", retry)
        faults = switches.faults
        if faults.latency_ms:
            self.server.stats.wait(faults.latency_ms / 1000)
        if raw and limits.ms_per_mib:  # handling time grows with the body, as a real import's does
            self.server.stats.wait(len(raw) / (1024 * 1024) * limits.ms_per_mib / 1000)
        if len(raw) > limits.gateway_timeout_bytes:
            raise GatewayTimeout
        if switches.take_error():
            raise ApiError(faults.error_status, "The service is temporarily unavailable")
        if too_big is not None:
            raise too_big
        token = self._bearer()
        if faults.bad_token:
            raise ApiError(401, "The token is invalid, expired or revoked")
        if method == "GET" and path == "/v2/credentials":
            return 200, {"accessToken": self.server.store.exchange(token)}
        caller = self.server.store.authenticate(token)
        body: Any = None
        if raw:
            try:
                body = jsontext.decode(raw)
            except ValueError:
                raise ApiError(400, "The body is not valid JSON") from None
        mid_batch = method == "POST" and "/bulktree/" in path and switches.take_mid_batch_failure()
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(
            method, path, query, body, f"http://{host}", caller, self.server.store, switches, mid_batch
        )
        return dispatch(request)

    def _bearer(self) -> str | None:
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    # -- admin -----------------------------------------------------------------------------------
    def _admin(self, method: str, path: str) -> None:
        raw, _ = self._read_body(1024 * 1024 * 1024)
        server = self.server
        try:
            body = json.loads(raw) if raw else {}
            if method == "POST" and path == "/_admin/faults":
                server.switches.set_faults(body)
                result: Any = server.switches.snapshot()
            elif method == "POST" and path == "/_admin/limits":
                server.switches.set_limits(body)
                result = server.switches.snapshot()
            elif method == "POST" and path == "/_admin/reset":
                server.reset()
                result = {"reset": True}
            elif method == "GET" and path == "/_admin/tree":
                result = server.store.tree()
            elif method == "GET" and path == "/_admin/stats":
                result = server.stats.as_dict() | {"entities": server.store.entity_count()}
            elif method == "GET" and path == "/_admin/health":
                result = {"ok": True}
            elif method == "GET" and path == "/_admin/switches":
                result = server.switches.snapshot()
            else:
                raise ApiError(404, f"No admin route {method} {path}")
            self._send(200, json.dumps(result).encode())
        except (ValueError, TypeError) as error:
            self._send(400, ApiError(400, str(error)).body())
        except ApiError as error:
            self._send(error.status, error.body())
