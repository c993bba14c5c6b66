"""`DataGalaxyClient`: the one place that talks HTTP to DataGalaxy.

Every request goes through the same loop: wait for the self-throttle, send with `Authorization: Bearer`,
retry what can be retried (see retry.py) while the time budget lasts, map everything else to an error
category (see errors.py). The token lives in one private attribute; it is never logged, never in a
repr, and scrubbed from any server message that would echo it.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

if "httpx" not in sys.modules:
    # httpx's package imports its command-line client (click, rich, pygments: about 80 ms) whenever those
    # happen to be installed; the extractor never uses it. A None entry makes that optional import fail
    # at once, and httpx falls back to a stub `httpx.main`.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # after the line above, on purpose

from connector_extractors.datagalaxy.errors import DataGalaxyError, Redactor, error_for_status, unavailable
from connector_extractors.datagalaxy.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_remaining,
    parse_retry_after,
)
from connector_extractors.datagalaxy.throttle import DOCUMENTED_RATE, Throttle
from connector_extractors.errors import ConnectorError, ErrorCategory

log = logging.getLogger("connector_extractors.datagalaxy")

USER_AGENT = "online-connector/0.1 (+https://github.com/online-connector)"
LEGACY_EXCHANGE_PATH = "/credentials"
ACCESS_TOKEN_REFRESH_SECONDS = 50 * 60  # legacy access tokens live one hour
QUOTA_WARNING = 100  # warn once when X-RateLimit-Remaining drops below this
MIB = 1024 * 1024


def normalize_api_url(api_url: str) -> str:
    """The configured base URL, without a trailing slash; `/v2` is added when no path is given."""
    parts = urlsplit(api_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConnectorError(
            ErrorCategory.INVALID_CONFIGURATION,
            "The DataGalaxy API URL must be an absolute http(s) URL, like https://yourapi.datagalaxy.com/v2",
        )
    path = parts.path.rstrip("/") or "/v2"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _release_stream(response: httpx.Response) -> None:
    """Break httpx's Response <-> stream reference cycle once the body is read.

    Otherwise every response (and the request body it points to, a whole batch) waits for the cyclic
    garbage collector, which runs rarely next to a large model: memory would grow by several batches.
    """
    response.stream = httpx.ByteStream(b"")


def _redirected(response: httpx.Response, what: str) -> DataGalaxyError:
    """Redirects are not followed (the token would go wherever they point): they mean a wrong base URL."""
    location = urlsplit(response.headers.get("Location", ""))
    where = urlunsplit((location.scheme, location.netloc, location.path, "", "")) or "elsewhere"
    return DataGalaxyError(
        ErrorCategory.INVALID_CONFIGURATION,
        f"DataGalaxy answered HTTP {response.status_code} while {what}, redirecting to {where}",
        "Set apiUrl to the API base URL shown in DataGalaxy (profile menu → DataGalaxy API), "
        "https and /v2 included.",
        response.status_code,
    )


class DataGalaxyClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        budget_seconds: float = 600.0,
        requests_per_second: float = DOCUMENTED_RATE,
        *,
        legacy_credentials: bool = True,
        timeout_seconds: float = 60.0,
        timeout_seconds_per_mib: float = 15.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not token:
            raise ConnectorError(ErrorCategory.INVALID_CONFIGURATION, "No DataGalaxy token was given")
        self.api_url = normalize_api_url(api_url)
        origin = urlsplit(self.api_url)
        self._origin = f"{origin.scheme}://{origin.netloc}"
        self._token = token
        self._bearer = token
        self._redact = Redactor()
        self._redact.add(token)
        self._legacy_credentials = legacy_credentials
        self._exchanged_at: float | None = None
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._retry = retry or RetryPolicy()
        self._throttle = Throttle(requests_per_second, clock=clock, sleep=sleep)
        self._timeout = timeout_seconds
        self._timeout_per_mib = timeout_seconds_per_mib
        self._deadline = clock() + budget_seconds
        self.budget_seconds = budget_seconds
        self.requests_sent = 0
        self.retries = 0
        self.rate_limit_remaining: int | None = None
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 15.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"DataGalaxyClient(api_url={self.api_url!r})"

    # -- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DataGalaxyClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def restart_budget(self) -> None:
        """Count the time budget from now (the client was opened early, while the extraction ran)."""
        self._deadline = self._clock() + self.budget_seconds

    @property
    def seconds_left(self) -> float:
        return self._deadline - self._clock()

    # -- requests -------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.api_url + (path if path.startswith("/") else "/" + path)

    def timeout_for(self, body_bytes: int) -> float:
        """The read timeout of one request: a base, plus time per MiB sent (the server imports it)."""
        return self._timeout + self._timeout_per_mib * body_bytes / MIB

    def _same_origin(self, url: str) -> str:
        """A `next_page` URL, re-rooted on the configured origin: the token never goes to another host."""
        parts = urlsplit(url)
        if not parts.scheme:
            return self._origin + (url if url.startswith("/") else "/" + url)
        return self._origin + urlunsplit(("", "", parts.path, parts.query, ""))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | list[bytes] | None = None,
        what: str | None = None,
        not_found: ErrorCategory = ErrorCategory.VERSION_NOT_FOUND,
        absolute: bool = False,
    ) -> httpx.Response:
        """Send one request, retrying as the policy allows; return a 2xx response or raise."""
        url = self._same_origin(path) if absolute else self.url(path)
        what = what or f"calling {method} {urlsplit(url).path}"
        headers = {}
        if json_body is not None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        size = len(content) if isinstance(content, bytes) else 0
        if isinstance(content, list):  # sent part by part, with a Content-Length (not chunked)
            size = sum(len(part) for part in content)
            headers["Content-Length"] = str(size)
        timeout = self.timeout_for(size)
        attempt = 0
        while True:
            if self.seconds_left <= 0:
                raise unavailable(what, attempt, "the push time budget is spent")
            self._throttle.wait()
            started = self._clock()
            failure: str
            retry_after: float | None = None
            quota_exhausted = False
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=headers | {"Authorization": f"Bearer {self._bearer}"},
                    timeout=max(min(timeout, self.seconds_left), 0.001),
                )
            except httpx.TransportError as error:
                self.requests_sent += 1
                failure = f"{type(error).__name__}: {self._redact(str(error)) or 'no detail'}"
                log.debug("%s %s failed: %s", method, urlsplit(url).path, failure)
            else:
                self.requests_sent += 1
                _release_stream(response)
                status = response.status_code
                log.debug(
                    "%s %s -> %d in %.0f ms",
                    method,
                    urlsplit(url).path,
                    status,
                    (self._clock() - started) * 1000,
                )
                remaining = parse_remaining(response.headers.get("X-RateLimit-Remaining"))
                if remaining is not None:
                    if remaining < QUOTA_WARNING <= (self.rate_limit_remaining or QUOTA_WARNING):
                        log.warning("DataGalaxy: only %d requests left in the hourly quota", remaining)
                    self.rate_limit_remaining = remaining
                if status < 300:
                    return response
                if status < 400:
                    raise _redirected(response, what)
                if status == 401 and self._try_legacy_exchange():
                    continue
                if not is_retryable_status(status):
                    raise error_for_status(response, what, not_found, self._redact)
                failure = f"HTTP {status}"
                if status == 429:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
                    quota_exhausted = remaining == 0
            attempt += 1
            delay = self._retry.delay(
                attempt - 1, retry_after=retry_after, quota_exhausted=quota_exhausted, rng=self._rng
            )
            if attempt >= self._retry.max_attempts:
                raise unavailable(what, attempt, failure)
            if delay >= self.seconds_left:
                raise unavailable(what, attempt, f"{failure} (next retry in {delay:.1f}s exceeds the budget)")
            self.retries += 1
            log.warning("DataGalaxy: %s failed (%s); retry %d in %.1fs", what, failure, attempt, delay)
            self._sleep(delay)

    def _try_legacy_exchange(self) -> bool:
        """On a 401, try the legacy `/credentials` exchange once (again only when the access token aged)."""
        if not self._legacy_credentials:
            return False
        if (
            self._exchanged_at is not None
            and self._clock() - self._exchanged_at < ACCESS_TOKEN_REFRESH_SECONDS
        ):
            return False
        self._exchanged_at = self._clock()
        try:
            self._throttle.wait()
            response = self._http.get(
                self.url(LEGACY_EXCHANGE_PATH),
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=max(min(self._timeout, self.seconds_left), 0.001),
            )
            self.requests_sent += 1
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            return False
        try:
            access = response.json().get("accessToken")
        except (ValueError, AttributeError):
            return False
        if not isinstance(access, str) or not access:
            return False
        self._redact.add(access)
        self._bearer = access
        log.info("DataGalaxy: the token was exchanged for an access token (legacy /credentials flow)")
        return True

    def get_json(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        return self._json(response, kwargs.get("what") or f"reading {path}")

    def send_json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.request(method, path, json_body=body, **kwargs)
        return (
            self._json(response, kwargs.get("what") or f"calling {method} {path}")
            if response.content
            else None
        )

    def send_json_bytes(self, method: str, path: str, content: bytes | list[bytes], **kwargs: Any) -> Any:
        """Like send_json, for a body that is already serialised (the bulktree batches)."""
        response = self.request(method, path, content=content, **kwargs)
        return (
            self._json(response, kwargs.get("what") or f"calling {method} {path}")
            if response.content
            else None
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise DataGalaxyError(
                ErrorCategory.TARGET_UNAVAILABLE,
                f"DataGalaxy answered with something that is not JSON while {what}",
                status=response.status_code,
            ) from None

    def iter_pages(
        self,
        path: str,
        params: dict[str, Any],
        *,
        what: str | None = None,
        not_found: ErrorCategory = ErrorCategory.VERSION_NOT_FOUND,
    ) -> Iterator[dict[str, Any]]:
        """Yield the `results` of a paginated list, following `next_page` until it is null."""
        page = self.get_json(path, params=params, what=what, not_found=not_found)
        seen_pages = 1
        while True:
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise DataGalaxyError(
                    ErrorCategory.TARGET_UNAVAILABLE, f"Unexpected page shape from {path} (no 'results' list)"
                )
            yield from page["results"]
            next_page = page.get("next_page")
            if not next_page or not page["results"]:
                return
            seen_pages += 1
            if seen_pages > 100_000:
                raise DataGalaxyError(ErrorCategory.TARGET_UNAVAILABLE, f"Too many pages from {path}")
            page = self.get_json(next_page, absolute=True, what=what, not_found=not_found)
