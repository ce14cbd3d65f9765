"""Pure rules of choosing what grows: the sowing months of a calendar, the cut-off before the
season's first sowing, a family's plan checked against its field's calendar and its plot's
area, the cooperative's default plan, and the sowing list's weeks and seed. No I/O, no clock.

The cut-off: families choose until `cutoff_days` before the season's first sowing day (the
first day of the season that falls in a month some crop of the calendar is sown in). The
cut-off day itself is closed: choosing is open while today < cut-off."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from farm.i18n import _

REMIND_DAYS = 7  # the reminder goes this many days before the cut-off
MAX_CUTOFF_DAYS = 120
MAX_DAYS_TO_HARVEST = 730
MONTHS = range(1, 13)


def months_mask(months: Iterable[int]) -> int:
    """Months (1-12) as the bits kept in calendar_crops.sow_months."""
    mask = 0
    for month in months:
        if month not in MONTHS:
            raise ValueError(f"no month {month}")
        mask |= 1 << (month - 1)
    return mask


def months_of(mask: int) -> list[int]:
    return [m for m in MONTHS if mask & (1 << (m - 1))]


@dataclass(frozen=True)
class Row:
    """A crop of a field's calendar, as the rules need it."""

    crop_id: int
    sow_months: int
    min_area_m2: Decimal
    days_to_harvest: int
    seed_per_m2: Decimal = Decimal(0)
    default_area_m2: Decimal = Decimal(0)


def first_sow_day(*, sow_months: int, starts_on: date, ends_on: date) -> date | None:
    """The first day of the season [starts_on, ends_on) in one of the sowing months: the
    season's first day if its month is one, else the first of the next such month; None when
    the season has no such day."""
    day = starts_on
    while day < ends_on:
        if sow_months & (1 << (day.month - 1)):
            return day
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return None


def sow_days(
    *, sow_months: int, starts_on: date, ends_on: date, days_to_harvest: int | None = None
) -> list[date]:
    """Each day a crop may be sown on in the season [starts_on, ends_on), month by month: the
    first day of each of its sowing months in the season (the season's first day for the month
    it starts in), in order. Given its `days_to_harvest`, only days from which it is harvested
    within the season."""
    days = []
    day = starts_on
    while day < ends_on:
        late = days_to_harvest is not None and day + timedelta(days=days_to_harvest) >= ends_on
        if sow_months & (1 << (day.month - 1)) and not late:
            days.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return days


def sowing_starts(*, rows: Sequence[Row], starts_on: date, ends_on: date) -> date | None:
    """The season's first sowing day on this calendar: the earliest of its crops'."""
    days = [
        first_sow_day(sow_months=r.sow_months, starts_on=starts_on, ends_on=ends_on) for r in rows
    ]
    found = [d for d in days if d is not None]
    return min(found) if found else None


def cutoff(*, sowing_starts: date, cutoff_days: int) -> date:
    """The day choosing closes (itself closed)."""
    return sowing_starts - timedelta(days=cutoff_days)


def is_open(*, today: date, cutoff_on: date | None) -> bool:
    """Choosing is open before the cut-off (a calendar with nothing to sow is never open)."""
    return cutoff_on is not None and today < cutoff_on


def remind_due(*, today: date, cutoff_on: date, days: int = REMIND_DAYS) -> bool:
    """The reminder is due within the `days` before the cut-off."""
    return cutoff_on - timedelta(days=days) <= today < cutoff_on


@dataclass(frozen=True)
class Line:
    crop_id: int
    area_m2: Decimal
    sow_on: date
    harvest_on: date


class BadPlan(ValueError):
    """Why a plan is refused: problems by crop id (None: the whole plan), each fit to show."""

    def __init__(self, problems: dict[int | None, str], months: dict[int, str] | None = None):
        """`months`: problems with a crop's chosen sowing month, by crop id."""
        self.months = months or {}
        super().__init__("; ".join([*problems.values(), *self.months.values()]))
        self.problems = problems


