"""Paying in a real browser, as production does: a card made into a pm_ by Stripe.js, a card
that asks for 3-D Secure, Alipay by redirect, and WeChat Pay by a QR code scanned on "another
device" (a second page) while the first page waits by itself. Screenshots in Chinese at phone
and desktop sizes go to FARM_CHECKOUT_SHOTS (default /tmp/shots-checkout)."""

from __future__ import annotations

import asyncio
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from farm import db
from farm.i18n import _, use_language
from farm.qr import qr_svg
from tests.e2e.test_customer_journey import fill_address, fill_card

SHOTS = Path(os.environ.get("FARM_CHECKOUT_SHOTS", "/tmp/shots-checkout"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def zh(text: str) -> str:
    with use_language("zh_CN"):
        return _(text)


def to_checkout(page, url, email):
    page.goto(url + "/signup?next=/")
    page.get_by_label(zh("Your name")).fill("王小明")
    page.get_by_label(zh("Email")).fill(email)
    page.get_by_label(zh("Password (at least 8 characters)")).fill("correct horse battery")
    page.get_by_role("button", name=zh("Sign up")).click()
    page.get_by_role("link", name=zh("Choose a plot")).first.click()
    page.get_by_role("button", name=zh("Pick a plot for me")).click()
    fill_address(page, recipient="王小明", phone="13800138000", province="上海", city="上海市",
                 street="浦东新区世纪大道 100 号")  # fmt: skip
    page.wait_for_url(re.compile(r"/checkout/\d+$"))


def shot(page, name, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(size)
    page.screenshot(path=SHOTS / f"{name}-{size['width']}.png", full_page=True)


def expect_welcome(page):
    page.wait_for_url(re.compile(r"/account/subscriptions/\d+\?welcome=1"))
    assert zh("Payment received. Your plot is yours for the season!") in page.content()


def test_a_card_made_by_create_payment_method_pays(live_server, browser_page):
    page = browser_page
    to_checkout(page, live_server.url, "card@example.com")
    sent = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/pay") else None)
    fill_card(page, "4242424242424242")
    # Stripe.js is told the page's language: its card messages would follow the browser's
    assert page.evaluate("Stripe.lastOptions") == {"locale": "zh"}
    page.locator("#pay-button").click()
    expect_welcome(page)
    assert "•••• 4242" in page.content()
    assert any("payment_method=pm_" in body for body in sent), sent  # not a token's card_ id


def test_a_3d_secure_card_is_authorized_on_the_banks_page_and_comes_back_active(
    live_server, browser_page
):
    page = browser_page
    to_checkout(page, live_server.url, "tds@example.com")
    fill_card(page, "4000002500003155")
    page.locator("#pay-button").click()
    # handleNextAction follows redirect_to_url: the emulator's stand-in for the bank
    page.get_by_role("button", name="Authorize test payment").click()
    expect_welcome(page)
    assert "•••• 3155" in page.content()


def test_a_failed_3d_secure_comes_back_to_checkout_with_the_reason(live_server, browser_page):
    page = browser_page
    to_checkout(page, live_server.url, "tdsfail@example.com")
    fill_card(page, "4000002500003155")
    page.locator("#pay-button").click()
    page.get_by_role("button", name="Fail test payment").click()
    page.wait_for_url(re.compile(r"/checkout/\d+$"))
    assert "您的银行未能验证这笔付款" in page.content()
    assert zh("This plot is held for you until %(time)s.").split("%")[0] in page.content()


def test_alipay_goes_to_alipay_and_comes_back_active(live_server, browser_page):
    page = browser_page
    to_checkout(page, live_server.url, "alipay@example.com")
    page.locator("label[for=method-alipay]").click()
    shot(page, "checkout-alipay", PHONE)
    page.get_by_role("button", name=zh("Pay with Alipay")).click()
    page.get_by_role("button", name="Authorize test payment").click()
    expect_welcome(page)
    assert zh("Alipay") in page.content()


def _qr_data_of_open_payment(settings) -> str:
    """What the page's QR code must hold: the open intent's wechat_pay_display_qr_code data."""

    async def read() -> str:
        from farm.payments.gateway import StripeGateway
        from farm.payments.models import Payment

        await db.connect(settings)
        gateway = StripeGateway(settings)
        try:
            payment = await Payment.get(status="requires_payment", method="wechat_pay")
            intent = await gateway.retrieve(payment.intent_id)
        finally:
            await gateway.aclose()
            await db.close()
        assert intent.next_action is not None
        return intent.next_action.qr_data

    with ThreadPoolExecutor(1) as thread:  # Playwright's own loop runs in this thread
        return thread.submit(asyncio.run, read()).result()


def test_wechat_pay_shows_a_qr_code_and_the_page_moves_on_when_the_phone_pays(
    live_server, browser_page, settings
):
    page = browser_page
    to_checkout(page, live_server.url, "wechat@example.com")
    page.locator("label[for=method-wechat_pay]").click()
    shot(page, "checkout-wechat-choice", PHONE)
    shot(page, "checkout-wechat-choice", DESKTOP)
    page.get_by_role("button", name=zh("Show the WeChat Pay QR code")).click()
    page.wait_for_url(re.compile(r"/checkout/\d+/wait$"))
    page.get_by_text(zh("Scan with WeChat")).wait_for()
    shot(page, "wechat-qr", DESKTOP)
    shot(page, "wechat-qr", PHONE)
    data = _qr_data_of_open_payment(settings)
    drawn = page.locator(".qr-box svg path").get_attribute("d")
    expected = re.search(r' d="([^"]+)"', str(qr_svg(data))).group(1)
    assert drawn == expected  # the code on screen holds Stripe's data
    # The customer scans it with another device: a second page at the QR code's address.
    phone = page.context.new_page()
    phone.goto(data)
    phone.get_by_role("button", name="Authorize test payment").click()
    phone.get_by_text("Payment authorized").wait_for()
    phone.close()
    expect_welcome(page)  # the first page learned it by itself
    assert zh("WeChat Pay") in page.content()


def test_the_checkout_method_choice_looks_right_at_phone_and_desktop_sizes(
    live_server, browser_page
):
    page = browser_page
    to_checkout(page, live_server.url, "look@example.com")
    shot(page, "checkout-card", PHONE)
    shot(page, "checkout-card", DESKTOP)
    tiles = page.locator(".method-tile")
    assert tiles.count() == 3
    boxes = [tiles.nth(i).bounding_box() for i in range(3)]
    assert len({round(b["y"]) for b in boxes}) == 1  # side by side, on a phone too
    assert page.locator("#card-element input").count() >= 3


def test_alipay_works_without_javascript_through_our_content_security_policy(
    live_server, browser_page
):
    """A plain form POST answered by a redirect to Stripe: the policy's form-action must
    allow it, or the browser stops at our page."""
    context = browser_page.context.browser.new_context(
        locale="zh-CN", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        to_checkout(page, live_server.url, "nojs@example.com")
        assert "银行卡付款需要 JavaScript" in page.content()  # the card says what it needs
        page.locator("label[for=method-alipay]").click()  # CSS, no script
        page.get_by_role("button", name=zh("Pay with Alipay")).click()
        page.get_by_role("button", name="Authorize test payment").click()
        expect_welcome(page)
    finally:
        context.close()
