"""JSON in and out of the simulator: msgspec (ten times faster than the stdlib), stdlib where they differ.

- `decode`: a request body. msgspec reads strict UTF-8 JSON; what it refuses but the stdlib reads (a
  UTF-8 BOM, UTF-16/32, an escaped lone surrogate) is read by the stdlib as before, so no body that was
  accepted is refused now, with one exception: non-finite numbers (`NaN`, `Infinity`, `1e400`) are not
  JSON (RFC 8259) and are refused like any other invalid body (they used to be stored, then answered as
  `NaN`, itself invalid JSON).
- `encode`: a response body, compact; the stdlib's answer for what msgspec cannot write.
- `canonical`: an attribute object as it is stored, keys sorted, so that equal objects have equal text.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec

_DECODER = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()
_SORTED_ENCODER = msgspec.json.Encoder(order="sorted")
_STDLIB_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def decode(raw: bytes) -> Any:
    """The body's value; ValueError when it is not JSON."""
    try:
        return _DECODER.decode(raw)
    except msgspec.DecodeError:
        pass
    return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)


def encode(payload: Any) -> bytes:
    try:
        return _ENCODER.encode(payload)
    except (TypeError, UnicodeEncodeError):  # non-text keys, lone surrogates: what json.dumps writes
        return json.dumps(payload, separators=(",", ":")).encode()


def canonical(attributes: dict[str, Any]) -> str:
    try:
        return _SORTED_ENCODER.encode(attributes).decode()
    except UnicodeEncodeError:  # a lone surrogate, escaped by the stdlib
        return _STDLIB_CANONICAL.encode(attributes)
