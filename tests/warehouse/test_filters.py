"""A date filter splits into the whole months a monthly mart serves and the days around them."""

from __future__ import annotations

from datetime import date

from warehouse.read.filters import Filters


def test_a_range_of_whole_months_needs_no_days() -> None:
    assert Filters(date(2025, 1, 1), date(2025, 3, 31)).split_months() == (
        (date(2025, 1, 1), date(2025, 3, 1)), ())


def test_no_range_is_every_month() -> None:
    months, days = Filters().split_months()

    assert days == () and months is not None and months[0] == date(1900, 1, 1)


def test_the_days_of_months_covered_in_part_are_kept_apart() -> None:
    assert Filters(date(2025, 1, 20), date(2025, 4, 10)).split_months() == (
        (date(2025, 2, 1), date(2025, 3, 1)),
        ((date(2025, 1, 20), date(2025, 1, 31)), (date(2025, 4, 1), date(2025, 4, 10))))


def test_a_range_within_one_month_is_only_days() -> None:
    assert Filters(date(2024, 2, 23), date(2024, 2, 29)).split_months() == (
        None, ((date(2024, 2, 23), date(2024, 2, 29)),))


def test_a_range_across_two_months_in_part_is_only_days() -> None:
    assert Filters(date(2025, 11, 24), date(2025, 12, 7)).split_months() == (
        None, ((date(2025, 11, 24), date(2025, 12, 7)),))


def test_a_reversed_range_is_empty() -> None:
    assert Filters(date(2025, 3, 5), date(2025, 3, 1)).split_months() == (None, ())
