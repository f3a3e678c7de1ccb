"""The dashboard's global filters, shared by every read module that slices by them."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 31)


@dataclass(frozen=True)
class Filters:
    """The dashboard's global filters: an order/request month range and segments (empty = all)."""

    month_from: date | None = None
    month_to: date | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def date_from(self) -> date:
        """First day covered (the first day of month_from)."""
        return self.month_from or EARLIEST

    @property
    def date_to(self) -> date:
        """Last day covered (the last day of month_to)."""
        if self.month_to is None:
            return LATEST
        last = calendar.monthrange(self.month_to.year, self.month_to.month)[1]
        return self.month_to.replace(day=last)

    @property
    def has_segments(self) -> bool:
        """Whether a category, channel or region filter is set."""
        return bool(self.categories or self.channels or self.regions)


ALL = Filters()
