"""The dashboard's global filters, shared by every read module that slices by them."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 31)


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class Filters:
    """The dashboard's global filters: a range of order (request, attempt) days, both ends
    included, and segments (empty = all)."""

    day_from: date | None = None
    day_to: date | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def date_from(self) -> date:
        """First day covered."""
        return self.day_from or EARLIEST

    @property
    def date_to(self) -> date:
        """Last day covered."""
        return self.day_to or LATEST

    @property
    def has_segments(self) -> bool:
        """Whether a category, channel or region filter is set."""
        return bool(self.categories or self.channels or self.regions)

    def split_months(self) -> tuple[tuple[date, date] | None, tuple[tuple[date, date], ...]]:
        """The range as the whole months it covers (the first days of the first and the last
        of them, or None) and the day ranges of the months it covers only in part, so a read
        takes whole months from a monthly mart and only the ends from a daily one."""
        start, end = self.date_from, self.date_to
        first = start if start.day == 1 else month_end(start) + timedelta(days=1)
        last = end.replace(day=1) if end == month_end(end) else \
            (end.replace(day=1) - timedelta(days=1)).replace(day=1)
        if first > last:
            return None, ((start, end),) if start <= end else ()
        parts = []
        if start < first:
            parts.append((start, first - timedelta(days=1)))
        if month_end(last) < end:
            parts.append((month_end(last) + timedelta(days=1), end))
        return (first, last), tuple(parts)


ALL = Filters()
