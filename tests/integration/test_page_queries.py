"""The customer's pages make a fixed, small number of queries (at most 8, the session's user
lookup included), whatever the customer's history: ship days done, harvests, work on the
plot, vouchers, a booked stay, a crop plan chosen from the field's calendar. A page that
loads per box, per lot or per voucher fails here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from farm import web
from farm.accounts.models import User
from farm.cropplans import rules as crop_rules
from farm.cropplans.models import CalendarCrop, CropCalendar, CropPlan, CropPlanLine
from farm.fieldwork.models import Activity, Photo, WorkEntry, WorkEntryPlot, WorkInput
from farm.land.models import PerkKind, PlanPerk, Plot, Season
from farm.partners import bookings
from farm.partners.models import Partner, PartnerKind, Room
from farm.payments.models import Payment, PaymentStatus
from farm.shipments import batches
from farm.shipments.models import ShipDayHold, Shipment
from farm.vouchers import services as voucher_services
from farm.vouchers.models import Voucher
from tests.support import (
    NOW,
    SHIP_SEASON,
    TODAY,
    count_queries,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

MAX_QUERIES = 8
DONE_SHIP_DAYS = [date(2026, 9, 1), date(2026, 9, 16), date(2026, 10, 1), date(2026, 10, 16),
                  date(2026, 11, 1), date(2026, 11, 16)]  # fmt: skip


async def customer_with_history():
    """wang@example.com with two subscriptions (one active with a season of history, one
    refunded), neighbours on the field, and every kind of row the pages show."""
    plan = await make_season(plots=6, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    house = await Partner.create(cooperative_id=season.cooperative_id, name="青山农家民宿",
                                 kind=PartnerKind.GUESTHOUSE, address="青山村东头")  # fmt: skip
    spot = await Partner.create(cooperative_id=season.cooperative_id, name="古镇景区",
                                kind=PartnerKind.SCENIC_SPOT, address="古镇")  # fmt: skip
    for name, capacity in (("竹间", 2), ("大通铺", 4)):
        await Room.create(partner=house, name=name, capacity=capacity)
    await PlanPerk.create(plan=plan, kind=PerkKind.FARM_STAY_NIGHT, count=3, partner=house)
    await PlanPerk.create(plan=plan, kind=PerkKind.SCENIC_TICKET, count=2, partner=spot)
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    customer = await make_customer("wang@example.com")
    sub = await make_active_subscription(plan, plots[0], customer=customer)
    ended = await make_active_subscription(plan, plots[1], customer=customer)
    for other in plots[2:]:
        await make_active_subscription(plan, other)
    for s in (sub, ended):
        async with in_transaction() as conn:
            await voucher_services.issue_vouchers(subscription_id=s.id, now=NOW, conn=conn)
        await Payment.create(subscription_id=s.id, intent_id=f"pi_{s.id}", client_secret="x",
                             amount_fen=plan.price_fen, status=PaymentStatus.SUCCEEDED,
                             card_last4="4242", created_at=NOW, paid_at=NOW)  # fmt: skip
    manager = None
    rice = await make_crop(season.cooperative_id, "大米")
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    # the field's crop calendar, and the plan the family chose in it
    calendar = await CropCalendar.create(field_id=plan.field_id, cutoff_days=14,
                                         sow_months=crop_rules.months_mask([3, 4]))  # fmt: skip
    await CalendarCrop.create(calendar=calendar, crop=greens, min_area_m2=5, days_to_harvest=40,
                              sow_months=crop_rules.months_mask([3, 4]), seed_per_m2="1.5",
                              default_area_m2=20)  # fmt: skip
    crop_plan = await CropPlan.create(subscription_id=sub.id, field_id=plan.field_id,
                                      season_id=season.id, chosen_at=NOW)  # fmt: skip
    await CropPlanLine.create(plan=crop_plan, crop=greens, area_m2=20, sow_on=date(2027, 3, 1),
                              harvest_on=date(2027, 4, 10))  # fmt: skip
    await ShipDayHold.create(subscription_id=sub.id, ship_on=date(2026, 10, 16), created_at=NOW)
    for ship_on in DONE_SHIP_DAYS:
        for plot in plots:
            await make_lot(rice, field_id=plan.field_id, plot_id=plot.id, grams=1500,
                           harvested_on=ship_on - timedelta(days=3))  # fmt: skip
            await make_lot(greens, field_id=plan.field_id, plot_id=plot.id, grams=800,
                           harvested_on=ship_on - timedelta(days=8))  # fmt: skip
        await make_lot(rice, field_id=plan.field_id, plot_id=None, grams=30000,
                       harvested_on=ship_on - timedelta(days=2))  # fmt: skip
        manager = manager or await User.filter(role="manager").first()
        entry = await WorkEntry.create(
            cooperative_id=season.cooperative_id, field_id=plan.field_id,
            activity=Activity.WEEDING, worked_on=ship_on - timedelta(days=5), notes="除草",
            logged_by=manager, created_at=NOW,
        )  # fmt: skip
        await WorkEntryPlot.create(entry=entry, plot=plots[0])
        await WorkEntryPlot.create(entry=entry, plot=plots[2])
        await WorkInput.create(entry=entry, name="有机肥", organic=True, dose="2 kg")
        await Photo.create(entry=entry, file_name=f"{entry.id}.jpg", width=800, height=600)
        whole = await WorkEntry.create(
            cooperative_id=season.cooperative_id, field_id=plan.field_id,
            activity=Activity.WATERING, worked_on=ship_on - timedelta(days=1), whole_field=True,
            logged_by=manager, created_at=NOW,
        )  # fmt: skip
        await WorkInput.create(entry=whole, name="井水", dose="")
        await batches.make_due_batches(
            today=ship_on, now=datetime.combine(ship_on, datetime.min.time(), tzinfo=UTC)
        )
    await Shipment.filter(subscription_id=sub.id).update(
        status="shipped", courier="顺丰", tracking_no="SF123", shipped_at=NOW
    )
    await bookings.book_stay(
        customer=customer, subscription_id=sub.id, partner_id=house.id,
        first_night=TODAY + timedelta(days=7), nights=2, guests=2, today=TODAY, now=NOW,
    )  # fmt: skip
    await Voucher.filter(subscription_id=ended.id).update(status="void")
    await ended.__class__.filter(id=ended.id).update(status="refunded", cancel_reason="customer")
    assert await Shipment.filter(subscription_id=sub.id).count() == len(DONE_SHIP_DAYS) - 1
    code = (await Voucher.filter(subscription_id=sub.id, kind=PerkKind.SCENIC_TICKET).first()).code
    return sub, code


@pytest.fixture
def pages_today(monkeypatch):
    """Every page's today and now: the factories' NOW."""
    monkeypatch.setattr(web, "now", lambda: NOW)


async def test_each_customer_page_makes_at_most_eight_queries_with_a_full_history(
    client, pages_today
):
    sub, code = await customer_with_history()
    await log_in_client(client, "wang@example.com")
    pages = {
        "account": "/account",
        "subscription": f"/account/subscriptions/{sub.id}",
        "deliveries": f"/account/subscriptions/{sub.id}/deliveries",
        "vouchers": f"/account/subscriptions/{sub.id}/vouchers",
        "voucher": f"/account/vouchers/{code}",
        "plot": f"/account/subscriptions/{sub.id}/plot",
        "stays": f"/account/subscriptions/{sub.id}/stays",
    }
    counts = {}
    for name, path in pages.items():
        with count_queries() as queries:
            response = await client.get(path)
        assert response.status_code == 200, (name, response.text[:300])
        counts[name] = queries.count
    assert all(n <= MAX_QUERIES for n in counts.values()), str(counts)
    # and the pages show the history they were given: the subscription page its crop plan
    subscription = (await client.get(pages["subscription"])).text
    assert 'id="crops"' in subscription and "2027-04" in subscription
    deliveries = (await client.get(pages["deliveries"])).text
    assert "SF123" in deliveries and "2026-11-16" in deliveries
    assert "青山农家民宿" in (await client.get(pages["stays"])).text
    assert "有机肥" in (await client.get(pages["plot"])).text


async def test_counting_queries_sees_every_statement_of_a_transaction(conn):
    plan = await make_season(plots=2)
    with count_queries() as queries:
        async with in_transaction() as tx:
            await Plot.filter(field_id=plan.field_id).using_db(tx).count()
            await Plot.filter(field_id=plan.field_id).using_db(tx).update(h_m=7)
        await Plot.all()
    assert queries.count == 3
