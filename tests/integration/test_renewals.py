"""Keeping the same plot next year: the renewal window holds each current family's plot
before the public sale, reminds them once, lets them pay through the usual checkout, and the
plots not renewed go on public sale when it closes; no plot is ever held or sold twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from farm import web
from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors
from farm.land.models import CareMode, Field, Plan, Plot, PlotClaim, Season
from farm.lifecycle import routes as lifecycle_routes
from farm.lifecycle.activation import record_success
from farm.lifecycle.checkout import open_payment
from farm.links import Links
from farm.notifications.models import Notification
from farm.renewals import services as renewals
from farm.renewals.models import Renewal, RenewalWindow
from farm.subscriptions import services
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    ADDRESS,
    NOW,
    TODAY,
    confirm_card_at_stripe,
    log_in_client,
    make_active_subscription,
    make_customer,
    make_season,
    places_held,
)

LINKS = Links("http://farm.test")
TZ = "Asia/Shanghai"
SALE = date(2026, 12, 1)  # the next season's public sale opens; the window is before it
CLOSES = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai
AFTER = CLOSES + timedelta(minutes=1)


async def scene(*, next_field: str = "same"):
    """A running season with two families on plots T01 and T02 of a four-plot field (one a
    customer who logs in, in Chinese), and next season's plan on sale from SALE: on the same
    field, or (`next_field="other"`) only on another field with plots of the same size."""
    current = await make_season(
        starts_on=date(2026, 3, 1), ends_on=date(2027, 3, 1),
        sale_starts_on=date(2026, 1, 1), sale_ends_on=date(2026, 3, 1),
    )  # fmt: skip
    season = await Season.get(id=current.season_id)
    plots = list(await Plot.filter(field_id=current.field_id).order_by("code"))
    wang = await make_customer("wang@example.com")
    mine = await make_active_subscription(current, plots[0], customer=wang)
    theirs = await make_active_subscription(current, plots[1])
    field_id = current.field_id
    if next_field == "other":
        field_id = (await east_field(season.cooperative_id)).id
    nxt = await Season.create(
        cooperative_id=season.cooperative_id, name="明年", name_en="Next year",
        starts_on=date(2027, 3, 1), ends_on=date(2028, 3, 1),
        sale_starts_on=SALE, sale_ends_on=date(2027, 3, 1),
    )  # fmt: skip
    plan = await Plan.create(
        season=nxt, field_id=field_id, name="一分地", name_en="One fen",
        plot_area_m2=Decimal("66.67"), care_mode=CareMode.MANAGED, price_fen=60000,
        max_plots=4,
    )  # fmt: skip
    await RenewalWindow.create(season=nxt, opens_on=TODAY)
    return nxt, plan, plots, wang, mine, theirs


async def east_field(cooperative_id: int) -> Field:
    """Another field of the cooperative, with two plots of the plans' size."""
    east = await Field.create(cooperative_id=cooperative_id, name="东田", width_m=20, height_m=10)
    for i in range(2):
        await Plot.create(field=east, code=f"E{i + 1:02d}", area_m2=Decimal("66.67"),
                          x_m=10 * i, y_m=0, w_m=10, h_m="6.667")  # fmt: skip
    return east


async def open_window(now=NOW):
    return await renewals.open_renewals(today=now.date(), now=now, timezone=TZ, links=LINKS)


async def test_opening_the_window_holds_each_familys_own_plot_until_the_sale_and_mails_once(conn):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await User.filter(id=theirs.customer_id).update(language="en")
    assert await open_window() == 2
    assert await open_window() == 0  # a second run (or scheduler) opens nothing again
    held = {c.plot_id: c for c in await PlotClaim.filter(season_id=nxt.id)}
    assert set(held) == {plots[0].id, plots[1].id}
    assert {c.expires_at for c in held.values()} == {CLOSES}
    renewal = await Renewal.get(previous_id=mine.id).select_related("subscription")
    sub = renewal.subscription
    assert renewal.same_plot and sub.plot_id == plots[0].id and sub.customer_id == wang.id
    assert sub.status == Status.PENDING_PAYMENT and sub.price_fen == 60000
    assert services.has_address(sub) and sub.recipient == mine.recipient  # a few taps
    mails = await Notification.filter(key__startswith="renewal-open:").order_by("id")
    assert len(mails) == 2
    to_wang = next(m for m in mails if m.to == "wang@example.com")
    assert "T01" in to_wang.subject and "下一季" in to_wang.subject  # in her language
    to_other = next(m for m in mails if m.to != "wang@example.com")
    assert to_other.subject == "Keep your plot T02 next season"  # and theirs in English
    assert f"/checkout/{sub.id}" in to_wang.body
    assert await places_held(plan) == 2


