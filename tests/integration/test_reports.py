"""The cooperative's season reports: what each household earned, what the land yielded, as a
page and as CSV files; only for the cooperative's own managers and seasons."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from tortoise import connections

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import NotFound
from farm.fieldwork import reports
from farm.fieldwork.models import (
    Activity,
    Crop,
    HarvestLot,
    Household,
    LandTransfer,
    WorkEntry,
    WorkShift,
)
from farm.i18n import _, use_language
from farm.land.models import Cooperative, Field, Plot, Season
from tests.support import NOW, csrf_of, log_in_client, make_customer, make_season

STARTS, ENDS = date(2026, 3, 1), date(2027, 3, 1)  # 365 days: a year's rent
PAGE, HOUSEHOLDS_CSV, YIELDS_CSV = (
    "/manage/reports",
    "/manage/reports/households.csv",
    "/manage/reports/yields.csv",
)


@dataclass
class Farm:
    coop: Cooperative
    season: Season
    earlier: Season
    field: Field
    east: Field
    plots: dict[str, Plot]
    logger: User
    crops: dict[str, Crop]


_codes = iter(range(10**6))


async def lot(farm, crop, grams, on, *, field=None, plot=None, coop=None):
    field_id = plot.field_id if plot else (field or farm.field).id
    return await HarvestLot.create(
        cooperative_id=(coop or farm.coop).id, code=f"L{next(_codes):07d}", crop=crop,
        field_id=field_id, plot=plot, harvested_on=on, weight_g=grams, logged_by=farm.logger,
        created_at=NOW,
    )  # fmt: skip


async def work(farm, on, hours_by_household, *, field=None, coop=None):
    entry = await WorkEntry.create(
        cooperative_id=(coop or farm.coop).id, field=field or farm.field,
        activity=Activity.WEEDING, worked_on=on, whole_field=True, logged_by=farm.logger,
        created_at=NOW,
    )  # fmt: skip
    for household, hours in hours_by_household.items():
        await WorkShift.create(entry=entry, household=household, hours=Decimal(hours))
    return entry


async def a_farm(logger_email="logger@example.com") -> Farm:
    plan = await make_season(starts_on=STARTS, ends_on=ENDS)
    await plan.fetch_related("season", "field")
    coop = await Cooperative.get(id=plan.field.cooperative_id)
    earlier = await Season.create(
        cooperative=coop, name="上一季", starts_on=date(2025, 3, 1), ends_on=STARTS,
        sale_starts_on=date(2025, 1, 1), sale_ends_on=date(2025, 3, 1),
    )  # fmt: skip
    east = await Field.create(cooperative=coop, name="东田", width_m=20, height_m=20)
    east_plot = await Plot.create(
        field=east, code="E01", area_m2=Decimal("66.67"), x_m=0, y_m=0, w_m=10, h_m="6.667"
    )
    plots = {p.code: p for p in await Plot.filter(field_id=plan.field_id)} | {"E01": east_plot}
    crops = {
        "greens": await Crop.create(
            cooperative=coop, name="青菜", name_en="Bok choy", shelf_life_days=3, leafy=True
        ),
        "rice": await Crop.create(
            cooperative=coop, name="大米", name_en="Rice", shelf_life_days=365
        ),
    }
    logger = await make_customer(logger_email, "记录员")
    return Farm(coop, plan.season, earlier, plan.field, east, plots, logger, crops)


async def households_of(farm):
    wang = await Household.create(
        cooperative=farm.coop, name="王家", village="青山村",
        rent_fen_per_mu_year=80000, wage_fen_per_hour=2000,
    )  # fmt: skip
    li = await Household.create(
        cooperative=farm.coop, name="李家", village="青山村", is_poor=True,
        rent_fen_per_mu_year=75000, wage_fen_per_hour=1850,
    )  # fmt: skip
    zhang = await Household.create(cooperative=farm.coop, name="张家", village="白水村")
    # 王家: 400 + 266.67 = 666.67 m² (1.000005 mu); 李家: 1000 m² (1.5 mu)
    await LandTransfer.create(household=wang, field=farm.field, area_m2=Decimal(400))
    await LandTransfer.create(household=wang, field=farm.east, area_m2=Decimal("266.67"))
    await LandTransfer.create(household=li, field=farm.field, area_m2=Decimal(1000))
    await work(farm, date(2026, 4, 10), {wang: "7.5", li: "8"})
    await work(farm, date(2027, 2, 28), {wang: "0.25"}, field=farm.east)  # the last day
    await work(farm, ENDS, {wang: "10"})  # the next season's first day
    await work(farm, date(2026, 2, 28), {li: "5"})  # the season before
    return wang, li, zhang


async def harvests_of(farm):
    greens, rice = farm.crops["greens"], farm.crops["rice"]
    t01, t02, e01 = farm.plots["T01"], farm.plots["T02"], farm.plots["E01"]
    await lot(farm, greens, 12500, STARTS, plot=t01)
    await lot(farm, greens, 2500, date(2026, 9, 1), plot=t01)
    await lot(farm, rice, 100000, date(2026, 10, 15))  # the whole field, no plot
    await lot(farm, rice, 3333, date(2027, 2, 28), plot=t02)
    await lot(farm, greens, 1000, date(2026, 5, 5), plot=e01)
    await lot(farm, greens, 99999, ENDS, plot=t01)  # the next season
    await lot(farm, rice, 88888, date(2026, 2, 28), plot=t02)  # the season before


async def another_cooperative(email="other-logger@example.com"):
    """A second cooperative with its own household, work and harvest in the same dates."""
    other = await a_farm(email)
    stranger = await Household.create(
        cooperative=other.coop, name="外村", rent_fen_per_mu_year=90000, wage_fen_per_hour=3000
    )
    await LandTransfer.create(household=stranger, field=other.field, area_m2=Decimal(2000))
    await work(other, date(2026, 6, 1), {stranger: "9"})
    await lot(other, other.crops["rice"], 55555, date(2026, 6, 1), plot=other.plots["T01"])
    return other


async def manager_of(coop, email="li@coop.cn"):
    return await sign_up(
        email=email, name="李经理", password="correct horse", language="zh_CN",
        role=Role.MANAGER, cooperative_id=coop.id,
    )  # fmt: skip


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


# ---- the figures ----


async def test_wages_count_only_the_seasons_hours_for_each_household_and_rent_is_not_per_season(
    app,
):
    farm = await a_farm()
    await households_of(farm)
    await another_cooperative()
    report = await reports.household_report(cooperative_id=farm.coop.id, season_id=farm.season.id)
    assert report.days == 365
    figures = {r.household.name: (r.area_m2, r.hours, r.wages_fen) for r in report.rows}
    assert figures == {
        "王家": (Decimal("666.67"), Decimal("7.75"), 15500),  # 7.75 h × 20 yuan
        "李家": (Decimal(1000), Decimal(8), 14800),  # 8 h × 18.50 (not the season before's 5 h)
        "张家": (Decimal(0), Decimal(0), 0),
    }
    assert report.wages_fen == 30300
    assert report.hours == Decimal("15.75") and report.area_m2 == Decimal("1666.67")
    # Land rent is the yearly ledger's (farm.fieldwork.ledger), on the transfers' own dates:
    # a season's report that counted it paid land serving two overlapping seasons twice.
    assert not hasattr(report, "rent_fen") and not hasattr(report.rows[0], "rent_fen")


async def test_an_earlier_season_counts_its_own_hours(app):
    farm = await a_farm()
    await households_of(farm)
    report = await reports.household_report(cooperative_id=farm.coop.id, season_id=farm.earlier.id)
    by_name = {r.household.name: r for r in report.rows}
    assert by_name["李家"].wages_fen == 5 * 1850 and by_name["王家"].hours == 0


async def test_yields_are_summed_by_crop_plot_and_field_within_the_season_only(app):
    farm = await a_farm()
    await harvests_of(farm)
    await another_cooperative()
    report = await reports.yield_report(cooperative_id=farm.coop.id, season_id=farm.season.id)
    assert [(r.crop.name, r.weight_g, r.lots) for r in report.by_crop] == [
        ("大米", 103333, 2),
        ("青菜", 16000, 3),
    ]
    assert {r.plot.code: (r.field.name, r.weight_g, r.lots) for r in report.by_plot} == {
        "T01": ("试验田", 15000, 2),
        "T02": ("试验田", 3333, 1),
        "E01": ("东田", 1000, 1),
    }
    # the field counts its whole-field rice as well as its plots' lots
    assert {r.field.name: (r.weight_g, r.lots) for r in report.by_field} == {
        "试验田": (118333, 4),
        "东田": (1000, 1),
    }
    assert (report.total.weight_g, report.total.lots) == (119333, 5)
    assert report.total.kg == Decimal("119.33") and report.total.jin == Decimal("238.67")


async def test_a_season_of_another_cooperative_is_not_found_by_either_report(app):
    farm = await a_farm()
    other = await another_cooperative()
    for report in (reports.household_report, reports.yield_report):
        with pytest.raises(NotFound):
            await report(cooperative_id=farm.coop.id, season_id=other.season.id)
        with pytest.raises(NotFound):
            await report(cooperative_id=farm.coop.id, season_id=999999)


async def test_the_reports_take_the_same_few_queries_however_many_households_and_lots(app):
    farm = await a_farm()
    conn = connections.get("default")
    counted = {"n": 0}
    methods = ("execute_query", "execute_query_dict", "execute_insert", "execute_script")
    originals = {name: getattr(conn, name) for name in methods}

    def counting(original):
        async def wrapper(*args, **kwargs):
            counted["n"] += 1
            return await original(*args, **kwargs)

        return wrapper

    async def queries_for_reports() -> int:
        for name in methods:
            setattr(conn, name, counting(originals[name]))
        counted["n"] = 0
        try:
            await reports.reports_page(cooperative_id=farm.coop.id, season_id=farm.season.id)
        finally:
            for name in methods:
                setattr(conn, name, originals[name])
        return counted["n"]

    await households_of(farm)
    await harvests_of(farm)
    few = await queries_for_reports()
    for i in range(8):
        h = await Household.create(cooperative=farm.coop, name=f"户{i}", wage_fen_per_hour=100)
        await LandTransfer.create(household=h, field=farm.east, area_m2=Decimal(10 + i))
        await work(farm, date(2026, 7, 1 + i), {h: "1"})
        crop = await Crop.create(cooperative=farm.coop, name=f"作物{i}", shelf_life_days=5)
        await lot(farm, crop, 100 + i, date(2026, 7, 1 + i), plot=farm.plots[f"T0{i % 4 + 1}"])
    assert few > 0
    assert await queries_for_reports() == few


# ---- the page and the files ----


async def test_the_page_shows_the_latest_season_as_tables_and_svg_bar_charts(client):
    farm = await a_farm()
    await households_of(farm)
    await harvests_of(farm)
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    page = await client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert f'<option value="{farm.season.id}" selected>' in html  # the latest, by default
    assert 'aria-current="page"' in html and 'href="/manage/reports"' in html
    # each table scrolls sideways in a region that keyboards reach and screen readers name
    assert re.search(
        r'class="table-wrap" tabindex="0" role="region" aria-label="[^"]+"><table class="data">',
        html,
    )
    assert '<td class="num">¥155</td>' in html  # 王家's wages, 15500 fen
    assert '<td class="num">¥303</td>' in html  # everyone's wages
    assert f'href="/manage/ledger?year={farm.season.starts_on.year}"' in html  # rent is there
    assert '<td class="num">103.33</td><td class="num">206.67</td>' in html  # rice: kg, jin
    assert html.count('<svg class="chart"') == 2 and "<script" not in html
    assert 'class="bar rent"' not in html and 'class="bar wages"' in html
    assert f"/manage/reports/households.csv?season={farm.season.id}" in html
    assert f"/manage/reports/yields.csv?season={farm.season.id}" in html

    earlier = await client.get(PAGE, params={"season": farm.earlier.id})
    assert earlier.status_code == 200
    assert f'<option value="{farm.earlier.id}" selected>' in earlier.text
    assert "¥155" not in earlier.text and "88.89" in earlier.text  # that season's rice


async def test_a_cooperative_without_seasons_gets_an_empty_page_not_an_error(client):
    coop = await Cooperative.create(name="新社")
    await manager_of(coop)
    await log_in_client(client, "li@coop.cn")
    page = await client.get(PAGE)
    assert page.status_code == 200 and "<svg" not in page.text


async def test_the_households_csv_has_a_bom_and_reads_back_to_the_same_figures_in_yuan(client):
    farm = await a_farm()
    await households_of(farm)
    await another_cooperative()
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get(HOUSEHOLDS_CSV, params={"season": farm.season.id})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; ") and disposition.isascii()
    assert f'filename="household-earnings-season-{farm.season.id}.csv"' in disposition
    assert "filename*=UTF-8''" in disposition and "%E6%B5%8B%E8%AF%95%E5%AD%A3" in disposition
    header, *rows = parse_csv(r.content)
    with use_language("zh_CN"):  # the default language: the header goes through its catalog
        assert header[0] == _("Household") and header[-1] == _("Wages (yuan)")
    assert len(header) == 7
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {"王家", "李家", "张家", _total_label("zh_CN")}  # not 外村
    assert by_name["王家"] == [
        "王家", "青山村", _yes_no("zh_CN", False), "666.67", "1.00", "7.75", "155.00",
    ]  # fmt: skip
    assert by_name["李家"][2] == _yes_no("zh_CN", True)
    assert by_name["李家"][5:] == ["8.00", "148.00"]
    assert by_name["张家"][3:] == ["0.00", "0.00", "0.00", "0.00"]
    assert rows[-1][0] == _total_label("zh_CN")
    assert rows[-1][3:] == ["1666.67", "2.50", "15.75", "303.00"]


async def test_the_yields_csv_reads_back_to_the_same_kg_with_a_chinese_header_by_default(client):
    farm = await a_farm()
    await harvests_of(farm)
    await another_cooperative()
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get(YIELDS_CSV, params={"season": farm.season.id})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="yields-season-{farm.season.id}.csv"' in r.headers["content-disposition"]
    header, *rows = parse_csv(r.content)
    assert "田块" in header  # "Field", already in the Chinese catalog
    kg = {(row[1], row[2], row[3]): (row[4], row[5]) for row in rows}
    assert kg[("大米", "", "")] == ("2", "103.33")
    assert kg[("青菜", "", "")] == ("3", "16.00")
    assert kg[("", "试验田", "T01")] == ("2", "15.00")
    assert kg[("", "试验田", "T02")] == ("1", "3.33")
    assert kg[("", "东田", "E01")] == ("1", "1.00")
    assert kg[("", "试验田", "")] == ("4", "118.33")
    assert kg[("", "东田", "")] == ("1", "1.00")
    assert rows[-1][4:6] == ["5", "119.33"]
    assert len(rows) == 2 + 3 + 2 + 1  # crops, plots, fields, total: nothing of the other coop

    client.cookies.set("lang", "en")
    english = await client.get(YIELDS_CSV, params={"season": farm.season.id})
    header, *rows = parse_csv(english.content)
    assert "Field" in header and "田块" not in header
    assert rows[0][1] == "Rice"  # the crop's English name


async def test_a_name_that_a_spreadsheet_would_run_is_exported_as_text(client):
    farm = await a_farm()
    await Household.create(cooperative=farm.coop, name='=HYPERLINK("http://x")', village="@a")
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get(HOUSEHOLDS_CSV, params={"season": farm.season.id})
    _, row, _total = parse_csv(r.content)
    assert row[:2] == ['\'=HYPERLINK("http://x")', "'@a"]


async def test_a_field_or_plot_name_a_spreadsheet_would_run_is_text_in_the_yields_csv(client):
    """The plots' lines are written by PostgreSQL there (COPY) and by Python elsewhere: both
    escape a formula, and write the same weights, half up to two decimals."""
    farm = await a_farm()
    await harvests_of(farm)
    await Field.filter(id=farm.east.id).update(name="=1+2")
    await Plot.filter(id=farm.plots["E01"].id).update(code="@E01")
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    r = await client.get(YIELDS_CSV, params={"season": farm.season.id})
    _, *rows = parse_csv(r.content)
    plot_lines = [row for row in rows if row[3]]
    assert ["'=1+2", "'@E01", "1", "1.00", ""] in [row[2:] for row in plot_lines]
    assert sorted(row[2:4] for row in plot_lines) == [
        ["'=1+2", "'@E01"],
        ["试验田", "T01"],
        ["试验田", "T02"],
    ]
    assert r.content.count(b"\r\n") == len(rows) + 1 and b"\n" not in r.content.replace(
        b"\r\n", b""
    )


# ---- access ----


async def log_in_as(client, role, farm):
    if role == "visitor":
        return
    if role == "customer":
        await make_customer("buyer@example.com", "买家")
        await log_in_client(client, "buyer@example.com")
        return
    other = await Cooperative.create(name="别的社")
    await manager_of(other, "other@coop.cn")
    await log_in_client(client, "other@coop.cn")


@pytest.mark.parametrize("role", ["visitor", "customer", "other_manager"])
async def test_no_one_but_the_cooperatives_managers_gets_its_reports(client, role):
    farm = await a_farm()
    await households_of(farm)
    await harvests_of(farm)
    await log_in_as(client, role, farm)
    for path in (PAGE, HOUSEHOLDS_CSV, YIELDS_CSV):
        r = await client.get(path, params={"season": farm.season.id})
        if role == "visitor":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        else:
            assert r.status_code == 404, (role, path, r.status_code)
            assert "王家" not in r.text


async def test_a_season_of_another_cooperative_or_no_season_is_404_for_a_manager(client):
    farm = await a_farm()
    other = await another_cooperative()
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    for path in (PAGE, HOUSEHOLDS_CSV, YIELDS_CSV):
        r = await client.get(path, params={"season": other.season.id})
        assert r.status_code == 404, path
        assert "外村" not in r.text
        for bad in ("abc", "0", "-1", "9" * 30, "١"):
            assert (await client.get(path, params={"season": bad})).status_code == 404
    for path in (PAGE, HOUSEHOLDS_CSV, YIELDS_CSV):  # no season: their own latest
        r = await client.get(path)
        assert r.status_code == 200 and "外村" not in r.text


async def test_without_a_season_the_files_are_the_latest_seasons_and_404_when_there_is_none(
    client,
):
    farm = await a_farm()
    await harvests_of(farm)
    await manager_of(farm.coop)
    await log_in_client(client, "li@coop.cn")
    latest = await client.get(YIELDS_CSV)
    assert (
        latest.content == (await client.get(YIELDS_CSV, params={"season": farm.season.id})).content
    )
    assert f"yields-season-{farm.season.id}.csv" in latest.headers["content-disposition"]
    await client.post("/logout", data={"csrf_token": await csrf_of(client, "/")})
    empty = await Cooperative.create(name="新社")
    await manager_of(empty, "new@coop.cn")
    await log_in_client(client, "new@coop.cn")
    for path in (HOUSEHOLDS_CSV, YIELDS_CSV):
        assert (await client.get(path)).status_code == 404


def _yes_no(language, value):
    with use_language(language):
        return _("Yes") if value else _("No")


def _total_label(language):
    with use_language(language):
        return _("Total")
