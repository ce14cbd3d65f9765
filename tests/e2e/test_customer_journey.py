"""A newcomer, on a phone-sized screen, signs up, picks a plot, pays with the test card and
sees the subscription active."""

import re

from farm.i18n import _, use_language
from tests.e2e.conftest import SHOTS


def zh(text: str) -> str:
    with use_language("zh_CN"):
        return _(text)


def fill_address(page, *, recipient, phone, province, city, street):
    page.get_by_label(zh("Recipient")).fill(recipient)
    page.get_by_label(zh("Mobile phone")).fill(phone)
    page.get_by_label(zh("Province")).select_option(province)
    page.get_by_label(zh("City")).fill(city)
    page.get_by_label(zh("Street address")).fill(street)
    page.get_by_role("button", name=zh("Continue to payment")).click()


def fill_card(page, number):
    """The emulator's card element: plain inputs named by their placeholders."""
    card = page.locator("#card-element")
    for placeholder, value in (("number", number), ("exp_month", "12"), ("exp_year", "30"),
                               ("cvc", "123"), ("postal_code", "20000")):  # fmt: skip
        card.locator(f"input[placeholder={placeholder}]").fill(value)


def test_a_newcomer_signs_up_picks_a_plot_pays_and_sees_it_active(live_server, browser_page):
    page = browser_page
    page.goto(live_server.url + "/")
    page.screenshot(path=SHOTS / "1-home.png", full_page=True)
    page.get_by_role("link", name=zh("Choose a plot")).first.click()

    # The map: tap a free plot, then sign up to reserve it.
    page.locator("svg.fieldmap a").nth(7).click()
    page.wait_for_url(re.compile(r"\?plot=\d+"))  # the script swaps the map in, back works
    page.locator("g.plot.chosen").wait_for()
    assert page.locator("g.plot.chosen").count() == 1
    code = page.locator("g.plot.chosen").get_attribute("data-code")
    page.screenshot(path=SHOTS / "2-plan-map.png", full_page=True)
    page.get_by_role("link", name=zh("Sign up to reserve")).click()
    page.get_by_label(zh("Your name")).fill("王小明")
    page.get_by_label(zh("Email")).fill("wang@example.com")
    page.get_by_label(zh("Password (at least 8 characters)")).fill("correct horse battery")
    page.get_by_role("button", name=zh("Sign up")).click()

    # Back on the map with the plot still chosen: reserve it.
    page.get_by_role("button", name=re.compile(code)).click()
    page.wait_for_url(re.compile(r"/checkout/\d+$"))
    assert zh("Cancellation rules") in page.content()

    # A bad phone number is refused beside its field, then corrected.
    fill_address(page, recipient="王小明", phone="12345", province="上海", city="上海市",
                 street="浦东新区世纪大道 100 号")  # fmt: skip
    assert zh("Enter an 11-digit mainland mobile number.") in page.content()
    page.get_by_label(zh("Mobile phone")).fill("13800138000")
    page.get_by_role("button", name=zh("Continue to payment")).click()

    # The card form (Stripe.js from the emulator): the test card.
    fill_card(page, "4242424242424242")
    page.screenshot(path=SHOTS / "3-checkout.png", full_page=True)
    page.locator("#pay-button").click()

    page.wait_for_url(re.compile(r"/account/subscriptions/\d+\?welcome=1"))
    text = page.content()
    assert zh("Payment received. Your plot is yours for the season!") in text
    assert zh("Active") in text and code in text and "•••• 4242" in text
    page.screenshot(path=SHOTS / "4-active.png", full_page=True)

    # The account page lists it, in English too.
    page.goto(live_server.url + "/lang/en?next=/account")
    assert "Active" in page.content() and f"Plot {code}" in page.content()


def test_a_declined_card_tells_the_customer_why_and_keeps_the_plot(live_server, browser_page):
    page = browser_page
    page.goto(live_server.url + "/signup?next=/")
    page.get_by_label(zh("Your name")).fill("李")
    page.get_by_label(zh("Email")).fill("li@example.com")
    page.get_by_label(zh("Password (at least 8 characters)")).fill("correct horse battery")
    page.get_by_role("button", name=zh("Sign up")).click()
    page.get_by_role("link", name=zh("Choose a plot")).first.click()
    page.get_by_role("button", name=zh("Pick a plot for me")).click()
    fill_address(page, recipient="李", phone="13900139000", province="北京", city="北京市",
                 street="朝阳区 1 号")  # fmt: skip
    fill_card(page, "4000000000000341")
    page.locator("#pay-button").click()
    page.locator("#card-error", has_text=zh("Your card was declined. Try another card.")).wait_for()
    page.screenshot(path=SHOTS / "5-declined.png", full_page=True)
    assert re.search(r"/checkout/\d+$", page.url)
    assert zh("This plot is held for you until %(time)s.").split("%")[0] in page.content()
