"""The packing list and label PDFs from made-up boxes: Chinese text that extracts as written,
weights in kg and jin, wrapped addresses, one label per box; the box trace token."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pdfminer.high_level import extract_pages, extract_text
from reportlab.pdfbase import pdfmetrics

from farm.shipments.packing import box_token, box_url, shipment_id_from_token
from farm.shipments.packing_pdf import CJK, Box, Item, Labels, PackingList, wrap_text

SECRET = "s" * 40
LONG_ADDRESS = (
    "浦东新区世纪大道100号陆家嘴金融贸易区东方明珠广播电视塔对面的阳光花园小区七号楼"
    "二单元一千八百零八室，白天无人请放门口快递柜"
)


def box(shipment_id: int, *, recipient="王小明", address="浦东新区世纪大道 100 号", items=None):
    return Box(
        shipment_id=shipment_id,
        plot_code=f"A{shipment_id:02d}",
        sign_name="王家的地",
        recipient=recipient,
        phone="13800138000",
        province="上海",
        city="上海市",
        address=address,
        items=items or (Item("大米", "R7K2M9PQ", 5000), Item("青菜", "G3H4J5K6", 1250)),
    )


def packing_pdf(boxes: list[Box]) -> bytes:
    out = io.BytesIO()
    doc = PackingList(cooperative="皖南聚土地合作社", ship_on=date(2026, 11, 16),
                      generated="2026-11-16 07:30", out=out)  # fmt: skip
    doc.picks([("大米", 5000 * len(boxes)), ("青菜", 1250 * len(boxes))])
    for b in boxes:
        doc.box(b)
    doc.diverted([("Past shelf life", "青菜", 800)])
    assert doc.finish() == doc.page
    return out.getvalue()


def labels_pdf(boxes: list[Box]) -> bytes:
    out = io.BytesIO()
    labels = Labels(cooperative="皖南聚土地合作社", ship_on=date(2026, 11, 16), out=out)
    for b in boxes:
        labels.label(b, box_url("https://farm.example.cn", SECRET, b.shipment_id))
    assert labels.finish() == max(len(boxes), 1)
    return out.getvalue()


def text_of(pdf: bytes) -> str:
    return extract_text(io.BytesIO(pdf))


def page_count(pdf: bytes) -> int:
    return len(list(extract_pages(io.BytesIO(pdf))))


def test_the_packing_list_text_has_the_chinese_names_weights_and_shipment_numbers():
    text = text_of(packing_pdf([box(1), box(2, recipient="李四")]))
    for expected in ("皖南聚土地合作社", "2026-11-16", "2026-11-16 07:30", "S000001", "S000002",
                     "王小明", "李四", "上海市", "王家的地", "A01", "大米", "青菜",
                     "R7K2M9PQ", "G3H4J5K6"):  # fmt: skip
        assert expected in text, expected
    assert "5.00 kg" in text and "10.00 斤" in text  # the rice, in kg and jin
    assert "1.25 kg" in text and "2.50 斤" in text
    assert "10.00公斤" in text and "2.50公斤" in text  # the pick summary over both boxes
    assert "6.25公斤（12.50斤）" in text  # a box's total
    assert "0.80公斤" in text  # the greens that were diverted


def test_a_box_with_a_promised_extra_says_what_to_add_under_its_total():
    from dataclasses import replace

    with_extra = replace(box(1), credits=("多送一斤青菜",))
    text = text_of(packing_pdf([with_extra, box(2)]))
    assert "多送一斤青菜" in text
    assert text.index("S000001") < text.index("多送一斤青菜") < text.index("S000002")
    assert "多送" not in text_of(packing_pdf([box(2)]))


def test_a_long_packing_list_runs_over_pages_that_are_numbered_out_of_the_total():
    pdf = packing_pdf([box(i) for i in range(1, 41)])
    pages = page_count(pdf)
    assert pages >= 3
    text = text_of(pdf)
    assert "S000040" in text
    numbers = re.findall(r"(\d+) /\s+(\d+)", text)
    assert numbers == [(str(page), str(pages)) for page in range(1, pages + 1)]


def test_a_long_chinese_address_wraps_into_lines_that_fit_and_lose_nothing():
    lines = wrap_text(LONG_ADDRESS, font=CJK, size=10, width=160)
    assert len(lines) >= 4
    assert all(pdfmetrics.stringWidth(line, CJK, 10) <= 160 for line in lines)
    assert "".join(lines) == LONG_ADDRESS


def test_wrapping_keeps_numbers_and_latin_words_whole():
    lines = wrap_text("世纪大道1808号Building 7", font=CJK, size=10, width=62)
    assert all("180" not in line or "1808" in line for line in lines)
    assert not any(line.endswith("Buil") for line in lines)
    assert "".join(lines).replace(" ", "") == "世纪大道1808号Building7"


def test_a_long_address_on_a_label_is_printed_on_several_lines():
    lines = text_of(labels_pdf([box(1, address=LONG_ADDRESS)])).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("上海 上海市"))
    last = next(i for i, line in enumerate(lines) if line.endswith("快递柜"))
    assert last - first >= 2  # three lines or more
    assert "".join(lines[first : last + 1]) == "上海 上海市 " + LONG_ADDRESS


def test_there_is_one_label_page_per_box_with_its_recipient_number_and_trace_url():
    boxes = [box(1), box(2, recipient="李四"), box(3, recipient="张三")]
    pdf = labels_pdf(boxes)
    assert page_count(pdf) == 3
    text = text_of(pdf)
    for b in boxes:
        assert b.recipient in text and b.number in text
    flat = "".join(text.split())
    assert box_url("https://farm.example.cn", SECRET, 2) in flat


def test_labels_for_a_day_with_no_boxes_say_so_on_one_page():
    pdf = labels_pdf([])
    assert page_count(pdf) == 1
    assert "S0000" not in text_of(pdf)


def test_a_box_token_gives_back_its_shipment_and_a_changed_one_gives_nothing():
    token = box_token(SECRET, 123)
    assert shipment_id_from_token(SECRET, token) == 123
    assert shipment_id_from_token("another secret" * 3, token) is None
    assert shipment_id_from_token(SECRET, token[:-2] + "xx") is None
    assert shipment_id_from_token(SECRET, "MTIz") is None
    assert shipment_id_from_token(SECRET, "") is None


@pytest.mark.parametrize("shipment_id", [0, 7, 123, 98_765, 12_345_678, 2**40])
@pytest.mark.parametrize("secret", [SECRET, "另一个密钥" * 8])
def test_a_box_token_is_exactly_what_itsdangerous_makes_of_the_shipment_id(secret, shipment_id):
    from itsdangerous import URLSafeSerializer

    from farm.shipments.packing import TOKEN_SALT

    made = URLSafeSerializer(secret, salt=TOKEN_SALT).dumps(shipment_id)
    assert box_token(secret, shipment_id) == made


def test_wrapping_cuts_a_run_too_long_for_a_line_by_characters_and_keeps_every_one():
    from farm.shipments.pdf_writer import LATIN, string_width

    url = "https://farm.example.cn/trace/box/MTIzNDU2.i74BjheRdej4U2oCbwL_HoROVhI"
    for width in (20, 40, 76.5):
        lines = wrap_text(url, font=LATIN, size=4.5, width=width)
        assert "".join(lines) == url and len(lines) > 1
        assert all(string_width(line, LATIN, 4.5) <= width for line in lines)
        # each line but the last is full: its next character would not have fitted
        for line, after in zip(lines, lines[1:], strict=False):
            assert string_width(line + after[0], LATIN, 4.5) > width
    assert wrap_text(url, font=LATIN, size=4.5, width=1) == list(url)  # one a line, at least


def test_a_field_splits_into_even_parts_of_at_most_the_part_size():
    from farm.shipments.documents import split

    assert split(0) == [(0, 0)]  # a packing list still says what was not sent
    assert split(1000) == [(0, 1000)]
    assert split(4650) == [(0, 930), (930, 930), (1860, 930), (2790, 930), (3720, 930)]
    assert split(2001) == [(0, 667), (667, 667), (1334, 667)]
    for boxes in (1, 999, 1001, 12_345):
        parts = split(boxes)
        assert sum(n for _first, n in parts) == boxes and max(n for _f, n in parts) <= 1000
        assert all(first == sum(n for _f, n in parts[:k]) for k, (first, _n) in enumerate(parts))


@given(st.integers(0, 10**12))
def test_jin_text_is_grams_to_jin_written_out(grams):
    from farm.units import grams_to_jin, jin_text

    assert jin_text(grams) == str(grams_to_jin(grams))
