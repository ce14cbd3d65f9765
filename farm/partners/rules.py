"""Farm-stay booking rules: pure functions, no I/O, no clock.

A stay is `nights` consecutive nights from `first_night` (the night of a date is the one that
starts that evening). Every night is paid with one farm-stay voucher valid on that date, so a
stay lies inside the vouchers' validity [valid_from, valid_until). Nights can be booked from
tomorrow on: tonight's rooms are the guesthouse's to let, not the website's.

Cancelling is possible until the cutoff, CANCEL_DAYS before the first night, and on the
cutoff day itself: a stay from the 10th can be cancelled up to and including the 8th.
Guests check in on any day of their stay (arrival day, or later when they come late).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from farm import forms
from farm.i18n import _

CANCEL_DAYS = 2  # the last day to cancel is the first night less two days
HORIZON_NIGHTS = 60  # how far ahead the calendar shows the nights
COMING_NIGHTS = 14  # how far ahead a guesthouse sees its bookings
NEAR_SHIP_DAY = 3  # a night this many days or fewer from a ship day is suggested
HARVEST_LOOKBACK_DAYS = 365  # harvests of the last year hint at this year's busy weeks
MAX_NIGHTS = 31  # a stay longer than this is refused before any work
MAX_GUESTS = 20


def first_bookable_night(today: date) -> date:
    return today + timedelta(days=1)


def stay_nights(first_night: date, nights: int) -> list[date]:
    """The nights of a stay: first_night .. first_night + nights - 1."""
    return [first_night + timedelta(days=i) for i in range(nights)]


def last_night(first_night: date, nights: int) -> date:
    return first_night + timedelta(days=nights - 1)


def bookable_nights(
    *, valid_from: date, valid_until: date, today: date, horizon: int = HORIZON_NIGHTS
) -> list[date]:
    """The nights the calendar offers: from tomorrow (or the first valid day, if later), at
    most `horizon` of them, none on or after valid_until."""
    start = max(first_bookable_night(today), valid_from)
    end = min(start + timedelta(days=horizon), valid_until)
    return [start + timedelta(days=i) for i in range(max((end - start).days, 0))]


def booking_problems(
    *,
    first_night: date | None,
    nights: int | None,
    guests: int | None,
    today: date,
    valid_from: date,
    valid_until: date,
    free_vouchers: int,
    max_capacity: int,
) -> dict[str, forms.Problem]:
    """Each form field's problem, if any, worded for the customer: {} when the request may be
    tried. `nights` and `guests` are None when they were not whole numbers; the validity
    window is the span of the free vouchers (each night must still find a voucher valid on
    it: assign_vouchers). Codes: no_night, in_the_past, outside_validity (a night the
    vouchers do not cover), bad_nights, too_many_nights (more than free vouchers),
    bad_guests, too_many_guests (more than the largest room takes)."""
    problems: dict[str, forms.Problem] = {}
    if nights is None or not 1 <= nights <= MAX_NIGHTS:
        problems["nights"] = forms.Problem(
            "bad_nights", _("Enter a number of nights from 1 to %(max)d.") % {"max": MAX_NIGHTS}
        )
    elif nights > free_vouchers:
        problems["nights"] = forms.Problem(
            "too_many_nights",
            _("One voucher pays for one night: you have %(free)d free for this guesthouse.")
            % {"free": free_vouchers},
        )
    outside = forms.Problem(
        "outside_validity",
        _("Your vouchers are good for nights from %(start)s to %(end)s.")
        % {"start": valid_from.isoformat(), "end": (valid_until - timedelta(days=1)).isoformat()},
    )
    if first_night is None:
        problems["first_night"] = forms.Problem("no_night", _("Choose the first night."))
    elif first_night < first_bookable_night(today):
        problems["first_night"] = forms.Problem(
            "in_the_past", _("Nights can be booked from tomorrow on.")
        )
    elif not valid_from <= first_night < valid_until:
        problems["first_night"] = outside
    elif "nights" not in problems and nights and first_night + timedelta(nights) > valid_until:
        problems["first_night"] = outside  # the last night is past the end
    if guests is None or not 1 <= guests <= MAX_GUESTS:
        problems["guests"] = forms.Problem("bad_guests", _("Enter the number of guests."))
    elif guests > max_capacity:
        problems["guests"] = forms.Problem(
            "too_many_guests",
            _("The largest room here takes %(capacity)d guests.") % {"capacity": max_capacity},
        )
    return problems


@dataclass(frozen=True)
class VoucherSpan:
    """A free voucher as the rules need it: its id and validity [valid_from, valid_until)."""

    id: int
    valid_from: date
    valid_until: date


def assign_vouchers(nights: Sequence[date], vouchers: Sequence[VoucherSpan]) -> list[int] | None:
    """One voucher per night, each valid on its night, or None when that is impossible.

    Night by night in date order, the voucher valid that night that runs out first is taken
    (the oldest, by id, among equals): points matched to intervals this way succeed whenever
    any matching exists, and the vouchers that last longest are kept for later."""
    left = sorted(vouchers, key=lambda v: (v.valid_until, v.id))
    chosen: list[int] = []
    for night in sorted(nights):
        pick = next((v for v in left if v.valid_from <= night < v.valid_until), None)
        if pick is None:
            return None
        left.remove(pick)
        chosen.append(pick.id)
    return chosen


@dataclass(frozen=True)
class RoomFit:
    id: int
    name: str
    capacity: int


def rooms_to_try(rooms: Iterable[RoomFit], *, guests: int, taken: set[int]) -> list[RoomFit]:
    """The rooms a stay could go to, best first: those taking the guests and free on every
    night (not in `taken`), smallest first, so that big rooms stay free for big families."""
    fitting = [r for r in rooms if r.capacity >= guests and r.id not in taken]
    return sorted(fitting, key=lambda r: (r.capacity, r.name, r.id))


def overlaps(first_a: date, nights_a: int, first_b: date, nights_b: int) -> bool:
    """Whether two stays share a night."""
    return first_a < first_b + timedelta(nights_b) and first_b < first_a + timedelta(nights_a)


def cancel_cutoff(first_night: date) -> date:
    """The last day a stay can be cancelled (inclusive)."""
    return first_night - timedelta(days=CANCEL_DAYS)


def can_cancel(*, first_night: date, today: date) -> bool:
    return today <= cancel_cutoff(first_night)


def can_check_in(*, first_night: date, nights: int, today: date) -> bool:
    """Guests check in on the arrival day, or on a later day of the stay when they come late."""
    return first_night <= today < first_night + timedelta(days=nights)


def suggested_nights(
    nights: Iterable[date], *, ship_days: Iterable[date], harvest_days: Iterable[date]
) -> set[date]:
    """The nights to suggest, near the plot's harvests.

    Kept simple: the farm is busiest, and a visit most rewarding, around the ship days (the
    boxes are picked and packed in the days before and after them), and in the weeks of the
    year when the plot or its field was harvested last year (crops come in at about the same
    time each year). So a night is suggested when it is at most NEAR_SHIP_DAY days from a ship
    day, or falls in the same ISO calendar week number as one of the given harvest days."""
    ships = sorted(set(ship_days))
    weeks = {d.isocalendar()[1] for d in harvest_days}
    near = timedelta(days=NEAR_SHIP_DAY)
    return {
        n for n in nights if n.isocalendar()[1] in weeks or any(abs(n - s) <= near for s in ships)
    }


def harvest_lookback(today: date) -> tuple[date, date]:
    """The harvest days that hint at suggestions: the last year, [today - 365, today)."""
    return today - timedelta(days=HARVEST_LOOKBACK_DAYS), today


@dataclass(frozen=True)
class Month:
    """A month of the calendar: weeks of seven cells from Monday, None outside the month."""

    year: int
    month: int
    weeks: list[list[date | None]]


def month_grid(nights: Sequence[date]) -> list[Month]:
    """The months the nights fall in, each as Monday-first weeks of dates."""
    months = sorted({(n.year, n.month) for n in nights})
    grid = calendar.Calendar(firstweekday=calendar.MONDAY)
    return [
        Month(
            year,
            month,
            [
                [date(year, month, d) if d else None for d in week]
                for week in grid.monthdayscalendar(year, month)
            ],
        )
        for year, month in months
    ]
