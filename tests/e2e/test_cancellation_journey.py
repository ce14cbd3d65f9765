"""A family on a phone pays for a plot, then cancels it: a page states the refund and what
ends before a button confirms it, the plot then looks ended, and the cancellation's mail is
in the outbox, in Chinese."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from farm.mail import OutboxMailer
from farm.notifications.services import deliver_pending
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import fill_address, fill_card, zh
from tests.e2e.test_farm_stay_journey import _with_db, run


def shoot(page, name: str) -> None:
    page.screenshot(path=SHOTS / f"cancel-{name}-390.png", full_page=True)


def test_a_family_confirms_a_cancellation_and_gets_its_mail(live_server, browser_page, settings):
    page = browser_page
    url = live_server.url
    page.set_default_timeout(45_000)
    page.goto(url + "/signup?next=/")
    page.get_by_label(zh("Your name")).fill("周")
    page.get_by_label(zh("Email")).fill("zhou@example.com")
    page.get_by_label(zh("Password (at least 8 characters)")).fill("correct horse battery")
    page.get_by_role("button", name=zh("Sign up")).click()
    page.get_by_role("link", name=zh("Choose a plot")).first.click()
    page.get_by_role("button", name=zh("Pick a plot for me")).click()
    page.wait_for_url(re.compile(r"/checkout/\d+$"))
    expect(page.locator("span.countdown")).to_contain_text("还剩")  # the live countdown
    shoot(page, "0-checkout")
    fill_address(page, recipient="周", phone="13900139000", province="北京", city="北京市",
                 street="朝阳区 1 号")  # fmt: skip
    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.wait_for_url(re.compile(r"/account/subscriptions/\d+\?welcome=1"))
    sub_url = page.url.split("?")[0]

    # Not one tap: the link opens the page that says what cancelling does.
    page.get_by_role("link", name=zh("Cancel this subscription…")).click()
    page.wait_for_url(sub_url + "/cancel")
    amount = page.locator("#refund-amount strong").inner_text()
    assert amount.startswith("¥")
    expect(page.locator("main")).to_contain_text(zh("Why this amount"))
    ends = zh("Your plot is released, and no more boxes are sent.")
    expect(page.locator("main")).to_contain_text(ends)
    shoot(page, "1-confirm")
    expect(page.get_by_role("link", name=zh("Keep my plot"))).to_be_visible()  # a way back
    page.locator("#confirm-cancel").click()
    page.wait_for_url(sub_url)
    expect(page.locator("h1 .status")).to_have_text(zh("Refunded"))
    expect(page.locator("#ended")).to_be_visible()
    assert page.locator("ul.shipdays").count() == 0
    assert page.get_by_role("link", name=zh("Cancel this subscription…")).count() == 0
    shoot(page, "2-ended")

    # The scheduler's mail job sends it; the development outbox shows it, in Chinese.
    async def send():
        return await deliver_pending(mailer=OutboxMailer(settings.outbox_dir),
                                     now=datetime.now(UTC))  # fmt: skip

    run(_with_db(settings, send))
    page.goto(url + "/dev/outbox")
    row = page.locator("tr", has_text="zhou@example.com").filter(has_text="已取消").first
    expect(row).to_contain_text(amount)
    shoot(page, "3-outbox")
    row.get_by_role("link").first.click()
    mail = page.locator(".mail-text")
    expect(mail).to_contain_text("按照您的要求")
    expect(mail).to_contain_text(amount)
    html = page.frame_locator("iframe").first.locator("body")
    expect(html).to_contain_text("按照您的要求")  # the HTML the family sees, drawn
    shoot(page, "4-mail")