async def test_a_window_not_yet_open_or_already_closed_holds_nothing(conn):
    nxt, *_rest = await scene()
    await RenewalWindow.filter(season_id=nxt.id).update(opens_on=TODAY + timedelta(days=1))
    assert await open_window() == 0
    await RenewalWindow.filter(season_id=nxt.id).update(opens_on=TODAY)
    closed = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert await open_window(closed) == 0  # the sale is open: too late to hold anything
    assert not await PlotClaim.filter(season_id=nxt.id).exists()


async def test_a_plot_not_offered_again_is_replaced_by_one_of_the_same_size(conn):
    nxt, plan, plots, wang, mine, theirs = await scene(next_field="other")
    assert await open_window() == 2
    renewal = await Renewal.get(previous_id=mine.id).select_related("subscription__plot")
    assert not renewal.same_plot and renewal.subscription.plot.field_id == plan.field_id
    assert renewal.field_id == plots[0].field_id  # counted under the family's old field
    mail = await Notification.get(key=f"renewal-open:{renewal.id}")
    assert "T01" in mail.body and renewal.subscription.plot.code in mail.body


async def test_the_public_sale_offers_held_plots_only_once_the_window_closed(conn):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    buyer = await make_customer("li@example.com", "李")
    with pytest.raises(Conflict):  # during the window the sale is not open at all
        await services.reserve_plot(customer=buyer, plan_id=plan.id, plot_id=plots[0].id,
                                    today=TODAY, now=NOW, minutes=15)  # fmt: skip
    just_before = CLOSES - timedelta(seconds=1)
    with pytest.raises(Conflict):  # a hold still running on the sale's first day is kept
        await services.reserve_plot(customer=buyer, plan_id=plan.id, plot_id=plots[0].id,
                                    today=SALE, now=just_before, minutes=15)  # fmt: skip
    picked = await services.reserve_plot(customer=buyer, plan_id=plan.id, plot_id=None,
                                         today=SALE, now=just_before, minutes=15)  # fmt: skip
    assert picked.plot_id in (plots[2].id, plots[3].id)  # a free plot, never a held one
    await services.release_reservation(subscription_id=picked.id, now=just_before)
    taken = await services.reserve_plot(customer=buyer, plan_id=plan.id, plot_id=plots[0].id,
                                        today=SALE, now=AFTER, minutes=15)  # fmt: skip
    assert taken.plot_id == plots[0].id  # not renewed: on public sale, no job needed
    claims = await PlotClaim.filter(season_id=nxt.id, plot_id=plots[0].id)
    assert [c.subscription_id for c in claims] == [taken.id]


async def pay_renewal(app, stripe_port, sub_id, customer, now=NOW):
    payment = await open_payment(
        customer=customer, subscription_id=sub_id, runtime=app.state.runtime, now=now
    )
    intent = await confirm_card_at_stripe(app.state.gateway, payment.intent_id, stripe_port)
    assert intent.status == "succeeded"
    return payment, intent


async def test_a_family_renews_through_the_checkout_and_the_rate_counts_it(app, stripe_port):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    renewal = await Renewal.get(previous_id=mine.id)
    payment, intent = await pay_renewal(app, stripe_port, renewal.subscription_id, wang)
    await record_success(intent, now=NOW, runtime=app.state.runtime)
    sub = await Subscription.get(id=renewal.subscription_id)
    assert sub.status == Status.ACTIVE
    claim = await PlotClaim.get(subscription_id=sub.id)
    assert claim.expires_at is None  # kept for good: never offered to the public
    manager = await sign_up(email="m@example.com", name="经理", password="correct horse",
                            language="zh_CN", role=Role.MANAGER, cooperative_id=nxt.cooperative_id)  # fmt: skip
    view = await renewals.renewals_view(manager=manager, season_id=nxt.id, today=TODAY)
    assert (view.eligible, view.renewed, view.rate) == (2, 1, 50)
    [row] = view.fields.items
    assert (row.eligible, row.renewed, row.rate) == (2, 1, 50)


