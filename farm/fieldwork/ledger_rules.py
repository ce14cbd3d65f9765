"""Pure rules of the households' yearly ledger: land rent counted on each transfer's own dates
and at its own rate by calendar year, never by season, so land serving two overlapping seasons
is paid once. No I/O, no clock.

The rounding rule: a transfer's rent for a year is area (mu) × its yearly rent per mu × (its days
inside the year / the year's days, 365 or 366), rounded half-up to the fen once, per transfer
and year. A household's rent for the year is the sum of its transfers' rounded shares, so a
statement's lines add up to its total. A transfer covering a whole year pays exactly its
yearly rent, in a leap year too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from farm.units import M2_PER_MU


def year_bounds(year: int) -> tuple[date, date]:
    """The calendar year, half-open: [1 January, 1 January of the next)."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def days_in_year(year: int) -> int:
    first, following = year_bounds(year)
    return (following - first).days


def days_within(*, starts_on: date, ends_on: date | None, within: tuple[date, date]) -> int:
    """Days of the transfer [starts_on, ends_on) (no end: still running) inside the half-open
    span `within`."""
    first = max(starts_on, within[0])
    last = within[1] if ends_on is None else min(ends_on, within[1])
    return max((last - first).days, 0)


def _half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def year_rent_fen(
    *, area_m2: Decimal, rent_fen_per_mu_year: int, starts_on: date, ends_on: date | None,
    year: int,
) -> int:  # fmt: skip
    """A transfer's rent for the calendar year (see the module's rounding rule)."""
    days = days_within(starts_on=starts_on, ends_on=ends_on, within=year_bounds(year))
    # rent × m² / M2_PER_MU is exact (few decimals); the division by the year's days is the
    # only rounding, last.
    per_year = Decimal(rent_fen_per_mu_year) * Decimal(area_m2) / M2_PER_MU
    return _half_up(per_year * days / days_in_year(year))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), following


def rent_by_month(*, total_fen: int, starts_on: date, ends_on: date | None, year: int) -> list[int]:
    """A transfer's rent for the year (`total_fen`) spread over the year's twelve months in
    proportion to its days in each, rounded on the running total so that the months add up
    to `total_fen` exactly."""
    days = [
        days_within(starts_on=starts_on, ends_on=ends_on, within=month_bounds(year, m))
        for m in range(1, 13)
    ]
    return spread(total_fen, days)


def spread(total_fen: int, weights: Sequence[int]) -> list[int]:
    """`total_fen` shared by `weights`, each share rounded half-up on the running sum: the
    shares add up to the total exactly (all 0 when the weights do)."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    shares: list[int] = []
    running = 0
    given = 0
    for weight in weights:
        running += weight
        upto = _half_up(Decimal(total_fen) * running / whole)
        shares.append(upto - given)
        given = upto
    return shares


def shift_wages_fen(*, hours: Decimal, wage_fen_per_hour: int) -> int:
    """One shift's wages, rounded half-up to the fen: shown beside the shift. The year's
    wages are the year's hours × wage rounded once (farm.fieldwork.rules.wages_fen), which
    the shifts' rounded amounts may miss by a fen or so."""
    return _half_up(Decimal(hours) * wage_fen_per_hour)


# ---- a household's land over time --------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One of a household's transfers as stored: [starts_on, ends_on), no end while it runs,
    and its rent per mu a year (None when it has none of its own: the household's is paid)."""

    id: int
    field_id: int
    area_m2: Decimal
    starts_on: date
    ends_on: date | None
    rent_fen_per_mu_year: int | None = None


@dataclass(frozen=True)
class LandChanges:
    """What to write so that the household holds `wanted` from a day on, keeping its past.
    `too_early` names each field whose land changed after that day (field id -> the day of
    its last change): the change is refused for it, and nothing is written. Transfers started
    or corrected in place pay the new rate (`land_changes`'s `rent`)."""

    ended: list[int] = dataclass_field(default_factory=list)  # transfers that end on the day
    deleted: list[int] = dataclass_field(default_factory=list)  # started that day: never held
    resized: dict[int, Decimal] = dataclass_field(default_factory=dict)  # started that day
    reopened: list[int] = dataclass_field(default_factory=list)  # ended that day, same terms
    started: dict[int, Decimal] = dataclass_field(default_factory=dict)  # field id -> m²
    # transfers without a rate of their own, given the one they were paid at until now
    rated: dict[int, int] = dataclass_field(default_factory=dict)
    too_early: dict[int, date] = dataclass_field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.ended or self.deleted or self.resized or self.reopened or self.started
            or self.rated
        )  # fmt: skip


