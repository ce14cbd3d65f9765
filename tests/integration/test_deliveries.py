"""The customer's deliveries: holds before the cutoff, the address lock, what each box held,
what was not sent and why, tracking; only ever the customer's own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from farm.errors import Conflict, DomainError, NotFound
from farm.land.models import Plot, Season
from farm.links import Links
from farm.notifications.models import Notification
from farm.shipments import batches, services
from farm.shipments.models import ShipDayHold, Shipment, ShipmentStatus
from farm.subscriptions import services as subscriptions
from farm.subscriptions.models import Status, Subscription
from tests.support import (
    ADDRESS,
    NOW,
    SHIP_SEASON,
    accounting_problems,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

DEC16 = date(2026, 12, 16)  # a ship day of SHIP_SEASON; its cutoff (2 days) is 14 December

NO_LINKS = Links("")


async def two_subscribers():
    plan = await make_season(plots=2, **SHIP_SEASON)
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    owner = await make_customer("owner@example.com", "王小明")
    sub = await make_active_subscription(plan, plots[0], customer=owner)
    other = await make_active_subscription(plan, plots[1])
    return plan, owner, sub, other


# ---- holds ----


async def test_a_day_held_before_its_cutoff_gets_no_box_and_the_other_days_do(conn):
    plan, owner, sub, other = await two_subscribers()
    held = await services.hold_ship_day(
        customer=owner,
        subscription_id=sub.id,
        ship_on=DEC16,
        today=date(2026, 12, 14),
        now=NOW,
        links=NO_LINKS,
    )
    assert held is True
    await batches.make_due_batches(today=date(2026, 12, 16), now=NOW)
    assert not await Shipment.filter(subscription_id=sub.id, ship_on=DEC16).exists()
    assert await Shipment.filter(subscription_id=sub.id, ship_on=date(2026, 12, 1)).exists()
    assert await Shipment.filter(subscription_id=other.id, ship_on=DEC16).exists()
    await batches.make_due_batches(today=date(2027, 1, 1), now=NOW)
    assert await Shipment.filter(subscription_id=sub.id, ship_on=date(2027, 1, 1)).exists()


async def test_holding_twice_keeps_one_hold_and_queues_one_mail_in_the_customers_language(conn):
    plan, owner, sub, _ = await two_subscribers()
    owner.language = "en"
    await owner.save()
    args = {"customer": owner, "subscription_id": sub.id, "ship_on": DEC16, "now": NOW}
    assert await services.hold_ship_day(
        **args, today=date(2026, 12, 1), links=Links("https://x.cn")
    )
    assert await services.hold_ship_day(**args, today=date(2026, 12, 2), links=NO_LINKS) is False
    assert await ShipDayHold.filter(subscription_id=sub.id).count() == 1
    (mail,) = await Notification.all()
    assert mail.key == f"hold:{sub.id}:2026-12-16"
    assert mail.to == "owner@example.com"
    assert "2026-12-16" in mail.subject
    assert "2027-01-01" in mail.body  # the next box, where what keeps will come
    assert "2026-12-14" in mail.body  # until when it can be undone
    assert f"https://x.cn/account/subscriptions/{sub.id}/deliveries" in mail.body


async def test_a_hold_after_the_cutoff_is_refused_with_the_reason_and_nothing_written(conn):
    plan, owner, sub, _ = await two_subscribers()
    with pytest.raises(Conflict) as refused:
        await services.hold_ship_day(
            customer=owner, subscription_id=sub.id, ship_on=DEC16, today=date(2026, 12, 15),
            now=NOW, links=NO_LINKS,
        )  # fmt: skip
    assert "2026-12-14" in refused.value.message
    assert not await ShipDayHold.all().exists()
    assert not await Notification.all().exists()


async def test_a_day_that_is_not_a_ship_day_or_an_ended_subscription_cannot_be_held(conn):
    plan, owner, sub, _ = await two_subscribers()
    with pytest.raises(DomainError) as not_a_day:
        await services.hold_ship_day(
            customer=owner, subscription_id=sub.id, ship_on=date(2026, 12, 17),
            today=date(2026, 12, 1), now=NOW, links=NO_LINKS,
        )  # fmt: skip
    assert not_a_day.value.status_code == 422
    await Subscription.filter(id=sub.id).update(status=Status.REFUNDED)
    with pytest.raises(Conflict):
        await services.hold_ship_day(
            customer=owner, subscription_id=sub.id, ship_on=DEC16, today=date(2026, 12, 1),
            now=NOW, links=NO_LINKS,
        )  # fmt: skip
    assert not await ShipDayHold.all().exists()


async def test_someone_elses_subscription_cannot_be_held_or_released(conn):
    plan, owner, sub, other = await two_subscribers()
    for change in (services.hold_ship_day, services.release_hold):
        extra = {"now": NOW, "links": NO_LINKS} if change is services.hold_ship_day else {}
        with pytest.raises(NotFound):
            await change(
                customer=owner, subscription_id=other.id, ship_on=DEC16,
                today=date(2026, 12, 1), **extra,
            )  # fmt: skip
    assert not await ShipDayHold.all().exists()


async def test_a_hold_is_released_before_the_cutoff_but_not_after(conn):
    plan, owner, sub, _ = await two_subscribers()
    for day in (DEC16, date(2027, 1, 1)):
        await services.hold_ship_day(
            customer=owner,
            subscription_id=sub.id,
            ship_on=day,
            today=date(2026, 12, 1),
            now=NOW,
            links=NO_LINKS,
        )
    released = await services.release_hold(
        customer=owner, subscription_id=sub.id, ship_on=DEC16, today=date(2026, 12, 14)
    )
    assert released is True
    with pytest.raises(Conflict):
        await services.release_hold(
            customer=owner, subscription_id=sub.id, ship_on=date(2027, 1, 1),
            today=date(2026, 12, 31),
        )  # fmt: skip
    assert [h.ship_on for h in await ShipDayHold.all()] == [date(2027, 1, 1)]
    await batches.make_due_batches(today=DEC16, now=NOW)
    assert await Shipment.filter(subscription_id=sub.id, ship_on=DEC16).exists()


async def test_a_held_day_shows_as_held_with_what_waits_for_the_next_box_and_what_did_not(conn):
    plan, owner, sub, other = await two_subscribers()
    season = await Season.get(id=plan.season_id)
    rice = await make_crop(season.cooperative_id)
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    await make_lot(rice, field_id=plan.field_id, plot_id=sub.plot_id, grams=3000,
                   harvested_on=date(2026, 12, 10))  # fmt: skip
    await make_lot(greens, field_id=plan.field_id, plot_id=sub.plot_id, grams=700,
                   harvested_on=date(2026, 12, 15))  # fmt: skip
    await services.hold_ship_day(
        customer=owner,
        subscription_id=sub.id,
        ship_on=DEC16,
        today=date(2026, 12, 1),
        now=NOW,
        links=NO_LINKS,
    )
    await batches.make_due_batches(today=DEC16, now=NOW)
    view = await services.deliveries_view(
        customer=owner, subscription_id=sub.id, today=date(2026, 12, 17)
    )
    assert [d.ship_on for d in view.coming][:2] == [date(2027, 1, 1), date(2027, 1, 16)]
    day = view.past[0]
    assert (day.ship_on, day.held, day.shipment) == (DEC16, True, None)
    assert [(a.grams, a.lot.crop.name) for a in day.carried] == [(3000, "大米")]
    assert [(a.grams, a.reason) for a in day.diversions] == [(700, "hold")]
    assert [d.ship_on for d in view.past][1:3] == [date(2026, 12, 1), date(2026, 11, 16)]
    with pytest.raises(NotFound):
        await services.deliveries_view(customer=owner, subscription_id=other.id, today=DEC16)


# ---- the address lock ----


async def test_the_address_is_locked_while_a_box_is_packed_and_open_again_after_it_ships(conn):
    plan, owner, sub, _ = await two_subscribers()
    new = {**ADDRESS, "city": "杭州市", "province": "浙江"}
    await subscriptions.update_address(
        customer=owner, subscription_id=sub.id, **new, today=date(2026, 12, 14)
    )  # the cutoff day itself is still open
    for locked_day in (date(2026, 12, 15), DEC16):
        with pytest.raises(Conflict) as refused:
            await subscriptions.update_address(
                customer=owner, subscription_id=sub.id, **ADDRESS, today=locked_day
            )
        assert "2026-12-16" in refused.value.message
        assert "2026-12-14" in refused.value.message
    assert (await Subscription.get(id=sub.id)).city == "杭州市"
    await subscriptions.update_address(
        customer=owner, subscription_id=sub.id, **ADDRESS, today=date(2026, 12, 17)
    )
    assert (await Subscription.get(id=sub.id)).city == ADDRESS["city"]


# ---- the deliveries page, through the web ----


def real_today() -> date:
    """Today as the web app reckons it (the service's time zone)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def live_season():
    """A season that began about three months ago (ship days 1 and 16), with the owner's
    plot and another customer's."""
    today = real_today()
    start = (today.replace(day=1) - timedelta(days=80)).replace(day=1)
    plan = await make_season(
        plots=2, starts_on=start, ends_on=date(start.year + 1, start.month, 1),
        sale_starts_on=start - timedelta(days=30), sale_ends_on=today + timedelta(days=30),
    )  # fmt: skip
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    owner = await make_customer("owner@example.com", "王小明")
    activated = datetime.combine(start - timedelta(days=10), datetime.min.time(), tzinfo=UTC)
    sub = await make_active_subscription(plan, plots[0], customer=owner, activated_at=activated)
    other_customer = await make_customer("li@example.com", "李四")
    other = await make_active_subscription(
        plan, plots[1], customer=other_customer, activated_at=activated
    )
    return plan, start, sub, other


async def test_the_deliveries_page_shows_each_box_its_items_tracking_and_what_spoiled(client):
    plan, start, sub, _ = await live_season()
    season = await Season.get(id=plan.season_id)
    rice = await make_crop(season.cooperative_id, "大米", shelf_life_days=180)
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=1, leafy=True)
    harvested = start + timedelta(days=2)
    rice_lot = await make_lot(rice, field_id=plan.field_id, plot_id=sub.plot_id, grams=2500,
                              harvested_on=harvested)  # fmt: skip
    await make_lot(greens, field_id=plan.field_id, plot_id=sub.plot_id, grams=800,
                   harvested_on=harvested)  # fmt: skip
    await batches.make_due_batches(today=real_today(), now=NOW)
    first_box = start.replace(day=16)
    box = await Shipment.get(subscription_id=sub.id, ship_on=first_box)
    await Shipment.filter(id=box.id).update(
        status=ShipmentStatus.SHIPPED, courier="顺丰速运", tracking_no="SF1234567890",
        shipped_at=NOW,
    )  # fmt: skip
    assert await accounting_problems() == []

    await log_in_client(client, "owner@example.com")
    client.cookies.set("lang", "en")
    page = await client.get(f"/account/subscriptions/{sub.id}/deliveries")
    assert page.status_code == 200
    html = " ".join(page.text.split())
    box_html = html[html.index(f"<h3>{first_box}") :]
    box_html = box_html[: box_html.index("</li> <li") if "</li> <li" in box_html else None]
    assert "Shipped" in box_html and "SF1234567890" in box_html and "顺丰速运" in box_html
    assert "大米 · 2.5 kg (5 jin)" in box_html
    assert f'href="/trace/{rice_lot.code}"' in box_html
    assert "青菜 · 0.8 kg (1.6 jin)" in box_html
    assert (
        f"picked on {harvested}, it stays fresh 1 day, and the road to Shanghai takes 1 day: "
        "it would have spoiled before reaching you, so we did not send it"
    ) in box_html
    assert "We are sorry that some of your harvest could not come." in box_html
    assert "人民路 1 号" in box_html  # the address it went to
    assert "Hold this delivery" in html


