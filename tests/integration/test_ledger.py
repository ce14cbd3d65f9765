"""The households' yearly ledger: land rent on the transfers' own dates by calendar year
(never twice for seasons that overlap), wages by the work entries' dates, a household's year;
pages and CSV files, only for the cooperative's own managers and households."""

from datetime import date
from decimal import Decimal

import pytest

from farm.errors import FieldErrors, NotFound
from farm.fieldwork import ledger, reports
from farm.fieldwork import ledger_rules as rent_rules
from farm.fieldwork.models import Household, LandTransfer, WorkEntry
from farm.fieldwork.services import HouseholdInput, save_household
from farm.land.models import Field, Season
from farm.units import M2_PER_MU
from tests.integration.test_reports import a_farm, another_cooperative, manager_of, parse_csv, work
from tests.support import NOW, count_queries, log_in_client

THIRTY_MU = 30 * M2_PER_MU  # 20000.10 m²


async def thirty_mu(farm, *, starts_on=date(2025, 1, 1), ends_on=None, name="王家"):
    """The issue's household: 30 mu at ¥900 a mu a year, ¥27,000 a year."""
    household = await Household.create(
        cooperative=farm.coop, name=name, village="青山村",
        rent_fen_per_mu_year=90000, wage_fen_per_hour=2000,
    )  # fmt: skip
    await LandTransfer.create(household=household, field=farm.field, area_m2=THIRTY_MU,
                              starts_on=starts_on, ends_on=ends_on)  # fmt: skip
    return household


async def test_land_serving_two_overlapping_seasons_is_paid_once_a_year(app):
    farm = await a_farm()
    household = await thirty_mu(farm)
    # Three seasons on that land in 2026, two of them overlapping the main one
    for name, starts, ends in (("春季", date(2026, 3, 1), date(2026, 7, 1)),
                               ("秋季", date(2026, 6, 1), date(2027, 1, 1))):  # fmt: skip
        await Season.create(cooperative=farm.coop, name=name, starts_on=starts, ends_on=ends,
                            sale_starts_on=date(2026, 1, 1), sale_ends_on=starts)  # fmt: skip
    manager = await manager_of(farm.coop)
    book = await ledger.ledger(manager=manager, year=2026)
    row = next(r for r in book.households.items if r.household.id == household.id)
    assert row.rent_fen == 2_700_000  # ¥27,000 once, not once per season
    assert book.figures.rent_fen == 2_700_000
    assert sum(m.rent_fen for m in book.figures.months) == 2_700_000


async def test_a_transfer_starting_mid_year_pays_its_days_and_the_next_year_in_full(app):
    farm = await a_farm()
    household = await thirty_mu(farm, starts_on=date(2026, 7, 1))
    manager = await manager_of(farm.coop)
    in_2026 = await ledger.ledger(manager=manager, year=2026)
    # 2,700,000 × 184 / 365 = 1,361,095.89 -> 1,361,096
    assert in_2026.figures.rent.get(household.id) == 1_361_096
    months = in_2026.figures.months
    assert [m.rent_fen for m in months[:6]] == [0] * 6 and months[6].rent_fen > 0
    assert (await ledger.ledger(manager=manager, year=2027)).figures.rent[household.id] == 2_700_000
    assert (await ledger.ledger(manager=manager, year=2025)).figures.rent.get(household.id, 0) == 0


async def test_a_transfer_spanning_two_years_in_a_leap_year_is_shared_by_days(app):
    farm = await a_farm()
    household = await thirty_mu(farm, starts_on=date(2027, 10, 1), ends_on=date(2028, 4, 1))
    manager = await manager_of(farm.coop)
    first = (await ledger.ledger(manager=manager, year=2027)).figures.rent[household.id]
    second = (await ledger.ledger(manager=manager, year=2028)).figures.rent[household.id]
    assert first == 2_700_000 * 92 // 365 + 1  # 680,547.9 -> 680,548
    assert second == 671_311  # 2,700,000 × 91 / 366 = 671,311.48 (366 days: 2028 is leap)


