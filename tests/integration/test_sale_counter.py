"""A flash sale keeps its rules with a counter and unique indexes instead of locks and counts:
a plan's places (farm/land/places.py) never pass max_plots, a lapsed reservation gives its place back,
and a customer's double submit reserves once."""

import asyncio
from datetime import date

import pytest
from tortoise.transactions import in_transaction

from farm.accounts.models import User
from farm.errors import Conflict
from farm.land.models import Plot, PlotClaim
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import NOW, TODAY, later, make_customer, make_season, places_held


async def reserve(customer, plan, plot_id=None, now=NOW):
    return await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=plot_id, today=TODAY, now=now, minutes=15
    )


async def held(plan) -> int:
    return await places_held(plan)


async def buyers(n: int) -> list[User]:
    return await buyers_named("rush", n)


async def buyers_named(prefix: str, n: int) -> list[User]:
    await User.bulk_create(
        [
            User(email=f"{prefix}{i}@example.com", name=f"买家{i}", password_hash="x")
            for i in range(n)
        ]
    )
    return list(await User.filter(email__startswith=prefix).order_by("id"))


@pytest.mark.postgres
async def test_two_hundred_concurrent_buyers_never_push_a_plan_past_max_plots(conn):
    plan = await make_season(plots=40, max_plots=25)

    async def attempt(customer):
        try:
            return await reserve(customer, plan)
        except Conflict:
            return None

    results = await asyncio.gather(*(attempt(c) for c in await buyers(200)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 25 and len({w.plot_id for w in winners}) == 25
    assert await held(plan) == 25 == await PlotClaim.filter(plan_id=plan.id).count()


@pytest.mark.postgres
async def test_releases_lapses_and_buyers_at_once_keep_the_places_equal_to_the_claims(conn):
    """Buyers take places while others release theirs and lapsed ones are cleared: every
    place row is locked before its claim changes, so nobody waits in a circle (a deadlock
    would raise here) and the places end equal to the claims, within max_plots."""
    plan = await make_season(plots=60, max_plots=30)
    everyone = await buyers(90)
    first = [await reserve(c, plan) for c in everyone[:30]]
    assert await held(plan) == 30

    async def attempt(customer):
        try:
            return await reserve(customer, plan, now=later(1))
        except Conflict:
            return None

    async def release(sub):
        return await services.release_reservation(subscription_id=sub.id, now=later(1))

    results = await asyncio.gather(
        *(release(sub) for sub in first[:20]),
        *(attempt(c) for c in everyone[30:]),
        services.release_lapsed_reservations(now=later(15)),  # the other 10 first ones
    )
    assert all(results[:20])  # every release went through
    claims = await PlotClaim.filter(plan_id=plan.id).count()
    assert claims == await held(plan) and claims <= 30
    # A second wave once the first has settled: the plan fills up exactly.
    late = await buyers_named("late", 40)
    await asyncio.gather(*(attempt(c) for c in late))
    assert await held(plan) == 30 == await PlotClaim.filter(plan_id=plan.id).count()


@pytest.mark.postgres
async def test_concurrent_double_submits_hold_one_unpaid_reservation_per_customer(conn):
    plan = await make_season(plots=60)
    customers = await buyers(20)
    clicks = [c for c in customers for _ in range(4)]  # four submits each, all at once
    results = await asyncio.gather(*(reserve(c, plan) for c in clicks))
    by_customer: dict[int, set[int]] = {}
    for customer, sub in zip(clicks, results, strict=True):
        by_customer.setdefault(customer.id, set()).add(sub.id)
    assert all(len(ids) == 1 for ids in by_customer.values())  # the same checkout back
    assert await PlotClaim.filter(plan_id=plan.id).count() == 20 == await held(plan)
    assert await Subscription.filter(plan_id=plan.id).count() == 20


async def test_a_lapsed_reservation_gives_its_place_back_to_the_plan(conn):
    plan = await make_season(plots=4, max_plots=1)
    first = await reserve(await make_customer("a@example.com"), plan)
    assert await held(plan) == 1
    with pytest.raises(Conflict):
        await reserve(await make_customer("b@example.com"), plan, now=later(14))
    # After 15 minutes the first reservation lapses: the plan's one place is free again,
    # though no release job has run yet.
    second = await reserve(await make_customer("c@example.com"), plan, now=later(16))
    await first.refresh_from_db()
    assert first.status == Status.CANCELLED and first.cancel_reason == "lapsed"
    assert second.status == Status.PENDING_PAYMENT
    assert await held(plan) == 1 == await PlotClaim.filter(plan_id=plan.id).count()


async def test_the_release_job_gives_lapsed_places_back(conn):
    plan = await make_season(plots=4)
    await reserve(await make_customer("a@example.com"), plan)
    await reserve(await make_customer("b@example.com"), plan)
    assert await held(plan) == 2
    assert await services.release_lapsed_reservations(now=later(16)) == 2
    assert await held(plan) == 0


@pytest.mark.postgres
async def test_the_release_job_skips_a_lapsed_reservation_whose_payment_is_landing(conn):
    """A payment locks its subscription before its claim (activate_paid). A releaser that
    deleted the claim and then waited for the subscription deadlocked with it: the releaser
    now leaves that one to the payment, and releases it on a later run if still lapsed."""
    plan = await make_season(plots=4)
    paying = await reserve(await make_customer("a@example.com"), plan)
    await reserve(await make_customer("b@example.com"), plan)
    locked, done = asyncio.Event(), asyncio.Event()

    async def payment_landing():
        async with in_transaction() as tx:
            await Subscription.select_for_update().using_db(tx).get(id=paying.id)
            locked.set()
            await done.wait()

    payment = asyncio.create_task(payment_landing())
    await locked.wait()
    try:
        released = await asyncio.wait_for(services.release_lapsed_reservations(now=later(16)), 5)
        assert released == 1  # the other family's; the paying one is left alone
        assert await PlotClaim.filter(subscription_id=paying.id).exists()
    finally:
        done.set()
        await payment
    assert await services.release_lapsed_reservations(now=later(17)) == 1
    assert await held(plan) == 0 == await PlotClaim.filter(plan_id=plan.id).count()


async def late_payment_as_a_release_job_frees(*, paying, plan, plot_id: int) -> None:
    """`paying`'s reservation was released; another family's reservation of `plot_id` lapsed
    too. A release job locks that family's subscription (a release's first step); the
    payment lands; then the release goes on. The payment must wait for it and keep its plot:
    skipping it left the claim in the way and refunded a family that fits."""
    second = await reserve(
        await make_customer("b@example.com"), plan, plot_id=plot_id, now=later(20)
    )
    lapsed = await PlotClaim.get(subscription_id=second.id)
    locked, go_on = asyncio.Event(), asyncio.Event()

    async def release_job():
        async with in_transaction() as tx:
            await Subscription.select_for_update(no_key=True).using_db(tx).get(id=second.id)
            locked.set()
            await go_on.wait()
            assert await services._lapse_claim(lapsed, now=later(40), conn=tx)

    async def payment_landing():
        async with in_transaction() as tx:
            return await services.activate_paid(subscription_id=paying.id, now=later(40), conn=tx)

    releaser = asyncio.create_task(release_job())
    await locked.wait()
    payment = asyncio.create_task(payment_landing())
    await asyncio.sleep(0.3)  # the payment has skipped (or waits for) the releaser's hold
    go_on.set()
    await releaser
    assert await asyncio.wait_for(payment, 10)
    claim = await PlotClaim.get(plot_id=paying.plot_id)
    assert claim.subscription_id == paying.id and claim.expires_at is None
    assert await held(plan) == 1 == await PlotClaim.filter(plan_id=plan.id).count()


@pytest.mark.postgres
async def test_a_late_payment_keeps_its_plot_when_a_releaser_is_freeing_the_plot_that_moment(
    conn,
):
    """A payment whose lapsed reservation was released takes its plot back if it is free:
    the next family's hold on it lapsed too, and a release job is freeing it that moment."""
    plan = await make_season(plots=2)
    first = await reserve(await make_customer("a@example.com"), plan)
    assert await services.release_lapsed_reservations(now=later(16)) == 1
    await late_payment_as_a_release_job_frees(paying=first, plan=plan, plot_id=first.plot_id)


@pytest.mark.postgres
async def test_a_late_payment_keeps_its_place_when_a_releaser_is_freeing_the_plans_last_one(
    conn,
):
    """The same for the plan's room: its one place is held by another family's lapsed
    reservation of another plot, which a release job is releasing at that moment."""
    plan = await make_season(plots=2, max_plots=1)
    first = await reserve(await make_customer("a@example.com"), plan)
    assert await services.release_lapsed_reservations(now=later(16)) == 1
    other_plot = await Plot.filter(field_id=plan.field_id).exclude(id=first.plot_id).first()
    await late_payment_as_a_release_job_frees(paying=first, plan=plan, plot_id=other_plot.id)


async def test_releasing_a_reservation_gives_its_place_back(conn):
    plan = await make_season(plots=4, max_plots=1)
    sub = await reserve(await make_customer("a@example.com"), plan)
    assert await services.release_reservation(subscription_id=sub.id, now=later(1))
    assert await held(plan) == 0
    await reserve(await make_customer("b@example.com"), plan, now=later(2))
    assert await held(plan) == 1


async def test_a_double_click_on_a_chosen_plot_returns_the_same_checkout(conn):
    plan = await make_season(plots=4)
    plots = await Plot.filter(field_id=plan.field_id).order_by("id")
    wang = await make_customer()
    first = await reserve(wang, plan, plots[0].id)
    again = await reserve(wang, plan, plots[0].id, now=later(1))
    assert again.id == first.id and await held(plan) == 1
    # Another plot (a second tab) is refused, pointing at the checkout already open.
    with pytest.raises(Conflict) as refused:
        await reserve(wang, plan, plots[1].id, now=later(1))
    assert refused.value.link[0] == f"/checkout/{first.id}" and await held(plan) == 1


async def test_a_customer_whose_reservation_lapsed_can_reserve_again(conn):
    plan = await make_season(plots=4)
    wang = await make_customer()
    first = await reserve(wang, plan)
    second = await reserve(wang, plan, now=later(16))
    assert second.id != first.id and await held(plan) == 1


@pytest.mark.postgres
async def test_a_sold_out_plan_is_told_at_once_but_a_lapsed_hold_in_it_is_still_released(conn):
    plan = await make_season(plots=4, max_plots=1)
    other_plan = await make_season(plots=2)
    sub = await reserve(await make_customer("a@example.com"), plan)
    plot = await Plot.get(id=sub.plot_id)
    foreign = await Plot.filter(field_id=other_plan.field_id).first()

    async def sold_out(plot_id=None, now=NOW, today=TODAY):
        return await services.sold_out(plan_id=plan.id, plot_id=plot_id, today=today, now=now)

    assert await sold_out() and await sold_out(plot.id)
    assert not await sold_out(foreign.id)  # a plot it does not offer: the explaining path
    assert not await sold_out(today=date(2027, 3, 1))  # the sale is over: said so instead
    assert not await services.sold_out(plan_id=other_plan.id, plot_id=None, today=TODAY, now=NOW)
    # Its one hold lapsed: not sold out, the next buyer gets the place (the hold released).
    assert not await sold_out(now=later(16))
    late = await reserve(await make_customer("b@example.com"), plan, now=later(16))
    assert late.status == Status.PENDING_PAYMENT and await held(plan) == 1


@pytest.mark.postgres
async def test_buyers_of_a_sold_out_plan_get_409_and_its_message_through_the_page(client):
    from tests.support import log_in_client

    plan = await make_season(plots=3, max_plots=1)
    await make_customer("a@example.com")
    await make_customer("b@example.com")
    token = await log_in_client(client, "a@example.com")
    first = await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": "auto", "csrf_token": token}
    )
    assert first.status_code == 303
    client.cookies.clear()
    token = await log_in_client(client, "b@example.com")
    for plot_id in (
        "auto",
        str((await Plot.filter(field_id=plan.field_id).order_by("-id").first()).id),
    ):
        late = await client.post(
            f"/plans/{plan.id}/reserve", data={"plot_id": plot_id, "csrf_token": token}
        )
        assert late.status_code == 409 and "该套餐的地块已全部认购" in late.text
    assert await PlotClaim.filter(plan_id=plan.id).count() == 1 == await held(plan)
