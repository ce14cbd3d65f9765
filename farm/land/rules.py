"""Pure rules for land and seasons: the ship-day calendar, what the console reads and cuts.
No I/O, no clock. Units and money are in farm/units.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from farm import forms
from farm.i18n import _


def parse_days_of_month(text: str) -> tuple[int, ...]:
    """'1,16' -> (1, 16). Raises ValueError for anything but distinct days 1..28."""
    days = sorted({int(part) for part in text.split(",") if part.strip()})
    if not days or any(not 1 <= d <= 28 for d in days):
        raise ValueError("ship days must be days of the month between 1 and 28")
    return tuple(days)


def days_of_month(text: str) -> tuple[int, ...]:
    """The ship days typed in a season's form ('1,16'); raises forms.Problem."""
    try:
        return parse_days_of_month(text)
    except ValueError:
        raise forms.Problem(
            "invalid", _("Enter days of the month from 1 to 28, separated by commas, like 1,16.")
        ) from None


def ship_days(starts_on: date, ends_on: date, days_of_month: Iterable[int]) -> list[date]:
    """Every ship day in the half-open period [starts_on, ends_on), in order."""
    wanted = sorted(set(days_of_month))
    result: list[date] = []
    year, month = starts_on.year, starts_on.month
    while date(year, month, 1) < ends_on:
        for day in wanted:
            d = date(year, month, day)
            if starts_on <= d < ends_on:
                result.append(d)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


# ---- Ship days skipped or moved after the sale (the Spring Festival, a storm, a strike) ----
# A season keeps its moves as text, 'original>new' or 'original>' (skipped), ';'-separated:
# '2027-02-16>2027-02-19;2027-03-01>'. Every reader of the season's ship days applies them.

SHIP_DAY_NOTICE_DAYS = 3  # a ship day changes at least this many days ahead (and past its cutoff)
MAX_SHIP_DAY_MOVES = 16  # what the season's column holds


def parse_ship_day_moves(text: str) -> dict[date, date | None]:
    moves: dict[date, date | None] = {}
    for part in filter(None, (text or "").split(";")):
        original, _sep, new = part.partition(">")
        moves[date.fromisoformat(original)] = date.fromisoformat(new) if new else None
    return moves


def format_ship_day_moves(moves: Mapping[date, date | None]) -> str:
    return ";".join(
        f"{d.isoformat()}>{n.isoformat() if n else ''}" for d, n in sorted(moves.items())
    )


def apply_ship_day_moves(days: Sequence[date], moves: Mapping[date, date | None]) -> list[date]:
    """The ship days as they will be: each moved one on its new date, skipped ones gone."""
    result = []
    for d in days:
        new = moves.get(d, d)
        if new is not None:
            result.append(new)
    return sorted(set(result))


def original_ship_day(
    day: date, days: Sequence[date], moves: Mapping[date, date | None]
) -> date | None:
    """The ship day of the season's calendar that now falls on `day` (itself, or the one
    moved there), or None when `day` is no ship day."""
    for d in days:
        if moves.get(d, d) == day:
            return d
    return None


def ship_day_change_problem(
    *, days: Sequence[date], day: date, new_day: date | None, today: date, cutoff_days: int,
    starts_on: date, ends_on: date,
) -> tuple[str, str] | None:  # fmt: skip
    """Why a ship day (as it now falls, `days`) cannot be skipped (`new_day` None) or moved
    to `new_day`, as (the field at fault, the message), or None when it can: only a coming
    ship day, at least the notice ahead and before its boxes are being packed; a move stays
    inside the season, between the ship days before and after it, at least the notice ahead."""
    notice = max(SHIP_DAY_NOTICE_DAYS, cutoff_days + 1)
    if day not in days:
        return "day", _("%(day)s is not a ship day of this season.") % {"day": day.isoformat()}
    if (day - today).days < notice:
        return "day", _("A ship day can be changed at least %(days)d days ahead.") % {
            "days": notice
        }
    if new_day is None:
        return None
    if (new_day - today).days < notice:
        return "new_day", _("A ship day can move only to a day at least %(days)d days ahead.") % {
            "days": notice
        }
    if not starts_on <= new_day < ends_on:
        return "new_day", _("The new day must fall inside the season.")
    i = list(days).index(day)
    before = days[i - 1] if i > 0 else None
    after = days[i + 1] if i + 1 < len(days) else None
    if new_day == day or (before and new_day <= before) or (after and new_day >= after):
        return "new_day", _("A ship day can move only between the ship days before and after it.")
    return None


def cutoff_for(ship_day: date, cutoff_days: int) -> date:
    """The last day on which a ship day can still be changed (held, re-addressed)."""
    return ship_day - timedelta(days=cutoff_days)


def is_on_sale(*, sale_starts_on: date, sale_ends_on: date, today: date) -> bool:
    return sale_starts_on <= today < sale_ends_on


# ---- The manager's console: cutting plots, what a sale fixes ----
# Typed values are read by farm.forms; what is wrong is a forms.Problem.

