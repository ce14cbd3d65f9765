"""What a customer may do with their ship days, and which ones they see. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from farm import forms
from farm.i18n import _

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


def ship_day_of_season(ship_on: date, ship_days: Sequence[date]) -> date:
    """A day to hold or release, read from the form: one of the season's ship days; raises
    forms.Problem ('not_ship_day'). Whether it may still change is `can_change` (its cutoff)."""
    if ship_on not in ship_days:
        raise forms.Problem(
            "not_ship_day", _("%(day)s is not a ship day of this season.") % {"day": ship_on}
        )
    return ship_on