async def test_wages_count_by_the_work_entrys_date_in_the_year_and_never_a_voided_entry(app):
    farm = await a_farm()
    household = await thirty_mu(farm)
    await work(farm, date(2026, 12, 31), {household: "2.5"})
    await work(farm, date(2027, 1, 1), {household: "4"})
    voided = await work(farm, date(2026, 5, 5), {household: "8"})
    await WorkEntry.filter(id=voided.id).update(voided_at=NOW)
    await another_cooperative()
    manager = await manager_of(farm.coop)
    book = await ledger.ledger(manager=manager, year=2026)
    assert book.figures.hours[household.id] == Decimal("2.5")
    assert book.figures.wages == {household.id: 5000}  # not 外村's
    assert book.figures.months[11].wages_fen == 5000
    assert (await ledger.ledger(manager=manager, year=2027)).figures.wages[household.id] == 8000


async def test_a_households_year_shows_each_transfers_share_and_each_shift_adding_up(app):
    farm = await a_farm()
    household = await thirty_mu(farm, starts_on=date(2026, 7, 1))
    await LandTransfer.create(household=household, field=farm.east, area_m2=M2_PER_MU,
                              starts_on=date(2020, 1, 1), ends_on=date(2026, 2, 1))  # fmt: skip
    await work(farm, date(2026, 4, 1), {household: "1.25"})
    await work(farm, date(2026, 4, 2), {household: "1.25"}, field=farm.east)
    manager = await manager_of(farm.coop)
    s = await ledger.household_statement(manager=manager, household_id=household.id, year=2026)
    assert [(t.field_name, t.days, t.rent_fen) for t in s.transfers] == [
        ("东田", 31, 7644),  # 90000 × 31 / 365 = 7643.8
        (farm.field.name, 184, 1_361_096),
    ]
    assert s.row.rent_fen == 7644 + 1_361_096 == sum(t.rent_fen for t in s.transfers)
    assert [(w.worked_on, w.wages_fen) for w in s.shifts.items] == [
        (date(2026, 4, 1), 2500), (date(2026, 4, 2), 2500)
    ]  # fmt: skip
    assert s.row.wages_fen == 5000 and s.row.total_fen == 1_373_740
    book = await ledger.ledger(manager=manager, year=2026)
    assert book.figures.row(household).total_fen == s.row.total_fen


async def test_another_cooperatives_household_is_not_found(client):
    farm = await a_farm()
    other = await another_cooperative()
    stranger = await Household.get(cooperative_id=other.coop.id)
    manager = await manager_of(farm.coop)
    with pytest.raises(NotFound):
        await ledger.household_statement(manager=manager, household_id=stranger.id, year=2026)
    await log_in_client(client, "li@coop.cn")
    for path in ("year", "year.csv"):
        r = await client.get(f"/manage/households/{stranger.id}/{path}?year=2026")
        assert r.status_code == 404


async def test_the_ledger_page_has_a_described_chart_the_table_and_a_pager(client, monkeypatch):
    monkeypatch.setattr(ledger, "HOUSEHOLDS_PER_PAGE", 2)
    farm = await a_farm()
    for name in ("甲家", "乙家", "丙家"):
        await thirty_mu(farm, name=name)
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get("/manage/ledger?year=2026")
    assert r.status_code == 200
    html = r.text
    assert '<svg class="chart"' in html and '<title id="months-title">' in html
    assert '<desc id="months-desc">' in html and "<script" not in html
    assert 'class="bar rent"' in html
    assert "¥81,000" in html  # the year's rent of all three, on every page
    assert html.count("/year?year=2026") == 2 and 'rel="next"' in html
    second = await client.get("/manage/ledger?year=2026&page=2")
    assert second.text.count("/year?year=2026") == 1
    for bad in ("abc", "1999", "20260", "２０２６"):
        assert (await client.get(f"/manage/ledger?year={bad}")).status_code == 404


