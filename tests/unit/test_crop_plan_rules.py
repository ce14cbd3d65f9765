"""The rules of choosing what grows: sowing months, the cut-off, a plan checked against the
calendar and the plot, the default plan, the sowing list's weeks and seed."""

from datetime import date
from decimal import Decimal as D

import pytest

from farm.cropplans import rules

GREENS = rules.Row(crop_id=1, sow_months=rules.months_mask([3, 4]), min_area_m2=D(5),
                   days_to_harvest=40, seed_per_m2=D("1.5"), default_area_m2=D(20))  # fmt: skip
TOMATO = rules.Row(crop_id=2, sow_months=rules.months_mask([5]), min_area_m2=D(10),
                   days_to_harvest=90, seed_per_m2=D(3), default_area_m2=D(30))  # fmt: skip
WINTER = rules.Row(crop_id=3, sow_months=rules.months_mask([11]), min_area_m2=D(5),
                   days_to_harvest=120)  # fmt: skip
SEASON = {"starts_on": date(2027, 3, 10), "ends_on": date(2027, 10, 1)}


def test_months_are_kept_as_bits_and_read_back_in_order():
    assert rules.months_of(rules.months_mask([12, 1, 3])) == [1, 3, 12]
    with pytest.raises(ValueError):
        rules.months_mask([13])


def test_the_first_sowing_day_is_the_seasons_start_or_the_first_of_a_later_sowing_month():
    assert rules.first_sow_day(sow_months=GREENS.sow_months, **SEASON) == date(2027, 3, 10)
    assert rules.first_sow_day(sow_months=TOMATO.sow_months, **SEASON) == date(2027, 5, 1)
    assert rules.first_sow_day(sow_months=WINTER.sow_months, **SEASON) is None
    across_new_year = rules.first_sow_day(
        sow_months=rules.months_mask([2]), starts_on=date(2026, 11, 5), ends_on=date(2027, 6, 1)
    )
    assert across_new_year == date(2027, 2, 1)


def test_the_cut_off_is_days_before_the_earliest_sowing_and_is_itself_closed():
    starts = rules.sowing_starts(rows=[TOMATO, GREENS, WINTER], **SEASON)
    assert starts == date(2027, 3, 10)
    cut = rules.cutoff(sowing_starts=starts, cutoff_days=14)
    assert cut == date(2027, 2, 24)
    assert rules.is_open(today=date(2027, 2, 23), cutoff_on=cut)
    assert not rules.is_open(today=cut, cutoff_on=cut)
    assert not rules.is_open(today=date(2027, 1, 1), cutoff_on=None)
    assert rules.sowing_starts(rows=[WINTER], **SEASON) is None


def test_the_reminder_is_due_only_in_the_days_before_the_cut_off():
    cut = date(2027, 2, 24)
    assert not rules.remind_due(today=date(2027, 2, 16), cutoff_on=cut)
    assert rules.remind_due(today=date(2027, 2, 17), cutoff_on=cut)
    assert rules.remind_due(today=date(2027, 2, 23), cutoff_on=cut)
    assert not rules.remind_due(today=cut, cutoff_on=cut)


def test_a_plan_within_the_calendar_and_the_plot_gives_sowing_and_harvest_days():
    lines = rules.plan_lines(rows=[GREENS, TOMATO], areas={2: D(30), 1: D(20)},
                             plot_area_m2=D("66.67"), **SEASON)  # fmt: skip
    assert lines == [
        rules.Line(1, D(20), date(2027, 3, 10), date(2027, 4, 19)),
        rules.Line(2, D(30), date(2027, 5, 1), date(2027, 7, 30)),
    ]


@pytest.mark.parametrize(
    ("areas", "where"),
    [
        ({1: D(4)}, 1),  # under the crop's least area
        ({9: D(10)}, 9),  # not on the calendar
        ({3: D(10)}, 3),  # cannot be sown this season
        ({1: D(40), 2: D(30)}, None),  # more than the plot
        ({}, None),  # nothing chosen
        ({1: D(0)}, None),  # zero is nothing
    ],
)
def test_a_plan_outside_the_rules_is_refused_and_says_where(areas, where):
    with pytest.raises(rules.BadPlan) as refused:
        rules.plan_lines(rows=[GREENS, TOMATO, WINTER], areas=areas, plot_area_m2=D("66.67"),
                         **SEASON)  # fmt: skip
    assert where in refused.value.problems


def test_the_whole_plot_may_be_used_to_the_last_square_metre():
    lines = rules.plan_lines(rows=[GREENS, TOMATO], areas={1: D("36.67"), 2: D(30)},
                             plot_area_m2=D("66.67"), **SEASON)  # fmt: skip
    assert sum(line.area_m2 for line in lines) == D("66.67")