async def test_a_renewal_paid_as_the_window_closes_is_honoured_while_its_hold_stands(
    app, stripe_port
):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    renewal = await Renewal.get(previous_id=mine.id)
    payment, intent = await pay_renewal(app, stripe_port, renewal.subscription_id, wang)
    # Stripe's word arrives after the window closed; nobody took the plot meanwhile.
    await record_success(intent, now=AFTER, runtime=app.state.runtime)
    sub = await Subscription.get(id=renewal.subscription_id)
    await payment.refresh_from_db()
    assert sub.status == Status.ACTIVE and payment.status == "succeeded"
    assert await PlotClaim.filter(season_id=nxt.id, plot_id=plots[0].id).count() == 1


async def test_a_renewal_paid_after_a_public_buyer_took_the_plot_is_refunded_never_sold_twice(
    app, stripe_port
):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    renewal = await Renewal.get(previous_id=mine.id)
    payment, intent = await pay_renewal(app, stripe_port, renewal.subscription_id, wang)
    buyer = await make_customer("li@example.com", "李")
    taken = await services.reserve_plot(customer=buyer, plan_id=plan.id, plot_id=plots[0].id,
                                        today=SALE, now=AFTER, minutes=15)  # fmt: skip
    await record_success(intent, now=AFTER + timedelta(minutes=1), runtime=app.state.runtime)
    sub = await Subscription.get(id=renewal.subscription_id)
    await payment.refresh_from_db()
    assert sub.status == Status.REFUNDED and payment.refunded_fen == 60000
    claims = await PlotClaim.filter(season_id=nxt.id, plot_id=plots[0].id)
    assert [c.subscription_id for c in claims] == [taken.id]


async def test_the_reminder_goes_once_in_the_windows_last_days_to_families_not_yet_renewed(
    app, stripe_port
):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    early = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert await renewals.remind_renewals(today=early.date(), now=early, links=LINKS) == 0
    renewal = await Renewal.get(previous_id=theirs.id)
    await services.release_reservation(subscription_id=renewal.subscription_id, now=early)
    due = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert await renewals.remind_renewals(today=due.date(), now=due, links=LINKS) == 1
    assert await renewals.remind_renewals(today=due.date(), now=due, links=LINKS) == 0
    gap = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # the scheduler came back days later
    assert await renewals.remind_renewals(today=gap.date(), now=gap, links=LINKS) == 0
    [mail] = await Notification.filter(key__startswith="renewal-ending:")
    assert mail.to == "wang@example.com" and "2026-11-30" in mail.subject


async def manager_client(client, season_id_coop):
    await sign_up(email="m@example.com", name="经理", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=season_id_coop)  # fmt: skip
    await log_in_client(client, "m@example.com")


async def test_the_console_opens_a_window_before_the_sale_only_and_shows_the_rate(client):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await RenewalWindow.filter(season_id=nxt.id).delete()
    await manager_client(client, nxt.cooperative_id)
    page = await client.get(f"/manage/seasons/{nxt.id}/renewals")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = await client.post(f"/manage/seasons/{nxt.id}/renewals",
                                data={"opens_on": "2026-12-05", "csrf_token": token})  # fmt: skip
    body = refused.text.split("<body", 1)[1]
    assert refused.status_code == 422 and 'id="f-opens_on"' in body
    assert not await RenewalWindow.filter(season_id=nxt.id).exists()


async def test_a_window_that_made_holds_can_no_longer_move(conn):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    manager = await sign_up(email="m@example.com", name="经理", password="correct horse",
                            language="zh_CN", role=Role.MANAGER, cooperative_id=nxt.cooperative_id)  # fmt: skip
    with pytest.raises(FieldErrors):
        await renewals.set_window(manager=manager, season_id=nxt.id, opens_on="", today=TODAY)
    assert await RenewalWindow.filter(season_id=nxt.id).exists()


