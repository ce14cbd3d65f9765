"""After a refused submit the keyboard starts from the error summary, and its links move the
focus to the fields in error (390×844, Chinese)."""

from __future__ import annotations

from tests.e2e.conftest import SHOTS

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
