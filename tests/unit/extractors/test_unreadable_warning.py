"""The PostgreSQL reader's warning for tables without SELECT: one per schema, short, names first few."""

from __future__ import annotations

from connector_extractors.inspection.postgresql import _unreadable_warning


def test_names_the_first_five_sorted_and_counts_the_rest() -> None:
    text = _unreadable_warning("sales", [f"t{i:02d}" for i in range(12, 0, -1)])
    assert text.startswith("schema sales: 12 tables or views skipped, no SELECT privilege")
    assert text.endswith(": t01, t02, t03, t04, t05 and 7 more")


def test_a_single_table_is_named_alone() -> None:
    assert _unreadable_warning("hr", ["pay"]).endswith("filters.tables.exclude): pay")
