"""Choosing what grows: the console's crop calendar, a family's plan within it until the
cut-off, the reminder and the default plan the scheduler gives (each once), the sowing list
and its CSV, and logging a week's sowing once."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from tortoise.transactions import in_transaction

from farm import web
from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.cropplans import calendar as calendar_service
from farm.cropplans import choosing, rules
from farm.cropplans.models import CalendarCrop, CropCalendar, CropPlan, CropPlanLine, SowingLog
from farm.fieldwork.models import Activity, WorkEntry, WorkEntryPlot, WorkInput
from farm.land.models import Cooperative, Plot, Season
from farm.links import Links
from farm.notifications.models import Notification
from tests.support import (
    NOW,
    count_queries,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_season,
)

LINKS = Links("https://farm.example")
CUTOFF = date(2027, 2, 15)  # the season starts on 2027-03-01 and greens are sown in March


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pages_today(monkeypatch):
    monkeypatch.setattr(web, "now", lambda: NOW)


async def field_with_calendar(plots=4):
    """A season from 2027-03-01 on a field whose calendar has greens (March-April, at least
    5 m², 20 m² in the default plan) and tomatoes (May, seedlings, 30 m² by default)."""
    plan = await make_season(plots=plots)
    season = await Season.get(id=plan.season_id)
    greens = await make_crop(season.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    tomato = await make_crop(season.cooperative_id, "番茄", shelf_life_days=7)
    calendar = await CropCalendar.create(field_id=plan.field_id, cutoff_days=14)
    await CalendarCrop.create(calendar=calendar, crop=greens, sow_months=rules.months_mask([3, 4]),
                              min_area_m2=5, days_to_harvest=40, seed_per_m2="1.5",
                              default_area_m2=20)  # fmt: skip
    await CalendarCrop.create(calendar=calendar, crop=tomato, sow_months=rules.months_mask([5]),
                              min_area_m2=10, days_to_harvest=90, seed_per_m2=3, seedlings=True,
                              default_area_m2=30)  # fmt: skip
    return plan, greens, tomato


async def family(plan, index=0, email="wang@example.com", language="zh_CN"):
    plot = (await Plot.filter(field_id=plan.field_id).order_by("code"))[index]
    customer = await make_customer(email)
    await User.filter(id=customer.id).update(language=language)
    return await make_active_subscription(plan, plot, customer=customer)


async def manager_of(client, plan, email="li@coop.cn"):
    season = await Season.get(id=plan.season_id)
    await sign_up(email=email, name="李经理", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=season.cooperative_id)  # fmt: skip
    return await log_in_client(client, email)


# ---- the family's choice ----


async def test_a_family_chooses_its_crops_within_its_plot_and_sees_them_on_its_plots_page(client):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    token = await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/crops")
    assert page.status_code == 200 and "青菜" in page.text and "2027-02-14" in page.text
    r = await client.post(f"/account/subscriptions/{sub.id}/crops",
                          data={f"area_{greens.id}": "25", f"area_{tomato.id}": "40",
                                "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    plan_row = await CropPlan.get(subscription_id=sub.id)
    assert not plan_row.by_default
    lines = (
        await CropPlanLine.filter(plan=plan_row)
        .order_by("sow_on")
        .values_list("crop_id", "area_m2", "sow_on", "harvest_on")
    )
    assert lines == [(greens.id, D(25), date(2027, 3, 1), date(2027, 4, 10)),
                     (tomato.id, D(40), date(2027, 5, 1), date(2027, 7, 30))]  # fmt: skip
    shown = await client.get(f"/account/subscriptions/{sub.id}")
    assert "青菜" in shown.text and "2027-04" in shown.text and "/crops" in shown.text
    # A change replaces the plan: tomatoes only.
    r = await client.post(f"/account/subscriptions/{sub.id}/crops",
                          data={f"area_{tomato.id}": "60", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    assert await CropPlanLine.filter(plan=plan_row).values_list("crop_id", "area_m2") == [
        (tomato.id, D(60))
    ]


@pytest.mark.parametrize(
    "areas",
    [{"g": "50", "t": "20"}, {"g": "3"}, {"t": "abc"}, {}, {"g": "-5"}],
    ids=["over the plot", "under the least area", "not a number", "nothing", "negative"],
)
async def test_a_plan_outside_the_rules_is_refused_and_changes_nothing(client, areas):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    token = await log_in_client(client, "wang@example.com")
    ids = {"g": greens.id, "t": tomato.id}
    data = {f"area_{ids[k]}": v for k, v in areas.items()}
    r = await client.post(
        f"/account/subscriptions/{sub.id}/crops", data={**data, "csrf_token": token}
    )
    assert r.status_code == 422
    assert not await CropPlan.exists()


async def test_month_by_month_a_family_picks_each_crops_month_and_crops_in_turn_share_the_plot(
    client,
):
    plan, greens, tomato = await field_with_calendar()  # a plot of 66.67 m²
    manager = await manager_of(client, plan)
    r = await client.post(f"/manage/crop-calendars/{plan.field_id}/cutoff",
                          data={"cutoff_days": "14", "monthly": "1", "csrf_token": manager})  # fmt: skip
    assert r.status_code == 303 and (await CropCalendar.get(field_id=plan.field_id)).monthly
    assert (
        'name="monthly" value="1" checked'
        in (await client.get(f"/manage/crop-calendars/{plan.field_id}")).text
    )
    await client.post("/logout", data={"csrf_token": manager})
    sub = await family(plan)
    token = await log_in_client(client, "wang@example.com")
    page = (await client.get(f"/account/subscriptions/{sub.id}/crops")).text
    assert f'name="sow_{greens.id}"' in page and 'value="2027-04-01"' in page
    assert f'name="sow_{tomato.id}"' in page and 'value="2027-05-01"' in page
    url = f"/account/subscriptions/{sub.id}/crops"
    # Greens sown in April grow until 11 May, into the tomatoes' May: 50 + 50 m² at once
    crowded = {f"area_{greens.id}": "50", f"sow_{greens.id}": "2027-04-01",
               f"area_{tomato.id}": "50", f"sow_{tomato.id}": "2027-05-01", "csrf_token": token}  # fmt: skip
    r = await client.post(url, data=crowded)
    assert r.status_code == 422 and "2027-05-01" in r.text and not await CropPlan.exists()
    r = await client.post(url, data={**crowded, f"sow_{greens.id}": "2027-06-01"})
    assert r.status_code == 422 and not await CropPlan.exists()  # not a month greens are sown in
    # Sown in March, greens are harvested on 10 April: the tomatoes have the land after them
    r = await client.post(url, data={**crowded, f"sow_{greens.id}": "2027-03-01"})
    assert r.status_code == 303
    lines = (
        await CropPlanLine.filter(plan__subscription_id=sub.id)
        .order_by("sow_on")
        .values_list("crop_id", "area_m2", "sow_on")
    )
    assert lines == [(greens.id, D(50), date(2027, 3, 1)), (tomato.id, D(50), date(2027, 5, 1))]
    again = (await client.get(url)).text  # the choice shown as saved
    assert 'value="2027-03-01" selected' in again


async def test_after_the_cut_off_the_plan_is_read_only(client):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    token = await log_in_client(client, "wang@example.com")
    await client.post(f"/account/subscriptions/{sub.id}/crops",
                      data={f"area_{greens.id}": "25", "csrf_token": token})  # fmt: skip
    # The cut-off moved back to 2026-11-21, before today (2026-11-23).
    await CropCalendar.filter(field_id=plan.field_id).update(cutoff_days=100)
    page = await client.get(f"/account/subscriptions/{sub.id}/crops")
    assert page.status_code == 200 and "青菜" in page.text and 'name="area_' not in page.text
    r = await client.post(f"/account/subscriptions/{sub.id}/crops",
                          data={f"area_{tomato.id}": "30", "csrf_token": token})  # fmt: skip
    assert r.status_code == 409
    assert await CropPlanLine.all().values_list("crop_id", flat=True) == [greens.id]
    shown = await client.get(f"/account/subscriptions/{sub.id}")
    assert f'/account/subscriptions/{sub.id}/crops"' not in shown.text  # no link to change it


async def test_another_familys_subscription_is_not_found_and_nothing_is_saved(client):
    plan, greens, _ = await field_with_calendar()
    sub = await family(plan)
    await family(plan, 1, email="li@example.com")
    token = await log_in_client(client, "li@example.com")
    assert (await client.get(f"/account/subscriptions/{sub.id}/crops")).status_code == 404
    r = await client.post(f"/account/subscriptions/{sub.id}/crops",
                          data={f"area_{greens.id}": "25", "csrf_token": token})  # fmt: skip
    assert r.status_code == 404 and not await CropPlan.exists()


# ---- the scheduler ----


async def test_the_reminder_goes_once_in_each_familys_language_and_not_to_who_chose(client):
    plan, greens, _ = await field_with_calendar()
    zh = await family(plan, 0, "zh@example.com")
    en = await family(plan, 1, "en@example.com", language="en")
    chose = await family(plan, 2, "chose@example.com")
    customer = await User.get(id=chose.customer_id)
    await choosing.choose_crops(customer=customer, subscription_id=chose.id,
                                posted={f"area_{greens.id}": "10"}, today=date(2027, 1, 1),
                                now=NOW)  # fmt: skip
    early = date(2027, 2, 7)  # 8 days before the cut-off
    assert await choosing.remind_choosers(today=early, now=at(early), links=LINKS) == 0
    day = date(2027, 2, 10)
    assert await choosing.remind_choosers(today=day, now=at(day), links=LINKS) == 2
    assert await choosing.remind_choosers(today=day, now=at(day), links=LINKS) == 0
    later = date(2027, 2, 14)
    assert await choosing.remind_choosers(today=later, now=at(later), links=LINKS) == 0
    mails = {n.key: n for n in await Notification.all()}
    assert set(mails) == {f"crop-choice:{zh.id}", f"crop-choice:{en.id}"}
    assert "2027-02-14" in mails[f"crop-choice:{zh.id}"].subject
    assert "选择" in mails[f"crop-choice:{zh.id}"].subject
    assert mails[f"crop-choice:{en.id}"].subject.startswith("Choose what grows")
    assert (
        "Bok choy" in mails[f"crop-choice:{en.id}"].body
        or "青菜" in mails[f"crop-choice:{en.id}"].body
    )
    assert f"/account/subscriptions/{en.id}/crops" in mails[f"crop-choice:{en.id}"].body


async def test_the_default_plan_is_given_from_the_cut_off_once_and_never_over_a_choice(
    client, monkeypatch
):
    monkeypatch.setattr(choosing, "CHUNK", 2)  # three chunks for five families
    plan, greens, tomato = await field_with_calendar(plots=6)
    subs = [await family(plan, i, f"f{i}@example.com") for i in range(6)]
    chooser = await User.get(id=subs[0].customer_id)
    await choosing.choose_crops(customer=chooser, subscription_id=subs[0].id,
                                posted={f"area_{tomato.id}": "60"}, today=date(2027, 1, 1),
                                now=NOW)  # fmt: skip
    before = date(2027, 2, 14)
    assert await choosing.give_default_plans(today=before, now=at(before), links=LINKS) == 0
    assert await choosing.give_default_plans(today=CUTOFF, now=at(CUTOFF), links=LINKS) == 5
    assert await choosing.give_default_plans(today=CUTOFF, now=at(CUTOFF), links=LINKS) == 0
    later = date(2027, 3, 20)  # a run days later: nothing more
    assert await choosing.give_default_plans(today=later, now=at(later), links=LINKS) == 0
    assert await CropPlan.filter(by_default=True).count() == 5
    own = await CropPlan.get(subscription_id=subs[0].id)
    assert not own.by_default
    assert await CropPlanLine.filter(plan=own).values_list("crop_id", "area_m2") == [
        (tomato.id, D(60))
    ]
    given = await CropPlan.get(subscription_id=subs[3].id)
    assert sorted(
        await CropPlanLine.filter(plan=given).values_list("crop_id", "area_m2")
    ) == sorted([(greens.id, D(20)), (tomato.id, D(30))])
    # each family given the plan is told once what grows (and the chooser is not)
    told = {n.key: n for n in await Notification.filter(key__startswith="crop-default:")}
    assert set(told) == {f"crop-default:{s.id}" for s in subs[1:]}
    mail = told[f"crop-default:{subs[3].id}"]
    assert "合作社" in mail.subject and "青菜" in mail.body and "20 平方米" in mail.body
    assert f"/account/subscriptions/{subs[3].id}/plot" in mail.body


async def test_the_scheduler_job_runs_twice_and_after_a_gap_without_doubling(client):
    from scheduler import jobs

    plan, *_ = await field_with_calendar()
    await family(plan)

    class Runtime:
        links = LINKS

    day = date(2027, 2, 12)
    assert await jobs.settle_crop_plans(Runtime, today=day, now=at(day)) == 1  # the reminder
    assert await jobs.settle_crop_plans(Runtime, today=day, now=at(day)) == 0
    gap = date(2027, 4, 2)  # the scheduler was down over the cut-off
    assert await jobs.settle_crop_plans(Runtime, today=gap, now=at(gap)) == 1  # the plan
    assert await jobs.settle_crop_plans(Runtime, today=gap, now=at(gap)) == 0
    keys = set(await Notification.all().values_list("key", flat=True))
    assert len(keys) == 2 and await CropPlan.all().count() == 1  # the reminder, the plan's mail


# ---- the console ----


async def test_a_manager_keeps_the_calendar_and_bad_rows_are_refused(client):
    plan = await make_season()
    season = await Season.get(id=plan.season_id)
    token = await manager_of(client, plan)
    page = await client.get(f"/manage/crop-calendars/{plan.field_id}")
    assert page.status_code == 200
    assert "/manage/crop-calendars" in (await client.get("/manage/crop-calendars")).text
    greens = await make_crop(season.cooperative_id, "苋菜", shelf_life_days=3, leafy=True)
    row = {"crop_id": str(greens.id), "months": "3-4，6", "min_area_m2": "5",
           "days_to_harvest": "40", "seed_per_m2": "1.5", "seedlings": "",
           "default_area_m2": "20", "csrf_token": token}  # fmt: skip
    for bad in ({"months": "13"}, {"months": ""}, {"min_area_m2": "0"}, {"days_to_harvest": "x"},
                {"crop_id": "999999"}, {"default_area_m2": "2"}):  # fmt: skip
        r = await client.post(f"/manage/crop-calendars/{plan.field_id}", data={**row, **bad})
        assert r.status_code == 422, bad
    assert not await CalendarCrop.exists()
    r = await client.post(f"/manage/crop-calendars/{plan.field_id}", data=row)
    assert r.status_code == 303
    saved = await CalendarCrop.get(crop_id=greens.id)
    assert rules.months_of(saved.sow_months) == [3, 4, 6] and saved.min_area_m2 == D(5)
    again = await client.post(f"/manage/crop-calendars/{plan.field_id}", data=row)
    assert again.status_code == 422 and await CalendarCrop.all().count() == 1
    edit = f"/manage/crop-calendars/{plan.field_id}/crops/{saved.id}"
    assert (await client.get(edit)).status_code == 200
    r = await client.post(edit, data={**row, "days_to_harvest": "45"})
    assert r.status_code == 303 and (await CalendarCrop.get(id=saved.id)).days_to_harvest == 45
    r = await client.post(f"/manage/crop-calendars/{plan.field_id}/cutoff",
                          data={"cutoff_days": "21", "csrf_token": token})  # fmt: skip
    assert (
        r.status_code == 303 and (await CropCalendar.get(field_id=plan.field_id)).cutoff_days == 21
    )
    r = await client.post(f"{edit}/remove", data={"csrf_token": token})
    assert r.status_code == 303 and not await CalendarCrop.exists()


async def test_another_cooperatives_calendar_and_sowing_list_are_not_found(client):
    plan, greens, _ = await field_with_calendar()
    other = await Cooperative.create(name="别的合作社")
    await sign_up(email="x@coop.cn", name="外人", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    token = await log_in_client(client, "x@coop.cn")
    row = await CalendarCrop.get(crop_id=greens.id)
    base = f"/manage/crop-calendars/{plan.field_id}"
    for path in (base, f"{base}/crops/{row.id}", f"{base}/sowing", f"{base}/sowing.csv"):
        assert (await client.get(path)).status_code == 404, path
    r = await client.post(f"{base}/crops/{row.id}/remove", data={"csrf_token": token})
    assert r.status_code == 404 and await CalendarCrop.exists(id=row.id)


async def plans_chosen(plan, greens, tomato):
    subs = [await family(plan, i, f"f{i}@example.com") for i in range(3)]
    for sub, posted in zip(
        subs,
        ({greens.id: "20", tomato.id: "40"}, {greens.id: "10"}, {tomato.id: "30"}),
        strict=True,
    ):
        customer = await User.get(id=sub.customer_id)
        await choosing.choose_crops(customer=customer, subscription_id=sub.id,
                                    posted={f"area_{k}": v for k, v in posted.items()},
                                    today=date(2027, 1, 1), now=NOW)  # fmt: skip
    return subs


async def test_the_sowing_list_gives_each_weeks_plots_crops_areas_and_seed(client):
    plan, greens, tomato = await field_with_calendar()
    await plans_chosen(plan, greens, tomato)
    await manager_of(client, plan)
    base = f"/manage/crop-calendars/{plan.field_id}/sowing"
    page = await client.get(base)  # the first week not logged: 2027-03-01 (a Monday)
    assert page.status_code == 200
    assert "2027-03-01" in page.text and "T01" in page.text and "T02" in page.text
    assert "30 克" in page.text and "15 克" in page.text  # 20 m² and 10 m² at 1.5 g
    assert "T03" not in page.text.split("2027-03-01")[-1].split("</table>")[0]
    may = await client.get(base, params={"season": plan.season_id, "week": "2027-04-26"})
    assert may.status_code == 200 and "120 株苗" in may.text and "90 株苗" in may.text
    assert (await client.get(base, params={"week": "2027-03-08"})).status_code == 404
    csv = await client.get(f"{base}.csv", params={"season": plan.season_id})
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    rows = [line.split(",") for line in text.strip().split("\r\n")[1:]]
    assert [r[:5] for r in rows] == [
        ["2027-03-01", "2027-03-01", "T01", "青菜", "20"],
        ["2027-03-01", "2027-03-01", "T02", "青菜", "10"],
        ["2027-04-26", "2027-05-01", "T01", "番茄", "40"],
        ["2027-04-26", "2027-05-01", "T03", "番茄", "30"],
    ]


async def test_logging_a_weeks_sowing_makes_one_work_entry_however_often_it_is_clicked(client):
    plan, greens, tomato = await field_with_calendar()
    await plans_chosen(plan, greens, tomato)
    token = await manager_of(client, plan)
    log = f"/manage/crop-calendars/{plan.field_id}/sowing/log"
    data = {"season": str(plan.season_id), "week": "2027-03-01", "csrf_token": token}
    r = await client.post(log, data=data)
    assert r.status_code == 303
    again = await client.post(log, data=data)
    assert again.status_code == 409
    entry = await WorkEntry.get()
    assert entry.activity == Activity.SOWING and not entry.whole_field
    plots = await WorkEntryPlot.filter(entry=entry).values_list("plot__code", flat=True)
    assert sorted(plots) == ["T01", "T02"]
    assert await WorkInput.filter(entry=entry).values_list("name", "dose") == [("青菜", "45 克")]
    assert await SowingLog.filter(entry=entry).count() == 1
    page = await client.get(f"/manage/crop-calendars/{plan.field_id}/sowing",
                            params={"season": plan.season_id, "week": "2027-03-01"})  # fmt: skip
    assert "sowing/log" not in page.text


async def test_console_crop_pages_make_a_fixed_number_of_queries(client):
    plan, greens, tomato = await field_with_calendar(plots=12)
    token = await manager_of(client, plan)
    assert token
    base = f"/manage/crop-calendars/{plan.field_id}"
    for path in ("/manage/crop-calendars", base, f"{base}/sowing"):
        await client.get(path)  # warm: the default crops are made on first sight
    counts = {}
    for n in (2, 10):
        for i in range(await CropPlan.all().count(), n):
            sub = await family(plan, i, f"q{i}@example.com")
            customer = await User.get(id=sub.customer_id)
            await choosing.choose_crops(customer=customer, subscription_id=sub.id,
                                        posted={f"area_{greens.id}": "20",
                                                f"area_{tomato.id}": "30"},
                                        today=date(2027, 1, 1), now=NOW)  # fmt: skip
        for path in ("/manage/crop-calendars", base, f"{base}/sowing"):
            with count_queries() as q:
                r = await client.get(path)
            assert r.status_code == 200
            counts.setdefault(path, []).append(q.count)
    for path, (few, many) in counts.items():
        assert few == many and many <= 12, (path, counts)


async def test_the_crop_page_makes_at_most_eight_queries(client):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    await log_in_client(client, "wang@example.com")
    await choosing.choose_crops(customer=await User.get(id=sub.customer_id),
                                subscription_id=sub.id,
                                posted={f"area_{greens.id}": "20", f"area_{tomato.id}": "30"},
                                today=date(2027, 1, 1), now=NOW)  # fmt: skip
    with count_queries() as q:
        r = await client.get(f"/account/subscriptions/{sub.id}/crops")
    assert r.status_code == 200 and q.count <= 8


async def test_the_plots_page_reads_what_grows_in_two_queries_and_none_without_a_calendar(
    client,
):
    plan, greens, tomato = await field_with_calendar()
    sub = await family(plan)
    await log_in_client(client, "wang@example.com")
    path = f"/account/subscriptions/{sub.id}"
    with count_queries() as before:
        await client.get(path)
    await choosing.choose_crops(customer=await User.get(id=sub.customer_id),
                                subscription_id=sub.id, posted={f"area_{greens.id}": "20"},
                                today=date(2027, 1, 1), now=NOW)  # fmt: skip
    with count_queries() as chosen:
        page = await client.get(path)
    assert "青菜" in page.text and chosen.count == before.count
    await CalendarCrop.all().delete()
    await CropCalendar.all().delete()
    with count_queries() as without:
        page = await client.get(path)
    assert without.count == before.count - 2 and 'id="crops"' not in page.text


async def test_a_calendar_kept_by_the_console_costs_the_plots_page_one_query_and_follows_its_rows(
    client,
):
    plan, greens, tomato = await field_with_calendar()
    calendar = await CropCalendar.get(field_id=plan.field_id)
    sub = await family(plan)
    manager_token = await manager_of(client, plan)
    assert manager_token
    manager = await User.get(email="li@coop.cn")
    tomato_row = await CalendarCrop.get(calendar=calendar, crop=tomato)
    await calendar_service.remove_row(manager=manager, field_id=plan.field_id, row_id=tomato_row.id)
    await calendar.refresh_from_db()
    assert calendar.sow_months == rules.months_mask([3, 4])  # the greens' months only
    await calendar_service.add_row(manager=manager, field_id=plan.field_id, values={
        "crop_id": str(tomato.id), "months": "5", "min_area_m2": "10", "days_to_harvest": "90",
        "seed_per_m2": "3", "seedlings": "1", "default_area_m2": "30"})  # fmt: skip
    greens_row = await CalendarCrop.get(calendar=calendar, crop=greens)
    await calendar_service.update_row(manager=manager, field_id=plan.field_id,
                                      row_id=greens_row.id, values={
        **calendar_service.row_form(greens_row), "months": "4"})  # fmt: skip
    await calendar.refresh_from_db()
    assert calendar.sow_months == rules.months_mask([4, 5])
    client.cookies.clear()
    await log_in_client(client, "wang@example.com")
    path = f"/account/subscriptions/{sub.id}"
    with count_queries() as kept:
        page = await client.get(path)
    card = page.text[page.text.index('id="crops"') :]
    assert "2027-03-17" in card[: card.index("</section>")]  # 14 days before 1 April, last day
    await CalendarCrop.all().delete()
    await CropCalendar.all().delete()
    with count_queries() as without:
        await client.get(path)
    assert kept.count == without.count + 1  # the plan's lines only


async def test_an_unpaid_subscription_sees_the_calendar_but_chooses_nothing_yet(client):
    from farm.subscriptions.models import Subscription

    plan, greens, _ = await field_with_calendar()
    sub = await family(plan)
    await Subscription.filter(id=sub.id).update(status="pending_payment")
    token = await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/crops")
    assert page.status_code == 200 and "付款到账后" in page.text
    r = await client.post(f"/account/subscriptions/{sub.id}/crops",
                          data={f"area_{greens.id}": "25", "csrf_token": token})  # fmt: skip
    assert r.status_code == 409 and "付款到账后才能" in r.text and not await CropPlan.exists()


@pytest.mark.postgres
async def test_two_managers_changing_one_calendar_at_once_keep_both_rows_months(conn):
    """Each change writes the months of the rows it reads, so the calendar's row is locked
    before they are read: the second change reads the first's row once it is committed.
    (tortoise drops FOR UPDATE from a values_list query: that lock was once no lock, and the
    second change wrote back the months without the first's row.)"""
    plan = await make_season(plots=1)
    field = await plan.field
    calendar = await CropCalendar.create(field_id=field.id)
    crops = [await make_crop(field.cooperative_id, name) for name in ("大米", "玉米")]

    def row(crop, months: int) -> dict:
        return dict(calendar_id=calendar.id, crop_id=crop.id, sow_months=months,
                    min_area_m2=D(1), days_to_harvest=90, seed_per_m2=D(1))  # fmt: skip

    await CalendarCrop.create(**row(crops[0], 0b1))
    added, go_on = asyncio.Event(), asyncio.Event()

    async def first_manager():  # adds a row of May, keeping its months once told to go on
        async with in_transaction() as tx:
            await CropCalendar.select_for_update().using_db(tx).get(id=calendar.id)
            await CalendarCrop.create(**row(crops[1], 0b10000), using_db=tx)
            added.set()
            await go_on.wait()
            await calendar_service.keep_sow_months(calendar.id, tx)

    async def second_manager():  # keeps the months after a change of its own
        async with in_transaction() as tx:
            await calendar_service.keep_sow_months(calendar.id, tx)

    first = asyncio.create_task(first_manager())
    await added.wait()
    second = asyncio.create_task(second_manager())
    await asyncio.sleep(0.3)  # the second has read (or waits to read) the rows
    go_on.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    await calendar.refresh_from_db()
    assert calendar.sow_months == 0b10001
