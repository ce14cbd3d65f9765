"""A coming ship day skipped or moved by a manager, with a reason: the season's ship days follow
it everywhere (the scheduler's boxes, the customer's page, the refund rule), its subscribers are
told by mail once, and what cannot be changed is refused with nothing changed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors, NotFound
from farm.land.models import Cooperative, Plot, Season, ShipDayChange
from farm.land.services import season_ship_days
from farm.links import Links
from farm.notifications.models import Notification
from farm.seasons import ship_days
from farm.shipments import batches
from farm.shipments.models import Batch, Shipment, ShipmentStatus
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    NOW,
    SHIP_SEASON,
    count_queries,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

TODAY = date(2026, 11, 23)  # the coming ship days: 12-01, 12-16, 2027-01-01, ...
LINKS = Links("http://farm.test")


async def scene(plots: int = 3):
    plan = await make_season(plots=plots, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    plot_list = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    subs = [await make_active_subscription(plan, p) for p in plot_list[:-1]]
    manager = await sign_up(
        email="m@example.com", name="经理", password="correct horse", language="zh_CN",
        role=Role.MANAGER, cooperative_id=season.cooperative_id,
    )  # fmt: skip
    return plan, season, subs, manager


async def change(manager, season, day, new_day=None, reason="春节放假", today=TODAY):
    return await ship_days.change_ship_day(
        manager=manager, season_id=season.id, day=day, new_day=new_day, reason=reason,
        today=today, now=NOW,
    )  # fmt: skip


async def test_a_moved_ship_day_makes_its_boxes_on_the_new_day_and_none_on_the_old(conn):
    plan, season, subs, manager = await scene()
    await change(manager, season, date(2026, 12, 16), date(2026, 12, 19))
    season = await Season.get(id=season.id)
    days = season_ship_days(season)
    assert date(2026, 12, 19) in days and date(2026, 12, 16) not in days
    await batches.make_due_batches(today=date(2026, 12, 18), now=NOW)
    assert not await Shipment.filter(ship_on=date(2026, 12, 16)).exists()
    await batches.make_due_batches(today=date(2026, 12, 19), now=NOW)
    moved = await Shipment.filter(ship_on=date(2026, 12, 19)).count()
    assert moved == len(subs)


async def test_a_skipped_ship_day_has_no_boxes_and_its_produce_goes_in_the_next_box(conn):
    plan, season, subs, manager = await scene()
    rice = await make_crop(season.cooperative_id)
    await make_lot(rice, field_id=plan.field_id, plot_id=subs[0].plot_id, grams=4000,
                   harvested_on=date(2026, 12, 2))  # fmt: skip
    await change(manager, season, date(2026, 12, 16))
    await batches.make_due_batches(today=date(2027, 1, 1), now=NOW)
    assert not await Batch.filter(ship_on=date(2026, 12, 16)).exists()
    box = await Shipment.get(subscription_id=subs[0].id, ship_on=date(2027, 1, 1))
    assert box.status == ShipmentStatus.CREATED  # the rice of 12-02 came with it


@pytest.mark.parametrize(
    ("day", "new_day", "field"),
    [
        (date(2026, 11, 25), None, "day"),  # not a ship day
        (date(2026, 12, 1), None, "day"),  # two days away (today 11-29): inside the notice
        (date(2026, 12, 16), date(2026, 11, 24), "new_day"),  # inside the notice
        (date(2026, 12, 16), date(2027, 1, 1), "new_day"),  # onto the next ship day
        (date(2026, 12, 16), date(2026, 11, 30), "new_day"),  # before the previous one
    ],
)
async def test_a_change_that_breaks_a_rule_is_refused_and_changes_nothing(
    conn, day, new_day, field
):
    plan, season, subs, manager = await scene()
    today = date(2026, 11, 29) if day == date(2026, 12, 1) else TODAY  # 12-01 two days away
    with pytest.raises(FieldErrors) as refused:
        await change(manager, season, day, new_day, today=today)
    assert field in refused.value.errors
    assert (await Season.get(id=season.id)).ship_day_moves == ""
    assert not await ShipDayChange.exists()


async def test_another_cooperatives_manager_cannot_change_the_seasons_ship_days(conn):
    plan, season, subs, manager = await scene()
    other = await Cooperative.create(name="别的合作社")
    stranger = await User.create(email="x@example.com", name="外人", password_hash="x",
                                 role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    with pytest.raises(NotFound):
        await change(stranger, season, date(2026, 12, 16))
    assert (await Season.get(id=season.id)).ship_day_moves == ""


async def test_a_ship_day_whose_boxes_are_being_made_cannot_change(conn):
    plan, season, subs, manager = await scene()
    await Batch.create(cooperative_id=season.cooperative_id, ship_on=date(2026, 12, 16),
                       created_at=NOW)  # fmt: skip
    with pytest.raises(Conflict):
        await change(manager, season, date(2026, 12, 16), date(2026, 12, 18))


async def test_a_day_moved_twice_keeps_one_move_from_its_calendar_day(conn):
    plan, season, subs, manager = await scene()
    await change(manager, season, date(2026, 12, 16), date(2026, 12, 19))
    await change(manager, season, date(2026, 12, 19), None, reason="暴雨")
    season = await Season.get(id=season.id)
    assert season.ship_day_moves == "2026-12-16>"
    days = season_ship_days(season)
    assert date(2026, 12, 19) not in days and date(2026, 12, 16) not in days


async def test_active_subscribers_are_told_once_in_their_language_and_others_not(conn):
    plan, season, subs, manager = await scene(plots=4)
    english = await User.get(id=subs[1].customer_id)
    english.language = "en"
    await english.save()
    await Subscription.filter(id=subs[2].id).update(status=Status.REFUNDED)
    await change(manager, season, date(2026, 12, 16), date(2026, 12, 19))
    assert await ship_days.tell_ship_day_changes(links=LINKS, now=NOW) == 2
    assert await ship_days.tell_ship_day_changes(links=LINKS, now=NOW) == 0
    mails = {n.user_id: n for n in await Notification.filter(kind="ship_day_changed")}
    assert set(mails) == {subs[0].customer_id, subs[1].customer_id}
    assert "2026-12-19" in mails[subs[0].customer_id].subject
    assert "春节放假" in mails[subs[0].customer_id].body
    assert "moves to" in mails[subs[1].customer_id].subject
    assert (await ShipDayChange.first()).told_at == NOW


async def test_each_family_is_told_once_with_a_link_to_its_own_first_plot(conn):
    plan, season, subs, manager = await scene(plots=4)
    second = await Subscription.get(id=subs[2].id)
    second.customer_id = subs[0].customer_id  # 王 has two plots this season
    await second.save()
    await change(manager, season, date(2026, 12, 16), date(2026, 12, 19))
    assert await ship_days.tell_ship_day_changes(links=LINKS, now=NOW) == 2
    mails = {n.user_id: n for n in await Notification.filter(kind="ship_day_changed")}
    own = LINKS.subscription(subs[0].id, "deliveries")
    assert own in mails[subs[0].customer_id].body and own in mails[subs[0].customer_id].html
    theirs = LINKS.subscription(subs[1].id, "deliveries")
    assert theirs in mails[subs[1].customer_id].body and own not in mails[subs[1].customer_id].body
    assert "USER-LINK-MARK" not in mails[subs[1].customer_id].html


async def test_telling_a_change_takes_as_many_statements_for_many_families_as_for_few(conn):
    plan, season, subs, manager = await scene(plots=61)
    ids = [s.id for s in subs]
    await Subscription.filter(id__in=ids[2:]).update(status=Status.REFUNDED)

    async def statements(day: date, new_day: date, families: int) -> int:
        await change(manager, season, day, new_day)
        with count_queries() as queries:
            assert await ship_days.tell_ship_day_changes(links=LINKS, now=NOW) == families
        return queries.count

    few = await statements(date(2026, 12, 16), date(2026, 12, 19), 2)
    await Subscription.filter(id__in=ids[2:]).update(status=Status.ACTIVE)
    assert await statements(date(2027, 1, 1), date(2027, 1, 3), 60) <= few + 2


async def test_an_empty_ship_day_is_not_counted_by_the_refund_rule(conn):
    plan, season, subs, manager = await scene()
    sub = subs[0]
    customer = await User.get(id=sub.customer_id)
    today = date(2026, 11, 20)  # 09-01 .. 11-16 passed (6 days), 18 of 24 to come
    before = await subscriptions.subscription_view(
        customer=customer, subscription_id=sub.id, today=today
    )
    batch = await Batch.create(cooperative_id=season.cooperative_id, ship_on=date(2026, 10, 1),
                               created_at=NOW)  # fmt: skip
    await Shipment.create(batch=batch, subscription_id=sub.id, ship_on=date(2026, 10, 1),
                          status=ShipmentStatus.EMPTY, created_at=NOW)  # fmt: skip
    after = await subscriptions.subscription_view(
        customer=customer, subscription_id=sub.id, today=today
    )
    assert (before.refund.undelivered, before.refund.total) == (18, 24)
    assert (after.refund.undelivered, after.refund.total) == (18, 23)
    assert after.refund.refund_fen == sub.price_fen * 18 // 23 > before.refund.refund_fen


async def test_the_manager_changes_a_day_through_the_page_and_the_customer_sees_it(client):
    plan, season, subs, manager = await scene()
    real_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the page's own clock
    day = next(d for d in season_ship_days(season) if (d - real_today).days >= 10)
    new_day = (day + timedelta(days=2)).isoformat()
    token = await log_in_client(client, "m@example.com")
    page = await client.get(f"/manage/seasons/{season.id}/ship-days")
    assert page.status_code == 200 and day.isoformat() in page.text
    form = {"day": day.isoformat(), "action": "move", "new_day": new_day, "csrf_token": token}
    refused = await client.post(
        f"/manage/seasons/{season.id}/ship-days", data={**form, "reason": ""}
    )
    assert refused.status_code == 422 and not await ShipDayChange.exists()
    done = await client.post(
        f"/manage/seasons/{season.id}/ship-days", data={**form, "reason": "快递停运"}
    )
    assert done.status_code == 303
    client.cookies.clear()
    wang = await make_customer()  # one who logs in, with a plot of the season
    plot = await Plot.filter(field_id=plan.field_id).order_by("-code").first()
    mine_sub = await make_active_subscription(plan, plot, customer=wang)
    await log_in_client(client, wang.email)
    mine = await client.get(f"/account/subscriptions/{mine_sub.id}")
    assert new_day in mine.text and "快递停运" in mine.text


async def boxes_of_a_past_ship_day():
    plan, season, subs, manager = await scene()
    rice = await make_crop(season.cooperative_id)
    await make_lot(rice, field_id=plan.field_id, plot_id=subs[0].plot_id, grams=3000,
                   harvested_on=date(2026, 10, 10))  # fmt: skip
    await batches.make_due_batches(today=date(2026, 10, 16), now=NOW)
    batch = await Batch.get(ship_on=date(2026, 10, 16))
    return plan, season, subs, manager, batch


async def test_a_past_ship_days_boxes_that_never_went_are_closed_with_a_reason(conn):
    from farm.shipments import dispatch
    from farm.shipments.models import Allocation, AllocationState, DiversionReason
    from tests.support import accounting_problems

    plan, season, subs, manager, batch = await boxes_of_a_past_ship_day()
    box = await Shipment.get(subscription_id=subs[0].id, ship_on=batch.ship_on)
    assert box.status == ShipmentStatus.CREATED
    closed = await dispatch.close_unsent(
        manager=manager, batch_id=batch.id, reason="暴雪封路，没能发出", today=TODAY, now=NOW
    )
    assert closed == 1  # the other box was empty: nothing to close
    box = await Shipment.get(id=box.id)
    assert box.status == ShipmentStatus.CLOSED and box.close_reason == "暴雪封路，没能发出"
    rice = await Allocation.get(lot__plot_id=subs[0].plot_id)
    assert (rice.state, rice.reason, rice.shipment_id) == (
        AllocationState.DIVERTED, DiversionReason.NOT_SENT, None
    )  # fmt: skip
    assert await accounting_problems() == []
    again = await dispatch.close_unsent(
        manager=manager, batch_id=batch.id, reason="再来一次", today=TODAY, now=NOW
    )
    assert again == 0
    customer = await User.get(id=subs[0].customer_id)
    view = await subscriptions.subscription_view(
        customer=customer, subscription_id=subs[0].id, today=TODAY
    )
    not_sent = await Shipment.filter(  # the empty boxes before, and the closed one
        subscription_id=subs[0].id, status__in=(ShipmentStatus.EMPTY, ShipmentStatus.CLOSED)
    ).count()
    assert not_sent == 4 and view.refund.total == len(season_ship_days(season)) - not_sent


async def test_closing_is_refused_without_a_reason_before_the_day_or_for_another_cooperative(conn):
    from farm.shipments import dispatch

    plan, season, subs, manager, batch = await boxes_of_a_past_ship_day()
    with pytest.raises(FieldErrors):
        await dispatch.close_unsent(manager=manager, batch_id=batch.id, reason=" ",
                                    today=TODAY, now=NOW)  # fmt: skip
    with pytest.raises(Conflict):
        await dispatch.close_unsent(manager=manager, batch_id=batch.id, reason="早了",
                                    today=batch.ship_on, now=NOW)  # fmt: skip
    other = await Cooperative.create(name="别的合作社")
    stranger = await User.create(email="x@example.com", name="外人", password_hash="x",
                                 role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    with pytest.raises(NotFound):
        await dispatch.close_unsent(manager=stranger, batch_id=batch.id, reason="别人的",
                                    today=TODAY, now=NOW)  # fmt: skip
    assert not await Shipment.filter(status=ShipmentStatus.CLOSED).exists()


async def test_the_family_reads_why_its_box_never_went(client):
    from farm.shipments import dispatch

    plan, season, subs, manager, batch = await boxes_of_a_past_ship_day()
    wang = await make_customer()
    await Subscription.filter(id=subs[0].id).update(customer_id=wang.id)
    await dispatch.close_unsent(manager=manager, batch_id=batch.id, reason="暴雪封路，没能发出",
                                today=TODAY, now=NOW)  # fmt: skip
    await log_in_client(client, wang.email)
    page = await client.get(f"/account/subscriptions/{subs[0].id}")
    assert "暴雪封路，没能发出" in page.text and page.status_code == 200


async def test_a_ship_day_too_near_is_refused_beside_the_day_even_when_a_new_day_is_given(conn):
    plan, season, subs, manager = await scene()
    with pytest.raises(FieldErrors) as refused:
        await change(
            manager, season, date(2026, 12, 1), date(2026, 12, 5), today=date(2026, 11, 29)
        )
    assert set(refused.value.errors) == {"day"}
    assert not await ShipDayChange.exists()
