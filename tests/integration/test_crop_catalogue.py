"""The crop catalogue in the console: a manager lists, adds and edits the cooperative's crops,
retires one in use (never deletes it), and a crop counted in pieces (eggs) is entered and
shown as pieces everywhere, stored in the same integer column as grams."""

import re

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.fieldwork.models import Crop, HarvestLot
from farm.land.models import Cooperative, Plot
from tests.integration.test_fieldwork import TODAY, coop_with_manager, subscriber_of
from tests.support import csrf_of, log_in_client


def crop_form(token, **changes):
    data = {"name": "鸭蛋", "name_en": "Duck eggs", "shelf_life_days": "20", "leafy": "",
            "unit": "pieces", "csrf_token": token}  # fmt: skip
    return {**data, **changes}


async def crops_of(coop_id):
    return (
        await Crop.filter(cooperative_id=coop_id)
        .order_by("id")
        .values_list("name", "name_en", "shelf_life_days", "leafy", "unit", "retired")
    )


async def test_the_catalogue_lists_the_eleven_defaults_with_a_pager_and_a_search(client):
    plan, manager, _ = await coop_with_manager(client)
    page = await client.get("/manage/crops")
    assert page.status_code == 200
    assert await Crop.filter(cooperative_id=manager.cooperative_id).count() == 11
    assert "土鸡蛋" in page.text and "青菜" in page.text
    found = await client.get("/manage/crops", params={"q": "鸡蛋"})
    assert "土鸡蛋" in found.text and "青菜" not in found.text


async def test_a_manager_adds_a_crop_counted_in_pieces_and_edits_it(client):
    plan, manager, token = await coop_with_manager(client)
    r = await client.post("/manage/crops/new", data=crop_form(token))
    assert r.status_code == 303
    duck = await Crop.get(cooperative_id=manager.cooperative_id, name="鸭蛋")
    assert (duck.unit, duck.shelf_life_days, duck.leafy) == ("pieces", 20, False)
    r = await client.post(
        f"/manage/crops/{duck.id}", data=crop_form(token, shelf_life_days="25", leafy="1")
    )
    assert r.status_code == 303
    duck = await Crop.get(id=duck.id)
    assert (duck.shelf_life_days, duck.leafy) == (25, True)


async def test_bad_crop_values_are_refused_beside_the_field_and_nothing_changes(client):
    plan, manager, token = await coop_with_manager(client)
    await client.get("/manage/crops")  # the defaults
    before = await crops_of(manager.cooperative_id)
    for changes in ({"name": ""}, {"shelf_life_days": "0"}, {"shelf_life_days": "abc"},
                    {"unit": "tons"}, {"name": "青菜"}, {"name": "菜" * 41}):  # fmt: skip
        r = await client.post("/manage/crops/new", data=crop_form(token, **changes))
        assert r.status_code == 422, changes
        assert "未保存" in r.text or "请" in r.text
    assert await crops_of(manager.cooperative_id) == before


async def test_a_crop_in_use_cannot_be_deleted_nor_change_unit_but_can_be_retired(client):
    plan, manager, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).first()
    await client.get("/manage/crops")
    greens = await Crop.get(cooperative_id=manager.cooperative_id, name="青菜")
    r = await client.post("/manage/harvests", data={
        "crop_id": greens.id, "target": str(plot.id), "kg": "3",
        "harvested_on": TODAY.isoformat(), "csrf_token": token,
    })  # fmt: skip
    assert r.status_code == 303
    r = await client.post(f"/manage/crops/{greens.id}/delete", data={"csrf_token": token})
    assert r.status_code == 409 and "不能删除" in r.text
    r = await client.post(f"/manage/crops/{greens.id}", data=crop_form(
        token, name="青菜", name_en="Bok choy", shelf_life_days="3", leafy="1", unit="pieces"
    ))  # fmt: skip
    assert r.status_code == 422
    assert (await Crop.get(id=greens.id)).unit == "kg"
    r = await client.post(
        f"/manage/crops/{greens.id}/retire", data={"retired": "1", "csrf_token": token}
    )
    assert r.status_code == 303
    assert (await Crop.get(id=greens.id)).retired
    # Not offered for a new harvest, refused if posted anyway, still shown in the history.
    page = await client.get("/manage/harvests")
    offered = re.search(r'<select name="crop_id">(.*?)</select>', page.text, re.S).group(1)
    assert "青菜" not in offered
    assert "青菜" in page.text  # the lot's row and the filter
    r = await client.post("/manage/harvests", data={
        "crop_id": greens.id, "target": str(plot.id), "kg": "2",
        "harvested_on": TODAY.isoformat(), "csrf_token": token,
    })  # fmt: skip
    assert r.status_code == 422
    assert await HarvestLot.filter(crop_id=greens.id).count() == 1


