"""Subscriber care in the console: the subscribers list's figures (paid, refunded, holds,
stays, vouchers, boxes sent) on the page and in the CSV, filtered by field and plan in a fixed
number of queries; a subscriber's page with their history; and a manager's cancellation for
the customer, with a reason, through the customer's own cancellation and Stripe's refund."""

from __future__ import annotations

import re
from datetime import date

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.audit.models import Correction, RecordKind
from farm.land.models import Field, Plan, Plot, PlotClaim
from farm.payments.models import Payment, PaymentStatus
from farm.shipments.models import Batch, ShipDayHold, Shipment, ShipmentStatus
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_cancellation import active_subscription
from tests.integration.test_console_lists import parse_csv, rows_of
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import NOW, count_queries, csrf_of, log_in_client, make_season


async def with_history(plan, plot, email: str, name: str) -> Subscription:
    """An active subscriber who paid ¥580, held one ship day and got two boxes (one shipped,
    one being packed)."""
    _, sub = await subscriber_of(plan, plot, email, name)
    await Payment.create(subscription=sub, intent_id=f"pi_{sub.id}", client_secret="s",
                         amount_fen=58000, status=PaymentStatus.SUCCEEDED, created_at=NOW,
                         paid_at=NOW)  # fmt: skip
    await ShipDayHold.create(subscription=sub, ship_on=date(2026, 12, 1), created_at=NOW)
    coop_id = (await Field.get(id=plot.field_id)).cooperative_id
    for day, status in ((date(2026, 11, 1), ShipmentStatus.SHIPPED),
                        (date(2026, 11, 16), ShipmentStatus.CREATED)):  # fmt: skip
        batch, _ = await Batch.get_or_create(cooperative_id=coop_id, ship_on=day,
                                             defaults={"created_at": NOW})  # fmt: skip
        await Shipment.create(batch=batch, subscription=sub, ship_on=day, status=status,
                              created_at=NOW, courier="顺丰", tracking_no="SF1")  # fmt: skip
    return sub


async def test_the_subscribers_list_shows_what_each_paid_got_back_held_and_was_sent(client):
    plan, _, _ = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    await with_history(plan, plots[0], "wang@example.com", "王家")
    _, zhao = await subscriber_of(plan, plots[1], "zhao@example.com", "赵家")
    await Subscription.filter(id=zhao.id).update(status=Status.REFUNDED, refunded_fen=12345)
    page = await client.get("/manage/subscribers")
    wang = next(r for r in rows_of(page.text) if "王家" in r)
    assert "¥580" in wang
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", wang, re.S)]
    assert cells[-1] == "1"  # one box sent, the one being packed not counted
    assert "1" in cells[-2]  # one ship day held
    zhao_row = next(r for r in rows_of(page.text) if "赵家" in r)
    assert "¥123.45" in zhao_row
    csv = await client.get("/manage/subscribers.csv")
    header, *rows = parse_csv(csv.content)
    by_name = {dict(zip(header, r, strict=True))["牌子上的名字"]: dict(zip(header, r, strict=True))
               for r in rows}  # fmt: skip
    assert by_name["王家"]["已付（元）"] == "580.00" and by_name["王家"]["已寄出的包裹"] == "1"
    assert by_name["王家"]["暂停的配送日"] == "1" and by_name["赵家"]["已退款（元）"] == "123.45"


async def test_the_subscribers_list_filters_by_field_and_plan_and_ignores_another_cooperatives(
    client,
):
    plan, _, _ = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    await subscriber_of(plan, plots[0], "wang@example.com", "王家")
    east = await Field.create(cooperative_id=plan.field.cooperative_id, name="东田",
                              width_m=10, height_m=10)  # fmt: skip
    east_plot = await Plot.create(field=east, code="E01", area_m2="66.67", x_m=0, y_m=0, w_m=10,
                                  h_m="6.667")  # fmt: skip
    east_plan = await Plan.create(season_id=plan.season_id, field=east, name="东田一分地",
                                  plot_area_m2="66.67", price_fen=60000, max_plots=1,
                                  care_mode="managed")  # fmt: skip
    await subscriber_of(east_plan, east_plot, "dong@example.com", "东家")
    other = await make_season()

    async def names(**params) -> set[str]:
        r = await client.get("/manage/subscribers", params=params)
        assert r.status_code == 200
        return {n for n in ("王家", "东家") if n in "".join(rows_of(r.text))}

    assert await names() == {"王家", "东家"}
    assert await names(field=east.id) == {"东家"}
    assert await names(plan=plan.id) == {"王家"}
    assert await names(field=other.field_id) == set()  # another's field matches nothing
    csv = await client.get("/manage/subscribers.csv", params={"field": east.id})
    assert len(parse_csv(csv.content)) == 2 and "东家" in csv.content.decode("utf-8-sig")


async def test_the_subscribers_page_makes_the_same_few_queries_for_1_or_40_subscribers(client):
    plan, _, _ = await coop_with_manager(client, plots=40)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")

    async def queries() -> int:
        with count_queries() as counted:
            assert (await client.get("/manage/subscribers")).status_code == 200
        return counted.count

    await with_history(plan, plots[0], "c0@example.com", "家0")
    one = await queries()
    for i, plot in enumerate(plots[1:], start=1):
        await with_history(plan, plot, f"c{i}@example.com", f"家{i}")
    assert await queries() == one


