"""The manager's shipment console: boxes packed and shipped once with one email, tracking
CSVs all or nothing, the transit table, harvest diverted by hand, the early-harvest warning,
and nothing of another cooperative reachable."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import pytest

from farm.accounts.models import Role, User
from farm.accounts.services import sign_up
from farm.errors import Conflict, FieldErrors
from farm.fieldwork.models import HarvestLot
from farm.land.models import Plot, Season
from farm.links import Links
from farm.notifications.models import Notification
from farm.shipments import batches, console, dispatch, diversions
from farm.shipments.models import (
    Allocation,
    Batch,
    DiversionReason,
    Shipment,
    ShipmentStatus,
    TransitTime,
)
from farm.shipments.rules import shipment_number
from farm.subscriptions.rules import PROVINCES
from tests.support import (
    NOW,
    SHIP_SEASON,
    accounting_problems,
    csrf_of,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

NOV16 = date(2026, 11, 16)
BASE = "https://farm.example"


async def scene(email: str = "li@coop.cn"):
    """A cooperative's 16 November batch: one box of rice to send, one empty box."""
    plan = await make_season(plots=3, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    owner = await make_customer(f"box-{email}")  # the customer of the full box can log in
    subs = [
        await make_active_subscription(plan, plots[0], customer=owner),
        await make_active_subscription(plan, plots[1]),
    ]
    manager = await sign_up(
        email=email,
        name="李经理",
        password="correct horse",
        language="en",  # the messages checked below are the English ones
        role=Role.MANAGER,
        cooperative_id=season.cooperative_id,
    )
    rice = await make_crop(season.cooperative_id)
    lot = await make_lot(
        rice,
        field_id=plan.field_id,
        plot_id=plots[0].id,
        grams=5000,
        harvested_on=date(2026, 11, 10),
    )
    await batches.make_due_batches(today=NOV16, now=NOW)
    batch = await Batch.get(cooperative_id=season.cooperative_id, ship_on=NOV16)
    full = await Shipment.get(batch_id=batch.id, subscription_id=subs[0].id)
    empty = await Shipment.get(batch_id=batch.id, subscription_id=subs[1].id)
    assert (full.status, empty.status) == (ShipmentStatus.CREATED, ShipmentStatus.EMPTY)
    return manager, batch, full, empty, subs, lot


async def status_of(shipment_id: int) -> str:
    return (await Shipment.get(id=shipment_id)).status


def csv_upload(text: str, encoding: str = "utf-8"):
    return {"file": ("tracking.csv", text.encode(encoding), "text/csv")}


# ---- packed and shipped ----


async def test_a_box_is_packed_then_shipped_and_its_customer_gets_one_email(client):
    manager, batch, full, _empty, subs, _lot = await scene()
    token = await log_in_client(client, "li@coop.cn")
    page = await client.get(f"/manage/shipments/{batch.id}")
    assert page.status_code == 200 and shipment_number(full.id) in page.text
    r = await client.post(
        f"/manage/shipments/{batch.id}/pack", data={"shipment_id": full.id, "csrf_token": token}
    )
    assert r.status_code == 303 and await status_of(full.id) == ShipmentStatus.PACKED
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship",
        data={
            "shipment_id": full.id,
            "courier": "顺丰速运",
            "tracking_no": "SF1234567890",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    shipped = await Shipment.get(id=full.id)
    assert (shipped.status, shipped.courier, shipped.tracking_no) == (
        ShipmentStatus.SHIPPED,
        "顺丰速运",
        "SF1234567890",
    )
    (mail,) = await Notification.all()
    customer = await User.get(id=subs[0].customer_id)
    assert (mail.key, mail.to) == (f"shipped:{full.id}", customer.email)
    assert "SF1234567890" in mail.body and "顺丰速运" in mail.body and "大米" in mail.body
    assert "5" in mail.body and "2026-11-16" in mail.body
    assert f"/account/subscriptions/{subs[0].id}/deliveries" in mail.body


async def test_shipping_a_shipped_box_again_corrects_tracking_without_a_second_email(conn):
    manager, batch, full, *_ = await scene()
    first = await dispatch.mark_shipped(
        manager=manager,
        batch_id=batch.id,
        shipment_id=full.id,
        courier="EMS",
        tracking_no="E12345678CN",
        links=Links(BASE),
        now=NOW,
    )
    again = await dispatch.mark_shipped(
        manager=manager,
        batch_id=batch.id,
        shipment_id=full.id,
        courier="EMS",
        tracking_no="E87654321CN",
        links=Links(BASE),
        now=NOW,
    )
    assert (first, again) == (True, False)
    assert (await Shipment.get(id=full.id)).tracking_no == "E87654321CN"
    assert await Notification.all().count() == 1
    with pytest.raises(Conflict):  # shipped is final
        await dispatch.mark_packed(manager=manager, batch_id=batch.id, shipment_id=full.id, now=NOW)


async def test_two_managers_shipping_the_same_box_at_once_send_one_email(conn):
    manager, batch, full, *_ = await scene()
    results = await asyncio.gather(
        *(
            dispatch.mark_shipped(
                manager=manager,
                batch_id=batch.id,
                shipment_id=full.id,
                courier="EMS",
                tracking_no=f"E1234567{i}CN",
                links=Links(BASE),
                now=NOW,
            )
            for i in range(2)
        )
    )
    assert sorted(results) == [False, True]
    assert await Notification.all().count() == 1


async def test_an_empty_box_can_be_neither_packed_nor_shipped(client):
    _manager, batch, _full, empty, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(
        f"/manage/shipments/{batch.id}/pack", data={"shipment_id": empty.id, "csrf_token": token}
    )
    assert r.status_code == 409
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship",
        data={
            "shipment_id": empty.id,
            "courier": "EMS",
            "tracking_no": "E12345678CN",
            "csrf_token": token,
        },
    )
    assert r.status_code == 409 and "empty" in r.text
    assert await status_of(empty.id) == ShipmentStatus.EMPTY
    assert await Notification.all().count() == 0


@pytest.mark.parametrize(
    ("courier", "tracking", "message"),
    [
        ("", "SF1234567890", "Enter the courier."),
        ("顺丰", "SF 12", "A tracking number is 6 to 30"),
        ("快" * 41, "SF1234567890", "at most 40 characters"),
    ],
)
async def test_a_bad_courier_or_tracking_number_is_refused_beside_the_box(
    client, courier, tracking, message
):
    _manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship",
        data={
            "shipment_id": full.id,
            "courier": courier,
            "tracking_no": tracking,
            "csrf_token": token,
        },
    )
    assert r.status_code == 422 and message in r.text
    assert await status_of(full.id) == ShipmentStatus.CREATED
    assert await Notification.all().count() == 0


