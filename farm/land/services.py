"""Reading what a season offers: plans, plots left, the field map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise.expressions import Q

from farm.errors import NotFound
from farm.i18n import _
from farm.land import rules
from farm.land.models import Field, Plan, PlanPerk, Plot, Season
from farm.subscriptions.models import PlotClaim


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


async def plots_left(plan: Plan, *, now: datetime, taken: set[int] | None = None) -> int:
    if taken is None:
        taken = await taken_plot_ids(plan.season_id, now)
    eligible = await eligible_plots(plan)
    free = sum(1 for p in eligible if p.id not in taken)
    sold = await PlotClaim.filter(live_claims(now), plan_id=plan.id).count()
    return max(0, min(plan.max_plots - sold, free))


def season_ship_days(season: Season) -> list[date]:
    return rules.ship_days(
        season.starts_on, season.ends_on, rules.parse_days_of_month(season.ship_days_of_month)
    )


async def open_offers(*, today: date, now: datetime) -> list[PlanOffer]:
    """Every plan of every season on sale today, with what is left to buy."""
    seasons = await Season.filter(sale_starts_on__lte=today, sale_ends_on__gt=today).order_by(
        "starts_on", "id"
    )
    offers: list[PlanOffer] = []
    for season in seasons:
        taken = await taken_plot_ids(season.id, now)
        days = season_ship_days(season)
        plans = await Plan.filter(season_id=season.id).order_by("price_fen", "id")
        perks = await PlanPerk.filter(plan_id__in=[p.id for p in plans]).prefetch_related("partner")
        for plan in plans:
            offers.append(
                PlanOffer(
                    plan=plan,
                    season=season,
                    perks=[k for k in perks if k.plan_id == plan.id],
                    ship_days=days,
                    plots_left=await plots_left(plan, now=now, taken=taken),
                )
            )
    return offers


async def plan_offer(*, plan_id: int, now: datetime) -> tuple[PlanOffer, Field, list[MapPlot]]:
    """One plan with its field map: every plot of the field, free or taken for this plan."""
    plan = await Plan.get_or_none(id=plan_id).prefetch_related("season", "field")
    if plan is None:
        raise NotFound(_("This plan does not exist."))
    taken = await taken_plot_ids(plan.season_id, now)
    eligible = {p.id for p in await eligible_plots(plan)}
    perks = await PlanPerk.filter(plan_id=plan.id).prefetch_related("partner")
    offer = PlanOffer(
        plan=plan,
        season=plan.season,
        perks=list(perks),
        ship_days=season_ship_days(plan.season),
        plots_left=await plots_left(plan, now=now, taken=taken),
    )
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    sold_out = offer.plots_left == 0
    map_plots = [
        MapPlot(plot=p, free=(p.id in eligible and p.id not in taken and not sold_out))
        for p in plots
    ]
    return offer, plan.field, map_plots