def runs_on(*, starts_on: date, ends_on: date | None, day: date) -> bool:
    """Whether a transfer [starts_on, ends_on) is in force on the day."""
    return starts_on <= day and (ends_on is None or ends_on > day)


def in_force(held: Sequence[Held], *, on: date) -> dict[int, Held]:
    """The household's transfers in force on the day, by field."""
    return {
        t.field_id: t for t in held if runs_on(starts_on=t.starts_on, ends_on=t.ends_on, day=on)
    }


def land_changes(
    held: Sequence[Held], *, wanted: dict[int, Decimal], on: date, today: date, rent: int,
    rent_before: int,
) -> LandChanges:  # fmt: skip
    """Changes that make the household hold `wanted` (field id -> m², none for land it no
    longer holds) at `rent` (fen per mu a year) instead of what it holds today, from `on`
    (today or a past day), the day the change counts from, without rewriting its past: land
    given back, resized or at a new rate ends its transfer on that day and a new one starts
    (rent in the ledger stays as it was before). A transfer that started that very day is
    corrected in place, and land given back that very day and taken again on the same terms
    carries on. A field whose land already changed after `on` cannot change from `on`.
    `rent_before` is the household's rate until now, which its transfers without a rate of
    their own were paid at: when the rate changes they keep it (`rated`)."""

    def rate(t: Held) -> int:
        return rent_before if t.rent_fen_per_mu_year is None else t.rent_fen_per_mu_year

    def last_change(field_id: int) -> date | None:
        return max(
            (max(t.starts_on, t.ends_on or t.starts_on) for t in held if t.field_id == field_id),
            default=None,
        )

    shown, then = in_force(held, on=today), in_force(held, on=on)
    changes = LandChanges()
    for field_id in sorted(set(shown) | set(wanted)):
        area = wanted.get(field_id)
        if field_id in shown and area == shown[field_id].area_m2 and rate(shown[field_id]) == rent:
            continue
        current = then.get(field_id)
        last = last_change(field_id)
        if last is not None and last > on:
            changes.too_early[field_id] = last
            continue
        given_back = next(
            (
                t
                for t in held
                if t.field_id == field_id and t.ends_on == on and t.area_m2 == area
                and rate(t) == rent
            ),
            None,
        )  # fmt: skip
        if current is not None and current.starts_on == on:  # corrected on its first day
            if area is not None and given_back is None:
                changes.resized[current.id] = area
                continue
            changes.deleted.append(current.id)
        elif current is not None:
            changes.ended.append(current.id)
        if area is None:
            continue
        if given_back is not None:
            changes.reopened.append(given_back.id)
        else:
            changes.started[field_id] = area
    if rent != rent_before:  # the new rate counts for all the land held from `on`, given
        # back since or not: a field whose land changed after `on` cannot take it from `on`
        for field_id in sorted({t.field_id for t in held} - set(shown) - set(wanted)):
            last = last_change(field_id)
            if last is not None and last > on:
                changes.too_early[field_id] = last
    if changes.too_early:
        return LandChanges(too_early=changes.too_early)
    if rent != rent_before:
        rewritten = set(changes.deleted) | set(changes.resized)
        changes.rated.update(
            (t.id, rent_before)
            for t in held
            if t.rent_fen_per_mu_year is None and t.id not in rewritten
        )
    return changes


def most_held(held: Sequence[Held], *, since: date) -> Decimal:
    """The most area the transfers held at once on any day from `since` on (they may belong
    to several households): the area in force only rises on a transfer's first day, so the
    days to look at are `since` and the later first days."""
    days = {since} | {t.starts_on for t in held if t.starts_on > since}
    return max(
        (
            sum(
                (
                    t.area_m2
                    for t in held
                    if runs_on(starts_on=t.starts_on, ends_on=t.ends_on, day=d)
                ),
                Decimal(0),
            )
            for d in days
        ),
        default=Decimal(0),
    )
