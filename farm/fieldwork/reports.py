"""The cooperative's reports for a season: what each household earned in wages (land rent is
counted by calendar year on the transfers' own dates, in the ledger: farm.fieldwork.ledger,
never per season, which would pay land serving two overlapping seasons twice) and what the
land yielded, by crop, by plot and by field. Read-only; a few queries each,
whatever the number of households or lots: the database sums (GROUP BY, joined to the names),
and no query carries one parameter per row. The by-plot yields, one row per harvested plot
(100,000 at Jutudi's scale), are a page on the console and a stream, field by field, in the
CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from farm import units
from farm.csvfiles import safe_cell_sql
from farm.errors import NotFound
from farm.fieldwork import rules
from farm.fieldwork.models import Crop, Household
from farm.i18n import _, localized
from farm.land.models import Field, Plan, Season
from farm.land.services import seasons_and_chosen
from farm.paging import Page, clamp_page, page_count
from farm.payments.accounts import SeasonMoney, season_money
from farm.sql import copy_csv, is_postgres, select

PLOTS_PER_PAGE = 100


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    area_m2: Decimal
    hours: Decimal
    wages_fen: int


@dataclass(frozen=True)
class HouseholdReport:
    """Every household of the cooperative, with what it earned in the season."""

    season: Season
    days: int
    rows: list[HouseholdRow]

    @property
    def area_m2(self) -> Decimal:
        return sum((r.area_m2 for r in self.rows), Decimal(0))

    @property
    def hours(self) -> Decimal:
        return rules.total_hours(r.hours for r in self.rows)

    @property
    def wages_fen(self) -> int:
        return sum(r.wages_fen for r in self.rows)


@dataclass(frozen=True)
class PlotRef:
    """A harvested plot as the report names it."""

    id: int
    code: str
    field_id: int


@dataclass(frozen=True)
class YieldRow:
    """What one crop, one plot or one field yielded: `tally` holds grams and lots."""

    tally: rules.Tally
    crop: Crop | None = None
    field: Field | None = None
    plot: PlotRef | None = None

    @property
    def weight_g(self) -> int:
        return self.tally.grams

    @property
    def lots(self) -> int:
        return self.tally.lots

    @property
    def counted(self) -> bool:
        """A crop counted in pieces: `weight_g` is its count, `kg` and `jin` mean nothing."""
        return self.crop is not None and self.crop.unit == units.PIECES

    @property
    def kg(self) -> Decimal:
        return units.grams_to_kg(self.tally.grams)

    @property
    def jin(self) -> Decimal:
        return units.grams_to_jin(self.tally.grams)


@dataclass(frozen=True)
class YieldReport:
    """Crops by weight, heaviest first; plots and fields by name. Only what was harvested.
    `by_plot` is one page of the plots (`plots`), in field and code order."""

    season: Season
    by_crop: list[YieldRow]
    plots: Page[YieldRow]
    by_field: list[YieldRow]
    total: YieldRow

    @property
    def by_plot(self) -> list[YieldRow]:
        return self.plots.items


@dataclass(frozen=True)
class ReportsPage:
    seasons: list[Season]
    season: Season | None
    households: HouseholdReport | None
    yields: YieldReport | None
    money: SeasonMoney | None = None


async def own_season(*, cooperative_id: int, season_id: int | None) -> Season:
    """The cooperative's season of that id; with no id, its latest to start."""
    seasons = Season.filter(cooperative_id=cooperative_id)
    if season_id is not None:
        seasons = seasons.filter(id=season_id)
    season = await seasons.order_by("-starts_on", "-id").first()
    if season is None:
        raise NotFound(_("This season does not exist."))
    return season


async def household_report(*, cooperative_id: int, season_id: int | None) -> HouseholdReport:
    """Each household's land transferred, hours worked on the cooperative's work entries in
    the season, and wages (its rent is in the yearly ledger, not here). A season of
    another cooperative is not found; no season id means the latest."""
    season = await own_season(cooperative_id=cooperative_id, season_id=season_id)
    return await _household_report(season)


async def yield_report(
    *, cooperative_id: int, season_id: int | None, plot_page: int = 1
) -> YieldReport:
    """Grams harvested in the season by crop, by plot and by field (a field counts its plots'
    lots and its whole-field lots). A season of another cooperative is not found; no season id
    means the latest."""
    season = await own_season(cooperative_id=cooperative_id, season_id=season_id)
    return await _yield_report(season, plot_page=plot_page)


async def reports_page(
    *, cooperative_id: int, season_id: int | None, plot_page: int = 1,
    timezone: str = "Asia/Shanghai",
) -> ReportsPage:  # fmt: skip
    """Both reports for one season of the cooperative, by default the latest to start; and
    every season, to choose another."""
    seasons, season = await seasons_and_chosen(cooperative_id, season_id)
    season = season or (seasons[0] if seasons else None)
    if season is None:
        return ReportsPage(seasons=seasons, season=None, households=None, yields=None)
    return ReportsPage(
        seasons=seasons,
        season=season,
        households=await _household_report(season),
        yields=await _yield_report(season, plot_page=plot_page),
        money=await season_money(
            season,
            timezone=timezone,
            names={
                p.id: localized(p.name, p.name_en) for p in await Plan.filter(season_id=season.id)
            },
        ),  # fmt: skip
    )


