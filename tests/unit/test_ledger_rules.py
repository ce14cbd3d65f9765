from datetime import date
from decimal import Decimal

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


# ---- a household's land over time ----

D = date(2027, 3, 1)
RATE = 80000  # the household's rent per mu a year, fen


def held(id_, field_id, area, starts_on, ends_on=None, rent=RATE):
    return rules.Held(id_, field_id, Decimal(area), starts_on, ends_on, rent)


def land_changes(history, *, wanted, on=D, today=D, rent=RATE, rent_before=RATE):
    return rules.land_changes(
        history, wanted=wanted, on=on, today=today, rent=rent, rent_before=rent_before
    )


def test_land_given_back_ends_its_transfer_on_the_day_and_keeps_its_past():
    changes = land_changes([held(1, 7, "600", date(2026, 1, 1))], wanted={}, on=D, today=D)
    assert changes.ended == [1] and not changes.deleted and not changes.started


def test_a_new_area_ends_the_old_transfer_and_starts_a_new_one_on_the_day():
    changes = land_changes(
        [held(1, 7, "600", date(2026, 1, 1))], wanted={7: Decimal("800")}, on=D, today=D
    )
    assert changes.ended == [1]
    assert changes.started == {7: Decimal("800")}


def test_the_same_area_changes_nothing():
    changes = land_changes(
        [held(1, 7, "600", date(2026, 1, 1))], wanted={7: Decimal("600.00")}, on=D, today=D
    )
    assert not changes


def test_new_land_starts_on_the_day():
    changes = land_changes([], wanted={7: Decimal("300")}, on=D, today=D)
    assert changes.started == {7: Decimal("300")}


def test_a_transfer_started_that_day_is_corrected_in_place_or_deleted():
    started_today = [held(1, 7, "600", D), held(2, 8, "100", D)]
    changes = land_changes(started_today, wanted={7: Decimal("650")}, on=D, today=D)
    assert changes.resized == {1: Decimal("650")}
    assert changes.deleted == [2]
    assert not changes.started and not changes.ended


def test_land_given_back_that_day_and_taken_again_at_the_same_area_carries_on():
    given_back = [held(1, 7, "600", date(2026, 1, 1), D)]
    changes = land_changes(given_back, wanted={7: Decimal("600")}, on=D, today=D)
    assert changes.reopened == [1] and not changes.started


def test_a_resize_undone_the_same_day_deletes_the_new_transfer_and_reopens_the_old():
    resized = [held(1, 7, "600", date(2026, 1, 1), D), held(2, 7, "800", D)]
    changes = land_changes(resized, wanted={7: Decimal("600")}, on=D, today=D)
    assert changes.deleted == [2] and changes.reopened == [1] and not changes.started


def test_taken_again_at_another_area_the_same_day_starts_a_new_transfer():
    given_back = [held(1, 7, "600", date(2026, 1, 1), D)]
    changes = land_changes(given_back, wanted={7: Decimal("500")}, on=D, today=D)
    assert changes.started == {7: Decimal("500")} and not changes.reopened


def test_a_change_cannot_count_from_before_the_fields_last_change_and_nothing_is_written():
    history = [held(1, 7, "600", date(2026, 1, 1), D), held(2, 7, "800", D), held(3, 8, "5", D)]
    changes = land_changes(
        history, wanted={7: Decimal("900"), 9: Decimal("10")}, on=date(2027, 2, 1), today=D
    )
    assert changes.too_early == {7: D, 8: D}
    assert not changes


def test_a_change_may_count_from_a_past_day_after_the_last_change():
    # (today is D, the change counts from the last day of 2026)
    changes = land_changes(
        [held(1, 7, "600", date(2026, 1, 1))], wanted={}, on=date(2026, 12, 31), today=D
    )
    assert changes.ended == [1]


def test_a_new_rate_ends_every_transfer_in_force_and_starts_each_again_at_the_same_area():
    history = [
        held(1, 7, "600", date(2026, 1, 1)),
        held(2, 8, "100", date(2026, 5, 1)),
        held(3, 9, "50", date(2025, 1, 1), date(2026, 1, 1)),  # given back: stays as it was
    ]
    wanted = {7: Decimal("600"), 8: Decimal("100")}
    changes = land_changes(history, wanted=wanted, rent=90000)
    assert changes.ended == [1, 2]
    assert changes.started == wanted
    assert not changes.deleted and not changes.resized and not changes.rated


