"""A family chooses what grows on its plot from a phone, in Chinese: the field's calendar
lists what can be sown, a plan larger than the plot is refused beside its field, a plan that
fits is saved, and the plot's page then says what grows and when it is harvested. The
cooperative's sowing list for the week shows the plot (390×844 and 1366×900)."""

from __future__ import annotations

from datetime import UTC, datetime

from farm import db
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.cropplans import rules
from farm.cropplans.models import CalendarCrop, CropCalendar
from farm.fieldwork.models import Crop
from farm.land.models import Plan, Plot, Season
from tests.e2e.conftest import SHOTS
from tests.e2e.test_customer_journey import zh
from tests.e2e.test_farm_log_journey import log_in
from tests.e2e.test_farm_stay_journey import run
from tests.support import make_active_subscription

CUSTOMER = "wang@example.com"


async def _family_on_a_field_with_a_calendar(settings) -> dict:
    """On top of the demo: the season on sale's first plan's field keeps a calendar (greens in
    March and April, tomatoes in May), and wang@example.com has paid for one of its plots."""
    await db.connect(settings)
    try:
        today = settings.local_date(datetime.now(UTC))
        season = await Season.filter(starts_on__gt=today).order_by("starts_on").first()
        plan = await Plan.filter(season=season).order_by("id").first()
        coop_id = season.cooperative_id
        greens = await Crop.filter(cooperative_id=coop_id, leafy=True).order_by("id").first()
        tomato = await Crop.filter(cooperative_id=coop_id, leafy=False).order_by("id").first()
        calendar, _ = await CropCalendar.get_or_create(field_id=plan.field_id)
        await CalendarCrop.filter(calendar=calendar).delete()
        await CalendarCrop.create(calendar=calendar, crop=greens, sow_months=rules.months_mask([3, 4]),
                                  min_area_m2=5, days_to_harvest=40, seed_per_m2="1.5",
                                  default_area_m2=20)  # fmt: skip
        await CalendarCrop.create(calendar=calendar, crop=tomato, sow_months=rules.months_mask([5]),
                                  min_area_m2=10, days_to_harvest=90, seed_per_m2=3,
                                  seedlings=True, default_area_m2=30)  # fmt: skip
        customer = await sign_up(email=CUSTOMER, name="王小明", password="correct horse",
                                 language="zh_CN")  # fmt: skip
        plot = await Plot.filter(field_id=plan.field_id).order_by("-code").first()
        sub = await make_active_subscription(plan, plot, customer=customer)
        await sign_up(email="li@coop.cn", name="李经理", password="correct horse",
                      language="zh_CN", role=Role.MANAGER, cooperative_id=coop_id)  # fmt: skip
        return {"sub_id": sub.id, "area": plot.area_m2, "greens": greens.id,
                "tomato": tomato.id, "greens_name": greens.name, "field_id": plan.field_id,
                "season_id": season.id, "code": plot.code}  # fmt: skip
    finally:
        await db.close()


def test_a_family_chooses_its_crops_on_a_phone_and_its_plot_page_says_what_grows(
    settings, live_server, browser_page
):
    w = run(_family_on_a_field_with_a_calendar(settings))
    page = browser_page
    url = live_server.url
    log_in(page, url, CUSTOMER)
    page.goto(f"{url}/account/subscriptions/{w['sub_id']}")
    page.locator("#crops a.button").click()
    page.wait_for_url(f"**/account/subscriptions/{w['sub_id']}/crops")
    page.screenshot(path=str(SHOTS / "crops-choose-zh-390.png"), full_page=True)
    too_much = str(int(w["area"]) + 10)
    page.fill(f"input[name=area_{w['greens']}]", too_much)  # more than the whole plot
    page.get_by_role("button", name=zh("Save my crops")).click()
    page.wait_for_selector(".error-summary")
    page.screenshot(path=str(SHOTS / "crops-refused-zh-390.png"), full_page=True)
    page.fill(f"input[name=area_{w['greens']}]", "20")
    page.fill(f"input[name=area_{w['tomato']}]", "")
    page.get_by_role("button", name=zh("Save my crops")).click()
    page.get_by_text(zh("Your crops are saved.")).wait_for()
    page.goto(f"{url}/account/subscriptions/{w['sub_id']}")
    card = page.locator("#crops").inner_text()
    assert w["greens_name"] in card
    page.locator("#crops").screenshot(path=str(SHOTS / "crops-on-plot-page-zh-390.png"))

    page.context.clear_cookies()  # the cooperative's manager, in the same browser
    log_in(page, url, "li@coop.cn")
    page.goto(f"{url}/manage/crop-calendars/{w['field_id']}/sowing?season={w['season_id']}")
    body = page.locator("main").inner_text()
    assert w["code"] in body and w["greens_name"] in body
    for name, size in {"390": (390, 844), "1366": (1366, 900)}.items():
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.screenshot(path=str(SHOTS / f"crops-sowing-list-zh-{name}.png"), full_page=True)

    # The manager lets families choose month by month; the family sows its greens in April
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/manage/crop-calendars/{w['field_id']}")
    page.get_by_label(zh("Families choose each crop's sowing month; crops that grow one after "
                         "the other share the plot's land")).check()  # fmt: skip
    page.locator("#cutoff button[type=submit]").click()
    page.get_by_text(zh("The calendar is saved.")).wait_for()
    page.context.clear_cookies()
    log_in(page, url, CUSTOMER)
    page.goto(f"{url}/account/subscriptions/{w['sub_id']}/crops")
    month = page.locator(f"select[name=sow_{w['greens']}]")
    options = month.locator("option").all_inner_texts()
    assert len(options) >= 2, options  # March and April
    april = month.locator("option").last.get_attribute("value")
    month.select_option(april)
    page.screenshot(path=str(SHOTS / "crops-choose-monthly-zh-390.png"), full_page=True)
    page.get_by_role("button", name=zh("Save my crops")).click()
    page.get_by_text(zh("Your crops are saved.")).wait_for()
    assert month.input_value() == april and april.endswith("-04-01")
    page.goto(f"{url}/account/subscriptions/{w['sub_id']}")
    assert "04-01" in page.locator("#crops").inner_text()