async def _household_sums(
    conn: BaseDBAsyncClient, sql: str, params: list[object]
) -> dict[int, Decimal]:
    """Each household's sum, which `sql` gives as whole hundredths (`centi`, by household_id:
    SQLite would sum decimal text as floats), back to an exact Decimal."""
    rows = await select(conn, sql, params)
    return {r["household_id"]: Decimal(int(r["centi"] or 0)) / 100 for r in rows}


async def _household_report(season: Season) -> HouseholdReport:
    coop_id = season.cooperative_id
    households = await Household.filter(cooperative_id=coop_id).order_by("village", "name", "id")
    conn = connections.get("default")
    area = await _household_sums(
        conn,
        # Each field's latest transfer serving the season (the land as it stood last in the
        # season, even if given back before its end), never two of one field.
        "SELECT t.household_id, SUM(CAST(ROUND(t.area_m2 * 100) AS INTEGER)) AS centi"
        " FROM land_transfers t JOIN households h ON h.id = t.household_id"
        " WHERE h.cooperative_id = $1 AND t.starts_on < $2"
        " AND (t.ends_on IS NULL OR t.ends_on > $3)"
        " AND NOT EXISTS (SELECT 1 FROM land_transfers n WHERE n.household_id ="
        " t.household_id AND n.field_id = t.field_id AND n.starts_on > t.starts_on"
        " AND n.starts_on < $4) GROUP BY t.household_id",
        [coop_id, season.ends_on, season.starts_on, season.ends_on],
    )
    hours = await _household_sums(
        conn,
        "SELECT s.household_id, SUM(CAST(ROUND(s.hours * 100) AS INTEGER)) AS centi"
        " FROM work_shifts s JOIN work_entries e ON e.id = s.entry_id"
        " JOIN households h ON h.id = s.household_id"
        " WHERE e.cooperative_id = $1 AND e.worked_on >= $2 AND e.worked_on < $3"
        " AND e.voided_at IS NULL AND h.cooperative_id = $4 GROUP BY s.household_id",
        [coop_id, season.starts_on, season.ends_on, coop_id],
    )
    days = rules.season_days(starts_on=season.starts_on, ends_on=season.ends_on)
    rows = []
    for h in households:
        land = area.get(h.id, Decimal(0))
        worked = hours.get(h.id, Decimal(0))
        rows.append(
            HouseholdRow(
                household=h,
                area_m2=land,
                hours=worked,
                wages_fen=rules.wages_fen(hours=worked, wage_fen_per_hour=h.wage_fen_per_hour),
            )
        )
    return HouseholdReport(season=season, days=days, rows=rows)


LOTS_OF_SEASON = (
    " FROM harvest_lots l WHERE l.cooperative_id = $1"
    " AND l.harvested_on >= $2 AND l.harvested_on < $3 AND l.voided_at IS NULL"
)
# Weights add up; a crop counted in pieces (its weight_g holds a count) is left out of the
# sums over crops (fields, plots, the total) and shown on its own row by crop, as pieces.
WEIGHED = " AND l.crop_id NOT IN (SELECT c.id FROM crops c WHERE c.unit = 'pieces')"
PLOT_YIELDS = (
    "SELECT l.plot_id, p.code, l.field_id, SUM(l.weight_g) AS grams, COUNT(*) AS lots"
    " FROM harvest_lots l JOIN plots p ON p.id = l.plot_id JOIN fields f ON f.id = l.field_id"
    " WHERE l.cooperative_id = $1 AND l.harvested_on >= $2 AND l.harvested_on < $3"
    " AND l.voided_at IS NULL"
    " AND l.crop_id NOT IN (SELECT c.id FROM crops c WHERE c.unit = 'pieces')"  # WEIGHED
)
PLOT_ORDER = (
    " GROUP BY l.plot_id, p.code, l.field_id, f.name ORDER BY f.name, l.field_id, p.code, l.plot_id"
)


def _plot_row(r: dict, fields: dict[int, Field]) -> YieldRow:
    return YieldRow(
        tally=rules.Tally(int(r["grams"]), int(r["lots"])),
        field=fields.get(r["field_id"]),
        plot=PlotRef(r["plot_id"], r["code"], r["field_id"]),
    )


