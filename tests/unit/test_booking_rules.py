"""Farm-stay booking rules: bookable nights, validation, vouchers to nights, rooms to try,
the cancellation cutoff, check-in days, suggested nights, the month grid."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm.partners import rules
from farm.partners.rules import RoomFit, VoucherSpan

TODAY = date(2027, 5, 10)
SEASON = {"valid_from": date(2027, 3, 1), "valid_until": date(2028, 3, 1)}
dates = st.dates(min_value=date(2026, 1, 1), max_value=date(2029, 12, 31))


def problems(**kw):
    values = {"first_night": TODAY + timedelta(days=1), "nights": 1, "guests": 2,
              "today": TODAY, "free_vouchers": 2, "max_capacity": 4, **SEASON, **kw}  # fmt: skip
    return {name: p.code for name, p in rules.booking_problems(**values).items()}


# ---- nights ----


def test_the_stay_nights_are_consecutive_from_the_first():
    assert rules.stay_nights(date(2027, 5, 30), 3) == [
        date(2027, 5, 30), date(2027, 5, 31), date(2027, 6, 1)]  # fmt: skip
    assert rules.last_night(date(2027, 5, 30), 3) == date(2027, 6, 1)
    assert rules.last_night(date(2027, 5, 30), 1) == date(2027, 5, 30)


def test_bookable_nights_start_tomorrow_and_stop_before_the_vouchers_end():
    nights = rules.bookable_nights(today=TODAY, **SEASON)
    assert nights[0] == TODAY + timedelta(days=1)
    assert len(nights) == rules.HORIZON_NIGHTS
    end = rules.bookable_nights(today=date(2028, 2, 20), **SEASON)
    assert end[0] == date(2028, 2, 21) and end[-1] == date(2028, 2, 29)  # valid_until excluded


def test_bookable_nights_start_on_the_first_valid_day_before_the_season():
    nights = rules.bookable_nights(today=date(2027, 1, 5), **SEASON)
    assert nights[0] == date(2027, 3, 1)


def test_no_night_is_bookable_once_the_vouchers_have_ended():
    assert rules.bookable_nights(today=date(2028, 2, 29), **SEASON) == []
    assert rules.bookable_nights(today=date(2028, 6, 1), **SEASON) == []


@given(today=dates, start=dates, days=st.integers(0, 400), horizon=st.integers(0, 90))
def test_every_bookable_night_is_after_today_valid_and_within_the_horizon(
    today, start, days, horizon
):
    until = start + timedelta(days=days)
    nights = rules.bookable_nights(valid_from=start, valid_until=until, today=today,
                                   horizon=horizon)  # fmt: skip
    assert len(nights) <= horizon
    assert all(today < n and start <= n < until for n in nights)
    assert all(b - a == timedelta(days=1) for a, b in zip(nights, nights[1:], strict=False))


# ---- validation ----


def test_a_good_request_has_no_problem():
    assert problems() == {}
    assert problems(first_night=date(2028, 2, 28), nights=2, free_vouchers=2) == {}


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"first_night": None}, "first_night", "no_night"),
        ({"first_night": TODAY}, "first_night", "in_the_past"),  # tonight: too late
        ({"first_night": TODAY - timedelta(days=3)}, "first_night", "in_the_past"),
        ({"first_night": date(2028, 3, 1)}, "first_night", "outside_validity"),
        ({"first_night": date(2028, 2, 29), "nights": 2}, "first_night",
         "outside_validity"),  # the second night is past the end
        ({"today": date(2027, 1, 1), "first_night": date(2027, 2, 28)}, "first_night",
         "outside_validity"),  # before the season
        ({"nights": None}, "nights", "bad_nights"),
        ({"nights": 0}, "nights", "bad_nights"),
        ({"nights": rules.MAX_NIGHTS + 1, "free_vouchers": 99}, "nights", "bad_nights"),
        ({"nights": 3, "free_vouchers": 2}, "nights", "too_many_nights"),
        ({"nights": 1, "free_vouchers": 0}, "nights", "too_many_nights"),
        ({"guests": None}, "guests", "bad_guests"),
        ({"guests": 0}, "guests", "bad_guests"),
        ({"guests": 5, "max_capacity": 4}, "guests", "too_many_guests"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named_with_its_problem(changes, field, problem):
    assert problems(**changes) == {field: problem}


def test_several_bad_fields_are_all_reported():
    assert problems(first_night=TODAY, nights=9, guests=0) == {
        "first_night": "in_the_past", "nights": "too_many_nights",
        "guests": "bad_guests"}  # fmt: skip


@given(
    first=st.one_of(st.none(), dates), nights=st.one_of(st.none(), st.integers(-5, 40)),
    guests=st.one_of(st.none(), st.integers(-5, 30)), free=st.integers(0, 10),
    capacity=st.integers(0, 8), today=dates,
)  # fmt: skip
def test_a_request_without_problems_fits_the_vouchers_the_rooms_and_the_calendar(
    first, nights, guests, free, capacity, today
):
    found = rules.booking_problems(first_night=first, nights=nights, guests=guests,
                                   today=today, free_vouchers=free, max_capacity=capacity,
                                   **SEASON)  # fmt: skip
    if found:
        return
    assert first is not None and nights is not None and guests is not None
    assert 1 <= nights <= free and 1 <= guests <= capacity
    stay = rules.stay_nights(first, nights)
    assert all(today < n and SEASON["valid_from"] <= n < SEASON["valid_until"] for n in stay)


# ---- vouchers to nights ----


def test_each_night_gets_its_own_voucher_oldest_first():
    vouchers = [VoucherSpan(7, *SEASON.values()), VoucherSpan(3, *SEASON.values()),
                VoucherSpan(5, *SEASON.values())]  # fmt: skip
    nights = rules.stay_nights(date(2027, 6, 1), 2)
    assert rules.assign_vouchers(nights, vouchers) == [3, 5]
    assert rules.assign_vouchers(rules.stay_nights(date(2027, 6, 1), 4), vouchers) is None


def test_a_voucher_is_only_used_for_a_night_it_is_valid_on():
    short = VoucherSpan(1, date(2027, 6, 1), date(2027, 6, 2))  # the night of June 1st only
    long = VoucherSpan(2, date(2027, 6, 1), date(2027, 7, 1))
    # June 1st must take the short one, or June 2nd would have none
    assert rules.assign_vouchers([date(2027, 6, 1), date(2027, 6, 2)], [long, short]) == [1, 2]
    assert rules.assign_vouchers([date(2027, 6, 2), date(2027, 6, 3)], [long, short]) is None


@given(
    spans=st.lists(st.tuples(st.integers(0, 20), st.integers(1, 10)), max_size=6),
    start=st.integers(0, 25), count=st.integers(1, 5),
)  # fmt: skip
def test_vouchers_are_assigned_whenever_some_assignment_exists(spans, start, count):
    base = date(2027, 6, 1)
    vouchers = [VoucherSpan(i + 1, base + timedelta(a), base + timedelta(a + n))
                for i, (a, n) in enumerate(spans)]  # fmt: skip
    nights = rules.stay_nights(base + timedelta(start), count)
    got = rules.assign_vouchers(nights, vouchers)
    if got is not None:
        assert len(set(got)) == len(nights)
        by_id = {v.id: v for v in vouchers}
        assert all(
            by_id[i].valid_from <= n < by_id[i].valid_until
            for i, n in zip(got, nights, strict=True)
        )
    assert (got is not None) == _some_assignment(nights, vouchers)


def _some_assignment(nights, vouchers) -> bool:
    """Brute force: try every voucher for the first night, recursively."""
    if not nights:
        return True
    night, rest = nights[0], nights[1:]
    return any(
        v.valid_from <= night < v.valid_until and _some_assignment(rest, [w for w in vouchers
                                                                          if w is not v])
        for v in vouchers
    )  # fmt: skip


# ---- rooms ----


def test_rooms_are_tried_smallest_fitting_first_and_taken_ones_never():
    rooms = [RoomFit(1, "大通铺", 4), RoomFit(2, "竹间", 2), RoomFit(3, "松间", 2),
             RoomFit(4, "单间", 1)]  # fmt: skip
    assert [r.id for r in rules.rooms_to_try(rooms, guests=2, taken=set())] == [3, 2, 1]
    assert [r.id for r in rules.rooms_to_try(rooms, guests=2, taken={3})] == [2, 1]
    assert [r.id for r in rules.rooms_to_try(rooms, guests=3, taken=set())] == [1]
    assert rules.rooms_to_try(rooms, guests=5, taken=set()) == []
    assert rules.rooms_to_try(rooms, guests=3, taken={1}) == []


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [
        ((date(2027, 6, 1), 2), (date(2027, 6, 2), 1), True),
        ((date(2027, 6, 1), 2), (date(2027, 6, 3), 1), False),  # leaving the day b arrives
        ((date(2027, 6, 3), 1), (date(2027, 6, 1), 2), False),
        ((date(2027, 6, 1), 5), (date(2027, 6, 2), 1), True),
        ((date(2027, 6, 1), 1), (date(2027, 6, 1), 1), True),
    ],
)
def test_two_stays_overlap_when_they_share_a_night(a, b, shared):
    assert rules.overlaps(*a, *b) is shared


# ---- cancelling and checking in ----


def test_a_stay_can_be_cancelled_until_two_days_before_its_first_night_that_day_included():
    first = date(2027, 6, 10)
    assert rules.CANCEL_DAYS == 2
    assert rules.cancel_cutoff(first) == date(2027, 6, 8)
    assert rules.can_cancel(first_night=first, today=date(2027, 6, 1))
    assert rules.can_cancel(first_night=first, today=date(2027, 6, 8))  # the cutoff day itself
    assert not rules.can_cancel(first_night=first, today=date(2027, 6, 9))
    assert not rules.can_cancel(first_night=first, today=first)


@given(first=dates, today=dates)
def test_cancelling_is_possible_exactly_up_to_the_cutoff(first, today):
    assert rules.can_cancel(first_night=first, today=today) == (
        (first - today).days >= rules.CANCEL_DAYS
    )


def test_guests_check_in_on_any_day_of_their_stay_and_no_other():
    first = date(2027, 6, 10)
    days = {first + timedelta(days=i): rules.can_check_in(first_night=first, nights=2,
                                                          today=first + timedelta(days=i))
            for i in range(-1, 3)}  # fmt: skip
    assert days == {date(2027, 6, 9): False, date(2027, 6, 10): True, date(2027, 6, 11): True,
                    date(2027, 6, 12): False}  # fmt: skip


# ---- suggestions ----


def test_nights_near_a_ship_day_are_suggested_three_days_either_side():
    nights = [date(2027, 6, d) for d in range(1, 31)]
    got = rules.suggested_nights(nights, ship_days=[date(2027, 6, 16)], harvest_days=[])
    assert got == {date(2027, 6, d) for d in range(13, 20)}


def test_nights_in_the_calendar_week_of_last_years_harvests_are_suggested():
    harvested = date(2026, 6, 10)  # a Wednesday, ISO week 24
    nights = [date(2027, 6, d) for d in range(1, 31)]
    got = rules.suggested_nights(nights, ship_days=[], harvest_days=[harvested])
    week = harvested.isocalendar()[1]
    assert got == {n for n in nights if n.isocalendar()[1] == week}
    assert got == {date(2027, 6, d) for d in range(14, 21)}  # Monday 14th to Sunday 20th


def test_nothing_is_suggested_without_ship_days_or_harvests():
    assert rules.suggested_nights([TODAY], ship_days=[], harvest_days=[]) == set()


@given(nights=st.lists(dates, max_size=30), ships=st.lists(dates, max_size=10),
       harvests=st.lists(dates, max_size=10))  # fmt: skip
def test_a_suggested_night_is_one_of_the_nights_near_a_ship_day_or_in_a_harvest_week(
    nights, ships, harvests
):
    got = rules.suggested_nights(nights, ship_days=ships, harvest_days=harvests)
    weeks = {h.isocalendar()[1] for h in harvests}
    for n in nights:
        expected = any(abs((n - s).days) <= rules.NEAR_SHIP_DAY for s in ships) or (
            n.isocalendar()[1] in weeks
        )
        assert (n in got) == expected
    assert got <= set(nights)


def test_the_harvest_lookback_is_the_last_year_half_open():
    assert rules.harvest_lookback(date(2027, 6, 1)) == (date(2026, 6, 1), date(2027, 6, 1))


# ---- the month grid ----


def test_the_month_grid_has_monday_first_weeks_of_the_months_the_nights_fall_in():
    months = rules.month_grid([date(2027, 5, 30), date(2027, 5, 31), date(2027, 6, 1)])
    assert [(m.year, m.month) for m in months] == [(2027, 5), (2027, 6)]
    may = months[0]
    assert all(len(week) == 7 for week in may.weeks)
    assert may.weeks[0][:5] == [None] * 5 and may.weeks[0][5] == date(2027, 5, 1)  # a Saturday
    assert may.weeks[-1][0] == date(2027, 5, 31) and may.weeks[-1][1] is None
    assert [d for w in may.weeks for d in w if d] == [date(2027, 5, d) for d in range(1, 32)]
    assert rules.month_grid([]) == []