MAX_SIDE_M = Decimal(5000)  # a field side; real ones are far smaller
MAX_AREA_M2 = MAX_SIDE_M * MAX_SIDE_M
AREA_TOLERANCE = Decimal("0.1")  # a plot's stated area may differ from its drawn w × h by 10%
MAX_GRID_PLOTS = 400
MAX_CODE_PREFIX = 12
MAX_PLOT_CODE = 20  # Plot.code's column


def plot_code(text: str, *, limit: int = MAX_PLOT_CODE, required: bool = True) -> str:
    """A plot's code (or a grid's code prefix) as typed: it is shown on the map and on its
    sign, so short, without spaces or control characters. Raises forms.Problem."""
    code = forms.text(text, limit=limit, required=required)
    if any(ch.isspace() for ch in code):
        raise forms.Problem("invalid", _("A code may not contain spaces."))
    return code


@dataclass(frozen=True)
class PlotShape:
    """A plot's code and its rectangle on the field map, in metres from the top-left."""

    code: str
    x: Decimal
    y: Decimal
    w: Decimal
    h: Decimal


@dataclass(frozen=True)
class Misfit:
    """Why plots cannot be cut as asked. kind: 'outside' (not inside the field),
    'overlap' (with `other`), 'duplicate_code' (with a plot of the field, or another new one)."""

    kind: str
    code: str
    other: str = ""


def grid_plots(
    *,
    prefix: str,
    first_number: int,
    cols: int,
    rows: int,
    plot_w: Decimal,
    plot_h: Decimal,
    x0: Decimal = Decimal(0),
    y0: Decimal = Decimal(0),
) -> list[PlotShape]:
    """`cols` × `rows` plots from (x0, y0), left to right then top to bottom, numbered from
    `first_number` with the prefix: A01, A02, ..."""
    last = first_number + cols * rows - 1
    digits = max(2, len(str(last)))
    return [
        PlotShape(
            code=f"{prefix}{first_number + r * cols + c:0{digits}d}",
            x=x0 + plot_w * c,
            y=y0 + plot_h * r,
            w=plot_w,
            h=plot_h,
        )
        for r in range(rows)
        for c in range(cols)
    ]


def lies_inside(shape: PlotShape, *, width: Decimal, height: Decimal) -> bool:
    return (
        shape.x >= 0
        and shape.y >= 0
        and shape.x + shape.w <= width
        and (shape.y + shape.h <= height)
    )


def sticking_out(plots: Sequence[PlotShape], *, width: Decimal, height: Decimal) -> dict[str, str]:
    """For a field resized to width × height: 'width'/'height' -> the code of the first plot
    that would stick out that way."""
    found: dict[str, str] = {}
    for shape in plots:
        if shape.x + shape.w > width:
            found.setdefault("width", shape.code)
        if shape.y + shape.h > height:
            found.setdefault("height", shape.code)
    return found


def overlap(a: PlotShape, b: PlotShape) -> bool:
    """Rectangles that share more than an edge."""
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def misfits(
    *, new: Sequence[PlotShape], existing: Sequence[PlotShape], width: Decimal, height: Decimal
) -> list[Misfit]:
    """Everything that stops `new` plots from being cut from a field of width × height that
    already holds `existing` ones. Empty when they may be cut."""
    found = [
        Misfit("outside", s.code) for s in new if not lies_inside(s, width=width, height=height)
    ]
    taken = {s.code for s in existing}
    for s in new:
        if s.code in taken:
            found.append(Misfit("duplicate_code", s.code))
        taken.add(s.code)
    # Sweep along x: only rectangles that start before one ends can overlap it.
    shapes = sorted([(s, True) for s in new] + [(s, False) for s in existing], key=lambda t: t[0].x)
    for i, (a, a_new) in enumerate(shapes):
        for b, b_new in shapes[i + 1 :]:
            if b.x >= a.x + a.w:
                break
            if (a_new or b_new) and overlap(a, b):
                code, other = (a.code, b.code) if a_new else (b.code, a.code)
                found.append(Misfit("overlap", code, other))
    return found


def far_from_drawn(*, area_m2: Decimal, w: Decimal, h: Decimal) -> bool:
    """A stated area must be close to the rectangle drawn, or the map would mislead."""
    drawn = w * h
    return abs(area_m2 - drawn) > drawn * AREA_TOLERANCE


def plot_area(*, w: Decimal, h: Decimal) -> Decimal:
    return (w * h).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def season_problems(
    *, starts_on: date, ends_on: date, sale_starts_on: date, sale_ends_on: date
) -> dict[str, forms.Problem]:
    """Field name -> problem, for dates that parsed: the season and its sale window are
    half-open and not empty, and the sale ends no later than the season."""
    problems: dict[str, forms.Problem] = {}
    not_after = forms.Problem("not_after_start", _("This must come after the start."))
    if ends_on <= starts_on:
        problems["ends_on"] = not_after
    elif ends_on > starts_on + timedelta(days=3 * 366):
        problems["ends_on"] = forms.Problem("too_long", _("A season lasts at most three years."))
    if sale_ends_on <= sale_starts_on:
        problems["sale_ends_on"] = not_after
    elif sale_ends_on > ends_on and "ends_on" not in problems:
        problems["sale_ends_on"] = forms.Problem(
            "after_season", _("The sale must end no later than the season ends.")
        )
    return problems


