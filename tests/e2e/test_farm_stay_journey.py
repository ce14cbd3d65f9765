"""A subscriber books a night at the guesthouse with a farm-stay voucher from a phone; the
guesthouse's front desk checks the family in, which redeems the voucher.

The server's clock is the real one, and nights can be booked from tomorrow on, while guests
check in on a night of their stay. So the customer books tomorrow's night in the browser, and
then the test lets a day pass the only way it can: it moves that very booking (its night row
and first night) one day earlier in the database, which is exactly the state it will be in
tomorrow. The front desk then sees the family under tonight and checks them in, and the same
voucher the customer booked with shows as used on the customer's voucher page. Nothing else
is set up behind the browser's back: the booking, the check-in and the redemption all go
through the pages."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tortoise.transactions import in_transaction

from farm import db
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import PerkKind, Plan, PlanPerk, Plot, PlotClaim, Season
from farm.partners.models import Booking, BookingNight, Partner, PartnerKind
from farm.subscriptions.models import Status, Subscription
from farm.vouchers.models import Voucher
from farm.vouchers.services import issue_vouchers
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in
from tests.support import NOW

CUSTOMER = "wang@example.com"
DESK = "front@stay.example"


def run(coro):
    """Run a database step while Playwright's sync API holds this thread's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _with_db(settings, step):
    await db.connect(settings)
    try:
        return await step()
    finally:
        await db.close()


async def _people(settings, today: date) -> dict:
    """On top of the demo: a subscriber of a plan with a farm-stay night at the demo's
    guesthouse (season under way, vouchers issued), and that guesthouse's front desk."""

    async def step():
        perk = await PlanPerk.filter(kind=PerkKind.FARM_STAY_NIGHT).exclude(partner_id=None).first()
        plan = await Plan.get(id=perk.plan_id)
        house = await Partner.get(id=perk.partner_id, kind=PartnerKind.GUESTHOUSE)
        season = await Season.get(id=plan.season_id)
        if not season.starts_on <= today < season.ends_on - timedelta(days=10):
            await Season.filter(id=season.id).update(
                starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=300)
            )
        customer = await sign_up(email=CUSTOMER, name="王小明", password="correct horse",
                                 language="zh_CN")  # fmt: skip
        await sign_up(email=DESK, name="民宿前台", password="correct horse", language="zh_CN",
                      role=Role.PARTNER_STAFF, partner_id=house.id)  # fmt: skip
        claimed = await PlotClaim.filter(season_id=season.id).values_list("plot_id", flat=True)
        plot = await Plot.filter(field_id=plan.field_id).exclude(id__in=claimed).first()
        sub = await Subscription.create(
            customer=customer, season_id=season.id, plan_id=plan.id, plot_id=plot.id,
            price_fen=plan.price_fen, sign_name="王小明", reserved_at=NOW, activated_at=NOW,
            status=Status.ACTIVE,
        )  # fmt: skip
        await PlotClaim.create(season_id=season.id, plot_id=plot.id, plan_id=plan.id,
                               subscription_id=sub.id)  # fmt: skip
        async with in_transaction() as conn:
            await issue_vouchers(subscription_id=sub.id, now=NOW, conn=conn)
        return {"sub_id": sub.id, "house": house.name, "partner_id": house.id}

    return await _with_db(settings, step)


async def _a_day_passes(settings) -> None:
    """Tomorrow has come for the stay: its nights move one day earlier."""

    async def step():
        for booking in await Booking.all():
            await Booking.filter(id=booking.id).update(
                first_night=booking.first_night - timedelta(days=1)
            )
        for night in await BookingNight.all():
            await BookingNight.filter(id=night.id).update(night=night.night - timedelta(days=1))

    await _with_db(settings, step)


async def _vouchers_used(settings, sub_id: int) -> list[str]:
    async def step():
        return [
            v.code
            for v in await Voucher.filter(
                subscription_id=sub_id, kind=PerkKind.FARM_STAY_NIGHT, status="redeemed"
            )
        ]

    return await _with_db(settings, step)


@pytest.fixture
def stay(live_server, settings) -> dict:
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    people = asyncio.run(_people(settings, today))  # before the browser starts
    return {**people, "today": today}


def log_out(page):
    page.get_by_role("button", name=zh("Log out")).click()


def test_a_subscriber_books_a_night_and_the_front_desk_checks_the_family_in(
    live_server, settings, stay, browser_page
):
    page = browser_page
    url = live_server.url
    tomorrow = stay["today"] + timedelta(days=1)
    sub_id = stay["sub_id"]

    # The customer finds the stays page from the plot's page.
    log_in(page, url, CUSTOMER)
    page.goto(f"{url}/account/subscriptions/{sub_id}")
    page.get_by_role("link", name=zh("Book a farm stay")).click()
    page.wait_for_url(re.compile(rf"/account/subscriptions/{sub_id}/stays$"))
    text = page.content()
    assert stay["house"] in text
    free = re.findall(r"\d+", page.locator(".stay-vouchers strong").inner_text())
    assert free == ["1"]  # one free farm-stay voucher, whatever the language puts around it
    page.screenshot(path=SHOTS / "8-stay-calendar.png", full_page=True)

    # Tapping tomorrow on the calendar chooses it as the first night.
    page.locator(f'table.stay-cal a[href*="night={tomorrow.isoformat()}"]').first.click()
    assert (
        page.get_by_label(zh("First night (the night of this day)")).input_value()
        == tomorrow.isoformat()
    )
    page.get_by_label(zh("Guests")).fill("2")
    page.get_by_role("button", name=zh("Book with my vouchers")).click()
    page.wait_for_url(re.compile(r"/stays\?booked=1"))
    text = page.content()
    assert zh("Your stay is booked. See you at the farm!") in text
    assert tomorrow.isoformat() in text
    assert page.get_by_role("button", name=zh("Cancel this stay")).count() == 0  # past cutoff
    assert re.findall(r"\d+", page.locator(".stay-vouchers strong").inner_text()) == ["0"]
    page.screenshot(path=SHOTS / "9-stay-booked.png", full_page=True)
    log_out(page)

    # A day later, the family arrives: the front desk checks them in.
    run(_a_day_passes(settings))
    log_in(page, url, DESK)
    page.goto(f"{url}/partner/bookings")
    tonight = page.locator("section.staff-night").first
    assert zh("Night of %(day)s") % {"day": stay["today"].isoformat()} in tonight.inner_text()
    assert "王小明" in tonight.inner_text()
    page.screenshot(path=SHOTS / "10-stay-front-desk.png", full_page=True)
    tonight.get_by_role("button", name=zh("Check in")).click()
    page.wait_for_url(re.compile(r"/partner/bookings\?arrived=1"))
    assert zh("Checked in: the guests' vouchers are redeemed.") in page.content()
    assert page.get_by_role("button", name=zh("Check in")).count() == 0
    page.screenshot(path=SHOTS / "11-stay-checked-in.png", full_page=True)
    (code,) = run(_vouchers_used(settings, sub_id))
    log_out(page)

    # The customer's voucher shows as used.
    log_in(page, url, CUSTOMER)
    page.goto(f"{url}/account/vouchers/{code}")
    text = page.content()
    assert zh("Used") in text
    assert zh("This voucher was used on %(date)s.").split("%(date)s")[0] in text
    assert page.locator("svg.qr").count() == 0
    page.screenshot(path=SHOTS / "12-stay-voucher-used.png", full_page=True)
    page.goto(f"{url}/account/subscriptions/{sub_id}/stays")
    assert zh("Checked in") in page.content()
