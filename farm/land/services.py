"""Reading what a season offers: plans, plots left, the field map.

Pages read counts, not rows: how many plots are left is one grouped query for every plan on
sale, and a plan's map is one grouped query for its sections and one for the plots of the
section shown, so a page costs the same few queries whatever the number of plans and plots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from farm.errors import NotFound
from farm.i18n import _
from farm.land import rules
from farm.land.models import Field, Plan, PlanPerk, Plot, PlotClaim, Season, ShipDayChange
from farm.land.sections import Grid, Scale, Section, readable_scale, section_grid
from farm.sql import is_postgres, select


def live_claims(now: datetime) -> Q:
    """Claims that hold their plot: paid (no expiry) or a reservation not yet lapsed."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


@dataclass(frozen=True)
class PlanOffer:
    plan: Plan
    season: Season
    perks: list[PlanPerk]
    ship_days: list[date]
    plots_left: int


@dataclass(frozen=True)
class MapPlot:
    plot: Plot
    free: bool


async def eligible_plots(plan: Plan) -> list[Plot]:
    return await Plot.filter(field_id=plan.field_id, area_m2=plan.plot_area_m2).order_by("code")


async def taken_plot_ids(season_id: int, now: datetime) -> set[int]:
    rows = await PlotClaim.filter(live_claims(now), season_id=season_id).values_list(
        "plot_id", flat=True
    )
    return set(rows)


async def seasons_and_chosen(
    cooperative_id: int | None, season_id: int | None
) -> tuple[list[Season], Season | None]:
    """The cooperative's seasons, the latest to start first, and the one asked for (None when
    none was asked: the caller chooses its default). Another cooperative's season, or one
    that does not exist, is not found."""
    seasons = list(await Season.filter(cooperative_id=cooperative_id).order_by("-starts_on", "-id"))
    if season_id is None:
        return seasons, None
    season = next((s for s in seasons if s.id == season_id), None)
    if season is None:
        raise NotFound(_("This season does not exist."))
    return seasons, season


def season_ship_days(season: Season) -> list[date]:
    """The season's ship days as they will be: its calendar, with the days skipped or moved
    since the sale."""
    days = calendar_ship_days(season)
    if not season.ship_day_moves:
        return days
    return rules.apply_ship_day_moves(days, rules.parse_ship_day_moves(season.ship_day_moves))


async def season_changes(season_id: int) -> list[ShipDayChange]:
    """The season's ship days skipped or moved, newest first, with who changed them."""
    return list(
        await ShipDayChange.filter(season_id=season_id)
        .order_by("-changed_at", "-id")
        .limit(rules.MAX_SHIP_DAY_MOVES * 2)
        .select_related("changed_by")
    )


def calendar_ship_days(season: Season) -> list[date]:
    """The season's ship days as its calendar gave them, before any change."""
    return rules.ship_days(
        season.starts_on, season.ends_on, rules.parse_days_of_month(season.ship_days_of_month)
    )


# ---- raw SQL shared by both databases ---------------------------------------------------

# The claim c that holds plot p in a season, to LEFT JOIN: paid, or reserved and not lapsed
# ($1 is now). There is at most one, (season, plot) being unique.
_HOLDS = (
    "c.season_id = {season} AND c.plot_id = {plot} AND (c.expires_at IS NULL OR c.expires_at > $1)"
)


def _conn() -> BaseDBAsyncClient:
    return connections.get("default")


async def _query(sql: str, values: Sequence[object]) -> list[dict]:
    return await select(_conn(), sql, list(values))


def _db_now(now: datetime) -> object:
    """`now` as the database stores expires_at (Tortoise writes SQLite datetimes as text)."""
    return PlotClaim._meta.fields_map["expires_at"].to_db_value(now, PlotClaim)


def _number(value: Decimal) -> object:
    return value if is_postgres(_conn()) else float(value)


