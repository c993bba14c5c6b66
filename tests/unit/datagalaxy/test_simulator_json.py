"""The simulator's JSON reading and writing (msgspec) answer as the stdlib does; non-JSON is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector_testbed.simulator import jsontext

BODIES = [
    b'{"name":"db","children":[{"a":1,"b":1.5,"c":true,"d":null,"e":"\\u00e9t\\u00e9"}]}',
    '{"n":"été ☃ 😀","x":-0,"y":1E2,"z":0.1}'.encode(),
    b'{"big":123456789012345678901234567890,"neg":-9223372036854775809,"tiny":5e-324}',
    b'{"dup":1,"dup":2}',
    b'{"pair":"\\ud83d\\ude00"}',
    b" [ ] ",
    # Not what msgspec reads, but the stdlib did: still accepted.
    b'\xef\xbb\xbf{"bom":1}',
    '{"utf16":"é"}'.encode("utf-16"),
    b'{"lone":"\\ud800"}',
]


@pytest.mark.parametrize("raw", BODIES)
def test_bodies_read_as_the_stdlib_reads_them(raw: bytes) -> None:
    value = jsontext.decode(raw)
    expected = json.loads(raw)
    assert value == expected
    assert json.dumps(value) == json.dumps(expected)  # same types too: 1 vs 1.0 vs True


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b'{"a":1} x', b'{"a":"\x01"}', b'{"a":"\xff"}', b"[NaN]", b"[Infinity]", b"[1e400]"],
)
def test_what_is_not_json_is_refused_with_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the HTTP layer turns any ValueError into its 400
        jsontext.decode(raw)


@pytest.mark.parametrize(
    "payload",
    [
        {"b": [1, 2.5, None, True], "a": {"y": "é", "x": ""}},
        {"results": [{"id": "x:y", "path": "\\a\\b"}], "next_page": None},
        {1: "int keys"},
        {"lone": "\ud800"},
    ],
)
def test_response_bodies_are_the_same_json_as_the_stdlib_writes(payload: Any) -> None:
    encoded = jsontext.encode(payload)
    assert json.loads(encoded) == json.loads(json.dumps(payload))
    assert b", " not in encoded
    assert b": " not in encoded


def test_canonical_text_sorts_keys_and_is_equal_for_equal_objects() -> None:
    one = {"b": 1, "a": "é", "c": ["y", "x"], "d": 1.0}
    other = {"d": 1.0, "c": ["y", "x"], "a": "é", "b": 1}
    assert jsontext.canonical(one) == jsontext.canonical(other) == '{"a":"é","b":1,"c":["y","x"],"d":1.0}'
    assert jsontext.canonical({"x": True}) != jsontext.canonical({"x": 1})
    assert json.loads(jsontext.canonical({"lone": "\ud800", "a": 1})) == {"a": 1, "lone": "\ud800"}
    for value in (1e16, 1e-7, 2**70, -0.0, 0.1):
        assert json.loads(jsontext.canonical({"v": value})) == {"v": value}
