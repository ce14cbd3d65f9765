"""Changing the password, on a phone in Chinese: from the account page, a wrong current
password is refused and changes nothing; the right one changes it, this phone stays signed in
and another browser is signed out. Screenshots at 390x844."""

import asyncio
import re

import pytest
from playwright.sync_api import expect

from farm import db
from farm.accounts.services import sign_up
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in


async def _customer(settings) -> None:
    await db.connect(settings)
    try:
        await sign_up(email="wang@example.com", name="王小明", password="correct horse",
                      language="zh_CN")  # fmt: skip
    finally:
        await db.close()


@pytest.fixture
def customer(live_server, settings) -> None:
    asyncio.run(_customer(settings))


def shoot(page, name):
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_a_family_changes_its_password_and_its_other_browser_is_signed_out(
    live_server, customer, browser_page
):
    page, url = browser_page, live_server.url
    other = page.context.browser.new_context(locale="zh-CN")
    laptop = other.new_page()
    log_in(laptop, url, "wang@example.com")
    expect(laptop).to_have_url(f"{url}/account")
    log_in(page, url, "wang@example.com")
    page.get_by_role("link", name=zh("Change your password")).click()
    expect(page).to_have_url(f"{url}/account/password")
    shoot(page, "password-00-form")

    page.get_by_label(zh("Current password")).fill("not my password")
    page.get_by_label(zh("New password (at least 8 characters)")).fill("a brand new one")
    page.get_by_label(zh("New password again")).fill("a brand new one")
    page.get_by_role("button", name=zh("Change the password")).click()
    expect(page.locator(".error.banner")).to_have_text(
        zh("The current password is not right. Nothing was changed.")
    )
    shoot(page, "password-01-wrong-current")

    page.get_by_label(zh("Current password")).fill("correct horse")
    page.get_by_label(zh("New password (at least 8 characters)")).fill("a brand new one")
    page.get_by_label(zh("New password again")).fill("a brand new one")
    page.get_by_role("button", name=zh("Change the password")).click()
    expect(page.locator(".ok.banner")).to_be_visible()
    shoot(page, "password-02-changed")

    laptop.goto(f"{url}/account")  # the other browser is signed out
    expect(laptop).to_have_url(re.compile(r"/login"))
    other.close()
    page.goto(f"{url}/account")  # this one is not
    expect(page).to_have_url(f"{url}/account")
