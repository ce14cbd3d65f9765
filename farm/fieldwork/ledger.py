"""The households' yearly ledger: per calendar year, each household's land rent (counted on its land
transfers' own dates and at their own rates, ledger_rules) and wages (its hours on work entries
dated in the year, at its hourly wage), with the year's totals and a split by month for a chart;
and one household's statement for a year. Read-only; a fixed number of queries whatever the
number of households, transfers or shifts. Only the manager's own cooperative; others are not
found."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tortoise import connections
from tortoise.expressions import Q

from farm.accounts.models import User
from farm.fieldwork import ledger_rules as rules
from farm.fieldwork.models import Household, LandTransfer, WorkShift
from farm.fieldwork.rules import wages_fen
from farm.fieldwork.services import own_household
from farm.paging import Page, paginate
from farm.sql import select

HOUSEHOLDS_PER_PAGE = 50
SHIFTS_PER_PAGE = 100
MONTHS = range(1, 13)


@dataclass
class HouseholdYear:
    household: Household
    rent_fen: int = 0
    hours: Decimal = Decimal(0)
    wages_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.rent_fen + self.wages_fen


@dataclass(frozen=True)
class Month:
    month: int
    rent_fen: int
    wages_fen: int

    @property
    def total_fen(self) -> int:
        return self.rent_fen + self.wages_fen


@dataclass
class YearFigures:
    """The whole cooperative's year: each household's rent and wages (by id), and by month."""

    rent: dict[int, int] = field(default_factory=dict)
    hours: dict[int, Decimal] = field(default_factory=dict)
    wages: dict[int, int] = field(default_factory=dict)
    months: list[Month] = field(default_factory=list)

    @property
    def rent_fen(self) -> int:
        return sum(self.rent.values())

    @property
    def wages_fen(self) -> int:
        return sum(self.wages.values())

    @property
    def total_fen(self) -> int:
        return self.rent_fen + self.wages_fen

    def row(self, household: Household) -> HouseholdYear:
        return HouseholdYear(
            household,
            rent_fen=self.rent.get(household.id, 0),
            hours=self.hours.get(household.id, Decimal(0)),
            wages_fen=self.wages.get(household.id, 0),
        )


@dataclass(frozen=True)
class Ledger:
    year: int
    households: Page[HouseholdYear]
    figures: YearFigures


def rate_of(transfer: dict, household_rate: int) -> int:
    """A transfer's rent per mu a year: its own, or its household's when it has none (a row
    written without one)."""
    own = transfer["rent_fen_per_mu_year"]
    return household_rate if own is None else int(own)


def _transfers_in(year: int) -> Q:
    first, following = rules.year_bounds(year)
    return Q(starts_on__lt=following) & (Q(ends_on=None) | Q(ends_on__gt=first))


def _month_sums(year: int) -> tuple[str, list[object]]:
    """SQL summing a shift's hours (whole hundredths: SQLite would sum decimal text as
    floats) per month of the year, as columns m1..m12, and its parameters from $4 on."""
    parts = []
    params: list[object] = []
    for m in MONTHS:
        first, following = rules.month_bounds(year, m)
        n = len(params) + 4
        parts.append(
            f"SUM(CASE WHEN e.worked_on >= ${n} AND e.worked_on < ${n + 1}"
            f" THEN CAST(ROUND(s.hours * 100) AS INTEGER) ELSE 0 END) AS m{m}"
        )
        params += [first, following]
    return ", ".join(parts), params


async def _year_figures(cooperative_id: int, year: int, household_id: int | None) -> YearFigures:
    """Two queries: the transfers serving in the year, and the hours per household and
    month; the money is worked out here (ledger_rules), once per transfer and household."""
    figures = YearFigures()
    rent_months = [0] * 12
    wage_months = [0] * 12
    transfers = LandTransfer.filter(_transfers_in(year), household__cooperative_id=cooperative_id)
    if household_id is not None:
        transfers = transfers.filter(household_id=household_id)
    for t in await transfers.values(
        "household_id", "area_m2", "starts_on", "ends_on", "rent_fen_per_mu_year",
        "household__rent_fen_per_mu_year",
    ):  # fmt: skip
        share = rules.year_rent_fen(
            area_m2=Decimal(t["area_m2"]),
            rent_fen_per_mu_year=rate_of(t, t["household__rent_fen_per_mu_year"]),
            starts_on=t["starts_on"], ends_on=t["ends_on"], year=year,
        )  # fmt: skip
        figures.rent[t["household_id"]] = figures.rent.get(t["household_id"], 0) + share
        by_month = rules.rent_by_month(
            total_fen=share, starts_on=t["starts_on"], ends_on=t["ends_on"], year=year
        )
        rent_months = [a + b for a, b in zip(rent_months, by_month, strict=True)]
    sums, params = _month_sums(year)
    first, following = rules.year_bounds(year)
    only = ""
    if household_id is not None:
        only = f" AND h.id = ${len(params) + 4}"
        params.append(household_id)
    rows = await select(
        connections.get("default"),
        f"SELECT s.household_id, h.wage_fen_per_hour, {sums}"  # noqa: S608 (our own SQL)
        " FROM work_shifts s JOIN work_entries e ON e.id = s.entry_id"
        " JOIN households h ON h.id = s.household_id"
        " WHERE e.cooperative_id = $1 AND h.cooperative_id = $1 AND e.voided_at IS NULL"
        f" AND e.worked_on >= $2 AND e.worked_on < $3{only}"
        " GROUP BY s.household_id, h.wage_fen_per_hour",
        [cooperative_id, first, following, *params],
    )
    for r in rows:
        centi = [int(r[f"m{m}"] or 0) for m in MONTHS]
        hours = Decimal(sum(centi)) / 100
        wages = wages_fen(hours=hours, wage_fen_per_hour=int(r["wage_fen_per_hour"]))
        figures.hours[r["household_id"]] = hours
        figures.wages[r["household_id"]] = wages
        wage_months = [a + b for a, b in zip(wage_months, rules.spread(wages, centi), strict=True)]
    figures.months = [Month(m, rent_months[m - 1], wage_months[m - 1]) for m in MONTHS]
    return figures


async def ledger(*, manager: User, year: int, page: int = 1) -> Ledger:
    """The cooperative's ledger for a calendar year: a page of its households (by village and
    name) with their rent, hours, wages and total; the year's totals over every household,
    and the months."""
    assert manager.cooperative_id is not None
    figures = await _year_figures(manager.cooperative_id, year, None)
    households = await paginate(
        Household.filter(cooperative_id=manager.cooperative_id),
        page=page, size=HOUSEHOLDS_PER_PAGE, order_by=("village", "name", "id"),
    )  # fmt: skip
    rows = [figures.row(h) for h in households.items]
    return Ledger(
        year,
        Page(rows, number=households.number, size=households.size, total=households.total),
        figures,
    )


async def every_household_year(
    *, manager: User, year: int
) -> tuple[list[HouseholdYear], YearFigures]:
    """Every household's year, for the CSV (a cooperative has hundreds, not millions)."""
    assert manager.cooperative_id is not None
    figures = await _year_figures(manager.cooperative_id, year, None)
    households = await Household.filter(cooperative_id=manager.cooperative_id).order_by(
        "village", "name", "id"
    )
    return [figures.row(h) for h in households], figures


