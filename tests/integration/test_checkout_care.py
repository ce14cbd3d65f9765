"""Checkout without dead ends: a second plot is allowed as far as the plan allows and
otherwise refused plainly with a link to the plot held; a lapsed hold offers to reserve
again; a taken plot returns to the map with the nearest free plots; a second purchase is
offered the saved address; the address form says when it is locked and keeps what was typed."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest

from farm.errors import Conflict
from farm.i18n import use_language
from farm.land.models import Plan, Plot, PlotClaim
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    ADDRESS,
    SHIP_SEASON,
    log_in_client,
    make_active_subscription,
    make_customer,
    make_season,
)


async def plots_of(plan: Plan) -> list[Plot]:
    return list(await Plot.filter(field_id=plan.field_id).order_by("code"))


async def reserve(client, plan: Plan, plot, token: str):
    plot_id = plot.id if plot is not None else "auto"
    return await client.post(
        f"/plans/{plan.id}/reserve", data={"plot_id": plot_id, "csrf_token": token}
    )


async def test_a_family_holding_the_plans_one_plot_is_told_why_not_with_a_link(client):
    plan = await make_season()
    first, second, *_ = await plots_of(plan)
    customer = await make_customer()
    held = await make_active_subscription(plan, first, customer=customer)
    token = await log_in_client(client, "wang@example.com")
    r = await reserve(client, plan, second, token)
    assert r.status_code == 409
    assert "此方案每户限认购一块地，您已认购地块T01" in r.text
    assert f'href="/account/subscriptions/{held.id}"' in r.text
    assert await Subscription.filter(customer_id=customer.id).count() == 1
    page = await client.get(f"/plans/{plan.id}")
    assert "每户限认购一块" in page.text and "您已认购1块" in page.text


async def test_a_plan_allowing_two_plots_sells_a_family_a_second_and_says_so(client):
    plan = await make_season()
    await Plan.filter(id=plan.id).update(max_plots_per_customer=2)
    first, second, third, _ = await plots_of(plan)
    customer = await make_customer()
    await make_active_subscription(plan, first, customer=customer)
    token = await log_in_client(client, "wang@example.com")
    page = await client.get(f"/plans/{plan.id}")
    assert "此方案每户最多可认购2块地" in page.text
    r = await reserve(client, plan, second, token)
    assert r.status_code == 303 and r.headers["location"].startswith("/checkout/")
    new = await Subscription.get(customer_id=customer.id, plot_id=second.id)
    await Subscription.filter(id=new.id).update(status=Status.ACTIVE)  # paid
    await PlotClaim.filter(subscription_id=new.id).update(expires_at=None)
    r = await reserve(client, plan, third, token)
    assert r.status_code == 409 and "每户最多认购2块地" in r.text


async def test_a_second_tab_for_another_plot_is_told_which_plot_is_in_checkout(client):
    plan = await make_season()
    first, second, *_ = await plots_of(plan)
    await make_customer()
    token = await log_in_client(client, "wang@example.com")
    r = await reserve(client, plan, first, token)
    checkout = r.headers["location"]
    again = await reserve(client, plan, first, token)  # a double click: the same checkout
    assert again.status_code == 303 and again.headers["location"] == checkout
    other = await reserve(client, plan, second, token)
    assert other.status_code == 409
    assert "您正在为地块T01付款" in other.text and f'href="{checkout}"' in other.text
    other_plan = await make_season()
    elsewhere = await reserve(client, other_plan, None, token)
    assert elsewhere.status_code in (303, 409)  # another season: its own checkout is allowed


async def test_the_checkout_shows_a_live_countdown_beside_the_clock_time(client):
    plan = await make_season()
    await make_customer()
    token = await log_in_client(client, "wang@example.com")
    r = await reserve(client, plan, None, token)
    page = await client.get(r.headers["location"])
    assert re.search(r'<time datetime="[^"]+" data-countdown [^>]*>\d\d:\d\d</time>', page.text)
    assert re.search(r"/static/countdown\.[0-9a-f]+\.js", page.text) and "还剩__" in page.text
    assert (await client.get("/static/countdown.js")).status_code == 200


async def lapsed_checkout(client, plan: Plan, plot: Plot):
    customer = await make_customer()
    token = await log_in_client(client, "wang@example.com")
    long_ago = datetime.now(UTC) - timedelta(hours=2)  # past the relapse wait, too
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=plot.id, today=long_ago.date(),
        now=long_ago, minutes=15,
    )  # fmt: skip
    await services.update_address(
        customer=customer, subscription_id=sub.id, **ADDRESS, today=long_ago.date()
    )
    return customer, sub, token


def just_after_it_lapsed() -> datetime:
    """When the scheduler released it: a minute after it lapsed, long enough ago."""
    return datetime.now(UTC) - timedelta(hours=2) + timedelta(minutes=16)


async def test_paying_after_the_hold_lapsed_offers_to_reserve_the_same_plot_again(client):
    plan = await make_season()
    plot = (await plots_of(plan))[0]
    _customer, sub, token = await lapsed_checkout(client, plan, plot)
    paid = await client.post(
        f"/checkout/{sub.id}/pay", data={"method": "alipay", "csrf_token": token}
    )
    assert paid.status_code == 409 and "该认购不在待付款状态" not in paid.text
    assert "重新认购地块T01" in paid.text and f'value="{plot.id}"' in paid.text
    await services.release_lapsed_reservations(now=just_after_it_lapsed())
    page = await client.get(f"/checkout/{sub.id}")
    assert page.status_code == 200 and "重新认购地块T01" in page.text
    account = await client.get(f"/account/subscriptions/{sub.id}")
    assert "重新认购地块T01" in account.text and 'class="shipdays"' not in account.text
    r = await reserve(client, plan, plot, token)
    assert r.status_code == 303 and r.headers["location"] != f"/checkout/{sub.id}"
    assert (await Subscription.get(id=int(r.headers["location"].split("/")[-1]))).plot_id == plot.id


async def test_a_hold_released_a_moment_ago_says_when_the_same_plot_can_be_held_again(client):
    plan = await make_season()
    plot = (await plots_of(plan))[0]
    _customer, sub, _token = await lapsed_checkout(client, plan, plot)
    await services.release_lapsed_reservations(now=datetime.now(UTC))  # the anti-hoarding wait
    page = await client.get(f"/checkout/{sub.id}")
    assert "起可以再次保留它" in page.text and 'value="auto"' in page.text


async def test_a_lapsed_hold_whose_plot_went_to_another_family_offers_another_plot(client):
    plan = await make_season()
    plot = (await plots_of(plan))[0]
    _customer, sub, _token = await lapsed_checkout(client, plan, plot)
    await services.release_lapsed_reservations(now=just_after_it_lapsed())
    await make_active_subscription(plan, plot)
    page = await client.get(f"/checkout/{sub.id}")
    assert "地块T01已被其他家庭认购" in page.text and 'value="auto"' in page.text


async def test_a_taken_plot_returns_to_the_map_with_the_nearest_free_plots(client):
    plan = await make_season(plots=4)
    t1, t2, t3, t4 = await plots_of(plan)
    await make_active_subscription(plan, t2)
    await make_customer()
    token = await log_in_client(client, "wang@example.com")
    r = await reserve(client, plan, t2, token)
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/plans/{plan.id}?taken={t2.id}")
    page = await client.get(r.headers["location"])
    assert "地块T02刚刚被别人认购了" in page.text
    nearby = re.findall(r'href="/plans/\d+\?plot=(\d+)#plan-map"', page.text)
    assert [int(i) for i in nearby] == [t1.id, t3.id, t4.id]  # nearest first


async def test_a_second_purchase_is_offered_the_saved_address(client):
    old_plan = await make_season(**SHIP_SEASON)
    customer = await make_customer()
    await make_active_subscription(old_plan, (await plots_of(old_plan))[0], customer=customer)
    plan = await make_season()
    token = await log_in_client(client, "wang@example.com")
    r = await reserve(client, plan, None, token)
    page = await client.get(r.headers["location"])
    assert "已为您填入地块T01的收货地址" in page.text
    assert 'value="13800138000"' in page.text and 'value="人民路 1 号"' in page.text


async def test_the_address_form_says_when_it_is_locked_and_keeps_what_was_typed(
    client, monkeypatch
):
    packing = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 11-30 in Shanghai: 12-01's box is packed
    monkeypatch.setattr("farm.web.now", lambda: packing)
    monkeypatch.setattr("farm.lifecycle.routes.now", lambda: packing)
    plan = await make_season(**SHIP_SEASON)
    customer = await make_customer()
    sub = await make_active_subscription(plan, (await plots_of(plan))[0], customer=customer)
    token = await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert "2026-12-01的包裹正在打包" in page.text or "正在打包" in page.text
    assert f'action="/checkout/{sub.id}/address"' not in page.text  # no form while locked
    typed = {**ADDRESS, "address": "新搬的家 8 号", "back": "account", "csrf_token": token}
    r = await client.post(f"/checkout/{sub.id}/address", data=typed)
    assert r.status_code == 409
    assert 'value="新搬的家 8 号"' in r.text and 'id="address-notice"' in r.text
    await sub.refresh_from_db()
    assert sub.address == "人民路 1 号"


# ---- PostgreSQL: the one-statement reservation keeps the same rules ----


@pytest.mark.postgres
async def test_the_one_statement_path_keeps_the_plans_plots_per_family(conn):
    plan = await make_season()
    first, second, *_ = await plots_of(plan)
    customer = await make_customer()
    await make_active_subscription(plan, first, customer=customer)
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    with pytest.raises(Conflict, match="每户限认购一块地"), use_language("zh_CN"):
        await services.reserve_plot(
            customer=customer, plan_id=plan.id, plot_id=second.id, today=now.date(),
            now=now, minutes=15,
        )  # fmt: skip
    assert await Subscription.filter(customer_id=customer.id).count() == 1
    await Plan.filter(id=plan.id).update(max_plots_per_customer=2)
    sub = await services.reserve_plot(
        customer=customer, plan_id=plan.id, plot_id=second.id, today=now.date(), now=now,
        minutes=15,
    )  # fmt: skip
    assert sub.plot_id == second.id


@pytest.mark.postgres
async def test_two_tabs_reserving_two_plots_at_once_hold_one_and_the_other_is_told(conn):
    plan = await make_season(plots=6)
    await Plan.filter(id=plan.id).update(max_plots_per_customer=3)
    customer = await make_customer()
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)

    async def tab(plot):
        try:
            return await services.reserve_plot(
                customer=customer, plan_id=plan.id, plot_id=plot.id, today=now.date(),
                now=now, minutes=15,
            )  # fmt: skip
        except Conflict as refused:
            return refused

    results = await asyncio.gather(*(tab(p) for p in (await plots_of(plan))[:4]))
    held = [r for r in results if isinstance(r, Subscription)]
    assert len({s.id for s in held}) == 1  # one checkout at a time, whatever the plan allows
    refused = [r for r in results if isinstance(r, Conflict)]
    assert refused and all(r.link and r.link[0] == f"/checkout/{held[0].id}" for r in refused)
    assert await PlotClaim.filter(plan_id=plan.id).count() == 1
