"""Pure rules of the renewal window: who may keep their plot, when the window is open, which
plot is held for them. No I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# A season counts as "current" for a window when it was still running at most this many
# days before the window opened (a winter between seasons does not lose a family its plot).
RECENT_DAYS = 90
# The second mail, "your hold ends soon", goes this many days before the public sale.
REMIND_DAYS = 3
KEEPS = ("active", "completed")  # the previous subscription's statuses that may renew


def is_open(*, opens_on: date | None, sale_starts_on: date, today: date) -> bool:
    """The window [opens_on, sale_starts_on): before the public sale only."""
    return opens_on is not None and opens_on <= today < sale_starts_on


def closes_at(*, sale_starts_on: date, timezone: str) -> datetime:
    """The instant the window closes (and its holds expire): the public sale's first day
    begins, at local midnight."""
    return datetime.combine(sale_starts_on, time(0), ZoneInfo(timezone)).astimezone(ZoneInfo("UTC"))


def is_eligible(
    *, status: str, season_starts_on: date, season_ends_on: date, new_starts_on: date,
    opens_on: date,
) -> bool:  # fmt: skip
    """A subscription of the current season, paid (active, or completed when its season
    ended): a season running when the window opened, or ended at most RECENT_DAYS before. A
    season that has not started yet (sold ahead) gives no right to the one after it."""
    return (
        status in KEEPS
        and season_starts_on <= opens_on
        and season_starts_on < new_starts_on
        and season_ends_on > opens_on - timedelta(days=RECENT_DAYS)
    )


def remind_due(*, today: date, sale_starts_on: date, days: int = REMIND_DAYS) -> bool:
    """Whether the "your hold ends soon" mail is due (within the window's last `days`)."""
    return sale_starts_on - timedelta(days=days) <= today < sale_starts_on


@dataclass(frozen=True)
class Offer:
    """A published plan of the new season, as the choice of a plot needs it."""

    plan_id: int
    field_id: int
    plot_area_m2: Decimal


def plans_to_try(
    *, field_id: int, area_m2: Decimal, offers: Sequence[Offer]
) -> list[tuple[Offer, bool]]:
    """The plans to hold a plot in, best first, each with whether the family's own plot is to
    be tried in it: the plan offering the same field and plot size (the same plot, and if it
    is taken or gone, another plot of that field); then a comparable plot, the same size in
    another field. A plan of another size is not comparable."""
    same = [o for o in offers if o.field_id == field_id and o.plot_area_m2 == area_m2]
    other = [o for o in offers if o.field_id != field_id and o.plot_area_m2 == area_m2]
    other.sort(key=lambda o: (o.field_id, o.plan_id))
    return [(o, True) for o in same] + [(o, False) for o in other]


def rate(*, renewed: int, eligible: int) -> int | None:
    """The renewal rate in whole percent (rounded down), None when nobody was eligible."""
    return None if eligible == 0 else renewed * 100 // eligible
