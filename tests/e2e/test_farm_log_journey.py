"""A manager logs a harvest on a plot from a phone; the plot's subscriber sees it."""

import asyncio
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from farm import db
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Cooperative, Plan, Plot, PlotClaim, Season
from farm.subscriptions.models import Status, Subscription
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.support import NOW


async def _people(settings) -> str:
    """The demo's manager, and a subscriber of plot A01 (paid). Returns the plot code."""
    await db.connect(settings)
    try:
        coop = await Cooperative.first()
        await sign_up(email="li@coop.cn", name="李经理", password="correct horse", language="zh_CN",
                      role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
        customer = await sign_up(
            email="wang@example.com", name="王小明", password="correct horse", language="zh_CN"
        )
        plan = await Plan.filter(price_fen=58000).first()
        # The demo's season starts in the future; here it is under way.
        await Season.filter(id=plan.season_id).update(starts_on=date.today() - timedelta(days=60))
        plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
        sub = await Subscription.create(
            customer=customer, season_id=plan.season_id, plan_id=plan.id, plot_id=plot.id,
            price_fen=plan.price_fen, sign_name="王小明", reserved_at=NOW, status=Status.ACTIVE,
        )  # fmt: skip
        await PlotClaim.create(
            season_id=plan.season_id, plot_id=plot.id, plan_id=plan.id, subscription_id=sub.id
        )
        return plot.code
    finally:
        await db.close()


@pytest.fixture
def plot_code(live_server, settings) -> str:
    # Before the browser starts: Playwright's sync API keeps an event loop running.
    return asyncio.run(_people(settings))


def log_in(page, url, email):
    page.goto(url + "/login")
    page.get_by_label(zh("Email")).fill(email)
    page.get_by_label(zh("Password")).fill("correct horse")
    page.get_by_role("button", name=zh("Log in")).click()


def test_a_harvest_logged_by_the_manager_appears_on_the_subscribers_plot_page(
    live_server, plot_code, browser_page
):
    code = plot_code
    page = browser_page
    log_in(page, live_server.url, "li@coop.cn")
    page.goto(live_server.url + "/manage/harvests")
    # The form that logs a harvest (the list below it has a filter form of its own).
    form = page.locator("form", has=page.get_by_role("button", name=zh("Log the harvest")))
    form.get_by_label(zh("Crop")).select_option(label="番茄")
    # The plot is typed, not picked from every plot: the box suggests codes as they are typed.
    plot_box = form.get_by_label(zh("Plot code"))
    plot_box.fill(code[:-1])
    expect(page.locator(f'#plot-codes option[value="{code}"]')).to_have_count(1)
    plot_box.fill(code)
    form.get_by_label(zh("Weight in kg (a count, for what is counted in pieces)")).fill("5.5")
    page.get_by_role("button", name=zh("Log the harvest")).click()
    banner = page.locator(".ok.banner").text_content()
    lot_code = re.search(r"[2-9A-HJ-NP-Z]{8}", banner).group(0)
    page.screenshot(path=SHOTS / "6-manager-harvest.png", full_page=True)
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, live_server.url, "wang@example.com")
    page.get_by_role("link", name=re.compile(code)).first.click()
    page.get_by_role("link", name=zh("See the work and harvests on your plot")).click()
    text = page.content()
    assert "番茄" in text and lot_code in text and "5.5" in text
    assert zh("The %(name)s family's plot") % {"name": "王小明"} in text
    page.screenshot(path=SHOTS / "7-subscriber-plot.png", full_page=True)

    # The box's code leads anyone to its trace page.
    page.get_by_role("link", name=lot_code).click()
    assert "番茄" in page.content() and code in page.content()
