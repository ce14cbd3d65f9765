"""The cooperative's reports for a season: what each household earned (land rent and wages)
and what the land yielded, by crop, by plot and by field. Read-only; a few queries each,
whatever the number of households or lots."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tortoise.functions import Count, Sum

from farm.errors import NotFound
from farm.fieldwork import rules
from farm.fieldwork.models import Crop, HarvestLot, Household, LandTransfer, WorkShift
from farm.i18n import _
from farm.land.models import Field, Plot, Season


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    area_m2: Decimal
    rent_fen: int
    hours: Decimal
    wages_fen: int

    @property
    def total_fen(self) -> int:
        return self.rent_fen + self.wages_fen


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
    def rent_fen(self) -> int:
        return sum(r.rent_fen for r in self.rows)

    @property
    def hours(self) -> Decimal:
        return rules.total_hours(r.hours for r in self.rows)

    @property
    def wages_fen(self) -> int:
        return sum(r.wages_fen for r in self.rows)

    @property
    def total_fen(self) -> int:
        return sum(r.total_fen for r in self.rows)


@dataclass(frozen=True)
class YieldRow:
    """What one crop, one plot or one field yielded: `tally` holds grams and lots."""

    tally: rules.Tally
    crop: Crop | None = None
    field: Field | None = None
    plot: Plot | None = None

    @property
    def weight_g(self) -> int:
        return self.tally.grams

    @property
    def lots(self) -> int:
        return self.tally.lots

    @property
    def kg(self) -> Decimal:
        return rules.grams_to_kg(self.tally.grams)

    @property
    def jin(self) -> Decimal:
        return rules.grams_to_jin(self.tally.grams)


@dataclass(frozen=True)
class YieldReport:
    """Crops by weight, heaviest first; plots and fields by name. Only what was harvested."""

    season: Season
    by_crop: list[YieldRow]
    by_plot: list[YieldRow]
    by_field: list[YieldRow]
    total: YieldRow


@dataclass(frozen=True)
class ReportsPage:
    seasons: list[Season]
    season: Season | None
    households: HouseholdReport | None
    yields: YieldReport | None


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
    """Each household's land rent (its transferred land, prorated to the season's days), hours
    worked on the cooperative's work entries in the season, wages, and total. A season of
    another cooperative is not found; no season id means the latest."""
    season = await own_season(cooperative_id=cooperative_id, season_id=season_id)
    return await _household_report(season)


async def yield_report(*, cooperative_id: int, season_id: int | None) -> YieldReport:
    """Grams harvested in the season by crop, by plot and by field (a field counts its plots'
    lots and its whole-field lots). A season of another cooperative is not found; no season id
    means the latest."""
    season = await own_season(cooperative_id=cooperative_id, season_id=season_id)
    return await _yield_report(season)


async def reports_page(*, cooperative_id: int, season_id: int | None) -> ReportsPage:
    """Both reports for one season of the cooperative, by default the latest to start; and
    every season, to choose another."""
    seasons = list(await Season.filter(cooperative_id=cooperative_id).order_by("-starts_on", "-id"))
    if season_id is None:
        season = seasons[0] if seasons else None
    else:
        season = next((s for s in seasons if s.id == season_id), None)
        if season is None:
            raise NotFound(_("This season does not exist."))
    if season is None:
        return ReportsPage(seasons=seasons, season=None, households=None, yields=None)
    return ReportsPage(
        seasons=seasons,
        season=season,
        households=await _household_report(season),
        yields=await _yield_report(season),
    )


async def _household_report(season: Season) -> HouseholdReport:
    coop_id = season.cooperative_id
    households = await Household.filter(cooperative_id=coop_id).order_by("village", "name", "id")
    area: dict[int, Decimal] = {}
    for household_id, area_m2 in await LandTransfer.filter(
        household__cooperative_id=coop_id
    ).values_list("household_id", "area_m2"):
        area[household_id] = area.get(household_id, Decimal(0)) + Decimal(area_m2)
    # Summed here, not by the database: SQLite would sum the decimal hours as floats.
    hours: dict[int, Decimal] = {}
    for household_id, shift_hours in await WorkShift.filter(
        household__cooperative_id=coop_id,
        entry__cooperative_id=coop_id,
        entry__worked_on__gte=season.starts_on,
        entry__worked_on__lt=season.ends_on,
    ).values_list("household_id", "hours"):
        hours[household_id] = hours.get(household_id, Decimal(0)) + Decimal(shift_hours)
    days = rules.season_days(starts_on=season.starts_on, ends_on=season.ends_on)
    rows = []
    for h in households:
        land = area.get(h.id, Decimal(0))
        worked = hours.get(h.id, Decimal(0))
        rows.append(
            HouseholdRow(
                household=h,
                area_m2=land,
                rent_fen=rules.land_rent_fen(
                    rent_fen_per_mu_year=h.rent_fen_per_mu_year, area_m2=land, days=days
                ),
                hours=worked,
                wages_fen=rules.wages_fen(hours=worked, wage_fen_per_hour=h.wage_fen_per_hour),
            )
        )
    return HouseholdReport(season=season, days=days, rows=rows)


async def _yield_report(season: Season) -> YieldReport:
    coop_id = season.cooperative_id
    groups = (
        await HarvestLot.filter(
            cooperative_id=coop_id,
            harvested_on__gte=season.starts_on,
            harvested_on__lt=season.ends_on,
        )
        .annotate(grams=Sum("weight_g"), lots=Count("id"))
        .group_by("crop_id", "field_id", "plot_id")
        .values_list("crop_id", "field_id", "plot_id", "grams", "lots")
    )
    sums = rules.sum_yields(
        (crop_id, field_id, plot_id, int(grams), int(lots))
        for crop_id, field_id, plot_id, grams, lots in groups
    )
    crops = await Crop.filter(id__in=list(sums.by_crop)).order_by("name", "id")
    fields = {f.id: f for f in await Field.filter(id__in=list(sums.by_field))}
    plots = await Plot.filter(id__in=list(sums.by_plot)).order_by("code", "id")

    def field_order(f: Field | None) -> tuple[str, int]:
        return (f.name, f.id) if f else ("", 0)

    by_crop = sorted(
        (YieldRow(tally=sums.by_crop[c.id], crop=c) for c in crops), key=lambda r: -r.weight_g
    )
    by_field = [
        YieldRow(tally=sums.by_field[f.id], field=f)
        for f in sorted(fields.values(), key=field_order)
    ]
    by_plot = sorted(
        (YieldRow(tally=sums.by_plot[p.id], field=fields.get(p.field_id), plot=p) for p in plots),
        key=lambda r: field_order(r.field),
    )
    return YieldReport(
        season=season,
        by_crop=by_crop,
        by_plot=by_plot,
        by_field=by_field,
        total=YieldRow(tally=sums.total),
    )