# ---- a subscriber's page ----


async def test_a_subscribers_page_tells_their_history(client):
    plan, _, _ = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    sub = await with_history(plan, plot, "wang@example.com", "王家")
    await Subscription.filter(id=sub.id).update(phone="13900000000", recipient="王太太")
    r = await client.get(f"/manage/subscribers/{sub.id}")
    assert r.status_code == 200
    history = r.text.split('id="history"')[1]
    assert "¥580" in history and "2026-11-01" in history and "2026-12-01" in history
    assert "SF1" in history and "13900000000" in r.text


async def test_another_cooperatives_subscriber_page_and_cancellation_are_404(client):
    await coop_with_manager(client)
    other = await make_season()
    theirs = await with_history(other, await Plot.filter(field_id=other.field_id).first(),
                                "theirs@example.com", "别社家")  # fmt: skip
    token = await csrf_of(client, "/manage")
    for path in (f"/manage/subscribers/{theirs.id}", f"/manage/subscribers/{theirs.id}/cancel"):
        r = await client.get(path)
        assert r.status_code == 404 and "别社家" not in r.text
    r = await client.post(f"/manage/subscribers/{theirs.id}/cancel",
                          data={"csrf_token": token, "reason": "电话", "refund_fen": "58000"})  # fmt: skip
    assert r.status_code == 404
    assert (await Subscription.get(id=theirs.id)).status == Status.ACTIVE


# ---- cancelling for the customer ----


async def managing(client, sub: Subscription) -> str:
    """Log the client in as a manager of the subscription's cooperative; its CSRF token."""
    await sub.fetch_related("season")
    await sign_up(email="li@coop.cn", name="李经理", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=sub.season.cooperative_id)  # fmt: skip
    return await log_in_client(client, "li@coop.cn")


async def test_a_manager_cancels_for_the_customer_through_the_same_refund_and_keeps_the_reason(
    app, client, stripe_port
):
    _customer, sub = await active_subscription(app, stripe_port)
    token = await managing(client, sub)
    confirm = await client.get(f"/manage/subscribers/{sub.id}/cancel")
    assert confirm.status_code == 200 and "¥580" in confirm.text  # the refund, before asking
    r = await client.post(f"/manage/subscribers/{sub.id}/cancel",
                          data={"csrf_token": token, "reason": "客户来电：搬家到外地",
                                "refund_fen": "58000"})  # fmt: skip
    assert (
        r.status_code == 303
        and r.headers["location"] == f"/manage/subscribers/{sub.id}?cancelled=1"
    )
    await sub.refresh_from_db()
    assert sub.status == Status.REFUNDED and sub.refunded_fen == 58000
    assert sub.cancel_reason == "manager"
    payment = await Payment.get(subscription_id=sub.id)
    assert payment.refunded_fen == 58000 and payment.refund_id.startswith("re_")  # at Stripe
    assert not await PlotClaim.exists(subscription_id=sub.id)
    [kept] = await Correction.filter(kind=RecordKind.SUBSCRIPTION, record_id=sub.id)
    assert kept.reason == "客户来电：搬家到外地" and kept.after["refunded_fen"] == "58000"
    assert kept.made_by_id == (await User.get(email="li@coop.cn")).id
    page = (await client.get(f"/manage/subscribers/{sub.id}")).text
    assert "客户来电：搬家到外地" in page
    audit = (await client.get("/manage/corrections", params={"kind": "subscription"})).text
    assert "客户来电：搬家到外地" in audit


async def test_cancelling_for_the_customer_without_a_reason_is_refused_and_changes_nothing(
    app, client, stripe_port
):
    _customer, sub = await active_subscription(app, stripe_port)
    token = await managing(client, sub)
    for reason in ("", "   "):
        r = await client.post(f"/manage/subscribers/{sub.id}/cancel",
                              data={"csrf_token": token, "reason": reason, "refund_fen": "58000"})  # fmt: skip
        assert r.status_code == 422 and "请说明" in r.text, r.text[-2000:]
    await sub.refresh_from_db()
    assert sub.status == Status.ACTIVE and sub.refunded_fen == 0
    assert (await Payment.get(subscription_id=sub.id)).refund_id == ""
    assert not await Correction.exists(kind=RecordKind.SUBSCRIPTION)


async def test_cancelling_for_the_customer_with_a_refund_that_changed_since_the_page_is_refused(
    app, client, stripe_port
):
    _customer, sub = await active_subscription(app, stripe_port)
    token = await managing(client, sub)
    r = await client.post(f"/manage/subscribers/{sub.id}/cancel",
                          data={"csrf_token": token, "reason": "来电", "refund_fen": "1"})  # fmt: skip
    assert r.status_code == 422
    assert (await Subscription.get(id=sub.id)).status == Status.ACTIVE


async def test_a_subscription_already_cancelled_cannot_be_cancelled_again_by_a_manager(
    app, client, stripe_port
):
    _customer, sub = await active_subscription(app, stripe_port)
    token = await managing(client, sub)
    data = {"csrf_token": token, "reason": "来电", "refund_fen": "58000"}
    assert (await client.post(f"/manage/subscribers/{sub.id}/cancel", data=data)).status_code == 303
    again = await client.post(f"/manage/subscribers/{sub.id}/cancel", data=data)
    assert again.status_code == 409
    assert await Correction.filter(kind=RecordKind.SUBSCRIPTION).count() == 1
