"""The development demo's next season on the running season's field: its public sale opens in
two weeks, and its renewal window is open now, so the scheduler (run at start) holds each
running-season family's plot for them, demo@example.com's included."""

from __future__ import annotations

from datetime import date, timedelta

from farm.land.models import Cooperative, Plan, Season
from farm.renewals.models import RenewalWindow

SALE_IN_DAYS = 14


async def load_next_season(*, coop: Cooperative, running: Season, today: date) -> Season:
    starts = running.ends_on
    season = await Season.create(
        cooperative=coop, name=f"{starts.year}年秋冬季（续订中）",
        name_en=f"{starts.year} autumn-winter (renewals open)", starts_on=starts,
        ends_on=date(starts.year + 1, starts.month, 1),
        sale_starts_on=today + timedelta(days=SALE_IN_DAYS), sale_ends_on=starts,
        ship_days_of_month="1,16", cutoff_days=2,
    )  # fmt: skip
    plan = await Plan.filter(season=running).first()
    assert plan is not None
    await Plan.create(
        season=season, field_id=plan.field_id, name=plan.name, name_en=plan.name_en,
        plot_area_m2=plan.plot_area_m2, care_mode=plan.care_mode, crop_plan=plan.crop_plan,
        crop_plan_en=plan.crop_plan_en, price_fen=plan.price_fen, max_plots=plan.max_plots,
    )  # fmt: skip
    await RenewalWindow.create(season=season, opens_on=today)
    return season
