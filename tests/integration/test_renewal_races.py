"""Renewal windows under real concurrency, on PostgreSQL: schedulers opening one window at
once, families racing for the last comparable plot, and a renewal's payment landing just as
a public buyer takes the plot after the window closed. No plot is ever held or sold twice."""

import asyncio
from collections import Counter
from decimal import Decimal

import pytest

from farm.errors import Conflict
from farm.land.models import Field, Plan, Plot, PlotClaim
from farm.lifecycle.activation import record_success
from farm.payments.models import Payment
from farm.renewals.models import Renewal
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_renewals import AFTER, SALE, open_window, pay_renewal, scene
from tests.support import make_active_subscription, make_customer, places_held

pytestmark = pytest.mark.postgres


async def no_plot_twice(season_id: int) -> None:
    plots = await PlotClaim.filter(season_id=season_id).values_list("plot_id", flat=True)
    assert len(plots) == len(set(plots))
    for plan in await Plan.filter(season_id=season_id):
        assert await places_held(plan) == await PlotClaim.filter(plan_id=plan.id).count()


async def test_four_schedulers_opening_one_window_at_once_open_each_renewal_once(conn):
    nxt, plan, plots, wang, mine, theirs = await scene()
    opened = await asyncio.gather(*(open_window() for _ in range(4)))
    assert sum(opened) == 2
    assert Counter(r.previous_id for r in await Renewal.filter(season_id=nxt.id)) == Counter(
        {mine.id: 1, theirs.id: 1}
    )
    await no_plot_twice(nxt.id)
    assert await Subscription.filter(season_id=nxt.id).count() == 2


async def test_families_racing_for_the_last_comparable_plot_get_it_once(conn):
    nxt, plan, plots, wang, mine, theirs = await scene(next_field="other")
    current_plan = await Plan.get(id=mine.plan_id)
    for plot in plots[2:]:  # four families whose plots are not offered again
        await make_active_subscription(current_plan, plot)
    opened = await asyncio.gather(*(open_window() for _ in range(4)))
    # A family whose only free plots another scheduler has locked this moment waits for the
    # next run (the plot may yet be free for it): the scheduler's next tick opens the rest.
    later = await open_window()
    assert sum(opened) + later == 4  # every family has its renewal, once
    assert await open_window() == 0
    assert await Renewal.filter(season_id=nxt.id).count() == 4
    held = await Renewal.filter(season_id=nxt.id, subscription_id__isnull=False).count()
    assert held == 2  # the other field has two plots of that size: two families get one
    await no_plot_twice(nxt.id)


async def test_a_renewal_paid_as_a_public_buyer_takes_its_plot_after_the_close_is_sold_once(
    app, stripe_port
):
    nxt, plan, plots, wang, mine, theirs = await scene()
    field = await Field.get(id=plan.field_id)
    for i in range(2):  # two more families, so that three races run
        await Plot.create(field=field, code=f"T{i + 5:02d}", area_m2=Decimal("66.67"),
                          x_m=40 + 10 * i, y_m=0, w_m=10, h_m="6.667")  # fmt: skip
    await Plan.filter(id=plan.id).update(max_plots=6)
    current_plan = await Plan.get(id=mine.plan_id)
    await make_active_subscription(current_plan, plots[2])
    await open_window()
    outcomes = Counter()
    for n, renewal in enumerate(await Renewal.filter(season_id=nxt.id).order_by("id")):
        sub = await Subscription.get(id=renewal.subscription_id).select_related("customer")
        payment, intent = await pay_renewal(app, stripe_port, sub.id, sub.customer)
        buyer = await make_customer(f"buyer{n}@example.com", "买家")

        async def buy(buyer=buyer, plot_id=sub.plot_id):
            try:
                return await services.reserve_plot(customer=buyer, plan_id=plan.id,
                                                   plot_id=plot_id, today=SALE, now=AFTER,
                                                   minutes=15)  # fmt: skip
            except Conflict:
                return None

        bought, _ = await asyncio.gather(
            buy(), record_success(intent, now=AFTER, runtime=app.state.runtime)
        )
        await sub.refresh_from_db()
        await payment.refresh_from_db()
        claims = await PlotClaim.filter(season_id=nxt.id, plot_id=sub.plot_id)
        assert len(claims) == 1
        if sub.status == Status.ACTIVE:
            assert bought is None and claims[0].subscription_id == sub.id
            outcomes["renewal honoured"] += 1
        else:
            assert sub.status == Status.REFUNDED and payment.refunded_fen == sub.price_fen
            assert bought is not None and claims[0].subscription_id == bought.id
            outcomes["refunded"] += 1
    assert sum(outcomes.values()) == 3
    await no_plot_twice(nxt.id)
    assert await Payment.filter(status="succeeded").count() == outcomes["renewal honoured"]