async def plot_counts(*, now: datetime, plans: Sequence[Plan]) -> dict[int, tuple[int, int]]:
    """For each of these plans: (free plots it could sell, its live claims), in one grouped
    query that reads no claim but the unpaid ones, however many plots are sold.

    A plan's live claims are its places held (every claim of the plan, counted in the
    transaction that makes or removes one: farm/land/places.py) less its lapsed
    reservations not yet released, found through the index of unpaid claims. Free plots are
    counted once per (season, field, plot size), however many plans share them: the plots of
    that size (`plot_sizes`, kept by triggers on plots) less the live claims of every plan of
    that season, field and size (a claim's plot is always on its plan's field and of its
    plan's size). The seasons, fields and plans
    are given as values, not joined from the plans, so the planner sees which rows it reads."""
    if not plans:
        return {}
    values: list[object] = [_db_now(now)]

    def marks(items: Sequence[object]) -> str:
        start = len(values) + 1
        values.extend(items)
        return ", ".join(f"${n}" for n in range(start, len(values) + 1))

    seasons = marks(sorted({p.season_id for p in plans}))
    field_ids = marks(sorted({p.field_id for p in plans}))
    plan_ids = marks([p.id for p in plans])
    sql = f"""
        WITH lapsed AS (
            SELECT c.plan_id, COUNT(*) AS n FROM plot_claims c
            WHERE c.season_id IN ({seasons}) AND c.expires_at IS NOT NULL AND c.expires_at <= $1
            GROUP BY c.plan_id
        ), placed AS (
            SELECT pl.id, pl.season_id, pl.field_id, pl.plot_area_m2,
                   (SELECT SUM(s.held) FROM plan_places s WHERE s.plan_id = pl.id) AS held
            FROM plans pl
            WHERE pl.season_id IN ({seasons}) AND pl.field_id IN ({field_ids})
        ), live AS (
            SELECT pl.id, pl.season_id, pl.field_id, pl.plot_area_m2,
                   CASE WHEN pl.held > COALESCE(lapsed.n, 0) THEN pl.held - COALESCE(lapsed.n, 0)
                        ELSE 0 END AS n
            FROM placed pl LEFT JOIN lapsed ON lapsed.plan_id = pl.id
        ), taken AS (
            SELECT season_id, field_id, plot_area_m2, SUM(n) AS n FROM live
            GROUP BY season_id, field_id, plot_area_m2
        ), sized AS (
            SELECT s.field_id, s.area_m2, s.plots AS n FROM plot_sizes s
            WHERE s.field_id IN ({field_ids})
        )
        SELECT live.id, COALESCE(sized.n, 0) - COALESCE(taken.n, 0) AS free, live.n AS sold
        FROM live
        LEFT JOIN sized ON sized.field_id = live.field_id AND sized.area_m2 = live.plot_area_m2
        LEFT JOIN taken ON taken.season_id = live.season_id AND taken.field_id = live.field_id
            AND taken.plot_area_m2 = live.plot_area_m2
        WHERE live.id IN ({plan_ids})
    """  # noqa: S608  (placeholders only)
    rows = await _query(sql, values)
    return {r["id"]: (max(0, int(r["free"])), int(r["sold"])) for r in rows}


def _left(plan: Plan, counts: dict[int, tuple[int, int]]) -> int:
    free, sold = counts.get(plan.id, (0, 0))
    return max(0, min(plan.max_plots - sold, free))


async def plots_left(plan: Plan, *, now: datetime, taken: set[int] | None = None) -> int:
    """How many plots a plan can still sell: free plots of its size on its field, within its
    max_plots. (`taken` is accepted for callers of the old signature and not needed.)"""
    return _left(plan, await plot_counts(now=now, plans=[plan]))


async def open_offers(*, today: date, now: datetime) -> list[PlanOffer]:
    """Every plan of every season on sale today, with what is left to buy: four queries,
    however many plans and plots there are."""
    plans = (
        await Plan.filter(
            season__sale_starts_on__lte=today, season__sale_ends_on__gt=today, published=True
        )
        .select_related("season")
        .order_by("season__starts_on", "season_id", "price_fen", "id")
    )
    if not plans:
        return []
    perks: dict[int, list[PlanPerk]] = {}
    perk_rows = (
        await PlanPerk.filter(
            plan__season__sale_starts_on__lte=today,
            plan__season__sale_ends_on__gt=today,
            plan__published=True,
        )
        .select_related("partner")
        .order_by("id")
    )
    for perk in perk_rows:
        perks.setdefault(perk.plan_id, []).append(perk)
    counts = await plot_counts(now=now, plans=plans)
    days: dict[int, list[date]] = {}
    for plan in plans:
        if plan.season_id not in days:
            days[plan.season_id] = season_ship_days(plan.season)
    return [
        PlanOffer(
            plan=plan,
            season=plan.season,
            perks=perks.get(plan.id, []),
            ship_days=days[plan.season_id],
            plots_left=_left(plan, counts),
        )
        for plan in plans
    ]


# ---- a plan's page: the offer and its field map -----------------------------------------


@dataclass(frozen=True)
class SectionCount:
    section: Section
    plots: int
    free: int


