"""Pure rules for the cooperative's partner console: what a partner's and a room's fields may
hold, when a partner's kind is fixed, and the periods of the redemption report. No I/O, no
clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from farm import forms
from farm.i18n import _

MAX_NAME = 100  # Partner.name
MAX_ADDRESS = 200  # Partner.address
MAX_OPENING_HOURS = 200  # Partner.opening_hours
MAX_ROOM_NAME = 60  # Room.name
MIN_CAPACITY = 1
MAX_CAPACITY = 20  # guests a night in one room


def kind_change_problem(
    *, current: str, new: str, perks: int, vouchers: int, bookings: int, rooms: int
) -> forms.Problem | None:
    """Why a partner's kind cannot change now (code: perks, vouchers, bookings or rooms), or
    None. Plans promise its tickets or nights, vouchers were issued or redeemed for it,
    guests booked its rooms: all of these assume what it is. Rooms belong to guesthouses
    only."""
    if current == new:
        return None
    for reason, count, message in (
        ("perks", perks,
         _("Plans offer this partner's vouchers, so its kind can no longer change.")),
        ("vouchers", vouchers,
         _("Vouchers were issued for this partner, so its kind can no longer change.")),
        ("bookings", bookings,
         _("This partner has farm-stay bookings, so its kind can no longer change.")),
        ("rooms", rooms, _("This guesthouse has rooms, so it cannot become a scenic spot.")),
    ):  # fmt: skip
        if count:
            return forms.Problem(reason, message)
    return None


# ---- the redemption report's period ----


def month_of(day: date) -> tuple[date, date]:
    """The calendar month holding `day`, half-open: [first of the month, first of the next)."""
    first = day.replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return first, following


def utc_bounds(starts_on: date, ends_on: date, timezone: str) -> tuple[datetime, datetime]:
    """Local days [starts_on, ends_on) as UTC instants [start, end): a redemption stored in
    UTC belongs to the day it was where the partner is."""
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(starts_on, time.min, tzinfo=zone).astimezone(UTC),
        datetime.combine(ends_on, time.min, tzinfo=zone).astimezone(UTC),
    )
