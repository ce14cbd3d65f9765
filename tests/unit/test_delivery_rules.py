"""Which ship days a customer sees, and when one can be held or released."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm import forms
from farm.i18n import use_language
from farm.land.rules import ship_days
from farm.shipments import delivery_rules
from farm.shipments.rules import can_change

DAYS = ship_days(date(2026, 9, 1), date(2027, 9, 1), (1, 16))


def test_the_coming_ship_days_are_the_next_six_after_today():
    coming = delivery_rules.coming_ship_days(DAYS, today=date(2026, 12, 1))
    assert coming == [date(2026, 12, 16), date(2027, 1, 1), date(2027, 1, 16),
                      date(2027, 2, 1), date(2027, 2, 16), date(2027, 3, 1)]  # fmt: skip


def test_near_the_end_of_the_season_fewer_ship_days_are_coming():
    assert delivery_rules.coming_ship_days(DAYS, today=date(2027, 8, 10)) == [date(2027, 8, 16)]
    assert delivery_rules.coming_ship_days(DAYS, today=date(2027, 8, 16)) == []


def test_past_ship_days_are_newest_first_and_start_with_the_subscription():
    past = delivery_rules.past_ship_days(DAYS, today=date(2026, 11, 1), since=date(2026, 9, 10))
    assert past == [date(2026, 11, 1), date(2026, 10, 16), date(2026, 10, 1), date(2026, 9, 16)]
    assert delivery_rules.past_ship_days(DAYS, today=date(2026, 8, 31), since=None) == []


def test_a_ship_day_can_be_held_up_to_and_including_its_cutoff():
    day = date(2026, 12, 16)
    assert can_change(ship_on=day, cutoff_days=2, today=date(2026, 12, 14))
    assert not can_change(ship_on=day, cutoff_days=2, today=date(2026, 12, 15))
    assert not can_change(ship_on=day, cutoff_days=2, today=date(2026, 12, 17))


def test_a_day_that_is_not_a_ship_day_of_the_season_cannot_be_held():
    for day in (date(2026, 12, 17), date(2027, 9, 1), date(2026, 8, 16)):
        with pytest.raises(forms.Problem) as refused:
            delivery_rules.ship_day_of_season(day, DAYS)
        assert refused.value.code == "not_ship_day"
        assert refused.value.message == f"{day}不是本认购季的发货日。"
    with use_language("en"), pytest.raises(forms.Problem) as refused:
        delivery_rules.ship_day_of_season(date(2026, 12, 17), DAYS)
    assert refused.value.message == "2026-12-17 is not a ship day of this season."
    assert delivery_rules.ship_day_of_season(date(2026, 12, 16), DAYS) == date(2026, 12, 16)


@given(
    offset=st.integers(min_value=0, max_value=len(DAYS) - 1),
    cutoff_days=st.integers(min_value=0, max_value=10),
    today_offset=st.integers(min_value=-40, max_value=40),
)
def test_a_hold_is_open_exactly_until_the_cutoff(offset, cutoff_days, today_offset):
    day = DAYS[offset]
    today = day + timedelta(days=today_offset)
    assert delivery_rules.ship_day_of_season(day, DAYS) == day
    assert can_change(ship_on=day, cutoff_days=cutoff_days, today=today) == (
        today_offset <= -cutoff_days
    )