async def test_mark_all_packed_packs_only_the_boxes_to_pack(client):
    _manager, batch, full, empty, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(f"/manage/shipments/{batch.id}/pack-all", data={"csrf_token": token})
    assert r.status_code == 303
    assert (await status_of(full.id), await status_of(empty.id)) == (
        ShipmentStatus.PACKED,
        ShipmentStatus.EMPTY,
    )


async def test_a_batch_of_many_boxes_is_shown_100_at_a_time_and_filtered_by_status(client):
    _manager, batch, full, *_ = await scene()
    await Shipment.bulk_create(
        [
            Shipment(
                batch_id=batch.id,
                subscription_id=full.subscription_id,
                created_at=NOW,
                ship_on=NOV16 + timedelta(days=i),
                status=ShipmentStatus.PACKED,
                recipient="某",
            )
            for i in range(1, 131)
        ]
    )
    await log_in_client(client, "li@coop.cn")
    rows = re.compile(r'<tr id="s\d+"')
    first = await client.get(f"/manage/shipments/{batch.id}")
    second = await client.get(f"/manage/shipments/{batch.id}?page=2")
    packed = await client.get(f"/manage/shipments/{batch.id}?status=packed&page=2")
    assert [len(rows.findall(p.text)) for p in (first, second, packed)] == [100, 32, 30]
    assert (await client.get(f"/manage/shipments/{batch.id}?page=abc")).status_code == 200


async def test_the_batches_page_shows_boxes_by_status_kg_and_the_next_ship_days(client):
    _manager, batch, full, *_ = await scene()
    await log_in_client(client, "li@coop.cn")
    page = await client.get("/manage/shipments")
    assert page.status_code == 200
    assert f'href="/manage/shipments/{batch.id}"' in page.text
    assert re.search(r">\s*5\s*</td>", page.text)  # 5 kg of rice in its box
    manager = await User.get(email="li@coop.cn")
    coming = await console.coming_ship_days(manager=manager, today=date(2027, 8, 10))
    assert coming == [date(2027, 8, 16)]  # the season ends on 1 September


# ---- tracking CSV ----


