"""A ship day's packing list and labels as the manager downloads them, and the public page a
box's QR code opens."""

from __future__ import annotations

import io
import re
from datetime import date

from pdfminer.high_level import extract_pages, extract_text

from farm import i18n
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Plot, Season
from farm.shipments import batches
from farm.shipments.models import Batch, Shipment, ShipmentStatus
from farm.shipments.packing import box_token
from farm.shipments.rules import shipment_number
from farm.subscriptions.models import Subscription
from tests.support import (
    NOW,
    SHIP_SEASON,
    log_in_client,
    make_active_subscription,
    make_crop,
    make_customer,
    make_lot,
    make_season,
)

SHIP_ON = date(2026, 11, 16)
LONG_ADDRESS = "浦东新区世纪大道100号陆家嘴金融贸易区东方明珠广播电视塔对面七号楼二单元1808室"


async def scene():
    """Three subscribers on ship day 16 November: 王小明 gets rice (and his greens spoil on
    the way), 李四 gets greens, 张三's plot gave nothing, so his box is empty."""
    plan = await make_season(plots=3, **SHIP_SEASON)
    season = await Season.get(id=plan.season_id)
    coop_id = season.cooperative_id
    plots = list(await Plot.filter(field_id=plan.field_id).order_by("code"))
    subs = []
    for plot, name in zip(plots, ["王小明", "李四", "张三"], strict=True):
        customer = await make_customer(f"{plot.code.lower()}@example.com", name)
        subs.append(await make_active_subscription(plan, plot, customer=customer))
    await Subscription.filter(id=subs[0].id).update(city="上海市", address=LONG_ADDRESS)
    rice = await make_crop(coop_id, "大米")
    greens = await make_crop(coop_id, "青菜", shelf_life_days=3, leafy=True)
    lots = {
        "rice": await make_lot(rice, field_id=plan.field_id, plot_id=plots[0].id, grams=5000,
                               harvested_on=date(2026, 11, 10)),
        "spoilt": await make_lot(greens, field_id=plan.field_id, plot_id=plots[0].id, grams=800,
                                 harvested_on=date(2026, 11, 5)),
        "greens": await make_lot(greens, field_id=plan.field_id, plot_id=plots[1].id, grams=1250,
                                 harvested_on=date(2026, 11, 14)),
    }  # fmt: skip
    await batches.make_due_batches(today=SHIP_ON, now=NOW)
    batch = await Batch.get(cooperative_id=coop_id, ship_on=SHIP_ON)
    boxes = {
        name: await Shipment.get(subscription_id=sub.id, ship_on=SHIP_ON)
        for name, sub in zip(["wang", "li", "zhang"], subs, strict=True)
    }
    await sign_up(email="li@coop.cn", name="李经理", password="correct horse", language="zh_CN",
                  role=Role.MANAGER, cooperative_id=coop_id)  # fmt: skip
    return batch, boxes, lots


def pdf_text(body: bytes) -> str:
    return extract_text(io.BytesIO(body))


def pages(body: bytes) -> int:
    return len(list(extract_pages(io.BytesIO(body))))


