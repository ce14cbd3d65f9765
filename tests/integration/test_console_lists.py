"""The console's lists at scale: every list is a page with its filters, plots are chosen by
typing their code, and the season's subscribers can be listed, searched and exported."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from farm.fieldwork.models import Crop, HarvestLot, WorkEntry, WorkEntryPlot
from farm.land.models import Field, Plan, Plot, Season
from farm.subscriptions.models import Status, Subscription
from tests.integration.test_fieldwork import coop_with_manager, subscriber_of
from tests.support import make_crop, make_lot, make_season

TODAY = date.today()


def rows_of(html: str) -> list[str]:
    return re.findall(r"<tr[ >].*?</tr>", html, re.S)[1:]


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


# ---- paging and filters ----


async def test_the_harvests_list_is_paged_and_a_page_past_the_end_shows_the_last(client):
    plan, _, _ = await coop_with_manager(client)
    crop = await make_crop(plan.field.cooperative_id)
    plot = await Plot.filter(field_id=plan.field_id).first()
    for i in range(55):
        await make_lot(crop, field_id=plan.field_id, plot_id=plot.id, grams=1000 + i,
                       harvested_on=TODAY)  # fmt: skip
    first = await client.get("/manage/harvests")
    assert first.status_code == 200 and len(re.findall(r'id="lot-\d+"', first.text)) == 50
    assert 'rel="next"' in first.text and "1–50" in first.text
    for bad in ("99999", "0", "-3", "abc", "1e9", "９"):
        r = await client.get("/manage/harvests", params={"page": bad})
        assert r.status_code == 200, bad
    last = await client.get("/manage/harvests", params={"page": "99999"})
    assert len(re.findall(r'id="lot-\d+"', last.text)) == 5 and "51–55" in last.text


async def test_the_harvests_list_filters_by_code_crop_field_and_days_and_says_when_a_date_is_bad(
    client,
):
    plan, _, _ = await coop_with_manager(client)
    coop_id = plan.field.cooperative_id
    rice, greens = await make_crop(coop_id), await make_crop(coop_id, "青菜")
    t01, t02 = await Plot.filter(field_id=plan.field_id).order_by("code").limit(2)
    old = await make_lot(rice, field_id=plan.field_id, plot_id=t01.id, grams=1000,
                         harvested_on=date(TODAY.year, 1, 2))  # fmt: skip
    new = await make_lot(greens, field_id=plan.field_id, plot_id=t02.id, grams=2000,
                         harvested_on=TODAY)  # fmt: skip

    async def shown(**params) -> set[str]:
        r = await client.get("/manage/harvests", params=params)
        assert r.status_code == 200
        return set(re.findall(r"<code>(\w+)</code>", r.text))

    assert await shown() == {old.code, new.code}
    assert await shown(q="t02") == {new.code}
    assert await shown(q=old.code.lower()) == {old.code}
    assert await shown(crop=str(rice.id)) == {old.code}
    assert await shown(**{"from": TODAY.isoformat()}) == {new.code}
    assert await shown(to=date(TODAY.year, 1, 2).isoformat()) == {old.code}
    r = await client.get("/manage/harvests", params={"from": "2026-13-40"})
    assert r.status_code == 200 and "YYYY-MM-DD" in r.text


async def test_households_fields_and_seasons_are_searched_and_paged(client):
    plan, _, _ = await coop_with_manager(client)
    assert "试验田" in (await client.get("/manage/fields", params={"q": "试验"})).text
    assert "试验田" not in (await client.get("/manage/fields", params={"q": "东"})).text
    assert "测试季" in (await client.get("/manage/seasons", params={"q": "测试"})).text
    assert "测试季" not in (await client.get("/manage/seasons", params={"q": "无此"})).text
    field = await client.get(
        f"/manage/fields/{plan.field_id}", params={"code": "T0", "status": "free"}
    )
    assert field.status_code == 200 and "T04" in field.text
    sold = await client.get(f"/manage/fields/{plan.field_id}", params={"status": "sold"})
    assert "<td>T04</td>" not in sold.text
    for path in ("/manage/households", "/manage/log", "/manage/shipments", "/manage/fields"):
        r = await client.get(path, params={"page": "x", "from": "bad", "q": "\x00"})
        assert r.status_code == 200, path


# ---- choosing plots by typing their code ----


async def test_plot_search_suggests_only_the_managers_own_plots_by_the_start_of_their_code(client):
    plan, _, _ = await coop_with_manager(client)
    other = await make_season(plots=3)
    await Field.filter(id=other.field_id).update(name="别社田")
    r = await client.get("/manage/plots/search", params={"q": "t0"})
    assert r.status_code == 200
    found = r.json()["plots"]
    assert [p["code"] for p in found] == ["T01", "T02", "T03", "T04"]
    assert {p["field"] for p in found} == {"试验田"}
    assert (await client.get("/manage/plots/search", params={"q": ""})).json() == {"plots": []}
    one = await client.get("/manage/plots/search", params={"q": "T03", "field": plan.field_id})
    assert [p["code"] for p in one.json()["plots"]] == ["T03"]
    foreign = await client.get("/manage/plots/search", params={"q": "T", "field": other.field_id})
    assert foreign.json() == {"plots": []}


async def log_work(client, plan, token, **data):
    return await client.post(
        "/manage/log",
        data={"field_id": plan.field_id, "activity": "weeding", "worked_on": TODAY.isoformat(),
              "csrf_token": token, **data},
    )  # fmt: skip


async def test_work_is_logged_on_plots_typed_as_codes_and_ranges(client):
    plan, _, token = await coop_with_manager(client, plots=6)
    r = await log_work(client, plan, token, plot_codes="T01, t03-T05")
    assert r.status_code == 303
    entry = await WorkEntry.get()
    codes = await WorkEntryPlot.filter(entry_id=entry.id).values_list("plot__code", flat=True)
    assert sorted(codes) == ["T01", "T03", "T04", "T05"]


async def test_a_typed_code_the_field_does_not_have_is_refused_with_its_name_and_nothing_saved(
    client,
):
    plan, _, token = await coop_with_manager(client)
    r = await log_work(client, plan, token, plot_codes="T01, T09")
    assert r.status_code == 422 and "T09" in r.text
    r = await log_work(client, plan, token, plot_codes="T04-T02")
    assert r.status_code == 422 and "T04-T02" in r.text
    r = await log_work(client, plan, token, plot_codes="")
    assert r.status_code == 422
    assert await WorkEntry.all().count() == 0


async def test_the_whole_field_still_takes_no_codes(client):
    plan, _, token = await coop_with_manager(client)
    r = await log_work(client, plan, token, whole_field="1", plot_codes="")
    assert r.status_code == 303
    entry = await WorkEntry.get()
    assert entry.whole_field and await WorkEntryPlot.filter(entry_id=entry.id).count() == 0


async def harvest(client, token, **data):
    crop = await Crop.first()
    return await client.post(
        "/manage/harvests",
        data={"crop_id": crop.id, "kg": "2", "harvested_on": TODAY.isoformat(),
              "csrf_token": token, **data},
    )  # fmt: skip


async def test_a_harvest_names_its_plot_by_code_or_its_whole_field(client):
    plan, _, token = await coop_with_manager(client)
    await client.get("/manage/harvests")  # makes the crop list
    assert (await harvest(client, token, plot_code="t02")).status_code == 303
    lot = await HarvestLot.get()
    assert (await Plot.get(id=lot.plot_id)).code == "T02"
    assert (await harvest(client, token, field_id=plan.field_id)).status_code == 303
    assert await HarvestLot.filter(plot_id=None, field_id=plan.field_id).count() == 1


async def test_a_code_in_two_fields_asks_for_the_field_and_an_unknown_code_says_so(client):
    plan, _, token = await coop_with_manager(client)
    east = await Field.create(cooperative_id=plan.field.cooperative_id, name="东田", width_m=20,
                              height_m=10)  # fmt: skip
    await Plot.create(field=east, code="T01", area_m2="66.67", x_m=0, y_m=0, w_m=10, h_m=6.67)
    await client.get("/manage/harvests")
    r = await harvest(client, token, plot_code="T01")
    assert r.status_code == 422 and "T01" in r.text
    assert (await harvest(client, token, plot_code="T01", field_id=east.id)).status_code == 303
    r = await harvest(client, token, plot_code="Z99")
    assert r.status_code == 422 and "Z99" in r.text
    r = await harvest(client, token)  # neither a code nor a field
    assert r.status_code == 422
    assert await HarvestLot.all().count() == 1


# ---- subscribers ----


async def test_the_subscribers_page_lists_searches_and_filters_the_seasons_subscribers(client):
    plan, _, _ = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    _, wang = await subscriber_of(plan, plots[0], "wang@example.com", "王家")
    _, zhao = await subscriber_of(plan, plots[1], "zhao@example.com", "赵家")
    await Subscription.filter(id=zhao.id).update(status=Status.CANCELLED, phone="13912345678")
    other = await make_season(plots=2)
    other_plot = await Plot.filter(field_id=other.field_id).first()
    await subscriber_of(other, other_plot, "other@example.com", "别社家")

    async def shown(**params) -> str:
        r = await client.get("/manage/subscribers", params=params)
        assert r.status_code == 200
        return r.text

    page = await shown()
    assert "王家" in page and "赵家" in page and "别社家" not in page
    assert "王家" in await shown(q="wang@") and "赵家" not in await shown(q="wang@")
    assert "赵家" in await shown(q="139123") and "王家" not in await shown(q="139123")
    assert "王家" in await shown(q="t01") and "赵家" not in await shown(q="t01")
    assert "赵家" in await shown(q="赵") and "王家" not in await shown(q="赵")
    assert "王家" in await shown(status="active") and "赵家" not in await shown(status="active")
    assert "赵家" in await shown(status="nonsense")  # an unknown status is no filter
    assert (
        await client.get("/manage/subscribers", params={"season": other.season_id})
    ).status_code == 404
    assert (await client.get("/manage/subscribers", params={"season": "x"})).status_code == 404


async def test_the_subscribers_page_opens_on_the_running_season_while_the_next_one_sells(client):
    plan, _, _ = await coop_with_manager(client)  # running from last year to two years on
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    await subscriber_of(plan, plots[0], "wang@example.com", "王家")
    running = await Season.get(id=plan.season_id)
    following = await Season.create(
        cooperative_id=running.cooperative_id, name="明年", name_en="Next year",
        starts_on=running.ends_on, ends_on=date(running.ends_on.year + 1, 1, 1),
        sale_starts_on=running.starts_on, sale_ends_on=running.ends_on,
    )  # fmt: skip
    renewing = await Plan.create(
        season=following, field_id=plan.field_id, name="一分地", name_en="One fen",
        plot_area_m2=plan.plot_area_m2, care_mode=plan.care_mode, price_fen=plan.price_fen,
        max_plots=4,
    )  # fmt: skip
    _, early = await subscriber_of(renewing, plots[1], "zhao@example.com", "赵家")
    await Subscription.filter(id=early.id).update(status=Status.PENDING_PAYMENT)

    page = (await client.get("/manage/subscribers")).text
    assert "王家" in page and "赵家" not in page  # the season being farmed, not the renewals
    asked = await client.get("/manage/subscribers", params={"season": following.id})
    assert "赵家" in asked.text and "王家" not in asked.text
    csv_file = (await client.get("/manage/subscribers.csv")).content.decode("utf-8-sig")
    assert "王家" in csv_file and "赵家" not in csv_file


async def test_the_subscribers_csv_is_the_seasons_own_with_a_bom_and_no_formula_cells(client):
    plan, _, _ = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    _, sub = await subscriber_of(plan, plots[0], "wang@example.com", "王家")
    await Subscription.filter(id=sub.id).update(
        sign_name="=HYPERLINK(1)", phone="+8613800",
        activated_at=datetime(2026, 8, 20, 17, 30, tzinfo=UTC),  # the 21st in China
    )  # fmt: skip
    other = await make_season(plots=2)
    await subscriber_of(other, await Plot.filter(field_id=other.field_id).first(),
                        "other@example.com", "别社家")  # fmt: skip
    r = await client.get("/manage/subscribers.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="subscribers-season-{plan.season_id}.csv"' in r.headers["content-disposition"]
    header, *rows = parse_csv(r.content)
    assert len(rows) == 1 and "别社家" not in r.content.decode("utf-8-sig")
    row = dict(zip(header, rows[0], strict=True))
    assert row["牌子上的名字"] == "'=HYPERLINK(1)" and row["电话"] == "'+8613800"
    assert row["地块"] == "T01" and row["邮箱"] == "wang@example.com"
    assert row["付款日期"] == "2026-08-21 01:30" and row["价格（元）"] == "580.00"
    filtered = await client.get("/manage/subscribers.csv", params={"status": "cancelled"})
    assert len(parse_csv(filtered.content)) == 1  # the header only


@pytest.mark.postgres
async def test_the_subscribers_csv_written_by_postgresql_is_byte_for_byte_the_one_python_writes(
    client, monkeypatch
):
    from farm.subscriptions import console

    plan, manager, _ = await coop_with_manager(client)
    plots = await Plot.filter(field_id=plan.field_id).order_by("code")
    _, one = await subscriber_of(plan, plots[0], "wang@example.com", "王家")
    _, two = await subscriber_of(plan, plots[1], "li@example.com", "李家")
    await Subscription.filter(id=one.id).update(
        sign_name='-1, "quoted"\nnext line', phone="", address="@home, 3 幢",
        activated_at=datetime(2026, 8, 20, 17, 30, tzinfo=UTC),
    )  # fmt: skip
    await Subscription.filter(id=two.id).update(recipient="", activated_at=None, price_fen=5,
                                                refunded_fen=3)  # fmt: skip
    from tests.integration.test_subscriber_care import with_history

    await with_history(plan, plots[2], "zhao@example.com", "赵家")  # paid, held, boxes sent

    async def written(filters) -> bytes:
        stream = await console.subscribers_csv(
            manager=manager, filters=filters, timezone="Asia/Shanghai", today=date(2026, 8, 21)
        )
        return b"".join([chunk async for chunk in stream.chunks])

    for filters in (console.SubscriberFilter(), console.SubscriberFilter(text="王")):
        copied = await written(filters)
        monkeypatch.setattr(console, "is_postgres", lambda conn: False)
        assert copied == await written(filters)
        monkeypatch.undo()
    assert b"'-1" in copied and b"'@home" in copied