def plan_lines(
    *, rows: Sequence[Row], areas: Mapping[int, Decimal], plot_area_m2: Decimal,
    starts_on: date, ends_on: date, sow_on: Mapping[int, date] | None = None,
) -> list[Line]:  # fmt: skip
    """A family's choice (crop id -> m²; absent or 0: not grown) checked against the calendar
    and the plot: only the calendar's crops, each at least its minimum area and sown within
    the season, at least one crop, and all of them within the plot's area. Returns the plan's
    lines (sown on the crop's first sowing day, harvested `days_to_harvest` later), or raises
    BadPlan with every problem.

    Month by month (`sow_on` given: crop id -> the day the family chose, one of its
    `sow_days`; a crop without one is sown on its first), crops share the plot over time: the
    area growing at once, from each sowing day until its harvest, must fit in the plot."""
    by_crop = {r.crop_id: r for r in rows}
    problems: dict[int | None, str] = {}
    months: dict[int, str] = {}
    lines: list[Line] = []
    for crop_id, area in areas.items():
        if area <= 0:
            continue
        row = by_crop.get(crop_id)
        if row is None:
            problems[crop_id] = _("This crop is not on your field's calendar.")
            continue
        if area < row.min_area_m2:
            problems[crop_id] = _("Give it at least %(area)s m².") % {"area": row.min_area_m2}
            continue
        days = sow_days(
            sow_months=row.sow_months, starts_on=starts_on, ends_on=ends_on,
            days_to_harvest=None if sow_on is None else row.days_to_harvest,
        )  # fmt: skip
        if not days:
            problems[crop_id] = _("It cannot be sown this season.")
            continue
        day = (sow_on or {}).get(crop_id, days[0])
        if day not in days:
            months[crop_id] = _(
                "It cannot be sown in that month this season, or would be harvested after it."
            )
            continue
        lines.append(Line(crop_id, area, day, day + timedelta(days=row.days_to_harvest)))
    total = sum((a for a in areas.values() if a > 0), Decimal(0))
    crowded = peak_area(lines) if sow_on is not None else None
    if sow_on is None and total > plot_area_m2:
        problems[None] = _("Together that is %(total)s m², more than your plot's %(area)s m².") % {
            "total": total,
            "area": plot_area_m2,
        }
    elif crowded is not None and crowded[1] > plot_area_m2:
        problems[None] = _(
            "From %(day)s that is %(total)s m² growing at once, more than your plot's %(area)s m²."
        ) % {"day": crowded[0], "total": crowded[1], "area": plot_area_m2}
    elif not lines and not problems and not months:
        problems[None] = _("Choose at least one crop.")
    if problems or months:
        raise BadPlan(problems, months)
    return sorted(lines, key=lambda line: (line.sow_on, line.crop_id))


def peak_area(lines: Sequence[Line]) -> tuple[date, Decimal] | None:
    """The first day the most area grows at once (a line grows from its sowing day until its
    harvest day, excluded), and that area; None without lines."""
    best: tuple[date, Decimal] | None = None
    for day in sorted({line.sow_on for line in lines}):
        growing = sum(
            (line.area_m2 for line in lines if line.sow_on <= day < line.harvest_on), Decimal(0)
        )
        if best is None or growing > best[1]:
            best = (day, growing)
    return best


def default_areas(*, rows: Sequence[Row], plot_area_m2: Decimal) -> dict[int, Decimal]:
    """The cooperative's default plan for a plot: the calendar's crops with a default area, in
    calendar order, each kept while it still fits in the plot (a smaller plot gets fewer)."""
    areas: dict[int, Decimal] = {}
    left = plot_area_m2
    for row in rows:
        area = max(row.default_area_m2, row.min_area_m2) if row.default_area_m2 > 0 else Decimal(0)
        if 0 < area <= left:
            areas[row.crop_id] = area
            left -= area
    return areas


def week_of(day: date) -> date:
    """The Monday of the ISO week a day is in: the sowing list's week."""
    return day - timedelta(days=day.weekday())


def seed_amount(*, area_m2: Decimal, seed_per_m2: Decimal) -> Decimal:
    """The seed (g) or seedlings a line takes, to the gram or seedling, rounded up."""
    amount = area_m2 * seed_per_m2
    whole = amount.to_integral_value()
    return whole + 1 if whole < amount else whole
