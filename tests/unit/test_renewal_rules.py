"""The renewal window's pure rules: who may renew, when the window is open, which plot."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from farm.renewals import rules
from farm.renewals.rules import Offer

FEN = Decimal("66.67")
MU = Decimal("666.67")
SALE = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 22), False),  # before it opens
        (date(2026, 11, 23), True),  # its first day, included
        (date(2026, 11, 30), True),  # its last day
        (date(2026, 12, 1), False),  # the public sale's first day: closed (half-open)
    ],
)
def test_the_window_is_open_from_its_first_day_until_the_public_sale(today, expected):
    assert rules.is_open(opens_on=date(2026, 11, 23), sale_starts_on=SALE, today=today) is expected


def test_a_season_without_a_window_is_never_open():
    assert not rules.is_open(opens_on=None, sale_starts_on=SALE, today=date(2026, 11, 25))


def test_the_window_closes_at_local_midnight_of_the_sales_first_day():
    at = rules.closes_at(sale_starts_on=SALE, timezone="Asia/Shanghai")
    assert at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def eligible(status="active", starts=date(2026, 3, 1), ends=date(2027, 3, 1)):
    return rules.is_eligible(
        status=status, season_starts_on=starts, season_ends_on=ends,
        new_starts_on=date(2027, 3, 1), opens_on=date(2026, 11, 23),
    )  # fmt: skip


def test_a_paying_family_of_the_running_season_may_renew():
    assert eligible()
    assert eligible("completed", ends=date(2026, 10, 1))  # ended a little before


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded"])
def test_a_family_that_did_not_keep_its_plot_may_not_renew(status):
    assert not eligible(status)


def test_a_season_long_ended_or_not_earlier_gives_no_right_to_renew():
    assert not eligible("completed", starts=date(2025, 3, 1), ends=date(2025, 8, 1))
    assert not eligible(starts=date(2027, 3, 1), ends=date(2028, 3, 1))  # the new season itself
    # A season sold ahead, not started when the window opened: its families are not "current".
    assert not eligible(starts=date(2027, 1, 1), ends=date(2028, 1, 1))


def test_the_reminder_is_due_in_the_windows_last_three_days_only():
    assert not rules.remind_due(today=date(2026, 11, 27), sale_starts_on=SALE)
    assert rules.remind_due(today=date(2026, 11, 28), sale_starts_on=SALE)
    assert rules.remind_due(today=date(2026, 11, 30), sale_starts_on=SALE)
    assert not rules.remind_due(today=SALE, sale_starts_on=SALE)


def test_the_same_field_and_size_comes_first_then_the_same_size_elsewhere_never_another_size():
    offers = [
        Offer(plan_id=5, field_id=2, plot_area_m2=FEN),
        Offer(plan_id=6, field_id=1, plot_area_m2=MU),
        Offer(plan_id=7, field_id=1, plot_area_m2=FEN),
        Offer(plan_id=8, field_id=3, plot_area_m2=FEN),
    ]
    tried = rules.plans_to_try(field_id=1, area_m2=FEN, offers=offers)
    assert [(o.plan_id, own) for o, own in tried] == [(7, True), (5, False), (8, False)]


def test_a_plot_of_a_size_no_longer_offered_has_no_comparable_plot():
    offers = [Offer(plan_id=6, field_id=1, plot_area_m2=MU)]
    assert rules.plans_to_try(field_id=1, area_m2=FEN, offers=offers) == []


def test_the_rate_is_whole_percent_and_none_without_eligible_families():
    assert rules.rate(renewed=2, eligible=3) == 66
    assert rules.rate(renewed=0, eligible=0) is None
