"""Demo data for choosing what grows: the running season's field keeps a crop calendar, the
demo family chose its crops, and its neighbours got the cooperative's default plan."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from tortoise.transactions import in_transaction

from farm.cropplans import rules
from farm.cropplans.calendar import keep_sow_months
from farm.cropplans.models import CalendarCrop, CropCalendar, CropPlan, CropPlanLine
from farm.fieldwork.models import Crop
from farm.land.models import Field, Season
from farm.subscriptions.models import Subscription

ALL_YEAR = rules.months_mask(range(1, 13))


async def load_crop_plans(
    *, field: Field, season: Season, subscriptions: list[Subscription], by_name: dict[str, Crop]
) -> None:
    """A calendar (greens and radish all year, sweet potatoes from the season's first month),
    the first family's own plan and the default plan for the others."""
    calendar = await CropCalendar.create(field=field, cutoff_days=14)
    first = rules.months_mask([season.starts_on.month])
    rows = [
        ("青菜", ALL_YEAR, 5, 35, "1.5", False, 20),
        ("萝卜", ALL_YEAR, 10, 60, "0.8", False, 20),
        ("红薯", first, 20, 120, "3", True, 0),
    ]
    made = []
    for name, months, least, days, seed, seedlings, default in rows:
        made.append(
            await CalendarCrop.create(
                calendar=calendar,
                crop=by_name[name],
                sow_months=months,
                min_area_m2=least,
                days_to_harvest=days,
                seed_per_m2=Decimal(seed),
                seedlings=seedlings,
                default_area_m2=default,
            )  # fmt: skip
        )
    async with in_transaction() as conn:
        await keep_sow_months(calendar.id, conn)
    as_rules = [
        rules.Row(
            r.crop_id,
            r.sow_months,
            Decimal(r.min_area_m2),
            r.days_to_harvest,
            Decimal(r.seed_per_m2),
            Decimal(r.default_area_m2),
        )  # fmt: skip
        for r in made
    ]
    chosen_at = datetime.combine(season.starts_on - timedelta(days=20), time(9), tzinfo=UTC)
    for i, sub in enumerate(subscriptions):
        own = i == 0
        areas = (
            {by_name["青菜"].id: Decimal(20), by_name["红薯"].id: Decimal(40)}
            if own
            else rules.default_areas(rows=as_rules, plot_area_m2=Decimal("66.67"))
        )
        lines = rules.plan_lines(rows=as_rules, areas=areas, plot_area_m2=Decimal("66.67"),
                                 starts_on=season.starts_on, ends_on=season.ends_on)  # fmt: skip
        plan = await CropPlan.create(subscription=sub, field=field, season=season,
                                     by_default=not own, chosen_at=chosen_at)  # fmt: skip
        for line in lines:
            await CropPlanLine.create(plan=plan, crop_id=line.crop_id, area_m2=line.area_m2,
                                      sow_on=line.sow_on, harvest_on=line.harvest_on)  # fmt: skip