async def test_the_ledger_and_household_csvs_read_back_and_never_run_a_formula(client):
    farm = await a_farm()
    household = await thirty_mu(farm, name="=cmd|' /C calc'!A0")
    await work(farm, date(2026, 4, 1), {household: "1.5"})
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get("/manage/ledger.csv?year=2026")
    assert (
        r.status_code == 200
        and 'filename="household-ledger-2026.csv"' in r.headers["content-disposition"]
    )
    header, *rows = parse_csv(r.content)
    assert len(header) == 7
    assert rows[0][0] == "'=cmd|' /C calc'!A0"
    assert rows[0][3:] == ["27000.00", "1.50", "30.00", "27030.00"]
    assert rows[-1][3:] == ["27000.00", "1.50", "30.00", "27030.00"]
    r = await client.get(f"/manage/households/{household.id}/year.csv?year=2026")
    assert r.status_code == 200
    header, *rows = parse_csv(r.content)
    assert all(len(row) == len(header) == 9 for row in rows)
    assert header[5] == "每亩每年流转费（元）"  # the transfer's own rate, in yuan as the amounts
    assert rows[0][1] == "2025-01-01" and rows[0][4:] == ["365", "900.00", "", "", "27000.00"]
    assert rows[1][1] == "2026-04-01" and rows[1][5:] == ["", "除草", "1.50", "30.00"]
    assert rows[-1][-1] == "27030.00"


def household_form(farm, land, land_from="", rent="900"):
    return HouseholdInput(name="王家", village="青山村", is_poor=False, rent_yuan_per_mu=rent,
                          wage_yuan_per_hour="20", land=land, land_from=land_from)  # fmt: skip


async def transfers_of(household):
    return [
        (t["field_id"], str(t["area_m2"]), t["starts_on"], t["ends_on"])
        for t in await LandTransfer.filter(household=household)
        .order_by("field_id", "starts_on")
        .values("field_id", "area_m2", "starts_on", "ends_on")
    ]


async def rates_of(household):
    return [
        t["rent_fen_per_mu_year"]
        for t in await LandTransfer.filter(household=household)
        .order_by("field_id", "starts_on")
        .values("rent_fen_per_mu_year")
    ]


async def year_rent(manager, household, year):
    return (await ledger.household_statement(
        manager=manager, household_id=household.id, year=year
    )).row.rent_fen  # fmt: skip


async def test_a_kept_transfer_keeps_its_dates_and_new_land_starts_the_day_of_the_change(app):
    farm = await a_farm()
    household = await Household.create(
        cooperative=farm.coop, name="王家", rent_fen_per_mu_year=90000
    )  # the form's rate: unchanged
    await LandTransfer.create(household=household, field=farm.field, area_m2=Decimal(300),
                              starts_on=date(2025, 1, 1))  # fmt: skip
    manager = await manager_of(farm.coop)
    data = household_form(farm, {farm.field.id: "300", farm.east.id: "100"})
    await save_household(manager=manager, household_id=household.id, data=data,
                         today=date(2026, 9, 1))  # fmt: skip
    assert await transfers_of(household) == [
        (farm.field.id, "300.00", date(2025, 1, 1), None),
        (farm.east.id, "100.00", date(2026, 9, 1), None),
    ]


async def land_of(farm, area, *, starts_on=date(2025, 1, 1), ends_on=None, household=None):
    """300 m² (of the 400 m² field) at ¥900 a mu a year: ¥405 a year."""
    household = household or await Household.create(
        cooperative=farm.coop, name="王家", rent_fen_per_mu_year=90000
    )
    await LandTransfer.create(household=household, field=farm.field, area_m2=Decimal(area),
                              starts_on=starts_on, ends_on=ends_on)  # fmt: skip
    return household


async def test_land_resized_or_given_back_keeps_earlier_years_rent_as_it_was(app):
    farm = await a_farm()
    household = await land_of(farm, "300")
    manager = await manager_of(farm.coop)
    assert await year_rent(manager, household, 2025) == 40_500
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {farm.field.id: "150"}),
                         today=date(2026, 7, 2))  # fmt: skip
    assert await transfers_of(household) == [
        (farm.field.id, "300.00", date(2025, 1, 1), date(2026, 7, 2)),
        (farm.field.id, "150.00", date(2026, 7, 2), None),
    ]
    assert await year_rent(manager, household, 2025) == 40_500  # not rewritten
    # 2026: 182 days of 300 m² and 183 days of 150 m², each rounded once
    assert await year_rent(manager, household, 2026) == round(40_500 * 182 / 365) + round(
        20_250 * 183 / 365
    )
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {}), today=date(2027, 1, 1))  # fmt: skip
    assert (await transfers_of(household))[-1][-1] == date(2027, 1, 1)
    assert await year_rent(manager, household, 2025) == 40_500
    assert await year_rent(manager, household, 2027) == 0


