"""A family two months into the demo's running season opens its plot on a phone: the name sign in the field, the crop's stage, who tends it, the work with its
photos, and the harvests told a week at a time; then the season's summary and certificate."""

import asyncio

import pytest
from PIL import Image
from playwright.sync_api import expect

from farm import db
from farm.accounts.models import Role, User
from farm.accounts.services import hash_password, sign_up
from farm.land.models import Cooperative
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in

FAMILY = "neighbour1@example.com"  # the demo's running season: plot D01, sign "李华"


async def _let_in(settings) -> None:
    await db.connect(settings)
    try:
        await User.filter(email=FAMILY).update(password_hash=await hash_password("correct horse"))
        coop = await Cooperative.first()
        await sign_up(email="li@coop.cn", name="李经理", password="correct horse",
                      language="zh_CN", role=Role.MANAGER, cooperative_id=coop.id)  # fmt: skip
    finally:
        await db.close()


@pytest.fixture
def family(live_server, settings) -> str:
    asyncio.run(_let_in(settings))  # before the browser: Playwright keeps a loop running
    return live_server.url


def test_the_mid_season_family_reads_its_plot_as_a_story_with_photos(family, browser_page):
    page = browser_page
    log_in(page, family, FAMILY)
    page.get_by_role("link", name="D01").first.click()
    page.get_by_role("link", name=zh("See the work and harvests on your plot")).click()

    expect(page.locator("h1.sign")).to_have_text(
        zh("The %(name)s family's plot") % {"name": "李华"}
    )
    sign = page.locator(".sign-photo img")
    expect(sign).to_be_visible()
    assert sign.evaluate("img => img.naturalWidth") > 0  # the sign's photo, served to its family
    expect(page.locator(".stages li.now")).to_have_text(zh("Harvest"))
    tenders = page.locator(".tenders")
    expect(tenders).to_contain_text("周秀英家")  # agreed to be shown
    expect(tenders).not_to_contain_text("王桂兰家")  # worked here, did not agree
    expect(tenders.locator("img")).to_have_count(1)
    first_photo = page.locator(".story-card.work .story-photos img").first
    first_photo.scroll_into_view_if_needed()
    expect(first_photo).to_be_visible()
    assert first_photo.evaluate("img => img.complete && img.naturalWidth") > 0
    expect(page.locator(".story-card.harvest").first).to_contain_text(
        zh("Harvested from your plot")
    )
    page.screenshot(path=SHOTS / "story-1-top.png")
    page.screenshot(path=SHOTS / "story-2-full.png", full_page=True)
    page.locator(".story-card.work").last.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "story-2-first-work.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sideways

    page.get_by_role("link", name=zh("Season summary")).click()
    expect(page.locator(".summary-numbers")).to_contain_text(zh("photos of your plot"))
    page.screenshot(path=SHOTS / "story-3-summary.png", full_page=True)
    response = page.request.get(
        family
        + page.get_by_role("link", name=zh("Certificate of the plot (PDF)")).get_attribute("href")
    )
    assert response.ok and response.body().startswith(b"%PDF")
    (SHOTS / "story-4-certificate.pdf").write_bytes(response.body())


def test_the_cooperative_uploads_a_set_of_photos_tapping_plots_and_the_family_sees_them(
    family, browser_page, tmp_path
):
    page = browser_page
    log_in(page, family, "li@coop.cn")
    page.goto(family + "/manage/photos")
    page.get_by_role("link", name="南坡菜园").click()
    shots = []
    for i, colour in enumerate(((90, 160, 60), (200, 170, 90))):
        path = tmp_path / f"field-{i}.jpg"
        Image.new("RGB", (800, 600), colour).save(path, "JPEG")
        shots.append(str(path))
    page.get_by_label(zh("Photos (up to 12 at once, 10 MB each)")).set_input_files(shots)
    page.locator(".tap-plot", has_text="D01").click()
    page.locator(".tap-plot", has_text="D03").click()
    page.get_by_label(zh("A line for the families (optional)")).fill("霜降前的菜地")
    page.screenshot(path=SHOTS / "story-5-upload.png", full_page=True)
    page.get_by_role("button", name=zh("Upload the photos")).click()
    expect(page.locator(".ok.banner")).to_be_visible()
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, family, FAMILY)
    page.goto(page.url.split("/account")[0] + "/account")
    page.get_by_role("link", name="D01").first.click()
    page.get_by_role("link", name=zh("See the work and harvests on your plot")).click()
    newest = page.locator(".story-card.work", has_text="霜降前的菜地")
    expect(newest).to_be_visible()
    expect(newest.locator("img")).to_have_count(2)