async def test_a_customer_holds_a_coming_day_on_the_page_and_gets_one_mail(client):
    plan, start, sub, _ = await live_season()
    token = await log_in_client(client, "owner@example.com")
    client.cookies.set("lang", "en")
    view_days = [
        d for d in batches.season_ship_days(await Season.get(id=plan.season_id))
        if d - timedelta(days=2) >= real_today()
    ]  # fmt: skip
    day = view_days[0]
    for _ in range(2):
        r = await client.post(
            f"/account/subscriptions/{sub.id}/holds",
            data={"ship_on": day.isoformat(), "action": "hold", "csrf_token": token},
        )
        assert r.status_code == 303
    assert await ShipDayHold.filter(subscription_id=sub.id, ship_on=day).count() == 1
    assert await Notification.filter(key=f"hold:{sub.id}:{day.isoformat()}").count() == 1
    page = await client.get(r.headers["location"])
    assert "Deliver as usual" in page.text
    r = await client.post(
        f"/account/subscriptions/{sub.id}/holds",
        data={"ship_on": day.isoformat(), "action": "release", "csrf_token": token},
    )
    assert r.status_code == 303
    assert not await ShipDayHold.filter(subscription_id=sub.id).exists()


@pytest.mark.parametrize(
    ("ship_on", "status"), [("yesterday", 422), ("2026-13-40", 422), ("", 422), ("past", 409)]
)
async def test_bad_or_late_hold_requests_are_refused_and_nothing_is_written(
    client, ship_on, status
):
    plan, start, sub, _ = await live_season()
    token = await log_in_client(client, "owner@example.com")
    if ship_on == "past":
        ship_on = start.replace(day=16).isoformat()
    r = await client.post(
        f"/account/subscriptions/{sub.id}/holds",
        data={"ship_on": ship_on, "action": "hold", "csrf_token": token},
    )
    assert r.status_code == status
    assert 'role="alert"' in r.text
    assert not await ShipDayHold.all().exists()
    assert not await Notification.filter(key__startswith="hold:").exists()