async def test_the_list_and_the_form_show_the_land_held_today_and_the_form_its_history(client):
    farm = await a_farm()
    household = await land_of(farm, "300.5", ends_on=date(2026, 6, 1))
    await land_of(farm, "150.25", starts_on=date(2026, 6, 1), household=household)
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    listed = (await client.get("/manage/households")).text
    assert "150.25 m²" in listed and "300.5" not in listed
    page = (await client.get(f"/manage/households/{household.id}")).text
    form, history = page.split("<details")
    assert f'name="land_{farm.field.id}" value="150.25"' in form and "300.5" not in form
    assert "300.5" in history and "2026-05-31" in history  # the first one's last day
    assert "150.25" in history


async def test_a_seasons_report_counts_each_fields_land_as_it_stood_last_in_the_season(app):
    farm = await a_farm()  # the season runs from 2026-03-01 to 2027-03-01
    resized = await land_of(farm, "300", ends_on=date(2026, 7, 1))
    await land_of(farm, "150", starts_on=date(2026, 7, 1), household=resized)
    gone = await land_of(farm, "50", ends_on=date(2026, 3, 1))  # given back the day it began
    gone.name = "张家"
    await gone.save()
    later = await land_of(farm, "20", starts_on=date(2027, 3, 1))  # from the next season on
    later.name = "李家"
    await later.save()
    report = await reports.household_report(cooperative_id=farm.coop.id, season_id=farm.season.id)
    assert {r.household.name: r.area_m2 for r in report.rows} == {
        "王家": Decimal(150),
        "张家": Decimal(0),
        "李家": Decimal(0),
    }


async def test_a_change_on_the_day_the_land_was_taken_corrects_it_in_place(app):
    farm = await a_farm()
    manager = await manager_of(farm.coop)
    day = date(2026, 9, 1)
    household = await save_household(manager=manager, household_id=None,
                                      data=household_form(farm, {farm.field.id: "300"}),
                                      today=day)  # fmt: skip
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {farm.field.id: "350"}), today=day)  # fmt: skip
    assert await transfers_of(household) == [(farm.field.id, "350.00", day, None)]
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {}), today=day)  # fmt: skip
    assert await transfers_of(household) == []


async def test_a_change_can_count_from_a_past_day_but_not_from_before_the_last_change(app):
    farm = await a_farm()
    household = await land_of(farm, "300")
    manager = await manager_of(farm.coop)
    today = date(2026, 9, 1)
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {}, land_from="2026-06-30"),
                         today=today)  # fmt: skip
    assert await transfers_of(household) == [
        (farm.field.id, "300.00", date(2025, 1, 1), date(2026, 6, 30))
    ]
    before = await transfers_of(household)
    with pytest.raises(FieldErrors) as refused:
        await save_household(manager=manager, household_id=household.id,
                             data=household_form(farm, {farm.field.id: "100"}, "2026-06-01"),
                             today=today)  # fmt: skip
    assert "2026-06-30" in refused.value.errors[f"land_{farm.field.id}"]
    with pytest.raises(FieldErrors) as refused:
        await save_household(manager=manager, household_id=household.id,
                             data=household_form(farm, {farm.field.id: "100"}, "2026-09-02"),
                             today=today)  # fmt: skip
    assert "land_from" in refused.value.errors
    with pytest.raises(FieldErrors) as refused:  # last year's ledger is closed
        await save_household(manager=manager, household_id=household.id,
                             data=household_form(farm, {}, "2025-12-31"),
                             today=today)  # fmt: skip
    assert "2026-01-01" in refused.value.errors["land_from"]
    assert await transfers_of(household) == before


