"""A cooperative runs a season without code, on a phone, in Chinese: the platform's admin
onboards a new cooperative and invites its manager; the manager reads the invitation in the
development outbox, joins, adds a picture, sets up a field cut into plots, a season and a
plan, previews and publishes it; a harvest is mistyped (5000 kg on a one-fen plot),
confirmed anyway, then corrected with a reason; the family's plot page shows the corrected
weight with the correction note. Screenshots at 390x844."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from PIL import Image
from playwright.sync_api import expect

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Plan, Plot
from farm.mail import OutboxMailer
from farm.notifications.services import deliver_pending
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in
from tests.e2e.test_farm_stay_journey import _with_db, run
from tests.support import make_active_subscription, make_customer

ADMIN = "root@farm.example"
MANAGER = "zhao@qingshan.example"
FAMILY = "chen@example.com"


def shoot(page, name: str) -> None:
    page.screenshot(path=SHOTS / f"season-{name}-390.png", full_page=True)


def _picture() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (1200, 800), (70, 150, 80))
    for x in range(0, 1200, 40):  # rows of a field, so the picture is one
        image.paste((120, 90, 50), (x, 300, x + 20, 800))
    image.save(out, "JPEG")
    return out.getvalue()


def test_a_new_cooperative_runs_a_season_and_corrects_a_mistyped_harvest(
    live_server, browser_page, settings, tmp_path
):
    try:
        _journey(browser_page, live_server.url, settings, tmp_path)
    except Exception:
        shoot(browser_page, "failure")  # where it stopped, to look at
        raise


def _journey(page, url, settings, tmp_path) -> None:
    page.set_default_timeout(45_000)  # a long journey on a shared machine
    today = datetime.now(UTC).date()

    async def make_admin():
        await sign_up(email=ADMIN, name="平台管理员", password="correct horse", language="zh_CN",
                      role=Role.ADMIN)  # fmt: skip

    run(_with_db(settings, make_admin))
    # The admin onboards the cooperative and invites its manager.
    log_in(page, url, ADMIN)
    page.wait_for_url(url + "/admin")
    page.get_by_role("link", name=zh("New cooperative")).click()
    page.get_by_label(zh("Name in Chinese")).fill("青山村蔬菜合作社")
    page.get_by_label(zh("Name in English")).fill("Qingshan Vegetable Cooperative")
    page.get_by_label(zh("Village")).fill("青山村")
    page.get_by_label(zh("Province")).fill("安徽")
    page.get_by_role("button", name=zh("Create the cooperative")).click()
    page.wait_for_url(re.compile(r"/admin/cooperatives/\d+\?done=created"))
    page.get_by_label(zh("Email")).fill(MANAGER)
    page.get_by_role("button", name=zh("Send the invitation")).click()
    page.wait_for_url(re.compile(r"done=invited"))
    shoot(page, "01-invited")
    page.get_by_role("button", name=zh("Log out")).click()

    # The scheduler's mail job sends it; the manager reads it in the development outbox.
    async def send():
        return await deliver_pending(mailer=OutboxMailer(settings.outbox_dir),
                                     now=datetime.now(UTC))  # fmt: skip

    assert run(_with_db(settings, send)) >= 1
    page.goto(url + "/dev/outbox")
    row = page.locator("tr", has_text=MANAGER).first
    expect(row).to_contain_text("青山村蔬菜合作社")  # the subject names the cooperative
    row.get_by_role("link").first.click()  # the message's page: its HTML and plain text
    mail = page.locator(".mail-text")
    expect(mail).to_contain_text("青山村蔬菜合作社")
    shoot(page, "02-outbox")
    link = mail.locator("a[href*='/invitation/']").first.get_attribute("href")
    page.goto(url + re.search(r"/invitation/\S+", link).group(0))
    page.get_by_label(zh("Your name")).fill("赵经理")
    page.get_by_label(re.compile(zh("Password (at least 8 characters)").split("（")[0])).fill(
        "correct horse"
    )
    page.get_by_role("button", name=zh("Join"), exact=True).click()
    page.wait_for_url(url + "/manage")

    # The cooperative's picture, shown to customers.
    page.goto(url + "/manage/cooperative")
    picture = tmp_path / "village.jpg"
    picture.write_bytes(_picture())
    page.locator("input[name=picture]").set_input_files(str(picture))
    page.get_by_role("button", name=zh("Add the picture")).click()
    page.wait_for_url(re.compile(r"done=picture"))
    expect(page.locator("img.coop-picture")).to_be_visible()
    shoot(page, "03-cooperative")

    # A field, cut into four one-fen plots.
    page.goto(url + "/manage/fields/new")
    page.get_by_label(zh("Name"), exact=True).fill("村东菜地")
    page.get_by_label(zh("Width (m, left to right on the map)")).fill("40")
    page.get_by_label(zh("Height (m, top to bottom on the map)")).fill("10")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/manage/fields/\d+$"))
    page.get_by_label(zh("Code prefix, like A")).fill("Q")
    page.get_by_label(zh("Plot width (m)")).fill("10")
    page.get_by_label(zh("Plot height (m)")).fill("6.67")
    page.get_by_label(zh("Columns")).fill("4")
    page.get_by_label(zh("Rows")).fill("1")
    page.locator("input[name=area_m2]").first.fill("66.67")  # one fen each
    page.get_by_role("button", name=zh("Cut the plots")).click()
    page.wait_for_url(re.compile(r"cut=4"))
    shoot(page, "04-field")

    # A season under way, on sale for a month more, and a plan: a draft, previewed, published.
    page.goto(url + "/manage/seasons/new")
    page.get_by_label(zh("Name"), exact=True).fill("2027 蔬菜季")
    page.get_by_label(zh("Season starts on (this day included)")).fill(
        (today - timedelta(days=10)).isoformat()
    )
    page.get_by_label(zh("Season's last day (included)")).fill(
        (today + timedelta(days=300)).isoformat()
    )
    page.get_by_label(zh("Sale starts on (this day included)")).fill(
        (today - timedelta(days=10)).isoformat()
    )
    page.get_by_label(zh("Sale's last day (included)")).fill(
        (today + timedelta(days=30)).isoformat()
    )
    shoot(page, "05-season")
    page.get_by_role("button", name=zh("Add the season")).click()
    page.wait_for_url(re.compile(r"/manage/seasons/\d+$"))
    page.get_by_role("link", name=zh("Add a plan")).click()
    page.get_by_label(zh("Name"), exact=True).fill("一分地·托管")
    page.locator("select[name=field_id]").select_option(label="村东菜地")
    page.get_by_label(zh("Plot size in m²")).fill("66.67")
    page.get_by_label(zh("Price in yuan, like 580 or 580.50")).fill("580")
    page.get_by_label(zh("Plots offered")).fill("4")
    page.get_by_role("button", name=zh("Save as a draft")).click()
    page.wait_for_url(re.compile(r"/manage/plans/\d+"))
    plan_id = int(re.search(r"/manage/plans/(\d+)", page.url).group(1))
    page.get_by_role("link", name=zh("Preview as customers will see it")).click()
    expect(page.locator("img.coop-picture")).to_be_visible()
    shoot(page, "06-plan-preview")
    page.get_by_role("link", name=zh("Back to the plan in the console")).click()
    page.get_by_role("button", name=zh("Publish this plan")).click()
    page.goto(url + f"/plans/{plan_id}")
    expect(page.get_by_text(zh("Draft preview"), exact=False)).to_have_count(0)

    # A family bought plot Q01 (the sale itself is the customer journey's).
    async def family():
        plan = await Plan.get(id=plan_id)
        plot = await Plot.get(field_id=plan.field_id, code="Q01")
        customer = await make_customer(FAMILY, "陈")
        await make_active_subscription(plan, plot, customer=customer)

    run(_with_db(settings, family))

    # 5000 kg of tomatoes typed for 5: confirmed anyway, then corrected with a reason.
    page.goto(url + "/manage/harvests")
    form = page.locator("form", has=page.get_by_role("button", name=zh("Log the harvest")))
    form.get_by_label(zh("Crop")).select_option(label="番茄")
    form.get_by_label(zh("Plot code")).fill("Q01")
    form.get_by_label(zh("Weight in kg (a count, for what is counted in pieces)")).fill("5000")
    page.get_by_role("button", name=zh("Log the harvest")).click()
    page.get_by_label(zh("The weight is right: log it anyway")).check()
    page.get_by_role("button", name=zh("Log the harvest")).click()
    lot_code = re.search(r"[2-9A-HJ-NP-Z]{8}", page.locator(".ok.banner").text_content()).group(0)
    page.get_by_role("link", name=zh("Correct lot %(code)s") % {"code": lot_code}).click()
    page.get_by_label(zh("Corrected weight in kg")).fill("5")
    page.get_by_label(zh("Why (required, kept with the record)")).fill("多打了三个零")
    page.get_by_role("button", name=zh("Save the correction")).click()
    expect(page.locator("table")).to_contain_text("多打了三个零")
    shoot(page, "07-corrected")
    page.get_by_role("button", name=zh("Log out")).click()

    # The family's plot page: the corrected weight, the note, and who grows it.
    log_in(page, url, FAMILY)
    page.get_by_role("link", name=re.compile("Q01")).first.click()
    page.get_by_role("link", name=zh("See the work and harvests on your plot")).click()
    item = page.locator(".timeline li", has_text=lot_code)
    expect(item).to_contain_text("5")
    expect(item).not_to_contain_text("5000")
    expect(item.locator(".corrected-note")).to_be_visible()
    expect(page.locator(".grown-by")).to_contain_text("青山村蔬菜合作社")
    shoot(page, "08-family-plot")