async def test_a_csv_with_any_bad_line_changes_nothing_and_lists_each_line(client):
    _manager, batch, full, empty, *_ = await scene()
    other_manager, other_batch, other_full, *_ = await scene("wu@coop2.cn")
    token = await log_in_client(client, "li@coop.cn")
    text = (
        "发货单号,快递公司,运单号\n"
        f"{shipment_number(full.id)},顺丰,SF1234567890\n"
        f"{shipment_number(empty.id)},顺丰,SF1234567891\n"
        f"{shipment_number(other_full.id)},顺丰,SF1234567892\n"
        "S999999,顺丰,SF1234567893\n"
        f"{shipment_number(full.id)},顺丰,SF12\n"
    )
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking", data={"csrf_token": token}, files=csv_upload(text)
    )
    assert r.status_code == 422
    for line, words in (
        (3, "empty box"),
        (4, "not in this batch"),
        (5, "not in this batch"),
        (6, "6 to 30"),
    ):
        assert re.search(rf"Line {line}:[^<]*{words}", r.text), (line, r.text)
    assert await status_of(full.id) == ShipmentStatus.CREATED
    assert await status_of(other_full.id) == ShipmentStatus.CREATED
    assert await Notification.all().count() == 0


async def test_a_good_csv_in_gbk_ships_every_box_listed_with_its_email(client):
    _manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    text = f"发货单号,快递公司,运单号\r\n{shipment_number(full.id)},中通快递,ZT-123456789\r\n"
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking",
        data={"csrf_token": token},
        files=csv_upload(text, "gbk"),
    )
    assert r.status_code == 303
    shipped = await Shipment.get(id=full.id)
    assert (shipped.status, shipped.courier) == (ShipmentStatus.SHIPPED, "中通快递")
    assert [n.key for n in await Notification.all()] == [f"shipped:{full.id}"]
    # The same file again: no second email.
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking",
        data={"csrf_token": token},
        files=csv_upload(text, "gbk"),
    )
    assert r.status_code == 303 and await Notification.all().count() == 1


async def test_a_tracking_file_over_one_megabyte_is_refused(client):
    _manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    big = "S1,EMS,E12345678CN\n" * 60_000
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking", data={"csrf_token": token}, files=csv_upload(big)
    )
    assert r.status_code == 413 and await status_of(full.id) == ShipmentStatus.CREATED


# ---- another cooperative ----


async def test_another_cooperatives_batch_boxes_and_lots_are_404_on_every_route(client):
    await scene()
    _m, other_batch, other_full, _e, _s, other_lot = await scene("wu@coop2.cn")
    token = await log_in_client(client, "li@coop.cn")
    own_batch = await Batch.filter(ship_on=NOV16).exclude(id=other_batch.id).first()
    assert (await client.get(f"/manage/shipments/{other_batch.id}")).status_code == 404
    data = {
        "shipment_id": other_full.id,
        "courier": "EMS",
        "tracking_no": "E12345678CN",
        "csrf_token": token,
        "kg": "1",
        "reason": "donated",
    }
    for target in (other_batch.id, own_batch.id):  # their batch, or their box in ours
        for action in ("pack", "ship"):
            r = await client.post(f"/manage/shipments/{target}/{action}", data=data)
            assert r.status_code == 404, (target, action)
    r = await client.post(f"/manage/shipments/{other_batch.id}/pack-all", data=data)
    assert r.status_code == 404
    r = await client.post(
        f"/manage/shipments/{other_batch.id}/tracking",
        data=data,
        files=csv_upload(f"{shipment_number(other_full.id)},EMS,E12345678CN"),
    )
    assert r.status_code == 404
    r = await client.post(f"/manage/harvests/{other_lot.id}/divert", data=data)
    assert r.status_code == 404
    assert await status_of(other_full.id) == ShipmentStatus.CREATED
    assert (await HarvestLot.get(id=other_lot.id)).settled_g == other_lot.weight_g
    assert await Notification.all().count() == 0


@pytest.mark.parametrize("role", ["customer", "other_manager"])
async def test_the_shipment_pages_are_404_to_customers_and_other_managers(client, role):
    _manager, batch, full, *_ = await scene()
    if role == "customer":
        email = "box-li@coop.cn"  # even the customer of the box
    else:
        await scene("wu@coop2.cn")
        email = "wu@coop2.cn"
    token = await log_in_client(client, email)
    assert (await client.get(f"/manage/shipments/{batch.id}")).status_code == 404
    if role == "customer":
        for path in ("/manage/shipments", "/manage/shipments/transit"):
            assert (await client.get(path)).status_code == 404
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship",
        data={
            "shipment_id": full.id,
            "courier": "EMS",
            "tracking_no": "E12345678CN",
            "csrf_token": token,
        },
    )
    assert r.status_code == 404 and await status_of(full.id) == ShipmentStatus.CREATED