async def test_land_back_dated_cannot_take_what_another_household_held_then(app):
    farm = await a_farm()
    manager = await manager_of(farm.coop)
    size = str(farm.field.width_m * farm.field.height_m)
    await land_of(farm, size, starts_on=date(2026, 1, 1), ends_on=date(2026, 11, 1))
    with pytest.raises(FieldErrors):  # October: the other household still held it all
        await save_household(manager=manager, household_id=None,
                             data=household_form(farm, {farm.field.id: size}, "2026-10-01"),
                             today=date(2026, 12, 1))  # fmt: skip
    await save_household(manager=manager, household_id=None,
                         data=household_form(farm, {farm.field.id: size}, "2026-11-01"),
                         today=date(2026, 12, 1))  # fmt: skip


async def test_land_given_back_leaves_room_in_its_field_for_another_household(app):
    farm = await a_farm()  # 试验田 of 400 m²? whatever its size, the first takes all of it
    manager = await manager_of(farm.coop)
    size = str(farm.field.width_m * farm.field.height_m)
    first = await save_household(manager=manager, household_id=None,
                                 data=household_form(farm, {farm.field.id: size}),
                                 today=date(2026, 1, 5))  # fmt: skip
    await save_household(manager=manager, household_id=first.id, data=household_form(farm, {}),
                         today=date(2026, 9, 1))  # fmt: skip
    second = await save_household(manager=manager, household_id=None,
                                  data=household_form(farm, {farm.field.id: size}),
                                  today=date(2026, 9, 1))  # fmt: skip
    assert (await transfers_of(second))[0][1:] == (f"{Decimal(size):.2f}", date(2026, 9, 1), None)


async def resize(client, farm, height, name="改名"):
    """The field's form posted by its manager: 试验田 is 40 m wide, its plots 6.667 m deep."""
    token = await log_in_client(client, "li@coop.cn")
    return await client.post(
        f"/manage/fields/{farm.field.id}",
        data={"name": name, "width_m": "40", "height_m": height, "csrf_token": token},
    )


async def test_a_field_cannot_shrink_below_the_land_households_hold_and_nothing_changes(client):
    farm = await a_farm()
    household = await land_of(farm, "300")
    await manager_of(farm.coop)
    before = await transfers_of(household)
    r = await resize(client, farm, "7")  # 280 m²: the plots fit, the households' land not
    assert r.status_code == 422
    said = "农户已流转此田块 300 平方米，多于所填的 280 平方米：请先在农户页面退还部分土地。"
    assert f'<small class="error" id="err-size">{said}</small>' in r.text  # under the sides
    assert r.text.count('aria-describedby="err-size"') == 2 and 'href="#f-size"' in r.text
    field = await Field.get(id=farm.field.id)
    assert (field.name, field.width_m, field.height_m) == ("试验田", Decimal(40), Decimal(10))
    assert await transfers_of(household) == before


async def test_a_field_may_shrink_to_the_land_households_hold_now_whatever_they_held_before(
    client,
):
    farm = await a_farm()
    household = await land_of(farm, "300")
    await land_of(farm, "400", starts_on=date(2019, 1, 1), ends_on=date(2020, 1, 1))
    await manager_of(farm.coop)
    r = await resize(client, farm, "7.5")  # 300 m²: just what is held today
    assert r.status_code == 303, r.text
    field = await Field.get(id=farm.field.id)
    assert (field.name, field.width_m, field.height_m) == ("改名", Decimal(40), Decimal("7.5"))
    assert await transfers_of(household) == [(farm.field.id, "300.00", date(2025, 1, 1), None)]


async def test_the_ledger_and_a_households_year_make_the_same_queries_for_1_or_many_rows(client):
    farm = await a_farm()
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    first = await thirty_mu(farm, name="甲家")

    async def queries(path) -> int:
        with count_queries() as counted:
            assert (await client.get(path)).status_code == 200
        return counted.count

    pages = ("/manage/ledger?year=2026", f"/manage/households/{first.id}/year?year=2026")
    await work(farm, date(2026, 4, 1), {first: "1"})
    one = [await queries(p) for p in pages]
    for i in range(12):
        other = await thirty_mu(farm, name=f"户{i}", starts_on=date(2026, 1 + i, 1))
        field = await Field.create(cooperative=farm.coop, name=f"田{i}", width_m=10, height_m=10)
        await LandTransfer.create(household=first, field=field, area_m2=Decimal(50),
                                  starts_on=date(2026, 1 + i, 2))  # fmt: skip
        await work(farm, date(2026, 1 + i, 3), {first: "2", other: "3"})
    assert [await queries(p) for p in pages] == one


