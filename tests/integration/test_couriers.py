"""The cooperative's couriers (issue 13): the list a cooperative starts from and edits, boxes
shipped only with a listed courier once it has a list, a tracking link for the family, the
addresses a courier's bulk-order upload takes, and nothing of it open to anyone else."""

from __future__ import annotations

import csv
import io

import pytest

from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Cooperative
from farm.notifications.models import Notification
from farm.shipments.models import Courier, Shipment, ShipmentStatus
from farm.shipments.rules import masked_phone, shipment_number, tracking_link
from tests.integration.test_shipment_console import csv_upload, scene
from tests.support import log_in_client


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_the_list_starts_with_the_usual_couriers_and_a_courier_is_added_and_edited(client):
    manager, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    page = await client.get("/manage/couriers")
    assert page.status_code == 200 and "顺丰速运" in page.text and "China Post EMS" in page.text
    assert await Courier.filter(cooperative_id=manager.cooperative_id).count() == 8
    r = await client.post(
        "/manage/couriers/new",
        data={
            "name": "德邦快递",
            "name_en": "Deppon",
            "csrf_token": token,
            "tracking_url": "https://www.deppon.com/track?no={number}",
        },  # fmt: skip
    )
    assert r.status_code == 303
    deppon = await Courier.get(cooperative_id=manager.cooperative_id, name="德邦快递")
    assert deppon.privacy_waybill is False  # not ticked
    r = await client.post(
        f"/manage/couriers/{deppon.id}",
        data={
            "name": "德邦快递",
            "name_en": "Deppon",
            "tracking_url": "",
            "retired": "1",
            "privacy_waybill": "1",
            "csrf_token": token,
        },  # fmt: skip
    )
    assert r.status_code == 303
    await deppon.refresh_from_db()
    assert (deppon.retired, deppon.privacy_waybill, deppon.tracking_url) == (True, True, "")


@pytest.mark.parametrize(
    ("name", "url", "field"),
    [
        ("", "", "name"),
        ("顺丰速运", "", "name"),  # taken
        ("新快递", "http://track.example/{number}", "tracking_url"),  # not https
        ("新快递", "https://track.example/", "tracking_url"),  # no slot for the number
        ("新快递", 'https://x.example/{number}" onclick="x', "tracking_url"),
    ],
)
async def test_a_bad_courier_is_refused_beside_its_field_and_nothing_saved(
    client, name, url, field
):
    manager, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    await client.get("/manage/couriers")
    r = await client.post(
        "/manage/couriers/new",
        data={"name": name, "name_en": "", "tracking_url": url, "csrf_token": token},
    )
    assert r.status_code == 422 and f'id="err-{field}"' in r.text
    assert await Courier.filter(cooperative_id=manager.cooperative_id).count() == 8


async def test_with_a_list_a_box_ships_only_with_a_listed_courier_and_the_family_gets_a_link(
    client,
):
    _manager, batch, full, _empty, subs, _lot = await scene()
    token = await log_in_client(client, "li@coop.cn")
    await client.get("/manage/couriers")  # the list is made
    data = {"shipment_id": full.id, "tracking_no": "SF1234567890", "csrf_token": token}
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship", data={**data, "courier": "Speedy Pigeon"}
    )
    assert r.status_code == 422 and "Speedy Pigeon" in r.text and "顺丰速运" in r.text
    assert (await Shipment.get(id=full.id)).status == ShipmentStatus.CREATED
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship", data={**data, "courier": "sf express"}
    )
    assert r.status_code == 303
    shipped = await Shipment.get(id=full.id)
    assert shipped.courier == "顺丰速运"  # saved under its list name
    assert shipped.tracking_url == ("https://www.kuaidi100.com/chaxun?com=shunfeng&nu=SF1234567890")
    (mail,) = await Notification.filter(key=f"shipped:{full.id}")
    assert "https://www.kuaidi100.com/chaxun?com=shunfeng&nu=SF1234567890" in mail.body
    client.cookies.clear()
    await log_in_client(client, "box-li@coop.cn")
    page = await client.get(f"/account/subscriptions/{subs[0].id}/deliveries")
    assert 'href="https://www.kuaidi100.com/chaxun?com=shunfeng&amp;nu=SF1234567890"' in page.text