def sale_end_problem(*, sold: int, before: date, after: date, today: date) -> forms.Problem | None:
    """Once plots are sold, the sale (ending before `after`, exclusive) may be extended, and
    may be cut short only down to a last day of today: never retroactively, and never to a
    last day of yesterday (typed so, the sale would close at once)."""
    if sold > 0 and after < before and after <= today:
        return forms.Problem(
            "shortened",
            _("Plots are sold already: the last day of the sale can be today (%(day)s) at "
              "the earliest, or the sale would close at once.")
            % {"day": today.isoformat()},
        )  # fmt: skip
    return None


# What a buyer paid for. Once a plan has sold plots these stay as they were; its name and
# crop texts may still change (a drought changes what grows), and it may offer more plots.
PLAN_TERMS = ("price_fen", "field_id", "plot_area_m2", "care_mode", "perks")
SEASON_TERMS = ("starts_on", "ends_on", "ship_days_of_month", "cutoff_days")
# What a plot held at checkout already is, or what activation gives from the plan as it is
# then: these wait while anyone is paying. The price may change: each subscription keeps the
# price it was reserved at, and that is what its buyer pays.
HELD_TERMS = ("field_id", "plot_area_m2", "care_mode", "perks")


def _comparable(name: str, value: object) -> object:
    if name == "ship_days_of_month" and isinstance(value, str):
        try:
            return parse_days_of_month(value)
        except ValueError:
            return value
    return value


def changed_terms(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """The plan's and season's terms (what a buyer pays for) that `after` changes."""
    return [
        name
        for name in after
        if name in PLAN_TERMS + SEASON_TERMS
        and name in before
        and _comparable(name, before[name]) != _comparable(name, after[name])
    ]


def refused_changes(
    *, sold: int, before: Mapping[str, object], after: Mapping[str, object]
) -> list[str]:
    """The names in `after` that may not change because `sold` plots were sold under
    `before`: the plan's and season's terms, and max_plots below what is sold."""
    if sold <= 0:
        return []
    refused = changed_terms(before, after)
    max_plots = after.get("max_plots")
    if isinstance(max_plots, int) and max_plots < sold:
        refused.append("max_plots")
    return refused


# ---- a perk's voucher is used at a partner of its kind ----

# The partner kind (partners.models.PartnerKind) each perk kind (models.PerkKind) is used at.
PARTNER_KIND_OF_PERK = {"scenic_ticket": "scenic_spot", "farm_stay_night": "guesthouse"}


def perk_fits(kind: str, partner_kind: str | None) -> bool:
    """A perk names no partner (any of its kind), or a partner of the kind its voucher is
    used at: a scenic-spot ticket at a scenic spot, a farm-stay night at a guesthouse."""
    return partner_kind is None or PARTNER_KIND_OF_PERK.get(str(kind)) == str(partner_kind)


def perk_fixes(
    *,
    before: Sequence[tuple[int, str, int | None, int]],
    after: Sequence[tuple[str, int | None, int]],
    partner_kinds: Mapping[int, str],
) -> dict[int, int | None] | None:
    """When a plan's perks change only by giving perks whose partner is of the wrong kind a
    partner that fits (same kind, same count), the new partner of each such perk (by perk
    id); None for any other change. `before` holds (perk id, kind, partner id, count)."""
    wanted = list(after)
    left = []
    for perk_id, kind, partner_id, count in before:
        if (kind, partner_id, count) in wanted:
            wanted.remove((kind, partner_id, count))
        else:
            left.append((perk_id, kind, partner_id, count))
    fixes: dict[int, int | None] = {}
    for perk_id, kind, partner_id, count in left:
        if perk_fits(kind, partner_kinds.get(partner_id) if partner_id else None):
            return None  # a perk that was right changes: not a fix
        match = next(
            (
                w
                for w in wanted
                if w[0] == kind
                and w[2] == count
                and perk_fits(kind, partner_kinds.get(w[1]) if w[1] else None)
            ),
            None,
        )
        if match is None:
            return None
        wanted.remove(match)
        fixes[perk_id] = match[1]
    return fixes if not wanted else None


def nearest(
    center: tuple[Decimal, Decimal], plots: list[tuple[int, Decimal, Decimal]], *, count: int
) -> list[int]:
    """The ids of the `count` plots (id, centre x, centre y) closest to `center`, nearest
    first (ties by id)."""
    cx, cy = center
    return [pid for _d, pid in sorted(((x - cx) ** 2 + (y - cy) ** 2, pid) for pid, x, y in plots)][
        :count
    ]