# ---- the transit table ----


async def test_the_transit_table_is_saved_and_the_next_batch_uses_it(client):
    manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    page = await client.get("/manage/shipments/transit")
    assert page.status_code == 200 and page.text.count('name="days_') == len(PROVINCES)
    days = {f"days_{p}": "2" for p in PROVINCES} | {"days_上海": "6"}
    r = await client.post("/manage/shipments/transit", data={**days, "csrf_token": token})
    assert r.status_code == 303
    assert await TransitTime.filter(cooperative_id=manager.cooperative_id).count() == len(PROVINCES)
    r = await client.post("/manage/shipments/transit", data={**days, "csrf_token": token})
    assert r.status_code == 303  # saved again: updated, not duplicated
    assert (await TransitTime.get(cooperative_id=manager.cooperative_id, province="上海")).days == 6
    await batches.make_due_batches(today=date(2026, 12, 1), now=NOW)
    dec1 = await Shipment.get(subscription_id=full.subscription_id, ship_on=date(2026, 12, 1))
    assert dec1.transit_days == 6


async def test_a_bad_transit_value_is_refused_per_province_and_nothing_saved(client):
    manager, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    days = {f"days_{p}": "2" for p in PROVINCES} | {
        "days_西藏": "16", "days_新疆": "-1", "days_北京": "9" * 5000, "days_上海": "٣"}  # fmt: skip
    r = await client.post("/manage/shipments/transit", data={**days, "csrf_token": token})
    assert r.status_code == 422
    # beside each of the four provinces' fields, and again in the summary over the form
    assert r.text.count("Enter a whole number of days from 0 to 15.") == 8
    assert await TransitTime.all().count() == 0


# ---- harvest diverted by hand ----


async def test_a_lot_is_diverted_by_hand_but_never_beyond_what_is_still_open(client):
    manager, *_ = await scene()
    greens = await make_crop(manager.cooperative_id, "青菜", shelf_life_days=3, leafy=True)
    field_id = (await Plot.filter(field__cooperative_id=manager.cooperative_id).first()).field_id
    lot = await make_lot(
        greens, field_id=field_id, plot_id=None, grams=1000, harvested_on=date(2026, 11, 20)
    )
    token = await log_in_client(client, "li@coop.cn")
    page = await client.get("/manage/harvests")
    assert f'action="/manage/harvests/{lot.id}/divert"' in page.text

    async def divert(kg: str, reason: str = "donated"):
        return await client.post(
            f"/manage/harvests/{lot.id}/divert",
            data={"kg": kg, "reason": reason, "note": "敬老院", "csrf_token": token},
        )

    assert (await divert("0.6")).status_code == 303
    too_much = await divert("0.5", "sold_locally")
    assert too_much.status_code == 422 and "Only 0.4 kg of this lot is still open." in too_much.text
    assert (await divert("0.4", "shelf_life")).status_code == 422  # not a reason to pick
    assert (await divert("0.4", "sold_locally")).status_code == 303
    assert (await HarvestLot.get(id=lot.id)).settled_g == 1000
    assert sorted(
        (a.grams, a.reason, a.decided_by_id, a.ship_on)
        for a in await Allocation.filter(lot_id=lot.id)
    ) == [
        (400, DiversionReason.SOLD_LOCALLY, manager.id, None),
        (600, DiversionReason.DONATED, manager.id, None),
    ]
    page = await client.get("/manage/harvests")
    assert f'action="/manage/harvests/{lot.id}/divert"' not in page.text  # nothing open
    await batches.make_due_batches(today=date(2026, 12, 1), now=NOW)
    assert await Allocation.filter(lot_id=lot.id).count() == 2  # the ship day found none open
    assert await accounting_problems() == []


