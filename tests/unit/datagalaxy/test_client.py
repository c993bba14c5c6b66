"""DataGalaxyClient against a mock transport: headers, paging safety, retries, errors, redaction."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import httpx
import pytest

from connector_extractors.datagalaxy import DataGalaxyClient
from connector_extractors.datagalaxy.client import normalize_api_url
from connector_extractors.datagalaxy.retry import RetryPolicy
from connector_extractors.errors import ConnectorError, ErrorCategory

TOKEN = "secret-token-1234567890"
Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(handler: Handler, clock: FakeClock | None = None, **kwargs: object) -> DataGalaxyClient:
    clock = clock or FakeClock()
    kwargs.setdefault("requests_per_second", 0)
    return DataGalaxyClient(
        "https://dg.example/v2",
        TOKEN,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
        **kwargs,  # type: ignore[arg-type]
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"message": message, "status": status}}, headers=headers)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.datagalaxy.com/v2", "https://api.datagalaxy.com/v2"),
        ("https://api.datagalaxy.com/v2/", "https://api.datagalaxy.com/v2"),
        ("https://api.datagalaxy.com", "https://api.datagalaxy.com/v2"),
        ("http://127.0.0.1:8099/v2", "http://127.0.0.1:8099/v2"),
    ],
)
def test_the_base_url_is_normalised(given: str, expected: str) -> None:
    assert normalize_api_url(given) == expected


@pytest.mark.parametrize("bad", ["api.datagalaxy.com/v2", "ftp://x/v2", ""])
def test_a_bad_base_url_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        normalize_api_url(bad)
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION


def test_sends_a_bearer_token_and_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    with make_client(handler) as client:
        assert client.send_json("POST", "/sources/v1", {"name": "x"}) == {"ok": True}
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == {"name": "x"}
    assert str(seen[0].url) == "https://dg.example/v2/sources/v1"


def test_next_page_is_followed_on_the_configured_origin_only() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        page = int(request.url.params.get("page", "1"))
        next_page = f"https://evil.example/v2/fields?limit=1&page={page + 1}" if page < 3 else None
        return httpx.Response(
            200,
            json={
                "pages": 3,
                "total": 1,
                "total_sum": 3,
                "next_page": next_page,
                "results": [{"id": str(page)}],
            },
        )

    with make_client(handler) as client:
        assert [r["id"] for r in client.iter_pages("/fields", {"limit": 1})] == ["1", "2", "3"]
    assert hosts == ["dg.example"] * 3


def test_an_empty_page_ends_the_listing_even_with_a_next_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"next_page": "https://dg.example/v2/x?page=2", "results": []})

    with make_client(handler) as client:
        assert list(client.iter_pages("/x", {})) == []


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (400, ErrorCategory.PAYLOAD_REJECTED),
        (401, ErrorCategory.TOKEN_REJECTED),
        (403, ErrorCategory.TOKEN_REJECTED),
        (404, ErrorCategory.WORKSPACE_NOT_FOUND),
        (413, ErrorCategory.PAYLOAD_REJECTED),
        (422, ErrorCategory.PAYLOAD_REJECTED),
    ],
)
def test_client_errors_are_not_retried(status: int, category: ErrorCategory) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(status, "nope")

    with make_client(handler, legacy_credentials=False) as client, pytest.raises(ConnectorError) as caught:
        client.get_json("/x", not_found=ErrorCategory.WORKSPACE_NOT_FOUND)
    assert caught.value.category is category
    assert f"HTTP {status}: nope" in caught.value.message
    assert calls == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_server_errors_and_429_are_retried_with_growing_waits(status: int) -> None:
    clock = FakeClock()
    answers = [error(status, "busy")] * 4 + [httpx.Response(200, json={})]

    with make_client(
        lambda r: answers.pop(0), clock, retry=RetryPolicy(base_delay=1, max_delay=100)
    ) as client:
        client.get_json("/x")
    assert client.retries == 4
    for attempt, wait in enumerate(clock.sleeps):
        assert 2**attempt / 2 <= wait <= 2**attempt


def test_transport_errors_are_retried() -> None:
    answers: list[Exception | httpx.Response] = [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.Response(200, json={"fine": 1}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with make_client(handler) as client:
        assert client.get_json("/x") == {"fine": 1}
        assert client.retries == 3


def test_retry_after_is_honoured_in_seconds_and_as_a_date() -> None:
    clock = FakeClock()
    answers = [
        error(429, "slow down", {"Retry-After": "17"}),
        error(503, "later", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # in the past: no extra wait
        httpx.Response(200, json={}),
    ]
    with make_client(lambda r: answers.pop(0), clock) as client:
        client.get_json("/x")
    assert clock.sleeps[0] == 17.0
    assert clock.sleeps[1] < 2


def test_a_spent_quota_without_retry_after_waits_the_quota_wait() -> None:
    clock = FakeClock()
    answers = [
        error(429, "quota", {"X-RateLimit-Remaining": "0"}),
        httpx.Response(200, json={}, headers={"X-RateLimit-Remaining": "9"}),
    ]
    with make_client(lambda r: answers.pop(0), clock, retry=RetryPolicy(quota_wait=42)) as client:
        client.get_json("/x")
        assert client.rate_limit_remaining == 9
    assert clock.sleeps == [42]


def test_the_budget_stops_retries_before_a_wait_that_would_overrun_it() -> None:
    clock = FakeClock()
    with (
        make_client(
            lambda r: error(503, "down"),
            clock,
            budget_seconds=10,
            retry=RetryPolicy(max_attempts=100, base_delay=1, max_delay=8),
        ) as client,
        pytest.raises(ConnectorError) as caught,
    ):
        client.get_json("/x")
    assert caught.value.category is ErrorCategory.TARGET_UNAVAILABLE
    assert clock.now <= 10


def test_the_legacy_exchange_replaces_the_bearer_once() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers["Authorization"]
        seen.append(f"{request.url.path} {auth}")
        if request.url.path == "/v2/credentials":
            return httpx.Response(200, json={"accessToken": "access-abc"})
        if auth == "Bearer access-abc":
            return httpx.Response(200, json={"ok": 1})
        return error(401, "expired")

    with make_client(handler) as client:
        assert client.get_json("/x") == {"ok": 1}
        assert client.get_json("/y") == {"ok": 1}
    assert seen == [
        f"/v2/x Bearer {TOKEN}",
        f"/v2/credentials Bearer {TOKEN}",
        "/v2/x Bearer access-abc",
        "/v2/y Bearer access-abc",
    ]


def test_secrets_echoed_by_the_server_are_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/credentials":
            return httpx.Response(200, json={"accessToken": "access-xyz"})
        return error(400, f"bad request from {request.headers['Authorization']} and {TOKEN}")

    with make_client(handler) as client, pytest.raises(ConnectorError) as caught:
        client.get_json("/x")
    text = f"{caught.value} {caught.value.message} {client!r}"
    assert TOKEN not in text
    assert "access-xyz" not in text
    assert "***" in text


def test_a_non_json_error_body_is_reported_briefly() -> None:
    client = make_client(lambda r: httpx.Response(400, text="<html>" + "x" * 5000))
    with client, pytest.raises(ConnectorError) as caught:
        client.get_json("/x")
    assert len(caught.value.message) < 700


def test_an_empty_token_is_a_configuration_error() -> None:
    with pytest.raises(ConnectorError) as caught:
        DataGalaxyClient("https://dg.example/v2", "")
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION


def test_redirects_are_not_followed_and_point_at_the_base_url() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(301, headers={"Location": "https://other.example/v2/workspaces?x=1"})

    client = make_client(handler)
    with client, pytest.raises(ConnectorError) as caught:
        client.get_json("/workspaces")
    assert caught.value.category is ErrorCategory.INVALID_CONFIGURATION
    assert "https://other.example/v2/workspaces" in caught.value.message
    assert calls == 1
