"""The season reports' arithmetic: rent proration, wages, units, the CSV's safety."""

import csv
import io
import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm.csvfiles import CsvFile, csv_bytes, spreadsheet_row
from farm.fieldwork.rules import (
    land_rent_fen,
    season_days,
    sum_yields,
    total_hours,
    wages_fen,
)
from farm.units import M2_PER_MU, fen_to_yuan, grams_to_jin, grams_to_kg


def test_season_days_count_the_half_open_period():
    assert season_days(starts_on=date(2027, 3, 1), ends_on=date(2028, 3, 1)) == 366
    assert season_days(starts_on=date(2026, 3, 1), ends_on=date(2027, 3, 1)) == 365
    assert season_days(starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 2)) == 1


def test_a_365_day_season_pays_exactly_a_years_rent_for_a_whole_mu():
    one_mu = M2_PER_MU
    assert land_rent_fen(rent_fen_per_mu_year=80000, area_m2=one_mu, days=365) == 80000
    assert land_rent_fen(rent_fen_per_mu_year=75000, area_m2=2 * one_mu, days=365) == 150000


@given(
    rent=st.integers(min_value=0, max_value=10_000_000),
    hundredths_m2=st.integers(min_value=0, max_value=10**9),
    days=st.integers(min_value=0, max_value=800),
)
def test_rent_is_the_exact_prorated_amount_rounded_half_up_to_the_fen(rent, hundredths_m2, days):
    area = Decimal(hundredths_m2) / 100  # areas are stored to the hundredth of a m²
    exact = Fraction(rent) * Fraction(hundredths_m2, 100) / Fraction(2000, 3) * days / 365
    expected = math.floor(exact + Fraction(1, 2))
    assert land_rent_fen(rent_fen_per_mu_year=rent, area_m2=area, days=days) == expected


def test_rent_is_prorated_by_area_and_by_days():
    # 3 fen of land (200 m²) for half a year of 73 days out of 365: 80000 × 0.3 × 0.2
    assert land_rent_fen(rent_fen_per_mu_year=80000, area_m2=Decimal(200), days=73) == 4800
    # the demo's one-fen plot, 66.67 m², for 184 days: 80000 × 66.67 / 666.666… × 184/365
    # = 4033.3… fen
    assert land_rent_fen(rent_fen_per_mu_year=80000, area_m2=Decimal("66.67"), days=184) == 4033
    assert land_rent_fen(rent_fen_per_mu_year=80000, area_m2=Decimal(0), days=365) == 0
    assert land_rent_fen(rent_fen_per_mu_year=0, area_m2=Decimal(500), days=365) == 0


def test_rent_rounds_a_half_fen_up_and_less_than_a_half_down():
    # 3000 fen a mu a year for 1 m², a year: 3000 × 3 / 2000 = 4.5 fen exactly (not 4: half-up)
    assert land_rent_fen(rent_fen_per_mu_year=3000, area_m2=Decimal(1), days=365) == 5
    # 1000 fen for 15 m², 73 days: 22.5 × 73 / 365 = 4.5 fen exactly
    assert land_rent_fen(rent_fen_per_mu_year=1000, area_m2=Decimal(15), days=73) == 5
    # 1000 fen for 1.49 m², a year: 2.235 -> 2; for 1.67 m²: 2.505 -> 3
    assert land_rent_fen(rent_fen_per_mu_year=1000, area_m2=Decimal("1.49"), days=365) == 2
    assert land_rent_fen(rent_fen_per_mu_year=1000, area_m2=Decimal("1.67"), days=365) == 3


def test_wages_are_the_total_hours_times_the_hourly_wage():
    hours = total_hours([Decimal("7.5"), Decimal("8.25"), Decimal("0.25")])
    assert hours == Decimal("16.00")
    assert wages_fen(hours=hours, wage_fen_per_hour=1500) == 24000
    assert wages_fen(hours=Decimal(0), wage_fen_per_hour=1500) == 0
    assert total_hours([]) == 0


