"""Cutting a big field's map into sections a phone can show (farm/land/sections.py)."""

from decimal import Decimal

from farm.land.sections import (
    SECTION_COLUMNS,
    SECTION_PLOTS,
    TAP_PX,
    WHOLE_MAP_PLOTS,
    readable_scale,
    section_grid,
)

W, H = Decimal(10), Decimal("6.67")  # a one-fen plot, in metres


def jutudi_grid():
    """465 mu: 75 plots across, 62 down."""
    return section_grid(width=W * 75, height=H * 62, plots=4650, plot_w=W, plot_h=H)


def test_a_field_of_a_few_hundred_plots_is_shown_whole():
    assert (
        section_grid(width=W * 10, height=H * 30, plots=WHOLE_MAP_PLOTS, plot_w=W, plot_h=H) is None
    )


def test_4650_plots_are_cut_into_even_sections_of_whole_plots_each_at_most_a_phone_wide():
    grid = jutudi_grid()
    assert (grid.columns, grid.rows) == (11, 3)
    assert grid.cell_w == W * 7 and grid.cell_h == H * 21  # 62 rows in 3 even bands, no strip
    assert grid.cell_w / W <= SECTION_COLUMNS
    assert (grid.cell_w / W) * (grid.cell_h / H) <= SECTION_PLOTS
    assert grid.columns * grid.cell_w >= W * 75 and grid.rows * grid.cell_h >= H * 62


def test_every_plot_centre_falls_in_exactly_one_section_and_the_grid_clamps_outside_points():
    grid = jutudi_grid()
    seen = {grid.index_of(cx=W * c + W / 2, cy=H * r + H / 2) for c in range(75) for r in range(62)}
    assert seen == set(range(grid.count))
    assert grid.index_of(cx=Decimal(-5), cy=Decimal(-5)) == 0
    assert grid.index_of(cx=Decimal(10_000), cy=Decimal(10_000)) == grid.count - 1
    assert grid.section(grid.count) is None and grid.section(-1) is None


def test_sections_at_the_edges_have_only_the_neighbours_that_exist():
    grid = jutudi_grid()
    corner = grid.section(0)
    assert set(grid.neighbours(corner)) == {"right", "down"}
    middle = grid.section(grid.columns + 1)
    assert {k: v.index for k, v in grid.neighbours(middle).items()} == {
        "up": 1, "left": grid.columns, "right": grid.columns + 2, "down": 2 * grid.columns + 1,
    }  # fmt: skip
    assert grid.section(grid.count - 1).w_m == W * 75 - grid.cell_w * 10  # the narrower last


def test_a_section_is_drawn_wide_enough_for_every_plot_to_be_tapped_and_read():
    scale = readable_scale(w_m=W * 7 + 2, smallest_w=W, smallest_h=H)
    px_per_m = Decimal(scale.min_width_px) / (W * 7 + 2)
    assert H * px_per_m >= TAP_PX and W * px_per_m >= 44
    assert scale.min_width_px <= 360  # fits a 390 px phone beside the page's margins
    assert scale.font_m * px_per_m >= 11  # labels of about 12 px