@dataclass(frozen=True)
class FieldMap:
    """What a plan's page draws: either the whole field (`grid` is None, or a section is
    chosen) or the overview of its sections with their free plots; and a chosen plot."""

    field: Field
    grid: Grid | None
    sections: list[SectionCount]
    section: Section | None
    plots: list[MapPlot]
    scale: Scale | None
    box: tuple[Decimal, Decimal, Decimal, Decimal] | None  # the part of the field drawn
    chosen: MapPlot | None
    plot_count: int

    @property
    def free_shown(self) -> int:
        return sum(1 for m in self.plots if m.free)


async def plan_offer(
    *, plan_id: int, now: datetime, previewer_cooperative_id: int | None = None
) -> PlanOffer:
    """One plan with its perks and plots left (and its season's cooperative, whose profile
    the page shows). A draft is shown only to a manager of its own cooperative
    (`previewer_cooperative_id`), as its customers will see it once published; to anyone
    else it does not exist."""
    plan = await Plan.get_or_none(id=plan_id).select_related(
        "season", "field", "season__cooperative"
    )
    if plan is None or (
        not plan.published and plan.season.cooperative_id != previewer_cooperative_id
    ):
        raise NotFound(_("This plan does not exist."))
    perks = await PlanPerk.filter(plan_id=plan.id).select_related("partner").order_by("id")
    return PlanOffer(
        plan=plan,
        season=plan.season,
        perks=list(perks),
        ship_days=season_ship_days(plan.season),
        plots_left=await plots_left(plan, now=now),
    )


async def _field_shape(field_id: int) -> tuple[int, Decimal, Decimal]:
    """(plots, typical plot width, typical plot height) of a field."""
    rows = await _query(
        "SELECT COUNT(*) AS n, MIN(w_m) AS w, MIN(h_m) AS h FROM plots WHERE field_id = $1",
        [field_id],
    )
    row = rows[0]
    return int(row["n"]), Decimal(str(row["w"] or 0)), Decimal(str(row["h"] or 0))


async def _section_counts(offer: PlanOffer, grid: Grid, now: datetime) -> list[SectionCount]:
    """Every section of the field with its plots and the plots this plan can sell there."""
    holds = _HOLDS.format(season="$5", plot="p.id")  # the season as a value: see plot_counts
    cx = "FLOOR((p.x_m + p.w_m / 2) / CAST($3 AS NUMERIC))"
    cy = "FLOOR((p.y_m + p.h_m / 2) / CAST($4 AS NUMERIC))"
    sql = f"""
        SELECT CAST({cx} AS INTEGER) AS sx, CAST({cy} AS INTEGER) AS sy, COUNT(*) AS plots,
            SUM(CASE WHEN p.area_m2 = pl.plot_area_m2 AND c.id IS NULL
                THEN 1 ELSE 0 END) AS free
        FROM plans pl JOIN plots p ON p.field_id = pl.field_id
        LEFT JOIN plot_claims c ON {holds}
        WHERE pl.id = $2
        GROUP BY 1, 2
    """  # noqa: S608  (placeholders only)
    values = [
        _db_now(now), offer.plan.id, _number(grid.cell_w), _number(grid.cell_h),
        offer.plan.season_id,
    ]  # fmt: skip
    counts: dict[int, tuple[int, int]] = {}
    for r in await _query(sql, values):
        column = min(max(int(r["sx"]), 0), grid.columns - 1)
        row = min(max(int(r["sy"]), 0), grid.rows - 1)
        index = row * grid.columns + column
        plots, free = counts.get(index, (0, 0))
        counts[index] = (plots + int(r["plots"]), free + int(r["free"] or 0))
    sold_out = offer.plots_left == 0
    result = []
    for index in range(grid.count):
        section = grid.section(index)
        assert section is not None
        plots, free = counts.get(index, (0, 0))
        result.append(SectionCount(section=section, plots=plots, free=0 if sold_out else free))
    return result


