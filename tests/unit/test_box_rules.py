"""The box's pure rules: what the next box is expected to hold, kilograms by crop, the day a
credit rides on, a rating, and a partial refund never above what is left."""

from datetime import date
from decimal import Decimal

import pytest

from farm import forms
from farm.shipments import box_rules
from farm.shipments.box_rules import OpenHarvest

SHIP_ON = date(2027, 4, 1)


def expected(lots, **kw):
    options = dict(plot_id=1, plot_area=Decimal("66.67"), field_area=Decimal("200.01"),
                   ship_on=SHIP_ON, transit_days=2)  # fmt: skip
    return box_rules.expected_items(lots, **{**options, **kw})


def test_the_plots_own_harvest_is_all_its_and_another_plots_is_not():
    items = expected([OpenHarvest(7, 1, date(2027, 3, 25), 2000, 180),
                      OpenHarvest(7, 2, date(2027, 3, 25), 5000, 180)])  # fmt: skip
    assert [(i.crop_id, i.grams, i.keeps) for i in items] == [(7, 2000, True)]


def test_a_fields_harvest_is_shared_by_area_among_the_subscribed_plots():
    [item] = expected([OpenHarvest(7, None, date(2027, 3, 25), 3000, 180)])
    assert item.grams == 1000  # 66.67 of 200.01 m²


def test_what_would_spoil_on_the_way_is_marked_not_keeping_and_a_carry_counts():
    items = expected(
        [OpenHarvest(8, 1, date(2027, 3, 20), 500, 3)],
        carried=[OpenHarvest(7, 1, date(2027, 3, 1), 700, 180)],
    )
    assert [(i.crop_id, i.grams, i.keeps) for i in items] == [(8, 500, False), (7, 700, True)]


def test_grams_by_crop_add_up_heaviest_first():
    assert box_rules.grams_by_crop([(1, 500), (2, 3000), (1, 700)]) == {2: 3000, 1: 1200}


def test_a_credit_rides_on_the_first_ship_day_after_today_not_made_yet():
    days = [date(2027, 3, 16), date(2027, 4, 1), date(2027, 4, 16)]
    assert box_rules.credit_ship_day(days, today=date(2027, 3, 20), made=[]) == date(2027, 4, 1)
    made = [date(2027, 4, 1)]
    assert box_rules.credit_ship_day(days, today=date(2027, 3, 20), made=made) == date(2027, 4, 16)
    assert box_rules.credit_ship_day(days, today=date(2027, 4, 16), made=[]) is None


@pytest.mark.parametrize("value", ["0", "6", "", "3.5", "五"])
def test_a_rating_is_a_whole_number_of_stars_from_one_to_five(value):
    with pytest.raises(forms.Problem):
        box_rules.rating(value)


def test_a_partial_refund_is_above_zero_and_at_most_what_is_left():
    left = box_rules.refundable(paid_fen=58000, committed_fen=3000)
    assert left == 55000
    assert box_rules.refund_amount("550", refundable_fen=left) == 55000
    for value in ("550.01", "0", "-1"):
        with pytest.raises(forms.Problem):
            box_rules.refund_amount(value, refundable_fen=left)
    with pytest.raises(forms.Problem):
        box_rules.refund_amount("1", refundable_fen=0)
    assert box_rules.refundable(paid_fen=100, committed_fen=500) == 0