async def test_a_new_rent_rate_leaves_last_years_rent_and_splits_this_years_at_the_change(app):
    farm = await a_farm()
    household = await land_of(farm, "300")  # written without a rate: the household's ¥900
    manager = await manager_of(farm.coop)
    change = date(2026, 7, 2)
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {farm.field.id: "300"}, rent="1000"),
                         today=change)  # fmt: skip
    assert await transfers_of(household) == [
        (farm.field.id, "300.00", date(2025, 1, 1), change),
        (farm.field.id, "300.00", change, None),
    ]
    assert await rates_of(household) == [90000, 100000]
    assert await year_rent(manager, household, 2025) == 40_500  # still at ¥900, not ¥1,000
    book = await ledger.ledger(manager=manager, year=2025)
    assert book.figures.rent[household.id] == 40_500
    # 2026: 182 days at ¥900 and 183 days at ¥1,000 a mu, each share rounded once
    old_share = rent_rules.year_rent_fen(
        area_m2=Decimal(300), rent_fen_per_mu_year=90000, starts_on=date(2025, 1, 1),
        ends_on=change, year=2026,
    )  # fmt: skip
    new_share = rent_rules.year_rent_fen(
        area_m2=Decimal(300), rent_fen_per_mu_year=100000, starts_on=change, ends_on=None,
        year=2026,
    )  # fmt: skip
    assert (old_share, new_share) == (20_195, 22_562)  # 40,500 × 182/365, 45,000 × 183/365
    s = await ledger.household_statement(manager=manager, household_id=household.id, year=2026)
    assert [(t.rent_fen_per_mu_year, t.days, t.rent_fen) for t in s.transfers] == [
        (90000, 182, old_share), (100000, 183, new_share)
    ]  # fmt: skip
    assert s.row.rent_fen == old_share + new_share
    book = await ledger.ledger(manager=manager, year=2026)
    assert book.figures.rent[household.id] == old_share + new_share
    assert await year_rent(manager, household, 2027) == 45_000  # a whole year at ¥1,000


async def test_a_rent_rate_corrected_the_day_it_changed_corrects_the_new_transfer_in_place(app):
    farm = await a_farm()
    household = await land_of(farm, "300")
    manager = await manager_of(farm.coop)
    day = date(2026, 7, 2)
    for rent in ("1000", "950"):
        await save_household(manager=manager, household_id=household.id,
                             data=household_form(farm, {farm.field.id: "300"}, rent=rent),
                             today=day)  # fmt: skip
    assert await transfers_of(household) == [
        (farm.field.id, "300.00", date(2025, 1, 1), day),
        (farm.field.id, "300.00", day, None),
    ]
    assert await rates_of(household) == [90000, 95000]
    # Back to ¥900 the same day: the transfer carries on as it was, with no new one
    await save_household(manager=manager, household_id=household.id,
                         data=household_form(farm, {farm.field.id: "300"}), today=day)  # fmt: skip
    assert await transfers_of(household) == [(farm.field.id, "300.00", date(2025, 1, 1), None)]
    assert await rates_of(household) == [90000]
    assert await year_rent(manager, household, 2026) == 40_500


async def test_the_forms_land_history_and_the_households_year_show_each_transfers_rate(client):
    farm = await a_farm()
    household = await land_of(farm, "300", ends_on=date(2026, 6, 1))
    await LandTransfer.create(household=household, field=farm.field, area_m2=Decimal(300),
                              starts_on=date(2026, 6, 1), rent_fen_per_mu_year=123400)  # fmt: skip
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    page = (await client.get(f"/manage/households/{household.id}")).text
    history = page.split("<details")[1]
    assert "¥1,234" in history and "¥900" in history  # its own; the household's when none
    year = (await client.get(f"/manage/households/{household.id}/year?year=2026")).text
    assert "¥1,234" in year and "¥900" in year
    rent = year.split('aria-label="土地流转费"')[1].split("</table>")[0]  # a phone stacks it
    assert 'class="data compact stacked"' in rent and 'data-label="每亩每年流转费"' in rent