def test_the_default_plan_takes_the_crops_that_fit_in_calendar_order():
    assert rules.default_areas(rows=[GREENS, TOMATO, WINTER], plot_area_m2=D("66.67")) == {
        1: D(20),
        2: D(30),
    }
    assert rules.default_areas(rows=[GREENS, TOMATO], plot_area_m2=D(40)) == {1: D(20)}
    assert rules.default_areas(rows=[TOMATO, GREENS], plot_area_m2=D(25)) == {1: D(20)}
    assert rules.default_areas(rows=[WINTER], plot_area_m2=D(100)) == {}


def test_a_week_starts_on_its_monday_and_seed_is_rounded_up():
    assert rules.week_of(date(2027, 3, 10)) == date(2027, 3, 8)
    assert rules.week_of(date(2027, 3, 8)) == date(2027, 3, 8)
    assert rules.seed_amount(area_m2=D(20), seed_per_m2=D("1.5")) == D(30)
    assert rules.seed_amount(area_m2=D("20.5"), seed_per_m2=D("1.5")) == D(31)  # 30.75
    assert rules.seed_amount(area_m2=D("0.5"), seed_per_m2=D(5)) == D(3)  # 2.5, not 2


# ---- month by month ----


def test_a_crops_sowing_days_are_the_first_of_each_of_its_months_in_the_season():
    assert rules.sow_days(sow_months=GREENS.sow_months, **SEASON) == [
        date(2027, 3, 10),  # the season's first day, in March
        date(2027, 4, 1),
    ]
    assert rules.sow_days(sow_months=WINTER.sow_months, **SEASON) == []


def test_month_by_month_a_family_sows_each_crop_in_a_month_it_chose():
    lines = rules.plan_lines(
        rows=[GREENS, TOMATO], areas={1: D(20), 2: D(30)}, plot_area_m2=D(60),
        sow_on={1: date(2027, 4, 1)}, **SEASON,
    )  # fmt: skip
    assert [(line.crop_id, line.sow_on, line.harvest_on) for line in lines] == [
        (1, date(2027, 4, 1), date(2027, 5, 11)),  # chosen: April
        (2, date(2027, 5, 1), date(2027, 7, 30)),  # none chosen: its first month
    ]


def test_month_by_month_crops_that_grow_one_after_the_other_share_the_plot():
    # greens sown 10 March are harvested 19 April; tomatoes sown 1 May: 50 + 50 m² in 60 m²
    lines = rules.plan_lines(
        rows=[GREENS, TOMATO], areas={1: D(50), 2: D(50)}, plot_area_m2=D(60),
        sow_on={}, **SEASON,
    )  # fmt: skip
    assert [line.sow_on for line in lines] == [date(2027, 3, 10), date(2027, 5, 1)]
    assert rules.peak_area(lines) == (date(2027, 3, 10), D(50))


def test_month_by_month_crops_growing_at_once_must_fit_and_the_day_is_named():
    with pytest.raises(rules.BadPlan) as refused:
        rules.plan_lines(
            rows=[GREENS, TOMATO], areas={1: D(50), 2: D(50)}, plot_area_m2=D(60),
            sow_on={1: date(2027, 4, 1)}, **SEASON,  # greens until 11 May, tomatoes from 1 May
        )  # fmt: skip
    assert "2027-05-01" in refused.value.problems[None] and "100" in refused.value.problems[None]


def test_month_by_month_a_month_the_crop_cannot_be_sown_in_is_refused_beside_it():
    with pytest.raises(rules.BadPlan) as refused:
        rules.plan_lines(
            rows=[GREENS, TOMATO], areas={1: D(10), 2: D(10)}, plot_area_m2=D(60),
            sow_on={2: date(2027, 6, 1), 1: date(2027, 3, 1)}, **SEASON,
        )  # fmt: skip
    assert set(refused.value.months) == {1, 2}  # June: not tomatoes'; 1 March: before it


def test_month_by_month_a_crop_is_not_sown_where_it_would_be_harvested_after_the_season():
    late = {"starts_on": date(2027, 3, 10), "ends_on": date(2027, 6, 1)}
    # tomatoes (90 days) sown 1 May would be harvested on 30 July, after the season's end
    assert rules.sow_days(sow_months=TOMATO.sow_months, days_to_harvest=90, **late) == []
    assert rules.sow_days(sow_months=GREENS.sow_months, days_to_harvest=40, **late) == [
        date(2027, 3, 10), date(2027, 4, 1)
    ]  # fmt: skip
    with pytest.raises(rules.BadPlan):
        rules.plan_lines(rows=[TOMATO], areas={2: D(10)}, plot_area_m2=D(60), sow_on={}, **late)


def test_for_the_whole_season_the_crops_areas_add_up_whatever_their_months():
    with pytest.raises(rules.BadPlan) as refused:
        rules.plan_lines(rows=[GREENS, TOMATO], areas={1: D(50), 2: D(50)},
                         plot_area_m2=D(60), **SEASON)  # fmt: skip
    assert "100" in refused.value.problems[None]