async def test_two_diversions_at_once_cannot_exceed_the_lot(conn):
    manager, *_ = await scene()
    rice = await make_crop(manager.cooperative_id, "糯米")
    field_id = (await Plot.filter(field__cooperative_id=manager.cooperative_id).first()).field_id
    lot = await make_lot(
        rice, field_id=field_id, plot_id=None, grams=1000, harvested_on=date(2026, 11, 20)
    )
    results = await asyncio.gather(
        *(
            diversions.divert_lot(
                manager=manager, lot_id=lot.id, kg="0.7", reason="donated", note="", now=NOW
            )
            for _ in range(2)
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Allocation", "FieldErrors"]
    assert isinstance([r for r in results if not isinstance(r, Allocation)][0], FieldErrors)
    assert (await HarvestLot.get(id=lot.id)).settled_g == 700
    assert await accounting_problems() == []


# ---- harvested too early ----


async def test_logging_leafy_greens_too_early_for_the_next_ship_day_warns_the_manager(client):
    today = date.today()
    plan = await make_season(
        starts_on=date(today.year - 1, 1, 1),
        ends_on=date(today.year + 2, 1, 1),
        sale_starts_on=date(today.year - 1, 1, 1),
        sale_ends_on=date(today.year + 2, 1, 1),
    )
    await plan.fetch_related("field")
    coop_id = plan.field.cooperative_id
    await sign_up(
        email="li@coop.cn",
        name="李经理",
        password="correct horse",
        language="en",
        role=Role.MANAGER,
        cooperative_id=coop_id,
    )
    greens = await make_crop(coop_id, "青菜", shelf_life_days=3, leafy=True)
    rice = await make_crop(coop_id, "大米")
    token = await log_in_client(client, "li@coop.cn")
    # The 2nd of last month: the next ship day, the 16th, is 14 days on.
    harvested = (today.replace(day=1) - timedelta(days=1)).replace(day=2)
    plot = await Plot.filter(field_id=plan.field_id).first()
    await make_active_subscription(plan, plot, province="上海")  # someone to send it to

    async def log(crop):
        r = await client.post(
            "/manage/harvests",
            data={
                "crop_id": crop.id,
                "target": str(plot.id),
                "kg": "3",
                "harvested_on": harvested.isoformat(),
                "csrf_token": token,
            },
        )
        assert r.status_code == 303
        return await client.get(r.headers["location"])

    warned = await log(greens)
    assert "Harvested too early" in warned.text
    assert harvested.replace(day=16).isoformat() in warned.text
    assert "Harvested too early" not in (await log(rice)).text
    assert await HarvestLot.filter(crop_id=greens.id).count() == 1  # still recorded


async def test_the_warning_uses_the_nearest_customers_transit_days(conn):
    manager, batch, *_ = await scene()
    field_id = (await Plot.filter(field__cooperative_id=manager.cooperative_id).first()).field_id
    greens = await make_crop(manager.cooperative_id, "生菜", shelf_life_days=3, leafy=True)
    # Harvested 13 December, shipped 16 December: 3 days to the ship day.
    lot = await make_lot(
        greens, field_id=field_id, plot_id=None, grams=500, harvested_on=date(2026, 12, 13)
    )
    for province in PROVINCES:
        await TransitTime.create(cooperative_id=manager.cooperative_id, province=province, days=2)
    found = await diversions.early_harvest(manager=manager, code=lot.code)
    assert found is not None and found.ship_on == date(2026, 12, 16)
    # A province nobody on this field lives in does not matter; the subscribers' does.
    await TransitTime.filter(cooperative_id=manager.cooperative_id, province="安徽").update(days=0)
    assert await diversions.early_harvest(manager=manager, code=lot.code) is not None
    await TransitTime.filter(cooperative_id=manager.cooperative_id, province="上海").update(days=0)
    assert await diversions.early_harvest(manager=manager, code=lot.code) is None


@pytest.mark.parametrize("role", ["visitor", "admin"])
async def test_every_shipment_console_route_is_closed_to_visitors_and_admins(client, role):
    _manager, batch, full, _empty, _subs, lot = await scene()
    if role == "admin":
        await sign_up(email="a@x.cn", name="管理员", password="correct horse", language="zh_CN",
                      role=Role.ADMIN)  # fmt: skip
        token = await log_in_client(client, "a@x.cn")
    else:
        token = await csrf_of(client, "/login")
    gets = ["/manage/shipments", "/manage/shipments/transit", f"/manage/shipments/{batch.id}"]
    posts = [f"/manage/shipments/{batch.id}/{a}" for a in ("pack", "pack-all", "ship", "tracking")]
    posts += ["/manage/shipments/transit", f"/manage/harvests/{lot.id}/divert"]
    data = {"shipment_id": full.id, "courier": "EMS", "tracking_no": "E12345678CN", "kg": "1",
            "reason": "donated", "csrf_token": token}  # fmt: skip
    for method, path in [("GET", p) for p in gets] + [("POST", p) for p in posts]:
        r = await (client.get(path) if method == "GET" else client.post(path, data=data))
        if role == "visitor":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        else:
            assert r.status_code == 404, (method, path, r.status_code)
    assert await status_of(full.id) == ShipmentStatus.CREATED
    assert await TransitTime.all().count() == 0 and await Notification.all().count() == 0
