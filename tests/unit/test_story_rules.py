"""The story's rules: the crop's stage, the season's line, harvests a week at a time."""

from datetime import date, timedelta

from farm.story.rules import Picked, Stage, harvest_weeks, position, stage, totals_by_crop

SOWN = date(2026, 9, 1)


def test_the_stage_moves_from_nothing_to_sown_to_growing_to_harvest():
    assert stage(sown_on=None, first_harvest_on=None, today=SOWN) == Stage.WAITING
    assert stage(sown_on=SOWN, first_harvest_on=None, today=SOWN) == Stage.SOWN
    assert stage(sown_on=SOWN, first_harvest_on=None, today=SOWN + timedelta(days=9)) == Stage.SOWN
    growing = stage(sown_on=SOWN, first_harvest_on=None, today=SOWN + timedelta(days=10))
    assert growing == Stage.GROWING
    picked = date(2026, 10, 1)
    assert stage(sown_on=SOWN, first_harvest_on=picked, today=picked) == Stage.HARVEST
    # a harvest logged ahead of today does not make it harvest time yet
    assert stage(sown_on=SOWN, first_harvest_on=picked, today=picked - timedelta(days=1)) == (
        Stage.GROWING
    )


def test_a_day_sits_on_the_seasons_line_and_stays_within_it():
    span = {"starts_on": date(2026, 9, 1), "ends_on": date(2026, 9, 11)}
    assert position(date(2026, 9, 1), **span) == 0
    assert position(date(2026, 9, 6), **span) == 50
    assert position(date(2027, 1, 1), **span) == 100
    assert position(date(2026, 1, 1), **span) == 0


def test_harvests_are_told_a_week_at_a_time_the_fields_share_apart():
    lots = [
        Picked(day=date(2026, 11, 2), crop_id=1, amount=2000, code="A", shared=False),  # Monday
        Picked(day=date(2026, 11, 8), crop_id=1, amount=1500, code="B", shared=False),  # Sunday
        Picked(day=date(2026, 11, 8), crop_id=2, amount=12000, code="C", shared=True),
        Picked(day=date(2026, 11, 9), crop_id=1, amount=1000, code="D", shared=False),
    ]
    weeks = harvest_weeks(lots)
    assert [w.monday for w in weeks] == [date(2026, 11, 9), date(2026, 11, 2)]
    first_week = weeks[1]
    assert first_week.by_crop == {1: 3500} and first_week.shared_by_crop == {2: 12000}
    assert first_week.last_day == date(2026, 11, 8)
    assert [p.code for p in first_week.lots] == ["C", "B", "A"]  # newest first


def test_totals_by_crop_add_up_largest_first():
    assert totals_by_crop([(1, 500), (2, 3000), (1, 700)]) == {2: 3000, 1: 1200}
    assert list(totals_by_crop([(1, 500), (2, 3000), (1, 700)])) == [2, 1]
