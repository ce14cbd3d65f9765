"""The box, on a phone in Chinese: the family sees what the next box should hold and what they
received, follows a shipped box, confirms it arrived and rates it; another box came crushed,
they report it with a photo; the cooperative's manager resolves it on the batch page with
something extra in the next box, and the family reads the reply. Screenshots at 390x844."""

import asyncio
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from farm import db
from farm.fieldwork.models import Crop
from farm.land.models import Season
from farm.shipments.batches import season_ship_days
from farm.shipments.models import Allocation, AllocationState, Batch, Shipment, ShipmentStatus
from farm.subscriptions.models import Subscription
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import _people, log_in
from tests.support import NOW, make_lot


async def _boxes(settings) -> dict:
    """The demo family's two shipped boxes (with rice in the first), and greens picked for the
    next box."""
    code = await _people(settings)
    await db.connect(settings)
    try:
        sub = await Subscription.get(plot__code=code, customer__email="wang@example.com")
        await sub.fetch_related("plot", "season")
        season = await Season.get(id=sub.season_id)
        coop_id = season.cooperative_id
        # the season's last two ship days before today (it began two months ago)
        ship_days = [d for d in season_ship_days(season) if d < date.today()][-2:]
        await Subscription.filter(id=sub.id).update(
            recipient="王小明", phone="13800138000", province="上海", city="上海市",
            address="浦东新区世纪大道 100 号",
            # paid before the first box, so the deliveries page lists its ship day
            activated_at=datetime.combine(ship_days[0] - timedelta(days=1), time(9), tzinfo=UTC),
        )  # fmt: skip
        rice = await Crop.create(cooperative_id=coop_id, name="香米", name_en="Rice",
                                 shelf_life_days=180)  # fmt: skip
        greens = await Crop.create(cooperative_id=coop_id, name="小青菜", name_en="Greens",
                                   shelf_life_days=7)  # fmt: skip
        boxes = []
        for label, ship_on in zip((30, 14), ship_days, strict=True):
            batch, _ = await Batch.get_or_create(  # the demo's running season made its own
                cooperative_id=coop_id, ship_on=ship_on, defaults={"created_at": NOW}
            )
            boxes.append(await Shipment.create(
                batch=batch, subscription=sub, ship_on=ship_on, status=ShipmentStatus.SHIPPED,
                recipient="王小明", phone="13800138000", province="上海", city="上海市",
                address="浦东新区世纪大道 100 号", courier="顺丰速运",
                tracking_no=f"SF10{label}", created_at=NOW, shipped_at=NOW,
                tracking_url=f"https://www.sf-express.com/track?no=SF10{label}",
            ))  # fmt: skip
            lot = await make_lot(rice, field_id=sub.plot.field_id, plot_id=sub.plot_id,
                                 grams=2500, harvested_on=ship_on - timedelta(days=2))  # fmt: skip
            await Allocation.create(
                lot=lot, grams=2500, state=AllocationState.SHIPPED, subscription=sub,
                shipment=boxes[-1], ship_on=ship_on, decided_at=NOW,
            )  # fmt: skip
            await lot.__class__.filter(id=lot.id).update(settled_g=2500)
        await make_lot(greens, field_id=sub.plot.field_id, plot_id=sub.plot_id, grams=1200,
                       harvested_on=date.today())  # fmt: skip
        return {"sub": sub.id, "first": boxes[0].id, "second": boxes[1].id,
                "batch": boxes[1].batch_id}  # fmt: skip
    finally:
        await db.close()


@pytest.fixture
def boxes(live_server, settings) -> dict:
    return asyncio.run(_boxes(settings))


