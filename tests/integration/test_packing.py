"""A ship day's packing lists and labels: made by the scheduler's documents job in parts,
downloaded by the cooperative's managers only, followed on the batch page; and the public
page a box's QR code opens."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from pdfminer.high_level import extract_pages, extract_text

from farm import i18n
from farm.accounts.models import Role
from farm.accounts.services import sign_up
from farm.land.models import Plot, Season
from farm.shipments import batches, documents
from farm.shipments.documents import Paper, claim_next, make_due_documents
from farm.shipments.models import (
    Batch,
    DocumentKind,
    DocumentPart,
    DocumentStatus,
    Shipment,
    ShipmentStatus,
)
from farm.shipments.packing import box_token
from farm.shipments.rules import shipment_number
from farm.storage import storage_for
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


def paper(settings, language: str = "zh_CN") -> Paper:
    return Paper(storage=storage_for(settings), secret=str(settings.secret_key),
                 base_url=settings.base_url, language=language, timezone=settings.timezone)  # fmt: skip


async def make_documents(settings, *, now=NOW, language: str = "zh_CN", workers: int = 1):
    return await make_due_documents(
        paper=paper(settings, language), today=SHIP_ON, now=now, workers=workers
    )


def pdf_text(body: bytes) -> str:
    return extract_text(io.BytesIO(body))


def pages(body: bytes) -> int:
    return len(list(extract_pages(io.BytesIO(body))))


async def test_the_packing_list_shows_the_pick_each_box_with_items_and_what_was_diverted(
    client, settings
):
    batch, boxes, lots = await scene()
    assert boxes["zhang"].status == ShipmentStatus.EMPTY
    await make_documents(settings)
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


async def test_labels_hide_the_middle_of_the_mobile_when_the_cooperative_chooses_it(
    client, settings
):
    batch, _boxes, _lots = await scene()
    token = await log_in_client(client, "li@coop.cn")
    r = await client.post(
        "/manage/couriers/labels", data={"labels_mask_phone": "1", "csrf_token": token}
    )
    assert r.status_code == 303
    await make_documents(settings)
    text = pdf_text((await client.get(f"/manage/shipments/{batch.id}/labels.pdf")).content)
    assert "138****8000" in text and "13800138000" not in text


async def test_the_labels_are_one_page_per_box_with_items_and_carry_the_box_trace_url(
    client, settings
):
    batch, boxes, _lots = await scene()
    await make_documents(settings)
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


async def test_documents_made_in_english_name_the_crops_in_english(client, settings):
    batch, _boxes, _lots = await scene()
    from farm.fieldwork.models import Crop

    await Crop.filter(name="大米").update(name_en="Rice")
    await make_documents(settings, language="en")
    await log_in_client(client, "li@coop.cn")
    text = pdf_text((await client.get(f"/manage/shipments/{batch.id}/packing.pdf")).content)
    assert "Rice" in text and "大米" not in text


async def test_another_cooperatives_manager_and_customers_get_404_for_every_document(
    client, settings
):
    batch, _boxes, _lots = await scene()
    await make_documents(settings)
    parts = await DocumentPart.filter(batch_id=batch.id).values_list("id", flat=True)
    paths = ["packing.pdf", "labels.pdf"] + [f"documents/{p}.pdf" for p in parts]
    other = await make_season()
    await other.fetch_related("field")
    await sign_up(email="m2@coop.cn", name="别社经理", password="correct horse",
                  language="zh_CN", role=Role.MANAGER,
                  cooperative_id=other.field.cooperative_id)  # fmt: skip
    for path in paths:
        r = await client.get(f"/manage/shipments/{batch.id}/{path}")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await log_in_client(client, "m2@coop.cn")
    for path in paths:
        r = await client.get(f"/manage/shipments/{batch.id}/{path}")
        assert r.status_code == 404 and "王小明" not in r.text and b"%PDF" not in r.content
    # Nor through a batch of their own with another batch's part id.
    r = await client.get(f"/manage/shipments/{batch.id + 1}/documents/{parts[0]}.pdf")
    assert r.status_code == 404
    await log_in_client(client, "t01@example.com")  # 王小明 himself
    r = await client.get(f"/manage/shipments/{batch.id}/labels.pdf")
    assert r.status_code == 404
    await log_in_client(client, "li@coop.cn")
    for path in paths:
        assert (await client.get(f"/manage/shipments/{batch.id}/{path}")).status_code == 200


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
    # A middle character of the signature: the last one may carry only padding bits.
    middle = len(token) - 10
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for bad in (tampered, forged, "abc", box_token(settings.secret_key, 999_999)):
        r = await client.get(f"/trace/box/{bad}")
        assert r.status_code == 404, bad
        assert lots["rice"].code not in r.text


# ---- the documents job: parts, reruns, crashes, the batch page ----


async def made_files(settings) -> set[str]:
    folder = settings.data_dir / "documents"
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


async def test_before_the_job_ran_the_old_addresses_lead_to_the_batch_page(client, settings):
    batch, _boxes, _lots = await scene()
    await log_in_client(client, "li@coop.cn")
    for path in ("packing.pdf", "labels.pdf"):
        r = await client.get(f"/manage/shipments/{batch.id}/{path}")
        assert r.status_code == 303
        assert r.headers["location"] == f"/manage/shipments/{batch.id}#documents"
    page = (await client.get(f"/manage/shipments/{batch.id}")).text
    assert "还没有制作" in page and '.pdf"' not in page.split('id="documents"')[1]


async def test_the_job_run_twice_makes_each_part_once(conn, settings):
    batch, _boxes, _lots = await scene()
    first = await make_documents(settings)
    parts = await DocumentPart.filter(batch_id=batch.id).order_by("slot")
    # One field: its packing list and its labels, and the batch's summary.
    assert [(p.kind, p.status) for p in parts] == [
        (DocumentKind.LABELS, DocumentStatus.DONE),
        (DocumentKind.PACKING, DocumentStatus.DONE),
        (DocumentKind.SUMMARY, DocumentStatus.DONE),
    ]
    assert all(p.pages >= 1 and p.size_bytes > 0 for p in parts)
    everything = await DocumentPart.all()  # the season's earlier ship days' too
    assert first.made == len(everything) and all(p.status == "done" for p in everything)
    files = await made_files(settings)
    assert files == {p.file.removeprefix("documents/") for p in everything}
    again = await make_documents(settings, now=NOW + timedelta(hours=1))
    assert (again.planned, again.made) == (0, 0)
    assert await DocumentPart.filter(batch_id=batch.id).order_by("slot") == parts
    assert [p.done_at for p in await DocumentPart.all()] == [p.done_at for p in everything]
    assert await made_files(settings) == files


def decoded_qr_codes(pdf: bytes, tmp_path) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(source), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    codes = []
    for image in sorted(tmp_path.glob("page*.png")):
        out = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True,
                             text=True)  # fmt: skip
        codes.append(out.stdout.strip())
    return codes


@pytest.mark.skipif(not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
                    reason="zbarimg and pdftoppm are needed to read the QR codes")  # fmt: skip
async def test_a_field_is_split_into_parts_whose_labels_decode_to_each_boxs_trace_url(
    client, settings, monkeypatch, tmp_path
):
    batch, boxes, _lots = await scene()
    monkeypatch.setattr(documents, "PART_BOXES", 1)  # 王小明's box and 李四's: two parts
    await make_documents(settings, workers=2)  # a process pool, as the scheduler runs it
    parts = await DocumentPart.filter(batch_id=batch.id, kind=DocumentKind.LABELS).order_by("seq")
    assert [(p.seq, p.of_parts, p.boxes, p.status) for p in parts] == [
        (1, 2, 1, DocumentStatus.DONE), (2, 2, 1, DocumentStatus.DONE)
    ]  # fmt: skip
    await log_in_client(client, "li@coop.cn")
    # More than one part: the old address shows the parts.
    assert (await client.get(f"/manage/shipments/{batch.id}/labels.pdf")).status_code == 303
    urls = []
    for part, (name, phone_digits) in zip(parts, [("王小明", "1808"), ("李四", "")], strict=True):
        r = await client.get(f"/manage/shipments/{batch.id}/documents/{part.id}.pdf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.headers["cache-control"] == "private, no-store"
        text = pdf_text(r.content)
        assert name in text and phone_digits in text
        assert pages(r.content) == 1
        urls += decoded_qr_codes(r.content, tmp_path / str(part.id))
    assert urls == [
        f"{settings.base_url}/trace/box/{box_token(settings.secret_key, boxes[who].id)}"
        for who in ("wang", "li")
    ]
    packing = await DocumentPart.filter(batch_id=batch.id, kind=DocumentKind.PACKING)
    texts = [pdf_text((await client.get(f"/manage/shipments/{batch.id}/documents/{p.id}.pdf"))
                      .content) for p in sorted(packing, key=lambda p: p.seq)]  # fmt: skip
    assert "第 1/2 部分" in texts[0] and "第 2/2 部分" in texts[1]  # field, part 1 of 2
    assert "王小明" in texts[0] and "李四" not in texts[0] and "5.00 kg" in texts[0]
    assert "李四" in texts[1] and "1.25 kg" in texts[1]
    with i18n.use_language("zh_CN"):
        assert i18n.gettext("Past shelf life") in texts[1]  # the field's last part
    summary = await DocumentPart.get(batch_id=batch.id, kind=DocumentKind.SUMMARY)
    text = pdf_text((await client.get(f"/manage/shipments/{batch.id}/documents/{summary.id}.pdf"))
                    .content)  # fmt: skip
    assert "大米" in text and "5.00公斤" in text and "0.80公斤" in text


async def test_a_part_left_by_a_killed_scheduler_is_made_again_once_its_lease_ran_out(
    conn, settings
):
    batch, _boxes, _lots = await scene()
    await documents.plan_due(today=SHIP_ON, now=NOW)
    # A scheduler claimed the labels, began the file and died: the row stays claimed.
    dead = await claim_next(now=NOW, token="dead" * 8)
    assert dead is not None
    folder = settings.data_dir / "documents" / str(batch.id)
    folder.mkdir(parents=True)
    (folder / f"{dead.slot}-deaddead.pdf.partial").write_bytes(b"%PDF-1.4 half")
    parts = await DocumentPart.all().count()
    rerun = await make_documents(settings, now=NOW + timedelta(minutes=1))
    assert rerun.made == parts - 1  # all but the claimed one, which is still leased
    assert (await DocumentPart.get(id=dead.id)).status == DocumentStatus.MAKING
    done_before = {p.id: p.file for p in await DocumentPart.filter(status=DocumentStatus.DONE)}
    later = await make_documents(settings, now=NOW + documents.LEASE + timedelta(minutes=2))
    assert later.made == 1  # only the unfinished part
    redone = await DocumentPart.get(id=dead.id)
    assert redone.status == DocumentStatus.DONE and redone.claim != "dead" * 8
    assert {
        p.id: p.file for p in await DocumentPart.filter(id__in=list(done_before))
    } == done_before
    # The dead scheduler, waking up, cannot mark the part done over the new one.
    assert not await DocumentPart.filter(id=dead.id, claim="dead" * 8).update(pages=99)


async def test_the_batch_page_shows_progress_and_links_and_a_remake_starts_over(client, settings):
    batch, _boxes, _lots = await scene()
    await documents.plan_due(today=SHIP_ON, now=NOW)
    await log_in_client(client, "li@coop.cn")
    page = (await client.get(f"/manage/shipments/{batch.id}")).text
    assert 'id="documents"' in page and '<progress max="3" value="0">' in page
    assert "已制作 0 / 3 个文件" in page and "等待中" in page
    await make_documents(settings)
    page = (await client.get(f"/manage/shipments/{batch.id}")).text
    assert '<progress max="3" value="3">' in page and "已制作 3 / 3 个文件" in page
    for part in await DocumentPart.filter(batch_id=batch.id):
        assert f"/manage/shipments/{batch.id}/documents/{part.id}.pdf" in page
    mine = f"{batch.id}/"
    old = {f for f in await made_files(settings) if f.startswith(mine)}
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = await client.post(f"/manage/shipments/{batch.id}/documents/remake",
                          data={"csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    assert await DocumentPart.filter(batch_id=batch.id, status=DocumentStatus.PENDING).count() == 3
    remade = {f for f in await made_files(settings) if f.startswith(mine)}
    assert len(old) == 3 and remade == set()  # the old files are gone with their rows
    await make_documents(settings, now=NOW + timedelta(hours=1))
    remade = {f for f in await made_files(settings) if f.startswith(mine)}
    assert len(remade) == 3 and remade.isdisjoint(old)


async def test_the_batch_pages_its_parts_with_their_own_pager_apart_from_the_boxes(
    client, settings, monkeypatch
):
    batch, _boxes, _lots = await scene()
    monkeypatch.setattr(documents, "PART_BOXES", 1)  # two boxes: two packing-list parts
    monkeypatch.setattr(documents, "PARTS_PER_PAGE", 1)
    await make_documents(settings)
    parts = await DocumentPart.filter(batch_id=batch.id, kind=DocumentKind.PACKING).order_by("seq")
    assert len(parts) == 2
    await log_in_client(client, "li@coop.cn")
    first = (await client.get(f"/manage/shipments/{batch.id}?page=1")).text
    second = (await client.get(f"/manage/shipments/{batch.id}?page=1&parts_page=2")).text
    link = lambda p: f"/manage/shipments/{batch.id}/documents/{p.id}.pdf"  # noqa: E731
    assert link(parts[0]) in first and link(parts[1]) not in first
    assert link(parts[1]) in second and link(parts[0]) not in second
    assert "parts_page=2" in first and "page=1" in first  # the boxes' page is kept