def test_wages_round_once_on_the_total_half_up():
    # half a fen rounds up (not to the even fen)
    assert wages_fen(hours=Decimal("0.5"), wage_fen_per_hour=1) == 1
    assert wages_fen(hours=Decimal("2.5"), wage_fen_per_hour=1) == 3
    assert wages_fen(hours=Decimal("0.25"), wage_fen_per_hour=1) == 0
    # Three shifts of 0.5 h at 1 fen: 1.5 fen on the total -> 2 (per shift it would be 3)
    hours = total_hours([Decimal("0.5")] * 3)
    assert wages_fen(hours=hours, wage_fen_per_hour=1) == 2
    # 7.25 h at 1999 fen = 14492.75 fen -> 14493
    assert wages_fen(hours=Decimal("7.25"), wage_fen_per_hour=1999) == 14493


def test_grams_convert_to_kg_and_jin_with_two_decimals():
    assert grams_to_kg(12500) == Decimal("12.50")
    assert str(grams_to_kg(12500)) == "12.50"
    assert grams_to_jin(12500) == Decimal("25.00")
    assert grams_to_kg(1) == Decimal("0.00") and grams_to_kg(5) == Decimal("0.01")
    assert grams_to_jin(3) == Decimal("0.01") and grams_to_jin(2) == Decimal("0.00")
    assert grams_to_kg(0) == 0 and grams_to_jin(0) == 0


def test_fen_convert_to_yuan_with_two_decimals():
    assert str(fen_to_yuan(58000)) == "580.00"
    assert str(fen_to_yuan(58050)) == "580.50"
    assert str(fen_to_yuan(7)) == "0.07"
    assert str(fen_to_yuan(0)) == "0.00"


def test_yields_roll_up_by_crop_plot_and_field_with_whole_field_lots_only_in_the_field():
    rice, greens = 1, 2
    field_a, field_b = 10, 20
    plot_a1, plot_a2 = 100, 101
    yields = sum_yields(
        [
            (rice, field_a, plot_a1, 1000, 1),
            (rice, field_a, plot_a1, 500, 1),
            (greens, field_a, plot_a2, 250, 1),
            (rice, field_a, None, 4000, 2),  # whole-field lots
            (greens, field_b, None, 300, 1),
        ]
    )
    assert {k: t.grams for k, t in yields.by_crop.items()} == {rice: 5500, greens: 550}
    assert {k: t.grams for k, t in yields.by_plot.items()} == {plot_a1: 1500, plot_a2: 250}
    assert {k: t.grams for k, t in yields.by_field.items()} == {field_a: 5750, field_b: 300}
    assert yields.by_crop[rice].lots == 4 and yields.by_field[field_a].lots == 5
    assert yields.by_plot[plot_a1].lots == 2
    assert (yields.total.grams, yields.total.lots) == (6050, 6)
    assert sum_yields([]).total.grams == 0


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")']
)
def test_text_a_spreadsheet_would_run_as_a_formula_gets_a_leading_apostrophe(text):
    assert spreadsheet_row([text, 7, -1]) == ["'" + text, 7, -1]


@pytest.mark.parametrize("text", ["王家", "Zhang", "", "1+1", "a=b", "T01", "'quoted"])
def test_ordinary_text_is_left_as_it_is(text):
    assert spreadsheet_row([text]) == [text]


def test_csv_has_a_bom_crlf_lines_escaped_text_and_plain_numbers():
    data = csv_bytes(
        ["农户", "金额"], [["=cmd|' /C calc'!A0", Decimal("-1.50")], ["王家", Decimal("580.00")]]
    )
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["农户", "金额"], ["'=cmd|' /C calc'!A0", "-1.50"], ["王家", "580.00"]]


def test_the_download_name_is_utf8_with_an_ascii_fallback_and_no_path_or_quotes():
    disposition = CsvFile(
        b"", filename='产量 a/b"c.csv', fallback="yields-season-1.csv"
    ).disposition
    assert disposition == (
        'attachment; filename="yields-season-1.csv"; '
        "filename*=UTF-8''%E4%BA%A7%E9%87%8F%20a_b_c.csv"
    )
    assert disposition.isascii()
