"""The simulator's validation, matching and limits, without HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.attributecheck import AttributeCheck, UnknownAttributes
from connector_testbed.simulator.bulktree import flatten, fresh_ids, new_id, new_ids, upsert
from connector_testbed.simulator.catalogue import metamodel_of
from connector_testbed.simulator.faults import Faults, Limits, Switchboard
from connector_testbed.simulator.ratelimit import RateLimiter
from connector_testbed.simulator.seed import Seed
from connector_testbed.simulator.serving import SimulatorHandler
from connector_testbed.simulator.store import Store


def tree(*tables: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "db",
        "type": "Relational",
        "children": [{"name": "s", "type": "Model", "children": list(tables)}],
    }


def table(name: str, *columns: str, **attributes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "Table",
        **attributes,
        "children": [{"name": c, "type": "Column"} for c in columns],
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "single source object"),
        ({"name": "db", "type": "Relational"}, "'children' is required"),
        ({"name": "db", "type": "Table", "children": [{}]}, "not a source type"),
        ({"type": "Relational", "children": [{}]}, "'name' is required"),
        (tree({"name": "t", "children": []}), "'type' is required"),
        (tree({"name": "t", "type": "Column"}), "not a compatible child of 'Model'"),
        (tree({"name": "t", "type": "Bogus"}), "Unknown type"),
        (tree(table("t", "a", "a")), "Duplicate"),
        (
            tree(
                {
                    "name": "t",
                    "type": "Table",
                    "children": [
                        {"name": "c", "type": "Column", "children": [{"name": "x", "type": "Column"}]}
                    ],
                }
            ),
            "cannot have children",
        ),
    ],
)
def test_invalid_trees_are_rejected_with_a_message(body: Any, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        flatten(body, 1000)
    assert caught.value.status == 400
    assert message in caught.value.message


def test_the_entity_limit_is_enforced() -> None:
    flatten(tree(table("t", "a", "b")), 5)
    with pytest.raises(ApiError, match="limit is 4"):
        flatten(tree(table("t", "a", "b")), 4)


def test_technology_is_accepted_as_an_alias_of_technology_code() -> None:
    [source, *_] = flatten(
        {
            "name": "db",
            "type": "Relational",
            "technology": "mysql",
            "children": [{"name": "s", "type": "Model"}],
        },
        10,
    )
    assert source.attributes == '{"technologyCode":"mysql"}'


def test_upsert_matches_by_technical_path_and_types(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite", Seed())
    version = Seed().workspaces[0].version_id("1")
    first = upsert(store.db, version, flatten(tree(table("t", "a", "b", technicalComments="x")), 100))
    assert (first["created"], first["updated"], first["unchanged"]) == (5, 0, 0)
    again = upsert(store.db, version, flatten(tree(table("t", "a", "b", technicalComments="x")), 100))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    changed = upsert(store.db, version, flatten(tree(table("t", "a", "c", technicalComments="y")), 100))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (1, 1, 3)
    # Properties that are not sent are left untouched.
    untouched = upsert(store.db, version, flatten(tree(table("t", "a")), 100))
    assert untouched["updated"] == 0
    store.close()


def test_a_half_written_batch_keeps_parents_before_children(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite", Seed())
    version = Seed().workspaces[0].version_id("1")
    nodes = flatten(tree(table("t1", "a", "b"), table("t2", "c")), 100)
    upsert(store.db, version, nodes, stop_after=4)
    assert store.entity_count() == 4
    result = upsert(store.db, version, nodes)
    assert (result["created"], result["unchanged"]) == (3, 4)
    store.close()


def test_the_quota_blocks_for_the_block_time_then_starts_a_new_hour() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limits = Limits(quota_per_hour=2, block_seconds=10)
    assert [limiter.admit(limits).remaining for _ in range(2)] == [1, 0]
    refused = limiter.admit(limits)
    assert (refused.allowed, refused.retry_after) == (False, 10)
    now[0] = 5
    assert limiter.admit(limits).retry_after == 5
    now[0] = 10
    assert limiter.admit(limits).allowed


def test_the_throttle_delays_requests_beyond_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limits = Limits(throttle_rps=3, throttle_delay=0.5)
    delays = [limiter.admit(limits).delay for _ in range(5)]
    assert delays == [0, 0, 0, 0.5, 0.5]
    now[0] = 1.5
    assert limiter.admit(limits).delay == 0


def test_the_spacing_throttle_delays_a_start_sooner_than_one_over_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limits = Limits(throttle_rps=8, throttle_delay=0.5, throttle_model="spacing")
    delays = []
    for start in (0.0, 0.125, 0.2496, 0.3, 0.6, 0.61):  # 0.2496: 0.4 ms early, within the jitter allowed
        now[0] = start
        delays.append(limiter.admit(limits).delay)
    assert delays == [0, 0, 0, 0.5, 0, 0.5]
    window = RateLimiter(clock=lambda: now[0])
    assert [window.admit(Limits(throttle_rps=8)).delay for _ in range(8)] == [0] * 8  # a burst of 8 is fine


def test_an_unknown_throttle_model_is_refused() -> None:
    with pytest.raises(ValueError, match="throttle_model"):
        Switchboard().set_limits({"throttle_model": "bucket"})


def test_switches_count_down_and_reset() -> None:
    board = Switchboard(Faults(fail_next=1))
    assert board.take_error()
    assert not board.take_error()
    board.set_faults({"drop_next": 2})
    assert [board.take_drop() for _ in range(3)] == [True, True, False]
    board.reset()
    assert board.faults == Faults(fail_next=1)
    with pytest.raises(ValueError, match="unknown faults"):
        board.set_faults({"nope": 1})


def _strict(unknown: UnknownAttributes = "refuse") -> AttributeCheck:
    return AttributeCheck(metamodel_of(Seed()), unknown)


def _column_tree(**attributes: Any) -> dict[str, Any]:
    return tree({"name": "t", "type": "Table", "children": [{"name": "c", "type": "Column", **attributes}]})


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"isNullable": True}, "Attribute 'isNullable' does not exist for dataType Field"),
        ({"precision": 3}, "Attribute 'precision' does not exist"),
        ({"isMandatory": "yes"}, "Invalid value for attribute 'isMandatory'"),
        ({"order": 1.5}, "Invalid value for attribute 'order'"),
        ({"columnDataType": "Varchar"}, "Invalid value for attribute 'columnDataType'"),
        ({"status": "Done"}, "Invalid value for attribute 'status'"),
        ({"tags": ["NoSuchTag"]}, "do not exist in the client space"),
        ({"isPrimaryKey": True}, "'isPrimaryKey' is read-only"),
        ({"technologyCode": "postgresql"}, "only allowed on the top node"),
        ({"Retention period": "1y"}, "does not exist for dataType Field"),  # a Structure attribute
    ],
)
def test_unknown_or_ill_typed_attributes_are_refused_naming_the_key(
    attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as caught:
        flatten(_column_tree(**attributes), 100, _strict())
    assert message in caught.value.message


def test_in_drop_mode_unknown_and_ill_typed_attributes_are_left_out() -> None:
    nodes = flatten(_column_tree(isNullable=True, order="1", size=4, tags=["GDPR"]), 100, _strict("drop"))
    assert nodes[-1].attributes == '{"size":4,"tags":["GDPR"]}'


def test_a_value_found_valid_once_is_not_taken_for_an_equal_value_of_another_type() -> None:
    """The check remembers valid (key, type, value) within a request: 1 is valid for `order`, True is not
    (True == 1 and hash(True) == hash(1)), and a valid key on a Field says nothing of a Table."""
    body = tree(
        {
            "name": "t",
            "type": "Table",
            "children": [
                {"name": "a", "type": "Column", "order": 1, "isMandatory": True},
                {"name": "b", "type": "Column", "order": True},
            ],
        }
    )
    with pytest.raises(ApiError) as caught:
        flatten(body, 100, _strict())
    assert "Invalid value for attribute 'order'" in caught.value.message
    fields_then_table = tree(
        {"name": "t", "type": "Table", "children": [{"name": "a", "type": "Column", "order": 1}]},
        {"name": "u", "type": "Table", "order": 1, "children": [{"name": "a", "type": "Column"}]},
    )
    with pytest.raises(ApiError, match="Attribute 'order' does not exist for dataType Structure"):
        flatten(fields_then_table, 100, _strict())


def test_new_ids_are_two_random_version_4_uuids() -> None:
    first, second = new_id(), new_id()
    assert first != second
    for part in (*first.split(":"), *second.split(":")):
        parsed = uuid.UUID(part)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, part)


@pytest.mark.parametrize("count", [0, 1, 2, 1023, 1024, 1025, 5000])
def test_ids_made_in_bulk_are_as_many_unique_random_version_4_uuid_pairs(count: int) -> None:
    ids = new_ids(count)
    assert len(ids) == len(set(ids)) == count
    for one in ids:
        assert len(one) == 73
        for part in one.split(":"):
            parsed = uuid.UUID(part)
            assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, part)


def test_every_random_digit_of_the_bulk_ids_varies() -> None:
    ids = new_ids(3000)
    variants = {"8", "9", "a", "b"}
    for place in range(73):
        seen = {one[place] for one in ids}
        if place in (8, 13, 18, 23, 45, 50, 55, 60):
            assert seen == {"-"}
        elif place == 36:
            assert seen == {":"}
        elif place in (14, 51):
            assert seen == {"4"}
        elif place in (19, 56):
            assert seen == variants
        else:
            assert seen == set("0123456789abcdef"), place


def test_fresh_ids_keep_coming_unique_across_batches() -> None:
    stream = fresh_ids()
    ids = [next(stream) for _ in range(2500)]
    assert len(set(ids)) == 2500
    assert all(uuid.UUID(one[:36]).version == 4 for one in ids)


def test_technology_codes_must_exist_even_in_drop_mode() -> None:
    body = tree(table("t", "a")) | {"technologyCode": "postgres"}
    with pytest.raises(ApiError, match="Unknown technology code 'postgres'"):
        flatten(body, 100, _strict("drop"))


def test_two_tables_sharing_a_joined_path_are_two_objects(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite", Seed())
    version = Seed().workspaces[0].version_id("1")
    body = {
        "name": "db",
        "type": "Relational",
        "children": [
            {"name": "x\\y", "type": "Model", "children": [table("z", "a")]},
            {"name": "x", "type": "Model", "children": [table("y\\z", "a")]},
        ],
    }
    assert upsert(store.db, version, flatten(body, 100))["created"] == 7
    assert upsert(store.db, version, flatten(body, 100))["unchanged"] == 7
    store.close()


def test_answers_are_sent_without_waiting_for_nagle() -> None:
    """Headers and body are two writes: with Nagle's algorithm the body waits for a delayed ACK."""
    assert SimulatorHandler.disable_nagle_algorithm is True
