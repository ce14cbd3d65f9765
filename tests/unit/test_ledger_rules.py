from datetime import date

from farm.fieldwork import ledger_rules as rules
from farm.units import M2_PER_MU

ONE_MU = M2_PER_MU
TEN_MU = 10 * M2_PER_MU


def test_a_transfer_covering_a_whole_year_pays_exactly_its_yearly_rent_in_a_leap_year_too():
    for year in (2025, 2028):
        assert rules.year_rent_fen(
            area_m2=TEN_MU, rent_fen_per_mu_year=80000, starts_on=date(2020, 3, 1),
            ends_on=None, year=year,
        ) == 800000  # fmt: skip


def test_a_year_has_366_days_when_it_is_a_leap_year():
    assert [rules.days_in_year(y) for y in (2024, 2025, 2100, 2000)] == [366, 365, 365, 366]


def test_a_partial_year_pays_its_days_over_the_year_s_days_half_up_once():
    # 1 mu at ¥800 from 1 July 2025: 184 of 365 days = 40328.767... fen -> 40329
    assert rules.year_rent_fen(
        area_m2=ONE_MU, rent_fen_per_mu_year=80000, starts_on=date(2025, 7, 1), ends_on=None,
        year=2025,
    ) == 40329  # fmt: skip
    # a leap year counts 366 days: 184 / 366 of 80000 = 40218.579... -> 40219
    assert rules.year_rent_fen(
        area_m2=ONE_MU, rent_fen_per_mu_year=80000, starts_on=date(2024, 7, 1), ends_on=None,
        year=2024,
    ) == 40219  # fmt: skip


def test_half_a_fen_rounds_up_and_less_rounds_down():
    # half a mu at 365 fen a year for one day of 365 = 0.5 fen; a quarter mu, 0.25 fen
    assert rules.year_rent_fen(
        area_m2=ONE_MU / 2, rent_fen_per_mu_year=365, starts_on=date(2025, 1, 1),
        ends_on=date(2025, 1, 2), year=2025,
    ) == 1  # 0.5 fen -> 1  # fmt: skip
    assert rules.year_rent_fen(
        area_m2=ONE_MU / 4, rent_fen_per_mu_year=365, starts_on=date(2025, 1, 1),
        ends_on=date(2025, 1, 2), year=2025,
    ) == 0  # 0.25 fen -> 0  # fmt: skip


def test_a_transfer_spanning_two_years_pays_each_year_its_own_days_and_never_more_than_its_span():
    starts, ends = date(2024, 10, 1), date(2025, 4, 1)  # 92 days in 2024, 90 in 2025
    in_2024 = rules.year_rent_fen(area_m2=TEN_MU, rent_fen_per_mu_year=73000,
                                  starts_on=starts, ends_on=ends, year=2024)  # fmt: skip
    in_2025 = rules.year_rent_fen(area_m2=TEN_MU, rent_fen_per_mu_year=73000,
                                  starts_on=starts, ends_on=ends, year=2025)  # fmt: skip
    in_2026 = rules.year_rent_fen(area_m2=TEN_MU, rent_fen_per_mu_year=73000,
                                  starts_on=starts, ends_on=ends, year=2026)  # fmt: skip
    assert in_2024 == 183497  # 730000 × 92 / 366 = 183497.27...
    assert in_2025 == 180000  # 730000 × 90 / 365 exactly
    assert in_2026 == 0


def test_days_within_counts_the_half_open_overlap_only():
    year = rules.year_bounds(2025)
    assert rules.days_within(starts_on=date(2025, 12, 31), ends_on=None, within=year) == 1
    assert rules.days_within(starts_on=date(2026, 1, 1), ends_on=None, within=year) == 0
    assert rules.days_within(starts_on=date(2020, 1, 1), ends_on=date(2025, 1, 1), within=year) == 0
    assert rules.days_within(starts_on=date(2020, 1, 1), ends_on=date(2025, 1, 2), within=year) == 1


def test_rent_by_month_adds_up_to_the_year_and_follows_the_days():
    total = rules.year_rent_fen(area_m2=ONE_MU, rent_fen_per_mu_year=80000,
                                starts_on=date(2025, 2, 15), ends_on=date(2025, 5, 1), year=2025)  # fmt: skip
    months = rules.rent_by_month(total_fen=total, starts_on=date(2025, 2, 15),
                                 ends_on=date(2025, 5, 1), year=2025)  # fmt: skip
    assert sum(months) == total
    assert months[0] == 0 and months[4:] == [0] * 8
    assert months[1] < months[2]  # 14 days of February, 31 of March


def test_spread_shares_always_add_up_to_the_total():
    assert rules.spread(100, [1, 1, 1]) == [33, 34, 33]
    assert rules.spread(7, [0, 0]) == [0, 0]
    for total in (0, 1, 99, 12345):
        assert sum(rules.spread(total, [3, 7, 0, 11, 5])) == total
