"""The households' yearly ledger: land rent on the transfers' own dates by calendar year
(never twice for seasons that overlap), wages by the work entries' dates, a household's year;
pages and CSV files, only for the cooperative's own managers and households."""

from datetime import date
from decimal import Decimal

import pytest

from farm.errors import NotFound
from farm.fieldwork import ledger
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
    assert rows[0][1] == "2025-01-01" and rows[0][4:] == ["365", "", "", "27000.00"]
    assert rows[1][1] == "2026-04-01" and rows[1][6:] == ["1.50", "30.00"]
    assert rows[-1][-1] == "27030.00"


async def test_saving_a_household_keeps_its_transfers_dates_and_dates_new_land_today(app):
    farm = await a_farm()
    household = await Household.create(cooperative=farm.coop, name="王家")
    await LandTransfer.create(household=household, field=farm.field, area_m2=Decimal(300),
                              starts_on=date(2025, 1, 1))  # fmt: skip
    manager = await manager_of(farm.coop)
    data = HouseholdInput(name="王家", village="青山村", is_poor=False, rent_yuan_per_mu="900",
                          wage_yuan_per_hour="20",
                          land={farm.field.id: "350", farm.east.id: "100"})  # fmt: skip
    await save_household(manager=manager, household_id=household.id, data=data,
                         today=date(2026, 9, 1))  # fmt: skip
    dates = dict(
        await LandTransfer.filter(household=household).values_list("field_id", "starts_on")
    )
    assert dates == {farm.field.id: date(2025, 1, 1), farm.east.id: date(2026, 9, 1)}
    assert (await LandTransfer.get(household=household, field=farm.field)).area_m2 == 350


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