async def _yield_report(season: Season, *, plot_page: int = 1) -> YieldReport:
    coop_id = season.cooperative_id
    conn = connections.get("default")
    span = [coop_id, season.starts_on, season.ends_on]
    crops = {c.id: c for c in await Crop.filter(cooperative_id=coop_id)}
    fields = {f.id: f for f in await Field.filter(cooperative_id=coop_id)}

    def tally(r: dict) -> rules.Tally:
        return rules.Tally(int(r["grams"] or 0), int(r["lots"]))

    async def tallies(column: str, only: str = "") -> list[tuple[int, rules.Tally]]:
        """The season's lots summed per value of `column` (crop_id, field_id)."""
        rows = await select(
            conn,
            f"SELECT l.{column}, SUM(l.weight_g) AS grams, COUNT(*) AS lots"
            + LOTS_OF_SEASON
            + only
            + f" GROUP BY l.{column}",
            span,
        )
        return [(r[column], tally(r)) for r in rows]

    by_crop = sorted(
        (YieldRow(tally=t, crop=crops[crop_id]) for crop_id, t in await tallies("crop_id")),
        key=lambda r: (-r.weight_g, r.crop.name if r.crop else "", r.crop.id if r.crop else 0),
    )
    by_field = sorted(
        (
            YieldRow(tally=t, field=fields[field_id])
            for field_id, t in await tallies("field_id", WEIGHED)
        ),
        key=lambda r: (r.field.name, r.field.id) if r.field else ("", 0),
    )
    total = tally(
        (
            await select(
                conn,
                "SELECT SUM(l.weight_g) AS grams, COUNT(*) AS lots" + LOTS_OF_SEASON + WEIGHED,
                span,
            )
        )[0]
    )
    counted = await select(
        conn,
        "SELECT COUNT(DISTINCT l.plot_id) AS n"
        + LOTS_OF_SEASON
        + WEIGHED
        + " AND l.plot_id IS NOT NULL",
        span,
    )
    plots_total = int(counted[0]["n"])
    number = clamp_page(plot_page, page_count(plots_total, PLOTS_PER_PAGE))
    rows = await select(
        conn,
        PLOT_YIELDS + PLOT_ORDER + " LIMIT $4 OFFSET $5",
        [*span, PLOTS_PER_PAGE, (number - 1) * PLOTS_PER_PAGE],
    )
    plots = Page(
        items=[_plot_row(r, fields) for r in rows],
        number=number,
        size=PLOTS_PER_PAGE,
        total=plots_total,
    )
    return YieldReport(
        season=season,
        by_crop=by_crop,
        plots=plots,
        by_field=by_field,
        total=YieldRow(tally=total),
    )


FIELDS_PER_QUERY = 20


async def every_plot_yield(season: Season) -> AsyncIterator[tuple[str, str, int, int]]:
    """Every harvested plot's (field name, plot code, lots, grams) in the season, in the
    report's order, read a few fields at a time: memory holds those fields' plots, whatever
    the size of the cooperative. Plain tuples: the CSV writes 100,000 of them."""
    conn = connections.get("default")
    fields = await Field.filter(cooperative_id=season.cooperative_id).order_by("name", "id")
    names = {f.id: f.name for f in fields}
    for start in range(0, len(fields), FIELDS_PER_QUERY):
        # The ids are written in (ints from the database): PostgreSQL then plans for these
        # fields, reading the plots' (field, code) index, rather than reuse a generic plan
        # that scans every plot. The plots' own field is named too, for that index.
        ids = ", ".join(str(int(f.id)) for f in fields[start : start + FIELDS_PER_QUERY])
        for r in await select(
            conn,
            PLOT_YIELDS + f" AND l.field_id IN ({ids}) AND p.field_id IN ({ids})" + PLOT_ORDER,
            [season.cooperative_id, season.starts_on, season.ends_on],
        ):
            yield names[r["field_id"]], r["code"], int(r["lots"]), int(r["grams"])


# Every harvested plot's yield as CSV lines, on PostgreSQL: summed per plot first (integers,
# a hash aggregate), then named and put in the report's order. The cells are those of
# report_csv.yields_csv's "by plot" lines.
_PLOT_YIELDS_CSV = (
    "SELECT {label}, NULL, {field}, {code}, y.lots, round(y.grams::numeric / 1000, 2), NULL"
    " FROM (SELECT l.plot_id, COUNT(*) AS lots, SUM(l.weight_g) AS grams FROM harvest_lots l"
    "  WHERE l.cooperative_id = $1 AND l.harvested_on >= $2 AND l.harvested_on < $3"
    "  AND l.voided_at IS NULL AND l.plot_id IS NOT NULL"
    "  AND l.crop_id NOT IN (SELECT c.id FROM crops c WHERE c.unit = 'pieces')"  # WEIGHED
    "  GROUP BY l.plot_id) y"
    " JOIN plots p ON p.id = y.plot_id JOIN fields f ON f.id = p.field_id"
    " ORDER BY f.name, f.id, p.code, p.id"
)


def copy_plot_yields(season: Season, label: str) -> AsyncIterator[bytes] | None:
    """every_plot_yield's lines as CSV written by PostgreSQL (farm.sql.copy_csv), `label`
    in the first cell; None elsewhere (the caller writes every_plot_yield's rows)."""
    conn = connections.get("default")
    if not is_postgres(conn):
        return None
    query = _PLOT_YIELDS_CSV.format(
        label=safe_cell_sql("$4::text"), field=safe_cell_sql("f.name"), code=safe_cell_sql("p.code")
    )
    return copy_csv(conn, query, [season.cooperative_id, season.starts_on, season.ends_on, label])
