"""A crop counted in pieces (eggs) is read and shown as pieces, in one place (units.amount_text
and forms.amount), while the every-gram engine keeps its one integer column; and the rule that
a sale may be extended after the first sale but never end before today."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pdfminer.high_level import extract_text

from farm import forms, i18n
from farm.errors import FieldErrors
from farm.land.rules import sale_end_problem
from farm.shipments.packing_pdf import Box, CropName, Item, Labels, PackingList
from farm.units import amount_text

TODAY = date(2026, 11, 30)


@pytest.fixture(params=["zh_CN", "en"])
def language(request):
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_pieces_are_shown_as_a_count_and_weights_in_kg_and_jin(language):
    if language == "en":
        assert amount_text(12, "pieces") == "12 pcs"
        assert amount_text(1, "pieces") == "1 pc"
        assert amount_text(3335, "kg") == "3.34 kg (6.67 jin)"
        assert amount_text(3335, "kg", jin=False) == "3.34 kg"
    else:
        assert amount_text(12, "pieces") == "12个"
        assert amount_text(3335, "kg", jin=False) == "3.34公斤"


def test_a_count_is_read_whole_and_a_weight_in_grams():
    assert forms.amount("12", unit="pieces") == 12
    assert forms.amount("1.5", unit="kg") == 1500
    for bad in ("12.5", "0", "-3", "abc", "", "100001"):
        form = forms.Form()
        assert form.read("kg", forms.amount, bad, unit="pieces") is None
        with pytest.raises(FieldErrors):
            form.check()


def test_a_box_counts_its_pieces_apart_from_its_weight():
    eggs = CropName("土鸡蛋", "pieces")
    both = Box(
        1,
        "A01",
        "王",
        "王",
        "1",
        "沪",
        "沪",
        "路",
        (Item(eggs, "E1", 12), Item("大米", "R1", 5000)),
    )
    assert (both.grams, both.pieces) == (5000, 12)
    i18n.set_language("en")
    try:
        assert both.total_text == "5.00 kg (10.00 jin) + 12 pcs"
        only_eggs = Box(2, "A02", "李", "李", "1", "沪", "沪", "路", (Item(eggs, "E1", 30),))
        assert only_eggs.total_text == "30 pcs"
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_the_packing_list_and_label_print_eggs_as_pieces():
    eggs = CropName("土鸡蛋", "pieces")
    b = Box(7, "A07", "王家", "王小明", "13800138000", "上海", "上海市", "世纪大道 100 号",
            (Item(eggs, "E1K2M9PQ", 12), Item(CropName("大米"), "R7K2M9PQ", 5000)))  # fmt: skip
    out = io.BytesIO()
    doc = PackingList(cooperative="合作社", ship_on=date(2026, 11, 16), generated="", out=out)
    doc.picks([(eggs, 12), (CropName("大米"), 5000)])
    doc.box(b)
    doc.diverted([("Past shelf life", eggs, 6)])
    doc.finish()
    text = extract_text(io.BytesIO(out.getvalue()))
    assert "12个" in text and "6个" in text and "5.00公斤（10.00斤） + 12个" in text
    assert "0.01" not in text  # 12 eggs never shown as 12 grams
    out = io.BytesIO()
    labels = Labels(cooperative="合作社", ship_on=date(2026, 11, 16), out=out)
    labels.label(b, "https://farm.example/trace/box/x")
    labels.finish()
    assert "12个" in extract_text(io.BytesIO(out.getvalue()))


@pytest.mark.parametrize(
    ("sold", "before", "after", "refused"),
    [
        (0, date(2027, 3, 1), date(2026, 11, 1), False),  # nothing sold: any change
        (1, date(2027, 3, 1), date(2027, 6, 1), False),  # extended
        (1, date(2027, 3, 1), date(2026, 12, 1), False),  # its last day is today
        (1, date(2027, 3, 1), TODAY, True),  # its last day typed as yesterday: closed at once
        (1, date(2027, 3, 1), date(2026, 11, 29), True),  # ended before yesterday
        (1, date(2026, 11, 1), date(2026, 10, 1), True),  # an ended sale moved further back
    ],
)
def test_after_a_sale_the_sale_end_may_move_later_but_not_before_today(
    sold, before, after, refused
):
    problem = sale_end_problem(sold=sold, before=before, after=after, today=TODAY)
    assert (problem is not None) == refused
