"""The first minute of a sale: many buyers race for a few plots at once. Run on PostgreSQL,
where the attempts really overlap (SQLite serialises writers, so it proves less there)."""

import asyncio
from collections import Counter

import pytest

from farm.accounts.models import User
from farm.errors import Conflict
from farm.land.models import Plot, PlotClaim
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import NOW, later, make_season

pytestmark = pytest.mark.postgres

BUYERS = 200


async def buyers(n: int) -> list[User]:
    # Bulk, with a dummy hash: hashing 200 passwords would only slow the test.
    await User.bulk_create(
        [User(email=f"buyer{i}@example.com", name=f"买家{i}", password_hash="x") for i in range(n)]
    )
    return list(await User.filter(email__startswith="buyer").order_by("id"))


async def race(customers, plan, plot_ids, now):
    async def attempt(i, customer):
        plot_id = plot_ids[i % len(plot_ids)] if plot_ids else None
        try:
            return await services.reserve_plot(
                customer=customer,
                plan_id=plan.id,
                plot_id=plot_id,
                today=NOW.date(),
                now=now,
                minutes=15,
            )
        except Conflict:
            return None

    return await asyncio.gather(*(attempt(i, c) for i, c in enumerate(customers)))


async def test_two_hundred_buyers_racing_for_three_plots_get_each_plot_exactly_once(conn):
    plan = await make_season(plots=3)
    plots = [p.id for p in await Plot.filter(field_id=plan.field_id)]
    results = await race(await buyers(BUYERS), plan, plots, NOW)
    winners = [r for r in results if r is not None]
    assert len(winners) == 3
    assert Counter(w.plot_id for w in winners) == Counter(plots)
    assert await PlotClaim.filter(season_id=plan.season_id).count() == 3
    assert await Subscription.filter(status=Status.PENDING_PAYMENT).count() == 3


async def test_buyers_letting_the_service_pick_never_share_a_plot(conn):
    plan = await make_season(plots=5)
    results = await race(await buyers(BUYERS), plan, [], NOW)
    winners = [r for r in results if r is not None]
    assert len(winners) == 5 and len({w.plot_id for w in winners}) == 5


async def test_a_race_for_plots_whose_reservations_just_lapsed_still_has_one_winner_each(conn):
    plan = await make_season(plots=3)
    plots = [p.id for p in await Plot.filter(field_id=plan.field_id)]
    customers = await buyers(BUYERS + 3)
    for customer, plot_id in zip(customers[:3], plots, strict=True):
        await services.reserve_plot(
            customer=customer,
            plan_id=plan.id,
            plot_id=plot_id,
            today=NOW.date(),
            now=NOW,
            minutes=15,
        )
    results = await race(customers[3:], plan, plots, later(16))
    winners = [r for r in results if r is not None]
    assert sorted(w.plot_id for w in winners) == sorted(plots)
    assert await PlotClaim.filter(season_id=plan.season_id).count() == 3
    assert await Subscription.filter(status=Status.CANCELLED, cancel_reason="lapsed").count() == 3
