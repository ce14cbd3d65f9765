"""A family two months into the demo's running season opens its plot on a phone: the name sign in the field, the crop's stage, who tends it, the work with its
photos, and the harvests told a week at a time; then the season's summary and certificate."""

import asyncio

import pytest
from playwright.sync_api import expect

from farm import db
from farm.accounts.models import User
from farm.accounts.services import hash_password
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in

FAMILY = "neighbour1@example.com"  # the demo's running season: plot D01, sign "李华"


async def _let_in(settings) -> None:
    await db.connect(settings)
    try:
        await User.filter(email=FAMILY).update(password_hash=await hash_password("correct horse"))
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