async def test_an_unused_crop_is_deleted(client):
    plan, manager, token = await coop_with_manager(client)
    await client.post("/manage/crops/new", data=crop_form(token))
    duck = await Crop.get(cooperative_id=manager.cooperative_id, name="鸭蛋")
    r = await client.post(f"/manage/crops/{duck.id}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    assert not await Crop.exists(id=duck.id)


async def test_eggs_are_entered_and_shown_as_pieces_on_the_console_trace_and_plot_page(client):
    plan, manager, token = await coop_with_manager(client)
    plot = await Plot.filter(field_id=plan.field_id).order_by("code").first()
    await client.get("/manage/crops")
    eggs = await Crop.get(cooperative_id=manager.cooperative_id, name="土鸡蛋")
    await Crop.filter(id=eggs.id).update(unit="pieces")
    # A fraction of an egg is refused, nothing written.
    r = await client.post("/manage/harvests", data={
        "crop_id": eggs.id, "target": str(plot.id), "kg": "12.5",
        "harvested_on": TODAY.isoformat(), "csrf_token": token,
    })  # fmt: skip
    assert r.status_code == 422 and not await HarvestLot.exists()
    r = await client.post("/manage/harvests", data={
        "crop_id": eggs.id, "target": str(plot.id), "kg": "12",
        "harvested_on": TODAY.isoformat(), "csrf_token": token,
    })  # fmt: skip
    assert r.status_code == 303
    lot = await HarvestLot.get()
    assert lot.weight_g == 12  # a count, in the gram column
    console = await client.get("/manage/harvests")
    assert "12个" in console.text and "0.01公斤" not in console.text
    trace = await client.get(f"/trace/{lot.code}")
    assert "12个" in trace.text and "公斤" not in re.search(
        r"<h1>(.*?)</h1>", trace.text, re.S
    ).group(1)
    client.cookies.set("lang", "en")
    assert "12 pcs" in (await client.get(f"/trace/{lot.code}")).text
    client.cookies.delete("lang")
    # The reports: eggs on their own row as pieces, never added to the weights.
    r = await client.post("/manage/harvests", data={
        "crop_id": (await Crop.get(cooperative_id=manager.cooperative_id, name="大米")).id,
        "target": str(plot.id), "kg": "3", "harvested_on": TODAY.isoformat(), "csrf_token": token,
    })  # fmt: skip
    report = await client.get("/manage/reports")
    assert report.status_code == 200 and "12个" in report.text
    from farm.fieldwork import reports
    from farm.land.models import Season

    season = await Season.get(id=plan.season_id)
    yields = await reports._yield_report(season)
    assert (yields.total.weight_g, yields.total.lots) == (3000, 1)
    assert [r.weight_g for r in yields.by_field] == [3000]
    csv = (await client.get("/manage/reports/yields.csv", params={"season": season.id})).text
    assert "按作物,土鸡蛋,,,1,,12\r\n" in csv and "合计,,,,1,3.00,\r\n" in csv
    await client.post("/logout", data={"csrf_token": token})
    _, sub = await subscriber_of(plan, plot)
    await log_in_client(client, "wang@example.com")
    page = await client.get(f"/account/subscriptions/{sub.id}/plot")
    assert "12个" in page.text


async def test_a_manager_of_another_cooperative_gets_404_on_the_crops(client):
    plan, manager, token = await coop_with_manager(client)
    await client.get("/manage/crops")
    greens = await Crop.get(cooperative_id=manager.cooperative_id, name="青菜")
    await client.post("/logout", data={"csrf_token": token})
    other = await Cooperative.create(name="别的合作社", village="别村")
    await sign_up(email="zhao@other.example", name="赵", password="correct horse",
                  language="zh_CN", role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    token = await log_in_client(client, "zhao@other.example")
    before = await crops_of(manager.cooperative_id)
    assert (await client.get(f"/manage/crops/{greens.id}")).status_code == 404
    for path, data in ((f"/manage/crops/{greens.id}", crop_form(token, name="偷改")),
                       (f"/manage/crops/{greens.id}/retire", {"retired": "1", "csrf_token": token}),
                       (f"/manage/crops/{greens.id}/delete", {"csrf_token": token})):  # fmt: skip
        assert (await client.post(path, data=data)).status_code == 404
    assert await crops_of(manager.cooperative_id) == before
    assert "青菜" in (await client.get("/manage/crops")).text  # its own defaults, not ours
    assert await Crop.filter(name="偷改").count() == 0
    assert await csrf_of(client, "/manage/crops")