async def test_the_packing_list_shows_the_pick_each_box_with_items_and_what_was_diverted(client):
    batch, boxes, lots = await scene()
    assert boxes["zhang"].status == ShipmentStatus.EMPTY
    await log_in_client(client, "li@coop.cn")
    r = await client.get(f"/manage/shipments/{batch.id}/packing.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="packing-2026-11-16.pdf"'
    text = pdf_text(r.content)
    assert "测试合作社" in text and "2026-11-16" in text
    wang, li = shipment_number(boxes["wang"].id), shipment_number(boxes["li"].id)
    assert text.index(wang) < text.index(li)  # by plot code: T01 before T02
    assert shipment_number(boxes["zhang"].id) not in text and "张三" not in text
    assert "王小明" in text and "李四" in text and "上海市" in text
    assert lots["rice"].code in text and lots["greens"].code in text
    assert "5.00 kg" in text and "10.00" in text  # the rice: 5 kg, 10 jin
    assert "1.25 kg" in text and "2.50" in text  # the greens
    assert "大米" in text and "青菜" in text
    # Diverted on this day: the 800 g of greens that would have spoiled on the way.
    assert "0.80" in text and lots["spoilt"].code not in text
    with i18n.use_language("zh_CN"):
        assert i18n.gettext("Past shelf life") in text  # the reason it was not sent
    assert re.search(r"1 /\s*1", text)  # page numbers


async def test_the_labels_are_one_page_per_box_with_items_and_carry_the_box_trace_url(
    client, settings
):
    batch, boxes, _lots = await scene()
    await log_in_client(client, "li@coop.cn")
    r = await client.get(f"/manage/shipments/{batch.id}/labels.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="labels-2026-11-16.pdf"'
    assert pages(r.content) == 2
    text = pdf_text(r.content)
    assert "王小明" in text and "李四" in text and "张三" not in text
    assert "13800138000" in text and "1808" in text
    assert shipment_number(boxes["wang"].id) in text
    url = f"{settings.base_url}/trace/box/{box_token(settings.secret_key, boxes['wang'].id)}"
    assert url in re.sub(r"\s", "", text)  # printed under the QR code, wrapped


async def test_english_managers_get_english_crop_names(client):
    batch, _boxes, _lots = await scene()
    from farm.fieldwork.models import Crop

    await Crop.filter(name="大米").update(name_en="Rice")
    await log_in_client(client, "li@coop.cn")
    client.cookies.set("lang", "en")
    text = pdf_text((await client.get(f"/manage/shipments/{batch.id}/packing.pdf")).content)
    assert "Rice" in text and "大米" not in text


async def test_another_cooperatives_manager_and_customers_get_404_for_both_pdfs(client):
    batch, _boxes, _lots = await scene()
    other = await make_season()
    await other.fetch_related("field")
    await sign_up(email="m2@coop.cn", name="别社经理", password="correct horse",
                  language="zh_CN", role=Role.MANAGER,
                  cooperative_id=other.field.cooperative_id)  # fmt: skip
    for path in ("packing.pdf", "labels.pdf"):
        r = await client.get(f"/manage/shipments/{batch.id}/{path}")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await log_in_client(client, "m2@coop.cn")
    for path in ("packing.pdf", "labels.pdf"):
        r = await client.get(f"/manage/shipments/{batch.id}/{path}")
        assert r.status_code == 404 and "王小明" not in r.text
    await log_in_client(client, "t01@example.com")  # 王小明 himself
    r = await client.get(f"/manage/shipments/{batch.id}/labels.pdf")
    assert r.status_code == 404


async def test_a_missing_or_malformed_batch_is_404(client):
    batch, _boxes, _lots = await scene()
    await log_in_client(client, "li@coop.cn")
    for bad in (str(batch.id + 1000), "abc", "-1"):
        assert (await client.get(f"/manage/shipments/{bad}/packing.pdf")).status_code == 404


async def test_the_box_trace_page_lists_its_lots_and_no_names_or_address(client, settings):
    _batch, boxes, lots = await scene()
    token = box_token(settings.secret_key, boxes["wang"].id)
    r = await client.get(f"/trace/box/{token}")
    assert r.status_code == 200
    assert f'href="/trace/{lots["rice"].code}"' in r.text
    assert "大米" in r.text and "5" in r.text and "测试合作社" in r.text
    assert lots["greens"].code not in r.text  # 李四's box
    assert lots["spoilt"].code not in r.text  # never shipped
    for private in ("王小明", "13800138000", "世纪大道", "上海市"):
        assert private not in r.text, private


async def test_a_tampered_or_foreign_box_token_is_404(client, settings):
    _batch, boxes, lots = await scene()
    token = box_token(settings.secret_key, boxes["wang"].id)
    forged = box_token("another secret entirely, 40 characters...", boxes["wang"].id)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, forged, "abc", box_token(settings.secret_key, 999_999)):
        r = await client.get(f"/trace/box/{bad}")
        assert r.status_code == 404, bad
        assert lots["rice"].code not in r.text
