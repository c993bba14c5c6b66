"""The metadata model as JSON bytes: the dry run's document and the model's content hash, streamed.

A large catalog's model holds hundreds of thousands of dataclass instances. `dataclasses.asdict` copies
all of them (with `copy.deepcopy` inside) before the standard `json` module walks the copy again, which
took most of a dry run's time. msgspec encodes the slotted dataclasses directly, in C, one table at a
time, so neither a dict copy of the model nor the whole document is ever held in memory: each table's
bytes go to the hash or to the output file as they are produced.

The bytes are exactly those of the former encoders, so hashes and files stay comparable across versions:
- the content hash is sha256 of `json.dumps(model.to_dict(), sort_keys=True, separators=(",", ":"))`
  (ASCII-escaped, keys sorted);
- the dry-run document is `json.dumps({"contentHash": …, **model.to_dict()}, indent=1,
  ensure_ascii=False)` plus a newline (UTF-8, keys in field order).
`to_dict` leaves out the fields of `ABSENT_WHEN_NONE` when they are None; msgspec writes every field, so
those are cut from the encoded bytes: `,"name":null` with an unescaped quote can only be a key (inside a
JSON string a quote is always escaped), and no such field is ever an object's first. The unit tests
compare both encodings with those stdlib expressions on awkward text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

import msgspec

from connector_extractors.metadata import ABSENT_WHEN_NONE

if TYPE_CHECKING:
    from connector_extractors.metadata import SourceMetadata, Table

_FIELD_ORDER = msgspec.json.Encoder()
_SORTED = msgspec.json.Encoder(order="sorted")
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x00-\x7e]")  # control characters are escaped by msgspec already
_TABLE_INDENT = b"    "  # a table's depth in the document: {"schemas": [{"tables": [ here
_ABSENT = tuple(b',"' + name.encode() + b'":null' for name in ABSENT_WHEN_NONE)


def _encode_table(encoder: msgspec.json.Encoder, table: Table) -> bytes:
    """One table, compact, without the None-valued fields that `to_dict` leaves out."""
    encoded = encoder.encode(table)
    for absent in _ABSENT:
        encoded = encoded.replace(absent, b"")
    return encoded


def _escape(match: re.Match[str]) -> str:
    """One character as the standard `json` module writes it with `ensure_ascii=True`."""
    code = ord(match.group(0))
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def ascii_json(encoded: bytes) -> bytes:
    """`encoded` with every character outside printable ASCII escaped (`ensure_ascii=True`'s output)."""
    if encoded.isascii() and b"\x7f" not in encoded:
        return encoded
    return _NOT_PRINTABLE_ASCII.sub(_escape, encoded.decode()).encode()


def _hash_pieces(metadata: SourceMetadata) -> Iterator[bytes]:
    """The canonical form in pieces: `{"database":…,"schemas":[{"name":…,"tables":[…]}],"technology":…}`."""
    yield b'{"database":' + ascii_json(_SORTED.encode(metadata.database)) + b',"schemas":['
    for number, schema in enumerate(metadata.schemas):
        yield (b',{"name":' if number else b'{"name":') + ascii_json(_SORTED.encode(schema.name))
        yield b',"tables":['
        for index, table in enumerate(schema.tables):
            if index:
                yield b","
            yield ascii_json(_encode_table(_SORTED, table))
        yield b"]}"
    yield b'],"technology":' + ascii_json(_SORTED.encode(metadata.technology)) + b"}"


def content_hash(metadata: SourceMetadata) -> str:
    """sha256 of the model's canonical JSON (keys sorted, compact, ASCII), fed table by table."""
    digest = hashlib.sha256()
    try:
        for piece in _hash_pieces(metadata):
            digest.update(piece)
    except UnicodeEncodeError:  # a lone surrogate: only the standard module escapes those
        text = json.dumps(metadata.to_dict(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(text.encode())
    return "sha256:" + digest.hexdigest()


def _table(table: Table) -> bytes:
    """One table indented as in the document (indent 1, at depth 4)."""
    formatted = msgspec.json.format(_encode_table(_FIELD_ORDER, table), indent=1)
    return _TABLE_INDENT + formatted.replace(b"\n", b"\n" + _TABLE_INDENT)


def document_pieces(metadata: SourceMetadata, content_hash: str) -> Iterator[bytes]:
    """The dry-run document in pieces: `{"contentHash": …, "technology": …, "database": …, "schemas": …}`."""
    encode = _FIELD_ORDER.encode
    yield (
        b'{\n "contentHash": '
        + encode(content_hash)
        + b',\n "technology": '
        + encode(metadata.technology)
        + b',\n "database": '
        + encode(metadata.database)
        + b',\n "schemas": '
    )
    if not metadata.schemas:
        yield b"[]\n}\n"
        return
    yield b"["
    for number, schema in enumerate(metadata.schemas):
        opening = b",\n  {\n" if number else b"\n  {\n"
        yield opening + b'   "name": ' + encode(schema.name) + b',\n   "tables": '
        if not schema.tables:
            yield b"[]\n  }"
            continue
        yield b"[\n"
        for index, table in enumerate(schema.tables):
            if index:
                yield b",\n"
            yield _table(table)
        yield b"\n   ]\n  }"
    yield b"\n ]\n}\n"


def write_document(metadata: SourceMetadata, content_hash: str, stream: BinaryIO) -> int:
    """Write the dry-run document to `stream` as it is produced; returns the number of bytes written."""
    written = 0
    for piece in document_pieces(metadata, content_hash):
        stream.write(piece)
        written += len(piece)
    return written