async def _map_plots(
    offer: PlanOffer, now: datetime, section: Section | None, grid: Grid | None
) -> list[MapPlot]:
    """The plots of the field (or of one section, by their centres), free or taken."""
    holds = _HOLDS.format(season="$3", plot="p.id")  # the season as a value: see plot_counts
    where, values = "", [_db_now(now), offer.plan.id, offer.plan.season_id]
    if section is not None and grid is not None:
        edge = " AND (p.{a} + p.{s} / 2) {op} CAST(${n} AS NUMERIC)"
        bounds = [("x_m", "w_m", section.x_m, section.column, grid.columns),
                  ("y_m", "h_m", section.y_m, section.row, grid.rows)]  # fmt: skip
        cells = {"x_m": grid.cell_w, "y_m": grid.cell_h}
        for a, s, start, position, last in bounds:
            if position > 0:
                values.append(_number(start))
                where += edge.format(a=a, s=s, op=">=", n=len(values))
            if position < last - 1:
                values.append(_number(start + cells[a]))
                where += edge.format(a=a, s=s, op="<", n=len(values))
    sql = f"""
        SELECT p.id, p.code, p.area_m2, p.x_m, p.y_m, p.w_m, p.h_m, p.field_id,
            CASE WHEN p.area_m2 = pl.plot_area_m2 AND c.id IS NULL
                THEN 1 ELSE 0 END AS free
        FROM plans pl JOIN plots p ON p.field_id = pl.field_id
        LEFT JOIN plot_claims c ON {holds}
        WHERE pl.id = $2{where}
        ORDER BY p.code
    """  # noqa: S608  (placeholders only)
    sold_out = offer.plots_left == 0
    fields = ("id", "code", "area_m2", "x_m", "y_m", "w_m", "h_m", "field_id")
    plots = []
    for r in await _query(sql, values):
        plot = Plot(**{k: r[k] for k in fields})
        for name in ("area_m2", "x_m", "y_m", "w_m", "h_m"):
            setattr(plot, name, Decimal(str(r[name])))
        plots.append(MapPlot(plot=plot, free=bool(r["free"]) and not sold_out))
    return plots


async def field_map(
    *, offer: PlanOffer, now: datetime, section: int | None = None, plot_id: int | None = None
) -> FieldMap:
    """A plan's field map: the whole field when it is small; else the overview of its
    sections, or one section's plots when a section (or a plot, whose section it is) is
    chosen. The chosen plot is kept only if this plan can sell it now."""
    field = offer.plan.field
    count, plot_w, plot_h = await _field_shape(field.id)
    grid = section_grid(
        width=Decimal(field.width_m), height=Decimal(field.height_m), plots=count,
        plot_w=plot_w, plot_h=plot_h,
    )  # fmt: skip
    chosen_plot = None
    if plot_id is not None:
        chosen_plot = await Plot.get_or_none(id=plot_id, field_id=field.id)
    shown: Section | None = None
    if grid is not None:
        if chosen_plot is not None:
            section = grid.index_of(
                cx=chosen_plot.x_m + chosen_plot.w_m / 2, cy=chosen_plot.y_m + chosen_plot.h_m / 2
            )
        shown = grid.section(section) if section is not None else None
    overview = grid is not None and shown is None
    sections = await _section_counts(offer, grid, now) if overview and grid else []
    plots: list[MapPlot] = []
    scale, box = None, None
    if grid is None or shown is not None:
        plots = await _map_plots(offer, now, shown, grid)
        if plots and shown is not None:  # the section's plots, with a metre around them
            left, top = min(m.plot.x_m for m in plots), min(m.plot.y_m for m in plots)
            right = max(m.plot.x_m + m.plot.w_m for m in plots)
            bottom = max(m.plot.y_m + m.plot.h_m for m in plots)
            box = (left - 1, top - 1, right - left + 2, bottom - top + 2)
        if plots:
            scale = readable_scale(
                w_m=box[2] if box else Decimal(field.width_m) + 2,
                smallest_w=min(m.plot.w_m for m in plots),
                smallest_h=min(m.plot.h_m for m in plots),
            )
    chosen = next((m for m in plots if chosen_plot and m.plot.id == chosen_plot.id), None)
    return FieldMap(
        field=field, grid=grid, sections=sections, section=shown, plots=plots, scale=scale,
        box=box, chosen=chosen if chosen and chosen.free else None, plot_count=count,
    )  # fmt: skip


async def plots_held_by(*, plan_id: int, customer_id: int) -> int:
    """How many plots of the plan the customer holds, paid (their claims without expiry)."""
    return await PlotClaim.filter(
        plan_id=plan_id, customer_id=customer_id, expires_at__isnull=True
    ).count()


async def nearest_free_plots(
    *, offer: PlanOffer, plot_id: int, now: datetime, count: int = 3
) -> tuple[Plot | None, list[Plot]]:
    """A plot of the plan that was just taken, and the free plots of the plan nearest to it
    (for the map's "taken: try one of these")."""
    plan = offer.plan
    taken = await Plot.get_or_none(id=plot_id, field_id=plan.field_id)
    if taken is None:
        return None, []
    busy = await taken_plot_ids(plan.season_id, now)
    free = [p for p in await eligible_plots(plan) if p.id not in busy]
    ids = rules.nearest(
        (taken.x_m + taken.w_m / 2, taken.y_m + taken.h_m / 2),
        [(p.id, p.x_m + p.w_m / 2, p.y_m + p.h_m / 2) for p in free],
        count=count,
    )
    by_id = {p.id: p for p in free}
    return taken, [by_id[i] for i in ids]