async def test_a_tracking_file_with_a_courier_not_on_the_list_changes_nothing(client):
    _manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    await client.get("/manage/couriers")
    number = shipment_number(full.id)
    bad = f"包裹编号,快递公司,快递单号\r\n{number},=HYPERLINK(1),ZT-123456789\r\n"
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking", data={"csrf_token": token}, files=csv_upload(bad)
    )
    assert r.status_code == 422 and "Line 2:" in r.text
    assert (await Shipment.get(id=full.id)).status == ShipmentStatus.CREATED
    good = bad.replace("=HYPERLINK(1)", "ZTO Express")
    r = await client.post(
        f"/manage/shipments/{batch.id}/tracking", data={"csrf_token": token}, files=csv_upload(good)
    )
    assert r.status_code == 303
    shipped = await Shipment.get(id=full.id)
    assert (shipped.courier, shipped.tracking_url) == (
        "中通快递", "https://www.kuaidi100.com/chaxun?com=zhongtong&nu=ZT-123456789"
    )  # fmt: skip


async def test_without_a_list_any_courier_is_typed_and_the_box_has_no_link(client):
    _manager, batch, full, *_ = await scene()
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(
        f"/manage/shipments/{batch.id}/ship",
        data={
            "shipment_id": full.id,
            "courier": "村里的三轮车",
            "tracking_no": "CUN123456",
            "csrf_token": token,
        },  # fmt: skip
    )
    assert r.status_code == 303
    shipped = await Shipment.get(id=full.id)
    assert (shipped.courier, shipped.tracking_url) == ("村里的三轮车", "")


async def test_the_address_export_lists_the_boxes_to_ship_for_a_couriers_bulk_upload(client):
    manager, batch, full, empty, subs, _lot = await scene()
    await Shipment.filter(id=full.id).update(recipient="=SUM(A1)", phone="13812345678")
    await log_in_client(client, "li@coop.cn")
    await client.get("/manage/couriers")
    sf = await Courier.get(cooperative_id=manager.cooperative_id, name="顺丰速运")
    r = await client.get(f"/manage/shipments/{batch.id}/addresses.csv", params={"courier": sf.id})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header, *lines = rows_of(r.content)
    assert header[:3] == ["Order number", "Recipient", "Mobile"]
    assert lines == [[shipment_number(full.id), "'=SUM(A1)", "13812345678", full.province,
                      full.city, full.address, "Farm produce", "1", "Yes",
                      f"Plot {(await full.subscription.first().prefetch_related('plot')).plot.code}"]]  # fmt: skip
    assert shipment_number(empty.id) not in r.text  # nothing to send
    await Shipment.filter(id=full.id).update(status=ShipmentStatus.SHIPPED)
    r = await client.get(f"/manage/shipments/{batch.id}/addresses.csv")
    assert rows_of(r.content)[1:] == []  # shipped already


async def test_couriers_and_addresses_are_404_to_another_cooperatives_manager(client):
    manager, batch, *_ = await scene()
    other = await Cooperative.create(name="别的社")
    await sign_up(email="o@coop.cn", name="别人", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=other.id)  # fmt: skip
    token = await log_in_client(client, "li@coop.cn")
    await client.get("/manage/couriers")
    mine = await Courier.filter(cooperative_id=manager.cooperative_id).first()
    client.cookies.clear()
    token = await log_in_client(client, "o@coop.cn")
    assert (await client.get(f"/manage/couriers/{mine.id}")).status_code == 404
    r = await client.post(
        f"/manage/couriers/{mine.id}",
        data={"name": "x", "name_en": "", "tracking_url": "", "csrf_token": token},
    )
    assert r.status_code == 404 and (await Courier.get(id=mine.id)).name != "x"
    assert (await client.get(f"/manage/shipments/{batch.id}/addresses.csv")).status_code == 404
    own = await Courier.filter(cooperative_id=other.id).first()
    assert own is None  # the other cooperative never opened its list
    r = await client.get(f"/manage/shipments/{batch.id}/addresses.csv", params={"courier": "x"})
    assert r.status_code == 404


def test_a_tracking_link_puts_the_number_in_the_pattern_quoted():
    pattern = "https://t.example/q?nu={number}"
    assert tracking_link(pattern, "SF 12/3") == "https://t.example/q?nu=SF%2012%2F3"
    assert tracking_link("", "SF1") == "" and tracking_link(pattern, "") == ""


def test_a_mobile_is_masked_in_its_middle_four_digits():
    assert masked_phone("13812345678") == "138****5678"
    assert masked_phone("0571-8888888") == "057*******88"
