"""Pure rules of the farm log and harvests: weights, hours, dates, lot codes; the season's
reports (land rent, wages, yields). No I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from farm import forms
from farm.i18n import _
from farm.units import M2_PER_MU

LOG_DAYS_BACK = 366  # work older than a year is not logged any more
LOT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a box
LOT_CODE_LENGTH = 8


def log_day(text: str, *, today: date) -> date:
    """The day work or a harvest is logged for, as typed: today or the past year. Raises
    forms.Problem ('future', 'too_old', or the date's own)."""
    day = forms.day(text)
    if day > today:
        raise forms.Problem("future", _("This date is in the future."))
    if day < today - timedelta(days=LOG_DAYS_BACK):
        raise forms.Problem("too_old", _("This date is more than a year ago."))
    return day


def is_lot_code(text: str) -> bool:
    return len(text) == LOT_CODE_LENGTH and all(c in LOT_CODE_ALPHABET for c in text)


# reports
# What a household earned in a season and what the land yielded. Money in integer fen,
# rounded half-up once, where the figure is final.

DAYS_PER_YEAR = 365  # land rent is agreed per mu per year; a season pays its share of days


def season_days(*, starts_on: date, ends_on: date) -> int:
    """Days of the half-open season [starts_on, ends_on)."""
    return (ends_on - starts_on).days


def _half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def land_rent_fen(*, rent_fen_per_mu_year: int, area_m2: Decimal, days: int) -> int:
    """The rent for `area_m2` transferred, over a season of `days` days: the yearly rent per mu
    × mu × days / 365, rounded half-up to the fen. A 365-day season pays exactly a year's rent
    (a 366-day one, a day more)."""
    # rent × m² / M2_PER_MU comes out exact (its true value has few decimals) and the division
    # by 365 is the only rounding, last, so a true half fen stays a half and rounds up.
    per_year = Decimal(rent_fen_per_mu_year) * Decimal(area_m2) / M2_PER_MU
    return _half_up(per_year * days / DAYS_PER_YEAR)


def total_hours(hours: Iterable[Decimal]) -> Decimal:
    return sum((Decimal(h) for h in hours), Decimal(0))


def wages_fen(*, hours: Decimal, wage_fen_per_hour: int) -> int:
    """The wages for a household's hours in a season, rounded half-up to the fen once, on the
    season's total hours: rounding each shift would make the pay drift from what the hours
    are worth by up to half a fen per shift, and the figure people check is hours × wage."""
    return _half_up(Decimal(hours) * wage_fen_per_hour)


@dataclass(frozen=True)
class TraceLine:
    """A day's work of one kind on a harvest's land, as its public trace tells it."""

    worked_on: date
    activity: str
    whole_field: bool
    plots: int  # the plots it was logged on, each once (0: the whole field, or not told)
    inputs: list[dict[str, Any]]  # name, dose, organic: each input used once


def trace_lines(
    days: Iterable[tuple[Any, str, Any]],
    plots: Iterable[tuple[Any, str, int]],
    used: Iterable[tuple[Any, str, Any, str, str, Any]],
) -> list[TraceLine]:
    """The lines of a trace from the database's groups: `days` (worked_on, activity,
    whole_field) in the order shown; `plots`, the plots work logged plot by plot was on, per
    (worked_on, activity); `used`, the inputs (worked_on, activity, whole_field, name, dose,
    organic). Work logged a form per plot reads as one line "3 plots", not three lines no
    reader can tell apart. SQLite answers days as text and flags as 0/1: read as Python's."""
    on = {(_day(d), a): n for d, a, n in plots}
    inputs: dict[tuple, list[dict[str, Any]]] = {}
    for d, a, whole, name, dose, organic in used:
        inputs.setdefault((_day(d), a, bool(whole)), []).append(
            {"name": name, "dose": dose, "organic": bool(organic)}
        )
    return [
        TraceLine(
            day,
            a,
            bool(whole),
            0 if whole else on.get((day, a), 0),
            inputs.get((day, a, bool(whole)), []),
        )  # fmt: skip
        for d, a, whole in days
        for day in (_day(d),)
    ]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Tally:
    """Grams harvested and the number of lots they came in."""

    grams: int = 0
    lots: int = 0

    def add(self, grams: int, lots: int = 1) -> Tally:
        return Tally(self.grams + grams, self.lots + lots)


@dataclass(frozen=True)
class Yields:
    """A season's harvest summed by crop, by plot (lots from a plot) and by field (every lot of
    the field, from one of its plots or from the whole field), keyed by id."""

    by_crop: dict[int, Tally]
    by_plot: dict[int, Tally]
    by_field: dict[int, Tally]
    total: Tally


def sum_yields(groups: Iterable[tuple[int, int, int | None, int, int]]) -> Yields:
    """Roll (crop_id, field_id, plot_id or None, grams, lots) rows up by crop, plot and field.
    A row may be one lot (lots=1) or lots the database already summed per (crop, field, plot)."""
    by_crop: dict[int, Tally] = {}
    by_plot: dict[int, Tally] = {}
    by_field: dict[int, Tally] = {}
    total = Tally()
    for crop_id, field_id, plot_id, grams, lots in groups:
        by_crop[crop_id] = by_crop.get(crop_id, Tally()).add(grams, lots)
        by_field[field_id] = by_field.get(field_id, Tally()).add(grams, lots)
        if plot_id is not None:
            by_plot[plot_id] = by_plot.get(plot_id, Tally()).add(grams, lots)
        total = total.add(grams, lots)
    return Yields(by_crop=by_crop, by_plot=by_plot, by_field=by_field, total=total)


# ---- plots typed by code in the farm log ----

MAX_CODES_PER_ENTRY = 1000  # a work entry on more plots than this is logged on the whole field
_CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")
_RANGE_MARKS = re.compile(r"\s*(?:-|~|～|–|—|至|到)\s*")
MAX_CODE_LENGTH = 20  # plots.code
_NUMBERED = re.compile(r"(.*?)([0-9]+)", re.ASCII)


class BadCodes(forms.Problem):
    """Plot codes that cannot be read, worded: code bad_range, too_many or too_long, and the
    `token` typed that was wrong."""

    def __init__(self, code: str, token: str = "") -> None:
        if code == "bad_range":
            message = _("%(range)s is not a range: its last code must come after its first.")
        elif code == "too_long":
            message = _("%(code)s is not a plot code: too long.")
        else:
            message = _("At most %(max)d plots in one entry: tick the whole field instead.")
        super().__init__(
            code, message % {"range": token, "code": token, "max": MAX_CODES_PER_ENTRY}
        )
        self.token = token


def _numbered(code: str) -> tuple[str, str] | None:
    found = _NUMBERED.fullmatch(code)
    return (found.group(1), found.group(2)) if found else None


def _expand(first: str, last: str) -> list[str] | None:
    """'A05', 'A09' -> A05 … A09 (zero-padded like the first); None if not a range of codes
    with the same prefix."""
    for code in (first, last):
        if len(code) > MAX_CODE_LENGTH:  # before int(): a number of thousands of digits
            raise BadCodes("too_long", code)
    a, b = _numbered(first), _numbered(last)
    if a is None or b is None or a[0].upper() != b[0].upper():
        return None
    start, end = int(a[1]), int(b[1])
    if end < start:
        raise BadCodes("bad_range", f"{first}-{last}")
    if end - start >= MAX_CODES_PER_ENTRY:
        raise BadCodes("too_many")
    width = len(a[1]) if a[1].startswith("0") or len(a[1]) == len(b[1]) else 0
    return [f"{a[0]}{n:0{width}d}" for n in range(start, end + 1)]


def parse_plot_codes(text: str) -> list[str]:
    """Plot codes typed in a form: separated by commas (also Chinese ones), spaces or
    semicolons, with ranges of numbered codes of one prefix ('A05-A09', 'A05~A09', 'A05 至
    A09'). A code with a dash that is not such a range ('A-01') is taken as it is. Each code
    once, in the order typed. Raises BadCodes."""
    text = _RANGE_MARKS.sub(lambda m: m.group(0).strip(), text.strip())
    codes: dict[str, None] = {}
    for token in _CODE_SEPARATORS.split(text):
        if not token:
            continue
        parts = [p for p in _RANGE_MARKS.split(token) if p]
        expanded = _expand(parts[0], parts[-1]) if len(parts) == 2 else None
        for code in expanded or [token]:
            if len(code) > MAX_CODE_LENGTH:
                raise BadCodes("too_long", code)
            codes[code] = None
        if len(codes) > MAX_CODES_PER_ENTRY:
            raise BadCodes("too_many")
    return list(codes)


# ---- a household's hours in one day ----

MAX_HOURS_A_DAY = Decimal(24)


def over_a_day(logged: dict[int, Decimal], adding: list[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """Households that would be paid for more than 24 hours in one day: `logged` is the day's
    hours in every other entry (by household), `adding` the hours being saved; for each
    household of `adding` over the limit, its day's total."""
    over: dict[int, Decimal] = {}
    for household_id, hours in adding:
        total = logged.get(household_id, Decimal(0)) + Decimal(hours)
        if total > MAX_HOURS_A_DAY:
            over[household_id] = total
    return over


# ---- a harvest far above what the land can bear ----

# The most a crop yields in one harvest, kg per m², generously (a typo of a tonne on a fen is
# what this catches): by the default list's names, else by leafy or not.
MAX_KG_PER_M2 = {
    "青菜": Decimal(4), "菠菜": Decimal(3), "生菜": Decimal(4), "番茄": Decimal(15),
    "豆角": Decimal(5), "萝卜": Decimal(10), "红薯": Decimal(6), "土豆": Decimal(8),
    "大米": Decimal("1.5"), "菜籽油": Decimal("0.2"), "土鸡蛋": Decimal(1),
}  # fmt: skip
MAX_KG_PER_M2_LEAFY = Decimal(4)
MAX_KG_PER_M2_OTHER = Decimal(15)


def max_kg_per_m2(*, name: str, leafy: bool) -> Decimal:
    """The rule for a crop: at most this many kg per m² in one harvest."""
    found = MAX_KG_PER_M2.get(name.strip())
    if found is not None:
        return found
    return MAX_KG_PER_M2_LEAFY if leafy else MAX_KG_PER_M2_OTHER


def harvest_ceiling_g(*, per_m2: Decimal, area_m2: Decimal) -> int:
    """The most grams land of `area_m2` yields of a crop of `per_m2` kg per m²."""
    return int(Decimal(per_m2) * Decimal(area_m2) * 1000)
