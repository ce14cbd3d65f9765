"""A family on a phone buys a plot as a gift: at checkout it names whom the sign is for and
writes a message, pays, and gets the card (page and PDF) with its code and QR code; the
recipient follows the card's link, signs up, gives an address and has the plot; the giver's
card then says only that it was claimed, and the mail saying so is in the outbox, in
Chinese."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from farm.mail import OutboxMailer
from farm.notifications.services import deliver_pending
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import fill_address, fill_card, zh
from tests.e2e.test_farm_stay_journey import _with_db, run


def shoot(page, name: str, *, desk: bool = False) -> None:
    page.screenshot(path=SHOTS / f"gift-{name}-390.png", full_page=True)
    if desk:  # and as on a computer
        page.set_viewport_size({"width": 1366, "height": 900})
        page.screenshot(path=SHOTS / f"gift-{name}-1366.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})


def sign_up(page, *, name: str, email: str) -> None:
    page.get_by_label(zh("Your name")).fill(name)
    page.get_by_label(zh("Email")).fill(email)
    page.get_by_label(zh("Password (at least 8 characters)")).fill("correct horse battery")
    page.get_by_role("button", name=zh("Sign up")).click()


def test_a_plot_given_as_a_gift_is_claimed_by_its_recipient(live_server, browser_page, settings):
    page = browser_page
    url = live_server.url
    page.set_default_timeout(45_000)
    page.goto(url + "/signup?next=/")
    sign_up(page, name="王大明", email="giver@example.com")
    page.get_by_role("link", name=zh("Choose a plot")).first.click()
    page.get_by_role("button", name=zh("Pick a plot for me")).click()
    page.wait_for_url(re.compile(r"/checkout/\d+$"))

    # A gift: for whom the sign is, and a message for the card.
    page.get_by_label(zh("A gift for someone else")).check()
    page.get_by_label(zh("Their name on the plot's sign")).fill("小红")
    page.get_by_label(zh("Your message on the card (optional)")).fill("生日快乐！一起种地吧。")
    page.locator("#gift").get_by_role("button", name=zh("Save")).click()
    expect(page.locator("#gift-chosen")).to_contain_text("小红家的地")
    expect(page.locator("h2", has_text=zh("1. Your own address"))).to_be_visible()
    shoot(page, "0-checkout", desk=True)
    fill_address(page, recipient="王大明", phone="13900139000", province="北京", city="北京市",
                 street="朝阳区 1 号")  # fmt: skip
    fill_card(page, "4242424242424242")
    page.locator("#pay-button").click()
    page.wait_for_url(re.compile(r"/account/gifts/\d+$"))
    card_url = page.url
    code = page.locator("#gift-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    expect(page.locator(".gift-qr svg")).to_be_visible()
    expect(page.locator("main")).to_contain_text("生日快乐")
    shoot(page, "1-card", desk=True)
    pdf = page.request.get(card_url + "/card.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # The recipient, on another phone, from the card's QR code: signs up and comes back.
    other = page.context.browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    them = other.new_page()
    them.set_default_timeout(45_000)
    them.goto(f"{url}/gift?code={code}")
    shoot(them, "2-claim-visitor")
    them.get_by_role("link", name=zh("Sign up")).last.click()
    sign_up(them, name="李小红", email="hong@example.com")
    them.wait_for_url(re.compile(r"/gift\?code="))
    expect(them.locator("#gift-found")).to_contain_text("王大明")
    expect(them.get_by_label(zh("Claim code"))).to_have_value(code)
    them.get_by_label(zh("Recipient")).fill("李小红")
    them.get_by_label(zh("Mobile phone")).fill("13800138000")
    them.get_by_label(zh("Province")).select_option("上海")
    them.get_by_label(zh("City")).fill("上海市")
    them.get_by_label(zh("Street address")).fill("浦东新区世纪大道 100 号")
    shoot(them, "3-claim-form", desk=True)
    them.locator("#claim-button").click()
    them.wait_for_url(re.compile(r"/account/subscriptions/\d+"))
    expect(them.locator("main")).to_contain_text("浦东新区世纪大道 100 号")
    shoot(them, "4-claimed")
    other.close()

    # The giver sees only that it was claimed.
    page.goto(card_url)
    expect(page.locator("#gift-state")).to_contain_text("已于")
    assert page.locator("#gift-code").count() == 0
    expect(page.locator("main")).not_to_contain_text("浦东新区")
    shoot(page, "5-giver-claimed")

    async def send():
        return await deliver_pending(mailer=OutboxMailer(settings.outbox_dir),
                                     now=datetime.now(UTC))  # fmt: skip

    run(_with_db(settings, send))
    page.goto(url + "/dev/outbox")
    row = page.locator("tr", has_text="giver@example.com").filter(has_text="已被领取").first
    expect(row).to_be_visible()
    row.get_by_role("link").first.click()
    expect(page.locator(".mail-text")).to_contain_text("小红")
    shoot(page, "6-mail")
