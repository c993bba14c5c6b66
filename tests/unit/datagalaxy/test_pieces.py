"""Throttle, retry policy, key rows, missing-object selection, content hash."""

from __future__ import annotations

import itertools
import random

import pytest

from connector_extractors.datagalaxy.keys import _chunks, build_key_rows
from connector_extractors.datagalaxy.missing import Expected, Listed, expected_keys, top_most
from connector_extractors.datagalaxy.retry import RetryPolicy, is_retryable_status, parse_retry_after
from connector_extractors.datagalaxy.throttle import Throttle
from connector_extractors.metadata import Column, ForeignKey, PrimaryKey, Schema, SourceMetadata, Table
from tests.fixtures.simulator import sample_metadata, wide_metadata


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_throttle_spaces_requests() -> None:
    clock = Clock()
    throttle = Throttle(8.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(17):
        throttle.wait()
        starts.append(clock.now)
    assert starts[-1] - starts[0] == pytest.approx(2.1)  # 8/s, spaced 5 % wider: 16 x 131.25 ms
    assert all(b - a == pytest.approx(0.13125) for a, b in itertools.pairwise(starts))
    assert all(b - a > 1.0 for a, b in zip(starts, starts[8:], strict=False))  # never 9 starts in a second


def test_an_idle_throttle_does_not_wait() -> None:
    clock = Clock()
    throttle = Throttle(8.0, clock=clock, sleep=clock.sleep)
    throttle.wait()
    clock.now += 5
    assert throttle.wait() == 0.0


def test_a_zero_rate_disables_the_throttle() -> None:
    assert Throttle(0).wait() == 0.0


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_which_statuses_are_retried(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=8)
    rng = random.Random(3)
    waits = [policy.delay(a, rng=rng) for a in range(8)]
    for attempt, wait in enumerate(waits):
        ceiling = min(8, 0.5 * 2**attempt)
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered
    assert policy.delay(0, retry_after=30, rng=rng) == 30
    assert policy.delay(0, quota_exhausted=True, rng=rng) == policy.quota_wait


@pytest.mark.parametrize(
    ("value", "expected"), [("5", 5.0), ("0", 0.0), ("-3", 0.0), (None, None), ("soon", None)]
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, 0.0) == expected


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == pytest.approx(60.0)


def test_key_rows_for_the_sample() -> None:
    rows = build_key_rows(sample_metadata())
    assert rows.warnings == []
    assert [r["pkOrder"] for key in rows.primary for r in key if r["pkName"] == "pk_order_lines"] == [1, 2]
    assert all(
        r["tablePath"].startswith("\\sales\\") or r["tablePath"].startswith("\\audit\\")
        for key in rows.primary
        for r in key
    )
    [composite] = rows.composite_foreign
    assert [(r["fkColumnName"], r["pkColumnName"]) for r in composite] == [
        ("order_id", "order_id"),
        ("line_no", "line_no"),
    ]
    assert {r["pkTechnicalName"] for r in composite} == {"pk_order_lines"}
    assert len(rows.single_foreign) == 2


def _columns() -> list[Column]:
    return [
        Column("id", 1, "int", "integer", False),
        Column("code", 2, "text", "string", False),
        Column("other_id", 3, "int", "integer", True),
    ]


def test_keys_that_cannot_be_expressed_are_skipped_with_a_warning() -> None:
    table = Table(
        "t",
        "table",
        _columns(),
        primary_key=PrimaryKey("pk", ("id",)),
        foreign_keys=[
            ForeignKey("fk_out", ("other_id",), "elsewhere", "x", ("id",)),
            ForeignKey("fk_bad", ("other_id",), "s", "t", ("missing",)),
            ForeignKey(None, ("other_id",), "s", "t", ("id",)),
        ],
    )
    rows = build_key_rows(SourceMetadata("postgresql", "db", [Schema("s", [table])]))
    assert len(rows.primary) == 1
    assert len(rows.warnings) == 2
    assert [r["fkTechnicalName"] for key in rows.single_foreign for r in key] == ["fk_t_other_id"]
    assert rows.single_foreign[0][0]["pkTechnicalName"] == "pk"
    excluded = build_key_rows(SourceMetadata("postgresql", "db", [Schema("s", [table])]), {("s", "t")})
    assert (excluded.primary, excluded.single_foreign) == ([], [])


def test_foreign_keys_to_a_unique_column_or_a_table_without_primary_key_are_skipped_and_named() -> None:
    target = Table("target", "table", _columns(), primary_key=PrimaryKey("target_pk", ("id",)))
    bare = Table("bare", "table", _columns())
    child = Table(
        "child",
        "table",
        _columns(),
        foreign_keys=[
            ForeignKey("fk_unique", ("code",), "s", "target", ("code",)),
            ForeignKey("fk_bare", ("other_id",), "s", "bare", ("id",)),
            ForeignKey("fk_good", ("other_id",), "s", "target", ("id",)),
        ],
    )
    rows = build_key_rows(SourceMetadata("postgresql", "db", [Schema("s", [target, bare, child])]))
    assert [key[0]["fkTechnicalName"] for key in rows.single_foreign] == ["fk_good"]
    unique, no_pk = rows.warnings
    assert "fk_unique" in unique
    assert "not the primary key (id) of s.target" in unique
    assert "fk_bare" in no_pk
    assert "s.bare, has no primary key" in no_pk


def test_key_rows_on_an_ambiguous_path_are_skipped_and_named() -> None:
    one = Table("z", "table", _columns(), primary_key=PrimaryKey("one_pk", ("id",)))
    two = Table("y\\z", "table", _columns(), primary_key=PrimaryKey("two_pk", ("id",)))
    other = Table(
        "o",
        "table",
        _columns(),
        primary_key=PrimaryKey("o_pk", ("id",)),
        foreign_keys=[ForeignKey("fk_amb", ("other_id",), "x", "y\\z", ("id",))],
    )
    metadata = SourceMetadata("postgresql", "db", [Schema("x\\y", [one]), Schema("x", [two, other])])
    rows = build_key_rows(metadata)
    assert rows.ambiguous_paths == {"\\x\\y\\z"}
    assert [key[0]["pkName"] for key in rows.primary] == ["o_pk"]
    assert rows.single_foreign == []
    assert len(rows.warnings) == 3
    assert any("fk_amb" in w and "backslash" in w for w in rows.warnings)


def test_key_chunks_never_split_a_key() -> None:
    keys = [[{"n": i, "r": r} for r in range(3)] for i in range(5000)]
    chunks = list(_chunks(keys))
    assert sum(len(key) for c in chunks for key in c) == 15000
    for chunk in chunks:
        assert sum(len(key) for key in chunk) <= 5000
        assert all([r["r"] for r in key] == [0, 1, 2] for key in chunk)


def test_expected_keys_cover_every_object_with_its_type_path() -> None:
    keys = expected_keys(sample_metadata(), "\\shop")
    assert ("\\shop\\sales", "\\Relational\\Model") in keys
    assert ("\\shop\\sales\\big_orders", "\\Relational\\Model\\View") in keys
    assert ("\\shop\\sales\\big_orders\\id", "\\Relational\\Model\\View\\Column") in keys
    assert len(keys) == 2 + 6 + 16


def test_only_the_top_most_missing_objects_are_deleted() -> None:
    def listed(path: str, types: str) -> Listed:
        return Listed(path, "x", path, types)

    objects = [
        listed("\\s\\a", "\\Relational\\Model"),
        listed("\\s\\a\\t", "\\Relational\\Model\\Table"),
        listed("\\s\\a\\t\\c", "\\Relational\\Model\\Table\\Column"),
        listed("\\s\\b\\v", "\\Relational\\Model\\View"),
        listed("\\s\\b\\v\\c", "\\Relational\\Model\\View\\Column"),
        listed("\\s\\b\\t\\c", "\\Relational\\Model\\Table\\Column"),
    ]
    assert [o.path for o in top_most(objects)] == ["\\s\\a", "\\s\\b\\v", "\\s\\b\\t\\c"]


def test_the_model_lookup_agrees_with_the_full_path_set() -> None:
    metadata = sample_metadata()
    exact = expected_keys(metadata, "\\shop")
    lookup = Expected(metadata, "\\shop")
    assert lookup.exact is None
    candidates = set(exact)
    for path, types in exact:
        candidates |= {
            (path + "\\x", types + "\\Column"),
            (path, types.replace("Table", "View")),
            (path.replace("\\shop", "\\shop2"), types),
            (path, "\\Relational\\Directory"),
        }
    for key in candidates:
        assert (key in lookup) == (key in exact), key


def test_names_with_backslashes_fall_back_to_the_full_path_set() -> None:
    table = Table("a\\b", "table", [Column("c", 1, "int", "integer", True)])
    metadata = SourceMetadata("postgresql", "db", [Schema("s", [table])])
    lookup = Expected(metadata, "\\src")
    assert lookup.exact is not None
    assert ("\\src\\s\\a\\b\\c", "\\Relational\\Model\\Table\\Column") in lookup


class _ApiUrl:
    api_url = "https://dg.example/v2"


def _hash(metadata: SourceMetadata, source: str = "shop", version: str = "v") -> str:
    from connector_extractors.datagalaxy.push import content_hash
    from connector_extractors.datagalaxy.target import ResolvedTarget
    from connector_extractors.run_config import TargetConfig

    target = TargetConfig(apiUrl="https://dg.example/v2", workspace="W", sourceName=source)
    return content_hash(_ApiUrl(), ResolvedTarget("w", version, "1"), metadata, target)  # type: ignore[arg-type]


def test_the_content_hash_is_the_one_of_before_the_tables_were_encoded_once() -> None:
    """Pinned: the hash the operator keeps as previousContentHash, from the tables encoded on the fly or
    once (what a push does), is the one of before."""
    from connector_extractors.datagalaxy.bulktree import encode_tables
    from connector_extractors.datagalaxy.push import content_hash
    from connector_extractors.datagalaxy.target import ResolvedTarget
    from connector_extractors.run_config import TargetConfig

    target = TargetConfig(apiUrl="https://dg.example/v2", workspace="W", sourceName="shop")
    pinned = {
        "sha256:11cc26c2c40bb9a00745964e1d516df9c3a6d46c9e70bfc781b6129c1ef0450d": sample_metadata(),
        "sha256:ad469004f513999c336687900ed936c44c0978a0c572a60e7fd6b3ac418b181f": wide_metadata(
            tables=25, columns_per_table=6, schemas=3
        ),
    }
    for expected, metadata in pinned.items():
        assert _hash(metadata) == expected
        encoded = encode_tables(metadata)
        once = content_hash(_ApiUrl(), ResolvedTarget("w", "v", "1"), metadata, target, encoded=encoded)  # type: ignore[arg-type]
        assert once == expected


def test_the_content_hash_is_stable_and_sensitive_to_everything_pushed() -> None:
    base = _hash(sample_metadata())
    assert base == _hash(sample_metadata())
    assert base.startswith("sha256:")
    assert _hash(sample_metadata(), source="other") != base
    assert _hash(sample_metadata(), version="v2") != base
    changed_fk = sample_metadata()
    orders = next(t for t in changed_fk.schemas[1].tables if t.name == "orders")
    orders.foreign_keys = []
    assert _hash(changed_fk) != base
    changed_column = sample_metadata()
    changed_column.schemas[0].tables[0].columns[0] = Column("id", 1, "bigint", "integer", False)
    assert _hash(changed_column) != base
