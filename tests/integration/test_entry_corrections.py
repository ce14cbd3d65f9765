"""Work entries corrected or voided by a manager, with the audit trail; the 24-hour rule for a
household's day; the correction pages and the audit page over HTTP, scoped to the manager's
own cooperative."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from farm.audit.models import Correction, CorrectionAction, RecordKind
from farm.fieldwork.models import Activity, HarvestLot, Household, WorkEntry, WorkShift
from farm.fieldwork.reports import household_report
from farm.land.models import Plot, Season
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import csrf_of, log_in_client, make_crop, make_lot

TODAY = date.today()
DAY = (TODAY - timedelta(days=3)).isoformat()


async def _log(client, token, plan, household, hours, day=DAY, plots="T01"):
    return await client.post("/manage/log", data={
        "field_id": str(plan.field_id), "plot_codes": plots, "activity": "weeding",
        "worked_on": day, "notes": "", f"hours_{household.id}": hours, "csrf_token": token})  # fmt: skip


async def _household(plan, name="张家"):
    await plan.fetch_related("field")
    return await Household.create(cooperative_id=plan.field.cooperative_id, name=name,
                                  wage_fen_per_hour=2000)  # fmt: skip


async def test_a_household_cannot_be_paid_for_more_than_24_hours_in_a_day(client):
    plan, _, token = await coop_with_manager(client)
    household = await _household(plan)
    assert (await _log(client, token, plan, household, "20")).status_code == 303
    refused = await _log(client, token, plan, household, "20")
    assert refused.status_code == 422
    assert "24" in refused.text and "张家" in refused.text
    assert await WorkEntry.all().count() == 1
    other_day = (TODAY - timedelta(days=4)).isoformat()
    assert (await _log(client, token, plan, household, "20", day=other_day)).status_code == 303


async def test_an_entry_is_corrected_with_a_reason_and_the_audit_keeps_it(client):
    plan, manager, token = await coop_with_manager(client)
    household = await _household(plan)
    await _log(client, token, plan, household, "20")
    entry = await WorkEntry.get()
    page = await client.get(f"/manage/log/{entry.id}/correct")
    assert page.status_code == 200 and 'name="reason"' in page.text
    r = await client.post(f"/manage/log/{entry.id}/correct", data={
        "activity": "sowing", "worked_on": DAY, "notes": "", f"hours_{household.id}": "2",
        "reason": "typed 20 for 2", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    entry = await WorkEntry.get(id=entry.id)
    assert (entry.activity, entry.corrected_at is not None) == (Activity.SOWING, True)
    assert [s.hours for s in await WorkShift.filter(entry_id=entry.id)] == [Decimal("2.00")]
    row = await Correction.get(kind=RecordKind.WORK_ENTRY, record_id=entry.id)
    assert row.before == {"activity": "weeding", "hours": "张家 20"}
    assert row.after == {"activity": "sowing", "hours": "张家 2"}
    assert (row.made_by_id, row.reason) == (manager.id, "typed 20 for 2")
    assert "typed 20 for 2" in (await client.get(f"/manage/log/{entry.id}/correct")).text
    audit = await client.get("/manage/corrections")
    assert audit.status_code == 200 and "typed 20 for 2" in audit.text


async def test_a_correction_without_a_reason_is_refused_and_changes_nothing(client):
    plan, _, token = await coop_with_manager(client)
    household = await _household(plan)
    await _log(client, token, plan, household, "20")
    entry = await WorkEntry.get()
    r = await client.post(f"/manage/log/{entry.id}/correct", data={
        "activity": "sowing", "worked_on": DAY, "notes": "", f"hours_{household.id}": "2",
        "reason": "", "csrf_token": token})  # fmt: skip
    assert r.status_code == 422
    assert (await WorkEntry.get(id=entry.id)).activity == Activity.WEEDING
    assert not await Correction.exists()


async def test_a_voided_entry_pays_no_wages_and_leaves_the_plot_page(client):
    plan, _, token = await coop_with_manager(client)
    household = await _household(plan)
    plot = await Plot.get(field_id=plan.field_id, code="T01")
    customer, sub = await subscriber_of(plan, plot)
    await _log(client, token, plan, household, "8")
    entry = await WorkEntry.get()
    r = await client.post(f"/manage/log/{entry.id}/correct", data={
        "void": "1", "reason": "logged twice", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    assert (await Correction.get()).action == CorrectionAction.VOIDED
    season = await Season.get(id=plan.season_id)
    report = await household_report(cooperative_id=season.cooperative_id, season_id=season.id)
    assert [row.hours for row in report.rows] == [Decimal(0)]
    # The same day's hours are free again.
    assert (await _log(client, token, plan, household, "20")).status_code == 303


async def test_the_family_and_the_trace_page_show_the_corrected_weight_with_a_note(client):
    plan, _, token = await coop_with_manager(client)
    plot = await Plot.get(field_id=plan.field_id, code="T01")
    customer, sub = await subscriber_of(plan, plot)
    season = await Season.get(id=plan.season_id)
    crop = await make_crop(season.cooperative_id, "番茄", shelf_life_days=7)
    lot = await make_lot(crop, field_id=plan.field_id, plot_id=plot.id, grams=5_000_000,
                         harvested_on=TODAY - timedelta(days=1))  # fmt: skip
    await HarvestLot.filter(id=lot.id).update(code="ABCDEFGH")  # a code a box could carry
    lot = await HarvestLot.get(id=lot.id)
    r = await client.post(f"/manage/harvests/{lot.id}/correct", data={
        "kg": "5", "reason": "typed 5000 for 5", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    trace = await client.get(f"/trace/{lot.code}")
    assert "5000" not in trace.text and "corrected-note" in trace.text
    await client.post("/logout", data={"csrf_token": await csrf_of(client, "/manage")})
    await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/plot")
    assert page.status_code == 200
    assert "5000" not in page.text and "corrected-note" in page.text


async def test_a_voided_lot_leaves_the_plot_page_and_its_trace_says_so(client):
    plan, _, token = await coop_with_manager(client)
    season = await Season.get(id=plan.season_id)
    crop = await make_crop(season.cooperative_id, "番茄", shelf_life_days=7)
    plot = await Plot.get(field_id=plan.field_id, code="T01")
    lot = await make_lot(crop, field_id=plan.field_id, plot_id=plot.id, grams=5000,
                         harvested_on=TODAY - timedelta(days=1))  # fmt: skip
    await HarvestLot.filter(id=lot.id).update(code="ABCDEFGH")  # a code a box could carry
    lot = await HarvestLot.get(id=lot.id)
    r = await client.post(f"/manage/harvests/{lot.id}/correct", data={
        "kg": "", "void": "1", "reason": "wrong plot", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    assert (await HarvestLot.get(id=lot.id)).voided_at is not None
    trace = await client.get(f"/trace/{lot.code}")
    assert trace.status_code == 200 and "warning banner" in trace.text


async def test_a_manager_of_another_cooperative_gets_404_on_the_correction_pages(client):
    plan, _, token = await coop_with_manager(client)
    household = await _household(plan)
    await _log(client, token, plan, household, "8")
    entry = await WorkEntry.get()
    season = await Season.get(id=plan.season_id)
    crop = await make_crop(season.cooperative_id, "番茄", shelf_life_days=7)
    lot = await make_lot(crop, field_id=plan.field_id, plot_id=None, grams=5000,
                         harvested_on=TODAY - timedelta(days=1))  # fmt: skip
    await client.post("/logout", data={"csrf_token": await csrf_of(client, "/manage")})
    other, _, other_token = await coop_with_manager(client, email="zhao@other.cn")
    for path in (f"/manage/log/{entry.id}/correct", f"/manage/harvests/{lot.id}/correct"):
        assert (await client.get(path)).status_code == 404
        r = await client.post(path, data={"kg": "1", "void": "1", "reason": "x",
                                          "csrf_token": other_token})  # fmt: skip
        assert r.status_code == 404
    assert (await client.get(f"/manage/corrections?season={season.id}")).status_code == 404
    assert not await Correction.exists()
    assert (await HarvestLot.get(id=lot.id)).weight_g == 5000
