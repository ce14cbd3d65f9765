"""A manager keeps the crop catalogue (eggs counted in pieces) and adds a plan as a draft,
previews it as customers will see it, and publishes it: screenshots at a phone's and a
laptop's size, in Chinese."""

import asyncio

import pytest

from farm import db
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Cooperative, Plan
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in

SIZES = {"390": {"width": 390, "height": 844}, "1366": {"width": 1366, "height": 900}}


async def _manager(settings) -> int:
    await db.connect(settings)
    try:
        coop = await Cooperative.first()
        await sign_up(email="li@coop.cn", name="李经理", password="correct horse", language="zh_CN",
                      role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
        return (await Plan.filter(price_fen=58000).first()).season_id
    finally:
        await db.close()


@pytest.fixture
def season_id(live_server, settings) -> int:
    return asyncio.run(_manager(settings))


def test_a_manager_counts_eggs_in_pieces_and_publishes_a_draft_plan_after_previewing_it(
    live_server, season_id, browser_page
):
    page = browser_page
    url = live_server.url
    log_in(page, url, "li@coop.cn")
    page.goto(url + "/manage/crops")
    page.get_by_role("link", name="土鸡蛋").click()
    page.get_by_label(zh("Harvested and shipped in")).select_option("pieces")
    page.get_by_role("button", name=zh("Save"), exact=True).click()
    assert zh("The crop is saved.") in page.content()
    page.goto(url + "/manage/crops")
    assert zh("pieces") in page.content()
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"catalogue-{name}.png", full_page=True)

    page.goto(url + f"/manage/seasons/{season_id}/plans/new")
    page.get_by_label(zh("Name"), exact=True).fill("草稿方案")
    page.locator("select[name=field_id]").select_option(index=1)
    size_text = page.locator("ul.sizes li").first.text_content()
    area = size_text.split(":")[1].split("m²")[0].split("平方米")[0].strip()
    page.get_by_label(zh("Plot size in m²")).fill(area)
    page.get_by_label(zh("Price in yuan, like 580 or 580.50")).fill("680")
    page.get_by_label(zh("Plots offered")).fill("3")
    page.get_by_role("button", name=zh("Save as a draft")).click()
    assert zh("The plan is saved.") in page.content(), page.content()
    page.get_by_role("link", name=zh("Preview as customers will see it")).click()
    assert zh("Draft preview: only your cooperative's managers see this page. Customers "
              "will see it like this once the plan is published.") in page.content()  # fmt: skip
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"draft-preview-{name}.png", full_page=True)
    page.get_by_role("link", name=zh("Back to the plan in the console")).click()
    page.get_by_role("button", name=zh("Publish this plan")).click()
    page.goto(url + "/")
    assert "草稿方案" in page.content()
