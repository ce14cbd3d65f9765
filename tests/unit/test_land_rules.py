from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm import units
from farm.land import rules


def test_jutudi_plot_sizes_convert_between_m2_mu_and_fen():
    assert units.m2_to_mu(Decimal("666.67")) == Decimal("1.00")
    assert units.m2_to_mu(Decimal("333.33")) == Decimal("0.50")
    assert units.m2_to_fen(Decimal("66.67")) == Decimal("1.0")
    assert units.mu_to_m2(Decimal("0.1")) == Decimal("66.67")


def test_default_ship_days_are_the_1st_and_16th_inside_the_half_open_season():
    days = rules.ship_days(date(2027, 3, 1), date(2027, 5, 1), (1, 16))
    assert days == [date(2027, 3, 1), date(2027, 3, 16), date(2027, 4, 1), date(2027, 4, 16)]


def test_season_end_day_is_excluded_and_start_day_included():
    days = rules.ship_days(date(2027, 3, 16), date(2027, 4, 16), (1, 16))
    assert days == [date(2027, 3, 16), date(2027, 4, 1)]


def test_a_year_long_season_has_24_ship_days_across_the_new_year():
    days = rules.ship_days(date(2027, 3, 1), date(2028, 3, 1), (1, 16))
    assert len(days) == 24
    assert date(2028, 1, 1) in days


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
    length=st.integers(min_value=0, max_value=800),
    days=st.sets(st.integers(min_value=1, max_value=28), min_size=1, max_size=4),
)
def test_ship_days_are_sorted_unique_inside_the_period_and_on_wanted_days(start, length, days):
    from datetime import timedelta

    end = start + timedelta(days=length)
    result = rules.ship_days(start, end, days)
    assert result == sorted(set(result))
    assert all(start <= d < end and d.day in days for d in result)
    # and none is missing: every wanted day in the period is there
    expected = [start + timedelta(n) for n in range(length) if (start + timedelta(n)).day in days]
    assert result == expected


@pytest.mark.parametrize("text", ["", "0", "29", "1,x", "31"])
def test_ship_days_of_month_outside_1_to_28_are_refused(text):
    with pytest.raises(ValueError):
        rules.parse_days_of_month(text)


def test_ship_days_of_month_parse_sorted_and_deduplicated():
    assert rules.parse_days_of_month("16, 1,16") == (1, 16)


def test_cutoff_is_counted_back_from_the_ship_day():
    assert rules.cutoff_for(date(2027, 3, 16), 2) == date(2027, 3, 14)


def test_sale_window_is_half_open():
    kw = {"sale_starts_on": date(2026, 11, 1), "sale_ends_on": date(2027, 3, 1)}
    assert rules.is_on_sale(**kw, today=date(2026, 11, 1))
    assert not rules.is_on_sale(**kw, today=date(2027, 3, 1))
    assert not rules.is_on_sale(**kw, today=date(2026, 10, 31))


@pytest.mark.parametrize(
    ("fen", "text"),
    [(58000, "580"), (240000, "2,400"), (12345, "123.45"), (5, "0.05"), (-150, "-1.50")],
)
def test_money_in_fen_is_shown_in_yuan(fen, text):
    assert units.format_yuan(fen) == text


def test_plain_numbers_drop_trailing_zeros():
    assert [units.plain_number(Decimal(x)) for x in ("0.50", "10.0", "66.67", "3")] == [
        "0.5",
        "10",
        "66.67",
        "3",
    ]


def test_ship_day_moves_read_back_as_written_and_apply_to_the_calendar():
    from farm.land.rules import apply_ship_day_moves, format_ship_day_moves, parse_ship_day_moves

    moves = {date(2027, 2, 16): date(2027, 2, 19), date(2027, 3, 1): None}
    text = format_ship_day_moves(moves)
    assert text == "2027-02-16>2027-02-19;2027-03-01>"
    assert parse_ship_day_moves(text) == moves and parse_ship_day_moves("") == {}
    days = [date(2027, 2, 1), date(2027, 2, 16), date(2027, 3, 1), date(2027, 3, 16)]
    assert apply_ship_day_moves(days, moves) == [
        date(2027, 2, 1), date(2027, 2, 19), date(2027, 3, 16)
    ]  # fmt: skip


def test_the_refund_rule_leaves_out_ship_days_that_had_nothing_to_send():
    from farm.subscriptions.rules import refund_quote

    days = [date(2026, 9, 1), date(2026, 9, 16), date(2026, 10, 1), date(2026, 10, 16)]
    terms = dict(price_fen=40000, starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 1),
                 ship_days=days, cutoff_days=2, today=date(2026, 9, 20))  # fmt: skip
    assert refund_quote(**terms).refund_fen == 20000  # 2 of 4
    assert refund_quote(**terms, empty_days={date(2026, 9, 1)}).refund_fen == 26666  # 2 of 3
