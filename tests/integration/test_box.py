"""The box: what the next box holds, kilograms received, and a shipped box the family confirms,
rates and reports a problem with (a photo); the cooperative resolves each report once, with a
reply, a credit in the next box, or a partial refund through the refund attempts and Stripe.
Only the box's own family can touch it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors, NotFound
from farm.fieldwork.photos import PhotoStore
from farm.land.models import Plot, Season
from farm.links import Links
from farm.notifications.models import Notification
from farm.payments.models import Payment, Refund, RefundReason
from farm.shipments import box, box_reports, packing
from farm.shipments.models import (
    Allocation,
    AllocationState,
    Batch,
    BoxReport,
    Shipment,
    ShipmentStatus,
)
from farm.subscriptions.models import Subscription
from tests.integration.test_refunds_emulator import paid_by_card
from tests.support import (
    NOW,
    csrf_of,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
)

LINKS = Links("http://farm.test")
SHIPPED_ON = date(2027, 3, 16)  # a ship day of make_season's season
TODAY = date(2027, 3, 20)  # after it: the next box is 1 April's


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


async def a_box(sub, *, ship_on=SHIPPED_ON, status=ShipmentStatus.SHIPPED) -> Shipment:
    season = await Season.get(id=sub.season_id)
    batch, _ = await Batch.get_or_create(
        cooperative_id=season.cooperative_id, ship_on=ship_on, defaults={"created_at": NOW}
    )
    return await Shipment.create(
        batch=batch, subscription=sub, ship_on=ship_on, status=status, recipient="王小明",
        courier="顺丰速运", tracking_no="SF1234567890",
        tracking_url="https://www.sf-express.com/track?no=SF1234567890", created_at=NOW,
        shipped_at=NOW if status == ShipmentStatus.SHIPPED else None,
    )  # fmt: skip


async def manager_of(sub, email="li@coop.example"):
    season = await Season.get(id=sub.season_id)
    return await sign_up(
        email=email, name="李经理", password="correct horse", language="zh_CN",
        role=Role.MANAGER, cooperative_id=season.cooperative_id,
    )  # fmt: skip


async def reported(app, customer, sub, shipment, text="青菜压坏了") -> BoxReport:
    return await box.report_problem(
        customer=customer, subscription_id=sub.id, shipment_id=shipment.id, problem=text,
        photo=png(), store=PhotoStore(app.state.runtime.storage), now=NOW,
    )  # fmt: skip


def resolving(manager, shipment, report, app, **values):
    return box_reports.resolve_report(
        manager=manager, batch_id=shipment.batch_id, report_id=report.id, values=values,
        today=TODAY, now=NOW, gateway=app.state.gateway, links=LINKS,
    )  # fmt: skip


async def next_box_of(sub):
    """The next box as the subscription page finds it."""
    from farm.shipments.services import delivery_summary

    sub = await Subscription.get(id=sub.id).select_related(
        "season__cooperative", "plan", "plot__field"
    )
    summary = await delivery_summary(subscription=sub, today=TODAY)
    return await box.next_box(subscription=sub, deliveries=summary)


# ---- only the family ----


async def test_only_the_boxs_own_family_can_see_confirm_rate_or_report_it(app, client, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    await make_customer("other@example.com", "别人")
    await manager_of(sub)
    base = f"/account/subscriptions/{sub.id}/boxes/{shipment.id}"
    for email in ("other@example.com", "li@coop.example"):
        client.cookies.clear()
        token = await log_in_client(client, email)
        assert (await client.get(base)).status_code == 404
        assert (await client.get(f"{base}/photo")).status_code == 404
        for action, data in (("arrived", {}), ("rating", {"rating": "5"}),
                             ("problem", {"problem": "坏了"})):  # fmt: skip
            r = await client.post(f"{base}/{action}", data={**data, "csrf_token": token})
            assert r.status_code == 404, (email, action, r.status_code)
    assert await BoxReport.all().count() == 0
    with pytest.raises(NotFound):  # the service says the same to another customer
        other = await make_customer("third@example.com", "第三")
        await box.confirm_arrival(
            customer=other, subscription_id=sub.id, shipment_id=shipment.id, now=NOW
        )
    # ... and a box of the family's through another of their subscriptions' ids is not found
    with pytest.raises(NotFound):
        await box.confirm_arrival(
            customer=customer, subscription_id=sub.id + 999, shipment_id=shipment.id, now=NOW
        )


# ---- the family's page ----


async def test_the_family_confirms_rates_and_reports_a_problem_with_a_photo(
    app, client, stripe_port
):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    token = await log_in_client(client, customer.email)
    base = f"/account/subscriptions/{sub.id}/boxes/{shipment.id}"
    page = await client.get(base)
    assert page.status_code == 200 and "SF1234567890" in page.text
    assert 'href="https://www.sf-express.com/track?no=SF1234567890"' in page.text

    r = await client.post(f"{base}/arrived", data={"csrf_token": token})
    assert r.status_code == 303
    refused = await client.post(f"{base}/rating", data={"rating": "6", "csrf_token": token})
    assert refused.status_code == 422
    report = await BoxReport.get(shipment_id=shipment.id)
    assert report.arrived_at is not None and report.rating is None
    r = await client.post(
        f"{base}/rating", data={"rating": "4", "comment": "米很香", "csrf_token": token}
    )
    assert r.status_code == 303
    await report.refresh_from_db()
    assert (report.rating, report.comment) == (4, "米很香")

    empty = await client.post(f"{base}/problem", data={"problem": " ", "csrf_token": token})
    assert empty.status_code == 422
    not_photo = await client.post(
        f"{base}/problem", data={"problem": "青菜烂了", "csrf_token": token},
        files={"photo": ("x.jpg", b"not an image", "image/jpeg")},
    )  # fmt: skip
    assert not_photo.status_code == 422
    await report.refresh_from_db()
    assert report.reported_at is None
    r = await client.post(
        f"{base}/problem", data={"problem": "青菜烂了", "csrf_token": token},
        files={"photo": ("p.png", png(), "image/png")},
    )  # fmt: skip
    assert r.status_code == 303
    await report.refresh_from_db()
    assert report.problem == "青菜烂了" and report.photo
    photo = await client.get(f"{base}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content[:2] == b"\xff\xd8"  # re-encoded as JPEG
    again = await client.post(f"{base}/problem", data={"problem": "又坏了", "csrf_token": token})
    assert again.status_code == 409
    await report.refresh_from_db()
    assert report.problem == "青菜烂了"


async def test_a_box_not_yet_shipped_cannot_be_confirmed(app, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub, status=ShipmentStatus.PACKED)
    with pytest.raises(Conflict):
        await box.confirm_arrival(
            customer=customer, subscription_id=sub.id, shipment_id=shipment.id, now=NOW
        )
    assert await BoxReport.all().count() == 0


# ---- the cooperative resolves ----


async def test_a_report_is_resolved_once_and_the_family_is_mailed_once(app, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    manager = await manager_of(sub)
    done = await resolving(manager, shipment, report, app, kind="note", reply="抱歉，下次注意包装")
    assert done.resolution == "note" and done.resolved_by_id == manager.id
    with pytest.raises(Conflict):
        await resolving(manager, shipment, report, app, kind="refund", reply="再退", refund="10")
    assert await Refund.all().count() == 0
    [mail] = await Notification.filter(key=f"box-resolved:{report.id}")
    assert "抱歉，下次注意包装" in mail.body and mail.kind == "box_resolved"
    view = await box.box_view(customer=customer, subscription_id=sub.id, shipment_id=shipment.id)
    assert view.report.reply == "抱歉，下次注意包装"


async def test_another_cooperatives_manager_cannot_resolve_or_see_the_photo(app, stripe_port):
    from farm.land.models import Cooperative

    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    elsewhere = await Cooperative.create(name="别的合作社")
    stranger = await sign_up(
        email="x@coop.example", name="外人", password="correct horse", language="zh_CN",
        role=Role.MANAGER, cooperative_id=elsewhere.id,
    )  # fmt: skip
    with pytest.raises(NotFound):
        await resolving(stranger, shipment, report, app, kind="note", reply="好")
    with pytest.raises(NotFound):
        await box_reports.manager_report_photo(
            manager=stranger, batch_id=shipment.batch_id, report_id=report.id
        )
    await report.refresh_from_db()
    assert report.resolved_at is None


async def test_a_credit_appears_on_the_next_box_for_the_family_and_the_packers(
    app, client, stripe_port
):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    manager = await manager_of(sub)
    done = await resolving(manager, shipment, report, app, kind="credit", reply="下次补上",
                           credit="多送一斤青菜")  # fmt: skip
    assert done.credit_ship_on == date(2027, 4, 1)  # the first ship day after today's
    await sub.refresh_from_db()
    coming = await next_box_of(sub)
    assert coming.ship_on == date(2027, 4, 1)
    assert [c.credit for c in coming.credits] == ["多送一斤青菜"]
    # the packers: the box of 1 April shows it on its batch page
    next_box = await a_box(sub, ship_on=date(2027, 4, 1), status=ShipmentStatus.CREATED)
    batch = await Batch.get(id=next_box.batch_id)
    assert await box_reports.batch_credits(batch) == {next_box.id: ["多送一斤青菜"]}
    await log_in_client(client, "li@coop.example")
    page = await client.get(f"/manage/shipments/{batch.id}")
    assert page.status_code == 200 and "多送一斤青菜" in page.text
    # and on the packing list, which the packers print: the box's data carries it
    crop = await make_crop(batch.cooperative_id)
    plot = await sub.plot
    rice = await make_lot(crop, field_id=plot.field_id, plot_id=plot.id, grams=2000,
                          harvested_on=date(2027, 3, 30))  # fmt: skip
    await Allocation.create(lot=rice, grams=2000, state=AllocationState.SHIPPED,
                            subscription=sub, shipment=next_box, ship_on=next_box.ship_on,
                            decided_at=NOW)  # fmt: skip
    [packed] = await packing.boxes_of([next_box.id, shipment.id], {crop.id: "大米"})
    assert packed.shipment_id == next_box.id and packed.credits == ("多送一斤青菜",)


async def test_a_credit_with_no_box_left_in_the_season_is_refused(app, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    manager = await manager_of(sub)
    with pytest.raises(Conflict):
        await box_reports.resolve_report(
            manager=manager, batch_id=shipment.batch_id, report_id=report.id,
            values={"kind": "credit", "reply": "补", "credit": "青菜"}, today=date(2028, 2, 20),
            now=NOW, gateway=app.state.gateway, links=LINKS,
        )  # fmt: skip
    await report.refresh_from_db()
    assert report.resolved_at is None


async def test_a_partial_refund_goes_through_stripe_and_never_above_what_is_left(app, stripe_port):
    customer, sub, payment = await paid_by_card(app, stripe_port)  # ¥580
    first, second = await a_box(sub), await a_box(sub, ship_on=date(2027, 4, 1))
    manager = await manager_of(sub)
    report = await reported(app, customer, sub, first)
    await resolving(manager, first, report, app, kind="refund", reply="退您 30 元", refund="30")
    refund = await Refund.get(payment_id=payment.id)
    assert (refund.amount_fen, refund.reason) == (3000, RefundReason.BOX_PROBLEM)
    assert refund.provider_refund_id.startswith("re_")  # sent to Stripe (the emulator)
    await payment.refresh_from_db()
    assert payment.refunded_fen == 3000
    await report.refresh_from_db()
    assert (report.refund_fen, report.refund_id) == (3000, refund.id)

    other = await reported(app, customer, sub, second, "又坏了")
    with pytest.raises(FieldErrors) as too_much:
        await resolving(manager, second, other, app, kind="refund", reply="退", refund="550.01")
    assert "550" in too_much.value.errors["refund"]  # at most ¥550: ¥580 paid, ¥30 refunded
    await other.refresh_from_db()
    assert other.resolved_at is None and await Refund.all().count() == 1
    await resolving(manager, second, other, app, kind="refund", reply="退", refund="550")
    await payment.refresh_from_db()
    assert payment.refunded_fen == 58000


async def test_a_box_rated_shows_its_stars_and_is_not_offered_for_rating_again(
    app, client, stripe_port, monkeypatch
):
    from datetime import UTC, datetime

    from farm import web
    from farm.accounts import routes as account_routes

    for module in (web, account_routes):  # TODAY, for the pages and the session
        monkeypatch.setattr(module, "now", lambda: datetime(2027, 3, 20, 4, tzinfo=UTC))
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    token = await log_in_client(client, customer.email)
    base = f"/account/subscriptions/{sub.id}/boxes/{shipment.id}"
    pages = (f"/account/subscriptions/{sub.id}/deliveries", f"/account/subscriptions/{sub.id}")

    for path in pages:  # shipped, not yet heard of: the invitation
        text = (await client.get(path)).text
        assert "收到了吗？评价一下，或反馈问题" in text and "您的评价" not in text, path
    await client.post(f"{base}/arrived", data={"csrf_token": token})
    for path in pages:  # arrived: said so, and still asked to rate it
        text = (await client.get(path)).text
        assert "送达。" in text and "评价一下，或反馈问题" in text, path
        assert "收到了吗" not in text, path
    r = await client.post(f"{base}/rating", data={"rating": "4", "csrf_token": token})
    assert r.status_code == 303
    for path in pages:  # rated: the stars, and no invitation to rate it again
        text = (await client.get(path)).text
        assert "您的评价：★★★★☆（4 星，满分 5 星）" in text, path
        assert "评价一下" not in text and f'href="{base}"' in text, path


# ---- what the family receives ----


async def test_kilograms_received_count_shipped_boxes_only_by_crop(app, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    season = await Season.get(id=sub.season_id)
    await sub.fetch_related("plot")
    rice = await make_crop(season.cooperative_id, "大米")
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3)
    sent, packed = (
        await a_box(sub),
        await a_box(sub, ship_on=date(2027, 4, 1), status=ShipmentStatus.PACKED),
    )
    for crop, grams, shipment in ((rice, 2500, sent), (greens, 800, sent), (rice, 1000, sent),
                                  (rice, 9000, packed)):  # fmt: skip
        lot = await make_lot(crop, field_id=sub.plot.field_id, plot_id=sub.plot_id, grams=grams,
                             harvested_on=date(2027, 3, 10))  # fmt: skip
        await Allocation.create(
            lot=lot, grams=grams, state=AllocationState.SHIPPED, subscription=sub,
            shipment=shipment, ship_on=shipment.ship_on, decided_at=NOW,
        )  # fmt: skip
    received = await box.received_by_crop(subscription=sub)
    assert [(r.crop.name, r.grams) for r in received] == [("大米", 3500), ("青菜", 800)]


async def test_the_next_box_shows_the_plots_open_harvest_and_what_would_not_keep(app, stripe_port):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    season = await Season.get(id=sub.season_id)
    await sub.fetch_related("plot")
    rice = await make_crop(season.cooperative_id, "大米")
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=1, leafy=True)
    await make_lot(rice, field_id=sub.plot.field_id, plot_id=sub.plot_id, grams=2000,
                   harvested_on=date(2027, 3, 18))  # fmt: skip
    await make_lot(greens, field_id=sub.plot.field_id, plot_id=sub.plot_id, grams=500,
                   harvested_on=date(2027, 3, 19))  # fmt: skip
    coming = await next_box_of(sub)
    assert coming.ship_on == date(2027, 4, 1)
    assert [(e.crop.name, e.grams) for e in coming.items] == [("大米", 2000)]
    assert [e.crop.name for e in coming.spoiling] == ["青菜"]


async def test_the_next_box_shares_the_fields_harvest_by_the_land_the_fields_plans_hold(
    app, stripe_port
):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    season = await Season.get(id=sub.season_id)
    await sub.fetch_related("plot", "plan")
    rice = await make_crop(season.cooperative_id, "大米")
    await make_lot(rice, field_id=sub.plot.field_id, plot_id=None, grams=3000,
                   harvested_on=date(2027, 3, 18))  # the whole field's  # fmt: skip
    alone = await next_box_of(sub)
    assert [(e.crop.name, e.grams) for e in alone.items] == [("大米", 3000)]
    neighbour_plot = await Plot.filter(field_id=sub.plot.field_id).exclude(id=sub.plot_id).first()
    await make_active_subscription(sub.plan, neighbour_plot)  # a second place of the same size
    shared = await next_box_of(sub)
    assert [(e.crop.name, e.grams) for e in shared.items] == [("大米", 1500)]


async def test_the_subscription_page_shows_the_next_box_and_deliveries_the_kilograms_received(
    app, client, stripe_port
):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    await log_in_client(client, customer.email)
    page = await client.get(f"/account/subscriptions/{sub.id}")
    assert page.status_code == 200 and 'id="next-box"' in page.text
    assert 'id="received"' not in page.text  # kept to the deliveries page (8 queries)


async def test_the_batch_page_lists_reports_and_a_refused_resolution_changes_nothing(
    app, client, stripe_port
):
    customer, sub, _ = await paid_by_card(app, stripe_port)
    shipment = await a_box(sub)
    report = await reported(app, customer, sub, shipment)
    await manager_of(sub)
    await log_in_client(client, "li@coop.example")
    page = await client.get(f"/manage/shipments/{shipment.batch_id}")
    assert page.status_code == 200 and "青菜压坏了" in page.text
    assert f"/reports/{report.id}/photo/thumb" in page.text
    photo = await client.get(f"/manage/shipments/{shipment.batch_id}/reports/{report.id}/photo")
    assert photo.status_code == 200
    token = await csrf_of(client, f"/manage/shipments/{shipment.batch_id}")
    r = await client.post(
        f"/manage/shipments/{shipment.batch_id}/reports/{report.id}/resolve",
        data={"kind": "refund", "reply": "退款", "refund": "9999", "csrf_token": token},
    )
    assert r.status_code == 422
    await report.refresh_from_db()
    assert report.resolved_at is None and await Refund.all().count() == 0
    r = await client.post(
        f"/manage/shipments/{shipment.batch_id}/reports/{report.id}/resolve",
        data={"kind": "note", "reply": "抱歉", "csrf_token": token},
    )
    assert r.status_code == 303
    await report.refresh_from_db()
    assert report.resolution == "note"
    assert await Payment.filter(subscription_id=sub.id, refunded_fen=0).exists()


async def test_a_ship_day_with_nothing_to_send_is_explained_kindly_in_chinese(client):
    from tests.integration.test_deliveries import live_season

    plan, start, sub, _ = await live_season()
    await a_box(sub, ship_on=start.replace(day=16), status=ShipmentStatus.EMPTY)
    await log_in_client(client, "owner@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/deliveries")
    assert page.status_code == 200
    assert "这次没有包裹" in page.text
    assert "正在生长的作物会放进下一个包裹" in page.text
    assert "本次无货可发" not in page.text
