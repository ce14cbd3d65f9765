"""What a customer may do with their ship days, and which ones they see. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from farm.shipments.rules import can_change

COMING_SHOWN = 6


def coming_ship_days(days: Sequence[date], *, today: date, count: int = COMING_SHOWN) -> list[date]:
    """The next ship days after today, in order (today's own box is already being made)."""
    return [d for d in days if d > today][:count]


def past_ship_days(days: Sequence[date], *, today: date, since: date | None) -> list[date]:
    """Ship days up to today, from the day the subscription began (`since`), newest first."""
    return sorted(
        (d for d in days if d <= today and (since is None or d >= since)),
        reverse=True,
    )


def hold_problem(
    *, ship_on: date, ship_days: Sequence[date], cutoff_days: int, today: date
) -> str | None:
    """Why a ship day cannot be held or released today: 'not_ship_day' (not one of the
    season's), 'closed' (its cutoff has passed), or None when it can."""
    if ship_on not in ship_days:
        return "not_ship_day"
    if not can_change(ship_on=ship_on, cutoff_days=cutoff_days, today=today):
        return "closed"
    return None
