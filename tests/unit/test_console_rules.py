"""The console's pure rules: prices typed in yuan, cutting plots, what a sale fixes."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farm import forms
from farm.land import rules
from farm.land.rules import PlotShape

D = Decimal


# Typed prices, sizes, counts and dates are read by farm.forms: tests/unit/test_forms.py.


# ---- cutting plots ----


def test_a_grid_is_placed_left_to_right_then_top_to_bottom_from_its_start():
    plots = rules.grid_plots(
        prefix="A", first_number=1, cols=3, rows=2, plot_w=D(10), plot_h=D("6.67"),
        x0=D(5), y0=D(0),
    )  # fmt: skip
    assert [p.code for p in plots] == ["A01", "A02", "A03", "A04", "A05", "A06"]
    assert [(p.x, p.y) for p in plots[:4]] == [(5, 0), (15, 0), (25, 0), (5, D("6.67"))]
    assert all((p.w, p.h) == (10, D("6.67")) for p in plots)


def test_grid_codes_grow_a_digit_when_the_numbers_need_it():
    plots = rules.grid_plots(prefix="B", first_number=95, cols=10, rows=1, plot_w=D(1), plot_h=D(1))
    assert plots[0].code == "B095" and plots[-1].code == "B104"


def test_a_grid_that_fits_the_field_exactly_has_no_misfit():
    plots = rules.grid_plots(prefix="A", first_number=1, cols=5, rows=6, plot_w=D(10),
                             plot_h=D("6.5"))  # fmt: skip
    assert rules.misfits(new=plots, existing=[], width=D(50), height=D(39)) == []


def test_a_grid_one_centimetre_too_tall_for_the_field_does_not_fit():
    plots = rules.grid_plots(prefix="A", first_number=1, cols=5, rows=6, plot_w=D(10),
                             plot_h=D("6.67"))  # fmt: skip
    found = rules.misfits(new=plots, existing=[], width=D(50), height=D(40))
    assert {m.kind for m in found} == {"outside"}
    assert [m.code for m in found] == ["A26", "A27", "A28", "A29", "A30"]


def test_a_new_plot_overlapping_an_existing_one_is_refused_and_names_it():
    existing = [PlotShape("A01", D(0), D(0), D(10), D(10))]
    new = [PlotShape("B01", D(5), D(5), D(10), D(10))]
    found = rules.misfits(new=new, existing=existing, width=D(50), height=D(50))
    assert found == [rules.Misfit("overlap", "B01", "A01")]


def test_plots_sharing_only_an_edge_do_not_overlap():
    existing = [PlotShape("A01", D(0), D(0), D(10), D(10))]
    new = [PlotShape("A02", D(10), D(0), D(10), D(10)), PlotShape("A03", D(0), D(10), D(10), D(5))]
    assert rules.misfits(new=new, existing=existing, width=D(50), height=D(50)) == []


def test_a_plot_inside_a_larger_one_overlaps_it():
    existing = [PlotShape("BIG", D(0), D(0), D(40), D(40))]
    new = [PlotShape("SMALL", D(30), D(30), D(1), D(1))]
    assert [m.kind for m in rules.misfits(new=new, existing=existing, width=D(50),
                                          height=D(50))] == ["overlap"]  # fmt: skip


def test_a_code_already_used_in_the_field_is_refused_even_where_the_plot_would_fit():
    existing = [PlotShape("A01", D(0), D(0), D(10), D(10))]
    new = [PlotShape("A01", D(20), D(0), D(10), D(10))]
    found = rules.misfits(new=new, existing=existing, width=D(50), height=D(50))
    assert found == [rules.Misfit("duplicate_code", "A01")]


def test_existing_plots_overlapping_each_other_do_not_block_a_new_one_elsewhere():
    existing = [
        PlotShape("X1", D(0), D(0), D(10), D(10)),
        PlotShape("X2", D(5), D(5), D(10), D(10)),
    ]
    new = [PlotShape("N1", D(30), D(30), D(5), D(5))]
    assert rules.misfits(new=new, existing=existing, width=D(50), height=D(50)) == []


rect = st.tuples(*[st.integers(min_value=0, max_value=20)] * 2, *[st.integers(1, 8)] * 2)


@given(a=rect, b=rect)
def test_the_overlap_sweep_agrees_with_checking_every_pair(a, b):
    one, two = PlotShape("A", *map(D, a)), PlotShape("B", *map(D, b))
    found = rules.misfits(new=[two], existing=[one], width=D(100), height=D(100))
    cells = lambda s: {(x, y) for x in range(int(s.x), int(s.x + s.w))  # noqa: E731
                       for y in range(int(s.y), int(s.y + s.h))}  # fmt: skip
    assert bool(found) == bool(cells(one) & cells(two))


def test_a_field_shrunk_under_its_plots_says_which_side_and_plot():
    plots = [
        PlotShape("A01", D(0), D(0), D(10), D(10)),
        PlotShape("A02", D(10), D(0), D(10), D(10)),
    ]
    assert rules.sticking_out(plots, width=D(20), height=D(10)) == {}
    assert rules.sticking_out(plots, width=D(15), height=D(10)) == {"width": "A02"}
    assert rules.sticking_out(plots, width=D(5), height=D(5)) == {"width": "A01", "height": "A01"}


def test_a_stated_area_must_be_close_to_the_rectangle_drawn():
    # Jutudi's 1 fen, drawn 10 m × 6.67 m: 66.67 m² is fine, 80 m² is not.
    assert not rules.far_from_drawn(area_m2=D("66.67"), w=D(10), h=D("6.67"))
    assert rules.far_from_drawn(area_m2=D(80), w=D(10), h=D("6.67"))
    assert rules.plot_area(w=D(10), h=D("6.667")) == D("66.67")


@pytest.mark.parametrize(("code", "problem"), [("A01", None), ("东01", None), ("", "required"),
                                               ("A 1", "invalid"), ("A\t1", "invalid"),
                                               ("A" * 21, "too_long")])  # fmt: skip
def test_a_plot_code_is_short_and_has_no_spaces(code, problem):
    if problem is None:
        assert rules.plot_code(f" {code} ") == code
    else:
        with pytest.raises(forms.Problem) as refused:
            rules.plot_code(code)
        assert refused.value.code == problem


# ---- seasons ----


def test_a_season_must_end_after_it_starts_and_its_sale_no_later_than_it_ends():
    ok = dict(starts_on=date(2027, 3, 1), ends_on=date(2028, 3, 1),
              sale_starts_on=date(2026, 11, 1), sale_ends_on=date(2028, 3, 1))  # fmt: skip

    def codes(**changed):
        return {k: p.code for k, p in rules.season_problems(**{**ok, **changed}).items()}

    assert codes() == {}
    assert codes(ends_on=date(2027, 3, 1)) == {"ends_on": "not_after_start"}
    assert codes(sale_ends_on=date(2028, 3, 2)) == {"sale_ends_on": "after_season"}
    assert codes(sale_ends_on=date(2026, 11, 1)) == {"sale_ends_on": "not_after_start"}


# ---- what a sale fixes ----

PLAN = {"price_fen": 58000, "field_id": 1, "plot_area_m2": D("66.67"), "care_mode": "managed",
        "perks": (("scenic_ticket", 1, 2),), "max_plots": 30, "name": "一分地",
        "crop_plan": "青菜"}  # fmt: skip
SEASON = {"starts_on": date(2027, 3, 1), "ends_on": date(2028, 3, 1),
          "ship_days_of_month": "1,16", "cutoff_days": 2, "name": "2027"}  # fmt: skip


def test_a_sold_plan_refuses_a_price_change():
    assert rules.refused_changes(sold=1, before=PLAN, after={**PLAN, "price_fen": 48000}) == [
        "price_fen"
    ]


def test_a_plan_with_nothing_sold_may_change_anything():
    changed = {**PLAN, "price_fen": 1, "field_id": 2, "care_mode": "self_tended", "max_plots": 1}
    assert rules.refused_changes(sold=0, before=PLAN, after=changed) == []


def test_a_sold_plan_still_takes_new_names_crops_and_more_plots():
    after = {**PLAN, "name": "一分地（新）", "crop_plan": "萝卜", "max_plots": 40}
    assert rules.refused_changes(sold=5, before=PLAN, after=after) == []


def test_a_sold_plan_keeps_what_buyers_paid_for():
    after = {**PLAN, "field_id": 2, "plot_area_m2": D("333.33"), "care_mode": "self_tended",
             "perks": ()}  # fmt: skip
    assert rules.refused_changes(sold=1, before=PLAN, after=after) == [
        "field_id", "plot_area_m2", "care_mode", "perks",
    ]  # fmt: skip


def test_a_sold_plan_cannot_offer_fewer_plots_than_it_sold():
    assert rules.refused_changes(sold=5, before=PLAN, after={**PLAN, "max_plots": 4}) == [
        "max_plots"
    ]
    assert rules.refused_changes(sold=5, before=PLAN, after={**PLAN, "max_plots": 5}) == []


def test_a_sold_season_keeps_its_dates_ship_days_and_cutoff():
    after = {**SEASON, "starts_on": date(2027, 4, 1), "ends_on": date(2028, 4, 1),
             "ship_days_of_month": "1,15", "cutoff_days": 3}  # fmt: skip
    assert rules.refused_changes(sold=1, before=SEASON, after=after) == [
        "starts_on", "ends_on", "ship_days_of_month", "cutoff_days",
    ]  # fmt: skip


def test_ship_days_written_differently_but_the_same_are_no_change():
    after = {**SEASON, "ship_days_of_month": "16, 1"}
    assert rules.refused_changes(sold=1, before=SEASON, after=after) == []