async def test_the_family_sees_the_held_plot_on_its_account_and_renews_from_there(
    client, monkeypatch
):
    monkeypatch.setattr(web, "now", lambda: NOW)
    monkeypatch.setattr(lifecycle_routes, "now", lambda: NOW)
    nxt, plan, plots, wang, mine, theirs = await scene()
    await open_window()
    await log_in_client(client, "wang@example.com")
    renewal = await Renewal.get(previous_id=mine.id)
    account = await client.get("/account")
    body = account.text.split("<body", 1)[1]
    assert f'href="/checkout/{renewal.subscription_id}"' in body and "续订" in body
    checkout = await client.get(f"/checkout/{renewal.subscription_id}")
    body = checkout.text.split("<body", 1)[1]
    assert checkout.status_code == 200 and "2026-11-30" in body
    assert ADDRESS["recipient"][:1] in body  # the saved address, ready to pay


async def test_families_of_a_season_sold_ahead_or_who_left_get_no_renewal(conn):
    nxt, plan, plots, wang, mine, theirs = await scene()
    await Subscription.filter(id=theirs.id).update(status=Status.CANCELLED)
    ahead = await make_season(
        starts_on=date(2027, 1, 1), ends_on=date(2028, 1, 1),
        sale_starts_on=date(2026, 10, 1), sale_ends_on=date(2027, 1, 1),
    )  # fmt: skip
    await Season.filter(id=ahead.season_id).update(cooperative_id=nxt.cooperative_id)
    await make_active_subscription(ahead, await Plot.filter(field_id=ahead.field_id).first())
    assert await open_window() == 1
    assert [r.previous_id for r in await Renewal.all()] == [mine.id]


async def test_a_scheduler_back_after_days_away_opens_a_window_that_opened_meanwhile(conn):
    nxt, *_rest = await scene()
    await RenewalWindow.filter(season_id=nxt.id).update(opens_on=TODAY - timedelta(days=5))
    assert await open_window() == 2
    assert await PlotClaim.filter(season_id=nxt.id, expires_at=CLOSES).count() == 2


async def test_a_plan_moved_to_another_field_while_holds_are_made_holds_no_plot_of_the_old(
    conn, monkeypatch
):
    nxt, plan, plots, *_rest = await scene()
    east = await east_field(nxt.cooperative_id)
    eligible = renewals._eligible

    async def the_manager_moves_the_plan_once_the_offers_are_read(season, opens_on):
        await Plan.filter(id=plan.id).update(field_id=east.id)
        async for previous in eligible(season, opens_on):
            yield previous

    monkeypatch.setattr(renewals, "_eligible", the_manager_moves_the_plan_once_the_offers_are_read)
    assert await open_window() == 0  # read as on the old field: nothing held there
    assert not await PlotClaim.filter(season_id=nxt.id).exists() and await places_held(plan) == 0
    monkeypatch.setattr(renewals, "_eligible", eligible)
    assert await open_window() == 2
    held = await PlotClaim.filter(season_id=nxt.id).prefetch_related("plot")
    assert {c.plot.field_id for c in held} == {east.id}


async def test_a_plan_held_for_renewing_families_keeps_its_terms_and_says_until_when(conn):
    from farm.i18n import use_language
    from farm.seasons import console as console_seasons
    from farm.seasons.console import PlanInput

    nxt, plan, *_rest = await scene()
    assert await open_window() == 2
    manager = await sign_up(email="li@coop.cn", name="李经理", password="correct horse",
                            language="en", role=Role.MANAGER,
                            cooperative_id=nxt.cooperative_id)  # fmt: skip
    form = PlanInput(name="一分地", name_en="One fen", field_id=str(plan.field_id),
                     plot_area_m2="66.67", care_mode="self_tended", crop_plan="",
                     crop_plan_en="", price="600", max_plots="4")  # fmt: skip
    with use_language("en"), pytest.raises(FieldErrors) as refused:
        await console_seasons.update_plan(manager=manager, plan_id=plan.id, data=form)
    assert refused.value.errors == {
        "care_mode": "2 plots of this plan are held for families renewing on these terms, until "
        "the season's public sale opens on 2026-12-01: its field, plot size, care and perks "
        "cannot change before then, unless those families let their plots go."
    }
    assert (await Plan.get(id=plan.id)).care_mode == CareMode.MANAGED