@dataclass(frozen=True)
class TransferShare:
    field_name: str
    area_m2: Decimal
    starts_on: date
    ends_on: date | None
    days: int
    rent_fen_per_mu_year: int
    rent_fen: int


@dataclass(frozen=True)
class ShiftLine:
    worked_on: date
    activity: str
    field_name: str
    hours: Decimal
    wages_fen: int


@dataclass(frozen=True)
class HouseholdStatement:
    household: Household
    year: int
    days_in_year: int
    transfers: list[TransferShare]
    shifts: Page[ShiftLine]
    figures: YearFigures

    @property
    def row(self) -> HouseholdYear:
        return self.figures.row(self.household)

    @property
    def rates(self) -> list[int]:
        """The rents per mu a year the year's transfers pay, each once."""
        return sorted({t.rent_fen_per_mu_year for t in self.transfers})


def _share(household: Household, year: int, t: dict) -> TransferShare:
    rate = rate_of(t, household.rent_fen_per_mu_year)
    return TransferShare(
        field_name=t["field__name"],
        area_m2=Decimal(t["area_m2"]),
        starts_on=t["starts_on"],
        ends_on=t["ends_on"],
        days=rules.days_within(
            starts_on=t["starts_on"], ends_on=t["ends_on"], within=rules.year_bounds(year)
        ),
        rent_fen_per_mu_year=rate,
        rent_fen=rules.year_rent_fen(
            area_m2=Decimal(t["area_m2"]), rent_fen_per_mu_year=rate,
            starts_on=t["starts_on"], ends_on=t["ends_on"], year=year,
        ),
    )  # fmt: skip


def _shifts_of(household: Household, year: int):  # type: ignore[no-untyped-def]
    first, following = rules.year_bounds(year)
    return WorkShift.filter(
        household_id=household.id,
        entry__cooperative_id=household.cooperative_id,
        entry__worked_on__gte=first,
        entry__worked_on__lt=following,
        entry__voided_at=None,
    )


def _shift_line(household: Household, r: dict) -> ShiftLine:
    hours = Decimal(r["hours"])
    return ShiftLine(
        worked_on=r["entry__worked_on"], activity=str(r["entry__activity"]),
        field_name=r["entry__field__name"], hours=hours,
        wages_fen=rules.shift_wages_fen(hours=hours, wage_fen_per_hour=household.wage_fen_per_hour),
    )  # fmt: skip


SHIFT_VALUES = ("hours", "entry__worked_on", "entry__activity", "entry__field__name")


async def household_statement(
    *, manager: User, household_id: int, year: int, page: int = 1, every_shift: bool = False
) -> HouseholdStatement:
    """One household's year: each transfer's share of rent, its shifts by date with their
    wages (a page of them, or all for the CSV), and its totals."""
    household = await own_household(manager=manager, household_id=household_id)
    transfers = (
        await LandTransfer.filter(_transfers_in(year), household_id=household.id)
        .order_by("starts_on", "field__name", "id")
        .values("area_m2", "starts_on", "ends_on", "rent_fen_per_mu_year", "field__name")
    )
    figures = await _year_figures(household.cooperative_id, year, household.id)
    query = _shifts_of(household, year)
    order = ("entry__worked_on", "id")
    if every_shift:
        rows = await query.order_by(*order).values(*SHIFT_VALUES)
        shifts = Page([_shift_line(household, r) for r in rows], 1, max(len(rows), 1), len(rows))
    else:
        shifts = await paginate(
            query, page=page, size=SHIFTS_PER_PAGE, order_by=order,
            fetch=lambda q: q.values(*SHIFT_VALUES),
        )  # fmt: skip
        shifts = Page(
            [_shift_line(household, r) for r in shifts.items],
            shifts.number, shifts.size, shifts.total,
        )  # fmt: skip
    return HouseholdStatement(
        household, year, rules.days_in_year(year),
        [_share(household, year, t) for t in transfers], shifts, figures,
    )  # fmt: skip
