"""On a phone, in Chinese: the manager finds a subscriber in the list and opens their page,
then writes an announcement to the season's subscribers (a storm, a late box); the family
sees it on their account page. Screenshots at 390x844."""

import asyncio
import re

import pytest
from playwright.sync_api import expect

from farm import db
from farm.land.models import Plan, Season
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import _people, log_in


async def _season(settings) -> str:
    await _people(settings)  # the demo's manager li@coop.cn, and wang@example.com's plot
    await db.connect(settings)
    try:
        plan = await Plan.filter(price_fen=58000).first()
        return (await Season.get(id=plan.season_id)).name
    finally:
        await db.close()


@pytest.fixture
def season_name(live_server, settings) -> str:
    return asyncio.run(_season(settings))


def test_a_manager_writes_to_the_seasons_subscribers_and_the_family_reads_it(
    live_server, season_name, browser_page
):
    page = browser_page
    url = live_server.url
    log_in(page, url, "li@coop.cn")
    page.goto(url + "/manage/subscribers")
    page.get_by_label(zh("Season")).select_option(label=season_name)
    page.get_by_role("button", name=zh("Show")).click()
    row = page.locator("tr", has_text="王小明").first
    expect(row.locator(f'td[data-label="{zh("Boxes sent")}"]')).to_have_text("0")
    page.screenshot(path=SHOTS / "h13-subscribers-390.png", full_page=True)
    row.get_by_role("link", name="王小明").click()
    expect(page.locator("#history")).to_contain_text(zh("Reserved the plot"))
    page.screenshot(path=SHOTS / "h13-subscriber-390.png", full_page=True)

    page.get_by_role("link", name=zh("Announcements")).click()
    page.get_by_role("combobox", name=zh("Season")).select_option(label=season_name)
    page.get_by_role("button", name=zh("Choose this season")).click()
    page.get_by_label(zh("All subscribers of %(season)s") % {"season": season_name}).check()
    page.get_by_label(zh("Subject")).fill("暴雨预警：本周包裹晚一天")
    page.get_by_label(zh("Message (plain text)")).fill(
        "明天有暴雨，田里的活停一天。\n\n16日的包裹会晚一天寄出，请留意。"
    )
    page.screenshot(path=SHOTS / "h13-announcement-form-390.png", full_page=True)
    page.get_by_role("button", name=zh("Send to these subscribers")).click()
    expect(page.locator(".ok.banner")).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(re.compile(r"\d+ 位认购户"))
    expect(facts).to_contain_text("封待发")
    page.screenshot(path=SHOTS / "h13-announcement-sent-390.png", full_page=True)
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, url, "wang@example.com")
    page.goto(url + "/account")
    notices = page.locator("#notices")
    expect(notices).to_contain_text("暴雨预警：本周包裹晚一天")
    expect(notices).to_contain_text("16日的包裹会晚一天寄出")
    notices.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "h13-account-notice-390.png", full_page=True)
