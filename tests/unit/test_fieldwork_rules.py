import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from farm import forms, units
from farm.fieldwork import rules
from farm.fieldwork.photos import BadPhoto, check_photo


@given(st.integers(min_value=1, max_value=100_000_000))
def test_grams_shown_as_kg_and_jin_agree_two_jin_to_the_kilo(grams):
    assert abs(units.grams_to_jin(grams) - 2 * units.grams_to_kg(grams)) <= Decimal("0.01")


def test_work_is_logged_for_today_or_the_past_year_only():
    today = date(2026, 11, 23)
    assert rules.log_day("2026-11-23", today=today) == today
    assert rules.log_day("2025-11-23", today=today) == date(2025, 11, 23)
    for text, code in (("2026-11-24", "future"), ("2025-11-01", "too_old"), ("x", "invalid")):
        with pytest.raises(forms.Problem) as refused:
            rules.log_day(text, today=today)
        assert refused.value.code == code


def test_lot_codes_use_only_characters_that_cannot_be_misread():
    assert rules.is_lot_code("V7L4QVJ2")
    assert not rules.is_lot_code("V7L4QVJO")  # O looks like 0
    assert not rules.is_lot_code("v7l4qvj2") and not rules.is_lot_code("V7L4QVJ")


def _image(fmt: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 10)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_real_photos_are_re_encoded_as_jpeg_with_a_thumbnail(fmt):
    checked = check_photo(_image(fmt, (3000, 1000)))
    assert (checked.width, checked.height) == (2048, 683)
    with Image.open(io.BytesIO(checked.thumb)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 320


@pytest.mark.parametrize(
    "data", [b"", b"GIF89a" + b"\x00" * 50, b"%PDF-1.4 not an image", _image("GIF")]
)
def test_anything_but_a_jpeg_png_or_webp_photo_is_refused(data):
    with pytest.raises(BadPhoto) as err:
        check_photo(data)
    assert err.value.code == "not_image"


def test_a_48_megapixel_phone_picture_is_taken_and_a_60_megapixel_square_is_refused():
    def plain(fmt: str, size: tuple[int, int]) -> bytes:  # one byte a pixel: cheap to build
        buffer = io.BytesIO()
        Image.new("L", size, 90).save(buffer, fmt)
        return buffer.getvalue()

    checked = check_photo(plain("JPEG", (8064, 6048)))  # an iPhone's 48 MP
    assert (checked.width, checked.height) == (2048, 1536)
    with pytest.raises(BadPhoto) as err:
        check_photo(plain("PNG", (7745, 7745)))  # the attack's decompression bomb
    assert err.value.code == "too_many_pixels"  # said as pixels, not as megabytes


def test_a_photo_over_10_mb_is_refused_before_decoding():
    with pytest.raises(BadPhoto) as err:
        check_photo(b"\xff\xd8" + b"0" * (10 * 1024 * 1024))
    assert err.value.code == "too_large"


def test_trace_lines_name_each_days_work_with_its_plots_and_inputs_as_sqlite_or_pg_answer():
    day, next_day = date(2026, 5, 1), date(2026, 5, 2)
    days = [("2026-05-01", "weeding", 0), (day, "weeding", True), (next_day, "fertilising", 0)]
    plots = [("2026-05-01", "weeding", 3), (next_day, "fertilising", 1)]
    used = [
        (day, "weeding", False, "苦参碱", "50 ml", 1),
        (next_day, "fertilising", 0, "羊粪", "", 1),
    ]
    lines = rules.trace_lines(days, plots, used)
    assert [(ln.worked_on, ln.activity, ln.whole_field, ln.plots) for ln in lines] == [
        (day, "weeding", False, 3),
        (day, "weeding", True, 0),  # the whole field: no count, and not the plots' inputs
        (next_day, "fertilising", False, 1),
    ]
    assert [ln.inputs for ln in lines] == [
        [{"name": "苦参碱", "dose": "50 ml", "organic": True}],
        [],
        [{"name": "羊粪", "dose": "", "organic": True}],
    ]
