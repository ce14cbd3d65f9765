"""After a refused submit the keyboard starts from the error summary, and its links move the
focus to the fields in error (390×844, Chinese)."""

from __future__ import annotations

from tests.e2e.conftest import SHOTS
from tests.e2e.test_catalogue_and_drafts_journey import season_id  # noqa: F401 (the manager)
from tests.e2e.test_farm_log_journey import log_in

FOCUSED = "() => ({cls: document.activeElement.className, name: document.activeElement.name || ''})"


def test_focus_lands_on_the_error_summary_and_its_links_reach_the_fields(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/signup")
    page.fill("input[name=email]", "不是邮箱")
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.evaluate(FOCUSED)["cls"] == "error banner error-summary"
    page.screenshot(path=str(SHOTS / "error-summary-signup.png"), full_page=True)
    page.keyboard.press("Tab")  # the first link of the summary: to the name field
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#f-name"
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["name"] == "name"
    page.click(".error-summary a[href='#f-email']")
    assert page.evaluate(FOCUSED)["name"] == "email"


def test_a_refused_harvest_in_the_console_starts_from_its_summary_which_reaches_the_weight(
    live_server,
    season_id,  # noqa: F811 (the fixture: the demo's manager)
    browser_page,
):
    page = browser_page
    log_in(page, live_server.url, "li@coop.cn")
    page.goto(f"{live_server.url}/manage/harvests")
    page.fill("input[name=plot_code]", "A01")
    page.fill("input[name=kg]", "很多")  # not a weight
    page.click("form[action='/manage/harvests'] button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.evaluate(FOCUSED)["cls"] == "error banner error-summary"
    page.screenshot(path=str(SHOTS / "error-summary-harvest-390.png"))
    page.click(".error-summary a[href='#f-kg']")
    assert page.evaluate(FOCUSED)["name"] == "kg"
    assert page.locator("#f-kg").get_attribute("aria-invalid") == "true"