async def test_another_customer_gets_404_on_the_page_and_on_the_hold(client):
    plan, start, sub, other = await live_season()
    token = await log_in_client(client, "li@example.com")
    assert (await client.get(f"/account/subscriptions/{sub.id}/deliveries")).status_code == 404
    coming = [
        d for d in batches.season_ship_days(await Season.get(id=plan.season_id))
        if d - timedelta(days=2) >= real_today()
    ][0]  # fmt: skip
    for ship_on in (coming.isoformat(), "nonsense"):
        r = await client.post(
            f"/account/subscriptions/{sub.id}/holds",
            data={"ship_on": ship_on, "action": "hold", "csrf_token": token},
        )
        assert r.status_code == 404
    assert not await ShipDayHold.all().exists()
    # Their own page works.
    assert (await client.get(f"/account/subscriptions/{other.id}/deliveries")).status_code == 200


async def test_the_subscription_page_links_to_deliveries_with_the_next_ship_day(client):
    plan, start, sub, _ = await live_season()
    await log_in_client(client, "owner@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert page.status_code == 200
    assert f"/account/subscriptions/{sub.id}/deliveries" in page.text
    coming = [
        d for d in batches.season_ship_days(await Season.get(id=plan.season_id))
        if d > real_today()
    ][0]  # fmt: skip
    assert coming.isoformat() in page.text


async def test_a_pending_subscription_shows_a_plain_message_and_no_ship_days(client):
    plan, start, sub, _ = await live_season()
    await Subscription.filter(id=sub.id).update(status=Status.PENDING_PAYMENT, activated_at=None)
    await log_in_client(client, "owner@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/deliveries")
    assert page.status_code == 200
    assert "/holds" not in page.text