def shoot(page, name):
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def crushed_photo(tmp_path):
    path = tmp_path / "crushed.jpg"
    image = Image.new("RGB", (640, 480), (90, 150, 60))
    for x in range(200, 440):
        for y in range(180, 300):
            image.putpixel((x, y), (120, 90, 40))
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_a_box_is_confirmed_and_a_problem_reported_with_a_photo_is_resolved(
    live_server, boxes, browser_page, tmp_path
):
    page, url, sub = browser_page, live_server.url, boxes["sub"]
    log_in(page, url, "wang@example.com")
    page.goto(f"{url}/account/subscriptions/{sub}/deliveries")  # the season's running total
    expect(page.locator("#received")).to_contain_text("香米")
    expect(page.locator("#received")).to_contain_text("5")  # two boxes of 2.5 kg
    shoot(page, "box-00-received")
    page.goto(f"{url}/account/subscriptions/{sub}")
    expect(page.locator("#next-box")).to_contain_text("小青菜")
    page.locator("#next-box").scroll_into_view_if_needed()
    shoot(page, "box-01-next-box-and-received")

    page.goto(f"{url}/account/subscriptions/{sub}/boxes/{boxes['first']}")
    expect(page.get_by_role("link", name=zh("Follow the box"))).to_have_attribute(
        "href", "https://www.sf-express.com/track?no=SF1030"
    )
    page.get_by_role("button", name=zh("My box arrived")).click()
    expect(page.locator(".ok.banner")).to_have_text(
        zh("Thank you for telling us your box arrived.")
    )
    page.locator(".stars label").nth(4).click()
    page.get_by_label(zh("A word for the farmers (optional)")).fill("米很香，孩子很喜欢")
    page.get_by_role("button", name=zh("Send my rating")).click()
    expect(page.locator("#rating")).to_contain_text("★★★★★")
    shoot(page, "box-02-confirmed-and-rated")
    page.goto(f"{url}/account/subscriptions/{sub}/deliveries")  # rated: stars, not "rate it"
    rated = page.locator("li.delivery", has=page.locator(f'a[href$="/boxes/{boxes["first"]}"]'))
    expect(rated.locator(".rated")).to_contain_text("★★★★★")
    invitation = zh("Did it arrive? Rate it, or tell us of a problem")
    expect(rated.get_by_role("link", name=invitation)).to_have_count(0)
    rated.scroll_into_view_if_needed()
    shoot(page, "box-02b-deliveries-rated")

    page.goto(f"{url}/account/subscriptions/{sub}/boxes/{boxes['second']}")
    page.get_by_label(zh("What went wrong")).fill("箱子被压扁了，青菜都烂了")
    page.get_by_label(zh("A photo (optional)")).set_input_files(str(crushed_photo(tmp_path)))
    shoot(page, "box-03-problem-form")
    page.get_by_role("button", name=zh("Report the problem")).click()
    expect(page.locator(".ok.banner")).to_be_visible()
    expect(page.locator("img.report-photo")).to_be_visible()
    shoot(page, "box-04-problem-reported")
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, url, "li@coop.cn")
    page.goto(f"{url}/manage/shipments/{boxes['batch']}#reports")
    report = page.locator("article.report", has_text="箱子被压扁了")
    expect(report.locator("img.report-photo")).to_be_visible()
    report.get_by_label(zh("Something extra in their next box")).check()
    report.get_by_label(zh("Your words to the family")).fill("非常抱歉，是我们包装没做好。")
    report.get_by_label(zh("For a credit: what the next box carries extra")).fill("多送一斤小青菜")
    report.scroll_into_view_if_needed()
    shoot(page, "box-05-manager-resolves")
    report.get_by_role("button", name=zh("Resolve")).click()
    expect(page.locator("#reports")).to_contain_text("多送一斤小青菜")
    shoot(page, "box-06-manager-resolved")
    page.get_by_role("button", name=zh("Log out")).click()

    log_in(page, url, "wang@example.com")
    page.goto(f"{url}/account/subscriptions/{sub}/boxes/{boxes['second']}")
    expect(page.locator(".resolution")).to_contain_text("非常抱歉，是我们包装没做好。")
    expect(page.locator(".resolution")).to_contain_text("多送一斤小青菜")
    shoot(page, "box-07-family-reads-the-reply")
    page.goto(f"{url}/account/subscriptions/{sub}")
    expect(page.locator("#next-box")).to_contain_text("多送一斤小青菜")