def test_a_new_rate_can_count_from_a_past_day_but_not_from_before_the_fields_last_change():
    history = [held(1, 7, "600", date(2026, 1, 1)), held(2, 8, "100", date(2027, 2, 1))]
    wanted = {7: Decimal("600"), 8: Decimal("100")}
    from_then = land_changes(history, wanted=wanted, on=date(2027, 2, 1), rent=90000)
    assert from_then.ended == [1] and from_then.resized == {2: Decimal("100")}  # its first day
    early = land_changes(history, wanted=wanted, on=date(2027, 1, 1), rent=90000)
    assert early.too_early == {8: date(2027, 2, 1)} and not early


def test_a_new_rate_cannot_count_from_before_land_given_back_since_whatever_the_edits_order():
    # 东田 was given back on 1 June; a new rate from 1 May would have to cover its May too
    history = [
        held(1, 7, "300", date(2025, 1, 1)),
        held(2, 8, "100", date(2025, 1, 1), date(2027, 2, 1)),
    ]
    early = land_changes(history, wanted={7: Decimal("300")}, on=date(2027, 1, 1), rent=90000)
    assert early.too_early == {8: date(2027, 2, 1)} and not early
    later = land_changes(history, wanted={7: Decimal("300")}, on=date(2027, 2, 1), rent=90000)
    assert later.ended == [1] and later.started == {7: Decimal("300")}
    # the same back-dated day with no new rate only changes the land asked for: allowed
    assert land_changes(history, wanted={}, on=date(2027, 1, 1)).ended == [1]


def test_the_same_rate_and_area_changes_nothing_and_a_resize_keeps_to_the_new_rate():
    history = [held(1, 7, "600", date(2026, 1, 1), rent=90000)]
    assert not land_changes(history, wanted={7: Decimal("600")}, rent=90000, rent_before=90000)
    # the household's rate is 80000 now; the transfer was started at 90000 and changes
    assert land_changes(history, wanted={7: Decimal("600")}).ended == [1]


def test_a_rate_corrected_on_the_transfers_first_day_corrects_it_in_place():
    changes = land_changes([held(1, 7, "600", D)], wanted={7: Decimal("600")}, rent=90000)
    assert changes.resized == {1: Decimal("600")}
    assert not changes.ended and not changes.started and not changes.deleted


def test_a_rate_change_undone_the_same_day_reopens_the_transfer_at_the_old_rate():
    changed = [held(1, 7, "600", date(2026, 1, 1), D), held(2, 7, "600", D, rent=90000)]
    changes = land_changes(changed, wanted={7: Decimal("600")}, rent=RATE, rent_before=90000)
    assert changes.deleted == [2] and changes.reopened == [1] and not changes.started


def test_land_given_back_the_same_day_is_not_reopened_at_another_rate():
    given_back = [held(1, 7, "600", date(2026, 1, 1), D)]
    changes = land_changes(given_back, wanted={7: Decimal("600")}, rent=90000)
    assert changes.started == {7: Decimal("600")} and not changes.reopened


def test_transfers_without_their_own_rate_keep_the_one_they_were_paid_at_when_it_changes():
    history = [
        held(1, 7, "600", date(2025, 1, 1), date(2026, 1, 1), rent=None),  # paid the household's
        held(2, 7, "600", date(2026, 1, 1), rent=None),
        held(3, 8, "10", D, rent=None),  # corrected in place: takes the new rate
    ]
    wanted = {7: Decimal("600"), 8: Decimal("10")}
    changes = land_changes(history, wanted=wanted, rent=90000, rent_before=RATE)
    assert changes.rated == {1: RATE, 2: RATE}
    assert changes.ended == [2] and changes.started == {7: Decimal("600")}
    assert changes.resized == {3: Decimal("10")}
    same = land_changes(history, wanted=wanted)  # no new rate: their rate is the household's
    assert not same


def test_in_force_finds_each_fields_transfer_on_the_day_half_open():
    history = [held(1, 7, "600", date(2026, 1, 1), D), held(2, 7, "800", D)]
    assert rules.in_force(history, on=date(2027, 2, 28))[7].id == 1
    assert rules.in_force(history, on=D)[7].id == 2
    assert rules.in_force(history, on=date(2025, 12, 31)) == {}


def test_the_most_held_at_once_counts_every_day_from_since_not_only_today():
    history = [held(1, 7, "3000", date(2026, 1, 1), date(2026, 11, 1)), held(2, 7, "500", D)]
    assert rules.most_held(history, since=date(2026, 10, 1)) == Decimal(3000)  # October
    assert rules.most_held(history, since=date(2026, 11, 1)) == Decimal(500)  # from D on
    assert rules.most_held(history, since=D) == Decimal(500)
    assert rules.most_held([], since=D) == 0
