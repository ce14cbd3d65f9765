"""A family of the running season keeps its plot next year from a phone, in Chinese: the
renewal window the cooperative opened holds the plot for them, their account says so, and
the usual checkout (address already filled in) takes the test card; the plot is theirs."""

from __future__ import annotations

from datetime import UTC, datetime

from farm import db
from farm.accounts.services import sign_up
from farm.demo.renewal import load_next_season
from farm.land.models import Cooperative, Season
from farm.links import Links
from farm.notifications.models import Notification
from farm.renewals.models import Renewal
from farm.renewals.services import open_renewals
from farm.subscriptions.models import Status, Subscription
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import fill_card, zh
from tests.e2e.test_farm_log_journey import log_in
from tests.e2e.test_farm_stay_journey import run

CUSTOMER = "wang@example.com"


async def _window_opened(settings) -> int:
    """On top of the demo: the customer holds a plot of the running season, the next season's
    renewal window is open, and the scheduler's job has run. The renewal's subscription id."""
    await db.connect(settings)
    try:
        now = datetime.now(UTC)
        today = settings.local_date(now)
        running = await Season.filter(starts_on__lte=today, ends_on__gt=today).first()
        customer = await sign_up(email=CUSTOMER, name="王小明", password="correct horse",
                                 language="zh_CN")  # fmt: skip
        sub = await Subscription.filter(season=running, status=Status.ACTIVE).order_by("id").first()
        await Subscription.filter(id=sub.id).update(customer_id=customer.id)
        coop = await Cooperative.get(id=running.cooperative_id)
        await load_next_season(coop=coop, running=running, today=today)
        await open_renewals(today=today, now=now, timezone=settings.timezone,
                            links=Links("http://127.0.0.1"))  # fmt: skip
        assert await Notification.filter(to=CUSTOMER, key__startswith="renewal-open:").exists()
        return (await Renewal.get(previous_id=sub.id)).subscription_id
    finally:
        await db.close()


async def _status(settings, sub_id: int) -> str:
    await db.connect(settings)
    try:
        return (await Subscription.get(id=sub_id)).status
    finally:
        await db.close()


def test_a_family_renews_its_plot_in_a_few_taps_on_a_phone(settings, live_server, browser_page):
    sub_id = run(_window_opened(settings))
    page = browser_page
    log_in(page, live_server.url, CUSTOMER)
    page.goto(live_server.url + "/account")
    page.get_by_text(zh("Your plot is held for you until %(day)s, before the public sale opens.")
                     .split("%")[0]).first.wait_for()  # fmt: skip
    page.screenshot(path=str(SHOTS / "renewal-account-zh-390.png"), full_page=True)
    page.get_by_role("link", name=zh("Renew my plot")).click()
    page.wait_for_url(f"**/checkout/{sub_id}")
    body = page.locator("body").inner_text()
    assert zh("Change the address") in body  # the saved address: nothing to type
    page.screenshot(path=str(SHOTS / "renewal-checkout-zh-390.png"), full_page=True)
    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.wait_for_url(f"**/account/subscriptions/{sub_id}?welcome=1")
    assert zh("Active") in page.locator("body").inner_text()
    page.screenshot(path=str(SHOTS / "renewal-done-zh-390.png"), full_page=True)
    assert run(_status(settings, sub_id)) == Status.ACTIVE
