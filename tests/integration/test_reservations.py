import pytest
from tortoise.exceptions import IntegrityError

from farm.errors import Conflict, NotFound
from farm.land.models import PlotClaim
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import NOW, TODAY, later, make_customer, make_season


async def reserve(customer, plan, plot_id=None, now=NOW, minutes=15):
    return await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=plot_id, today=TODAY, now=now, minutes=minutes
    )


async def first_plot(plan):
    from farm.land.models import Plot

    return await Plot.filter(field_id=plan.field_id).order_by("code").first()


async def test_reserving_a_plot_holds_it_for_the_configured_minutes(conn):
    plan = await make_season()
    wang = await make_customer()
    plot = await first_plot(plan)
    sub = await reserve(wang, plan, plot.id, minutes=10)
    assert sub.status == Status.PENDING_PAYMENT and sub.price_fen == 58000
    claim = await PlotClaim.get(subscription_id=sub.id)
    assert claim.expires_at == later(10)


async def test_a_plot_held_by_one_buyer_cannot_be_reserved_by_another(conn):
    plan = await make_season()
    plot = await first_plot(plan)
    await reserve(await make_customer("a@example.com"), plan, plot.id)
    with pytest.raises(services.PlotTaken):
        await reserve(await make_customer("b@example.com"), plan, plot.id, now=later(5))
    assert await Subscription.all().count() == 1


async def test_a_lapsed_reservation_frees_the_plot_for_the_next_buyer(conn):
    plan = await make_season()
    plot = await first_plot(plan)
    first = await reserve(await make_customer("a@example.com"), plan, plot.id)
    second = await reserve(await make_customer("b@example.com"), plan, plot.id, now=later(15))
    await first.refresh_from_db()
    assert first.status == Status.CANCELLED and first.cancel_reason == "lapsed"
    assert (await PlotClaim.get(plot_id=plot.id)).subscription_id == second.id


async def test_the_release_job_lapses_reservations_once_however_often_it_runs(conn):
    plan = await make_season()
    sub = await reserve(await make_customer(), plan)
    assert await services.release_lapsed_reservations(now=later(14)) == 0
    assert await services.release_lapsed_reservations(now=later(16)) == 1
    assert await services.release_lapsed_reservations(now=later(17)) == 0
    await sub.refresh_from_db()
    assert sub.status == Status.CANCELLED and not await PlotClaim.exists()


async def test_letting_the_service_pick_takes_a_free_plot_until_none_is_left(conn):
    plan = await make_season(plots=3)
    subs = [await reserve(await make_customer(f"c{i}@example.com"), plan) for i in range(3)]
    assert len({s.plot_id for s in subs}) == 3
    with pytest.raises(Conflict):
        await reserve(await make_customer("late@example.com"), plan)


async def test_a_plan_never_sells_more_than_its_number_of_plots(conn):
    plan = await make_season(plots=4, max_plots=2)
    await reserve(await make_customer("a@example.com"), plan)
    await reserve(await make_customer("b@example.com"), plan)
    with pytest.raises(Conflict):
        await reserve(await make_customer("c@example.com"), plan)


async def test_reserving_outside_the_sale_window_is_refused(conn):
    from datetime import date

    plan = await make_season(sale_starts_on=date(2026, 12, 1))
    with pytest.raises(Conflict):
        await reserve(await make_customer(), plan)
    assert not await Subscription.exists()


async def test_a_plot_of_another_field_or_size_is_not_offered(conn):
    plan = await make_season()
    other = await make_season()
    foreign = await first_plot(other)
    with pytest.raises(NotFound):
        await reserve(await make_customer(), plan, foreign.id)


async def test_the_database_itself_refuses_a_second_hold_on_a_plot_in_a_season(conn):
    plan = await make_season()
    wang = await make_customer()
    sub = await reserve(wang, plan)
    twin = await Subscription.create(
        customer=wang, season_id=plan.season_id, plan_id=plan.id, plot_id=sub.plot_id,
        price_fen=1, reserved_at=NOW,
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        await PlotClaim.create(
            season_id=plan.season_id, plot_id=sub.plot_id, plan_id=plan.id, subscription_id=twin.id
        )


async def test_a_customer_holds_one_unpaid_plot_a_season_so_a_double_click_reserves_once(conn):
    plan = await make_season(plots=4)
    wang = await make_customer()
    first = await reserve(wang, plan)
    again = await reserve(wang, plan, now=later(1))
    assert again.id == first.id
    assert await PlotClaim.filter(season_id=plan.season_id).count() == 1


async def test_after_paying_for_one_plot_a_customer_may_reserve_another(conn):
    plan = await make_season(plots=4)
    wang = await make_customer()
    first = await reserve(wang, plan)
    await PlotClaim.filter(subscription_id=first.id).update(expires_at=None)  # as when paid
    second = await reserve(wang, plan, now=later(1))
    assert second.id != first.id and second.plot_id != first.plot_id


async def test_a_very_long_customer_name_is_cut_to_fit_the_sign(conn):
    from farm.accounts.services import sign_up

    long_name = "The Extraordinarily Long-Named Family of Hangzhou"
    customer = await sign_up(
        email="l@example.com", name=long_name, password="long enough", language="en"
    )
    sub = await reserve(customer, await make_season())
    assert sub.sign_name == long_name[:40]


@pytest.mark.postgres
async def test_a_pick_whose_sample_is_all_taken_searches_from_a_random_plot_then_from_the_start(
    conn, monkeypatch
):
    """Near the end of a sale a search from the first plot would pass every plot sold before
    the first free one: the second try starts at a random plot, the third from the start."""
    from farm.land.models import Plot
    from farm.subscriptions import claims

    plan = await make_season(plots=6)
    plots = [p.id for p in await Plot.filter(field_id=plan.field_id).order_by("id")]
    for i, plot_id in enumerate(plots[1:3] + plots[4:]):  # free: the first and the fourth
        await reserve(await make_customer(f"c{i}@example.com"), plan, plot_id=plot_id)
    taken = [plots[1], plots[2]]
    monkeypatch.setattr(claims, "pick_candidates", lambda plan_id: taken)
    monkeypatch.setattr(claims, "pick_start", lambda plan_id: plots[2])
    after_start = await reserve(await make_customer("a@example.com"), plan)
    assert after_start.plot_id == plots[3]  # the first free one from the start given
    monkeypatch.setattr(claims, "pick_start", lambda plan_id: plots[5])
    wrapped = await reserve(await make_customer("b@example.com"), plan)
    assert wrapped.plot_id == plots[0]  # none from there on: from the start
