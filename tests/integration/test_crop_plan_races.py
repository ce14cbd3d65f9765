"""Crop plans under real concurrency, on PostgreSQL: schedulers giving default plans at once,
a family saving twice at once, and managers logging one week's sowing at once."""

import asyncio
import contextlib
from datetime import date

import pytest

from farm.accounts.models import Role, User
from farm.cropplans import choosing, sowing
from farm.cropplans.models import CropPlan, CropPlanLine, SowingLog
from farm.errors import Conflict
from farm.fieldwork.models import WorkEntry
from farm.land.models import Season
from farm.notifications.models import Notification
from tests.integration.test_crop_plans import CUTOFF, LINKS, at, family, field_with_calendar
from tests.support import NOW

pytestmark = pytest.mark.postgres


async def test_four_schedulers_giving_default_plans_at_once_give_each_family_one(conn):
    plan, *_ = await field_with_calendar(plots=6)
    subs = [await family(plan, i, f"f{i}@example.com") for i in range(6)]
    given = await asyncio.gather(
        *(choosing.give_default_plans(today=CUTOFF, now=at(CUTOFF), links=LINKS) for _ in range(4))
    )
    assert sum(given) == 6
    assert sorted(await CropPlan.all().values_list("subscription_id", flat=True)) == sorted(
        s.id for s in subs
    )
    assert await Notification.filter(key__startswith="crop-default:").count() == 6  # once each


async def test_a_family_saving_twice_at_once_keeps_one_whole_plan(conn):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    customer = await User.get(id=sub.customer_id)

    async def save(posted):
        with contextlib.suppress(Conflict):
            await choosing.choose_crops(customer=customer, subscription_id=sub.id, posted=posted,
                                        today=date(2027, 1, 1), now=NOW)  # fmt: skip

    await asyncio.gather(save({f"area_{greens.id}": "20"}), save({f"area_{tomato.id}": "30"}))
    assert await CropPlan.all().count() == 1
    lines = await CropPlanLine.all().values_list("crop_id", flat=True)
    assert lines in ([greens.id], [tomato.id])


async def test_managers_logging_one_weeks_sowing_at_once_log_it_once(conn):
    plan, greens, _ = await field_with_calendar()
    for i in range(2):
        sub = await family(plan, i, f"f{i}@example.com")
        await choosing.choose_crops(customer=await User.get(id=sub.customer_id),
                                    subscription_id=sub.id, posted={f"area_{greens.id}": "10"},
                                    today=date(2027, 1, 1), now=NOW)  # fmt: skip
    season = await Season.get(id=plan.season_id)
    manager = await User.create(email="m@coop.cn", name="经理", password_hash="x",
                                role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip

    async def log():
        try:
            await sowing.log_sowing(manager=manager, field_id=plan.field_id, season_id=season.id,
                                    week="2027-03-01", today=NOW.date(), now=NOW,
                                    store=None)  # fmt: skip
            return 1
        except Conflict:
            return 0

    assert sum(await asyncio.gather(*(log() for _ in range(4)))) == 1
    assert await WorkEntry.all().count() == 1 and await SowingLog.all().count() == 1
