"""A harvest mistyped (5000 kg of tomatoes on a one-fen plot) is caught by the confirmation,
logged anyway, then corrected with a reason; the family's plot page shows the corrected
weight with a note. Screenshots at 390x844 and 1366x900, in Chinese."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in, plot_code  # noqa: F401 (a fixture)

WIDTHS = ((390, 844), (1366, 900))


def shoot(page, name):
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})


def test_a_mistyped_harvest_is_confirmed_then_corrected_and_the_family_sees_the_fix(
    live_server,
    plot_code,  # noqa: F811 (the fixture imported above)
    browser_page,
):
    page = browser_page
    log_in(page, live_server.url, "li@coop.cn")
    page.goto(live_server.url + "/manage/harvests")
    form = page.locator("form", has=page.get_by_role("button", name=zh("Log the harvest")))
    form.get_by_label(zh("Crop")).select_option(label="番茄")
    form.get_by_label(zh("Plot code")).fill(plot_code)
    form.get_by_label(zh("Weight in kg (a count, for what is counted in pieces)")).fill("5000")
    page.get_by_role("button", name=zh("Log the harvest")).click()
    # Far above what a fen bears: the rule is stated, and a tick confirms.
    warning = page.locator("#err-heavy")
    expect(warning).to_contain_text("15")
    shoot(page, "10-harvest-confirm")
    page.get_by_label(zh("The weight is right: log it anyway")).check()
    page.get_by_role("button", name=zh("Log the harvest")).click()
    banner = page.locator(".ok.banner").text_content()
    lot_code = re.search(r"[2-9A-HJ-NP-Z]{8}", banner).group(0)

    page.get_by_role("link", name=zh("Correct lot %(code)s") % {"code": lot_code}).click()
    page.get_by_label(zh("Corrected weight in kg")).fill("5")
    page.get_by_label(zh("Why (required, kept with the record)")).fill("多打了三个零")
    shoot(page, "11-correction-form")
    page.get_by_role("button", name=zh("Save the correction")).click()
    expect(page.locator(".ok.banner")).to_be_visible()
    expect(page.locator("table")).to_contain_text("多打了三个零")
    shoot(page, "12-correction-history")
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, live_server.url, "wang@example.com")
    page.get_by_role("link", name=re.compile(plot_code)).first.click()
    page.get_by_role("link", name=zh("See the work and harvests on your plot")).click()
    item = page.locator(".timeline li", has_text=lot_code)
    expect(item).to_contain_text("5")
    expect(item).not_to_contain_text("5000")
    expect(item.locator(".corrected-note")).to_be_visible()
    shoot(page, "13-corrected-plot-page")
