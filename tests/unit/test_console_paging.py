"""The console's pure pieces: which page numbers a pager shows, what a typed page or date
means, and plot codes typed as lists and ranges."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm.fieldwork.rules import MAX_CODES_PER_ENTRY, BadCodes, parse_plot_codes
from farm.paging import Page, page_count, page_numbers, parse_day_span, parse_page
from farm.units import grams_to_kg, kg_text


def test_a_pager_shows_the_first_the_last_and_the_pages_around_the_current_one():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 5) == [1, 2, 3, 4, 5]
    assert page_numbers(50, 100) == [1, None, 48, 49, 50, 51, 52, None, 100]
    assert page_numbers(1, 100) == [1, 2, 3, None, 100]
    assert page_numbers(100, 100) == [1, None, 98, 99, 100]


@given(st.integers(-5, 2000), st.integers(1, 2000))
def test_the_pager_always_holds_the_current_first_and_last_pages_in_order(current, pages):
    numbers = page_numbers(current, pages)
    shown = [n for n in numbers if n is not None]
    assert shown == sorted(set(shown)) and shown[0] == 1 and shown[-1] == pages
    assert min(max(current, 1), pages) in shown
    assert len(numbers) <= 9  # a few links, however many pages
    assert all(a is not None or b is not None for a, b in zip(numbers, numbers[1:], strict=False))


@pytest.mark.parametrize("raw", [None, "", "0", "-1", "abc", "1.5", "１", "99999999999", "2 "])
def test_anything_but_a_positive_page_number_is_page_one(raw):
    assert parse_page(raw) == (2 if raw == "2 " else 1)


def test_a_page_says_which_rows_it_shows_and_how_many_pages_there_are():
    page = Page(items=list(range(5)), number=3, size=10, total=25)
    assert (page.pages, page.first_index, page.last_index) == (3, 21, 25)
    assert page_count(0, 50) == 1 and page_count(101, 50) == 3


def test_a_date_span_takes_both_days_swaps_them_if_reversed_and_flags_what_is_not_a_date():
    span = parse_day_span("2026-03-05", "2026-03-01")
    assert (span.since, span.until, span.problem) == (date(2026, 3, 1), date(2026, 3, 5), False)
    assert span.until_exclusive == date(2026, 3, 6)
    bad = parse_day_span("2026-02-30", "")
    assert bad.since is None and bad.problem
    assert parse_day_span("", "").problem is False


def test_plot_codes_are_read_from_lists_and_ranges_each_once_in_the_order_typed():
    assert parse_plot_codes("A01, A03-A05，B7 ~ B9、C-01; A01") == [
        "A01", "A03", "A04", "A05", "B7", "B8", "B9", "C-01",
    ]  # fmt: skip
    assert parse_plot_codes("A8-A11") == ["A8", "A9", "A10", "A11"]
    assert parse_plot_codes("A08 至 A10") == ["A08", "A09", "A10"]
    assert parse_plot_codes("  ") == []


def test_a_backwards_or_huge_range_is_refused():
    with pytest.raises(BadCodes) as backwards:
        parse_plot_codes("A09-A03")
    assert backwards.value.code == "bad_range" and backwards.value.token == "A09-A03"
    with pytest.raises(BadCodes) as huge:
        parse_plot_codes(f"A1-A{MAX_CODES_PER_ENTRY + 5}")
    assert huge.value.code == "too_many"
    with pytest.raises(BadCodes):
        parse_plot_codes("X" * 21)


@given(st.integers(0, 10**12))
def test_kg_text_is_grams_to_kg_written_out(grams):
    assert kg_text(grams) == str(grams_to_kg(grams))


def test_a_plot_range_with_a_number_of_thousands_of_digits_is_too_long_not_an_error():
    huge = "A" + "9" * 4301
    with pytest.raises(BadCodes) as refused:
        parse_plot_codes(f"{huge}-{huge}")
    assert refused.value.code == "too_long"
