"""Pure rules for showing a big field on a small screen: cut the field's map into sections of a
few hundred plots that a phone can show with every plot big enough to read and to tap. No I/O.

A field of up to WHOLE_MAP_PLOTS plots is shown whole. A bigger one is cut into a grid of
sections, each SECTION_COLUMNS plots wide (so that it fits a 390 px screen at TAP_PX a plot) and
about SECTION_PLOTS plots in all. A plot belongs to the section that holds its centre."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

WHOLE_MAP_PLOTS = 300
SECTION_PLOTS = 200
SECTION_COLUMNS = 7
TAP_PX = 32  # the smallest side of a plot on screen, in CSS pixels (touch targets >= 32 px)
LABEL_PX = 12  # the plot code's font size on screen
WIDE_PX = 44  # the smallest width of a plot on screen, for its code


@dataclass(frozen=True)
class Section:
    index: int
    column: int
    row: int
    x_m: Decimal
    y_m: Decimal
    w_m: Decimal
    h_m: Decimal

    @property
    def number(self) -> int:
        """The section's number as people (and URLs) count: from 1."""
        return self.index + 1


@dataclass(frozen=True)
class Grid:
    """Sections of cell_w x cell_h metres, `columns` across and `rows` down, numbered row by
    row from the top left."""

    columns: int
    rows: int
    cell_w: Decimal
    cell_h: Decimal
    width: Decimal
    height: Decimal

    @property
    def count(self) -> int:
        return self.columns * self.rows

    def section(self, index: int) -> Section | None:
        if not 0 <= index < self.count:
            return None
        column, row = index % self.columns, index // self.columns
        x, y = self.cell_w * column, self.cell_h * row
        return Section(
            index=index,
            column=column,
            row=row,
            x_m=x,
            y_m=y,
            w_m=min(self.cell_w, self.width - x),
            h_m=min(self.cell_h, self.height - y),
        )

    def neighbours(self, section: Section) -> dict[str, Section]:
        """The sections above, below, left and right of one, where there are any."""
        steps = {"up": (0, -1), "left": (-1, 0), "right": (1, 0), "down": (0, 1)}
        found = {}
        for name, (dx, dy) in steps.items():
            column, row = section.column + dx, section.row + dy
            if 0 <= column < self.columns and 0 <= row < self.rows:
                neighbour = self.section(row * self.columns + column)
                assert neighbour is not None
                found[name] = neighbour
        return found

    def index_of(self, *, cx: Decimal, cy: Decimal) -> int:
        """The section holding the point (cx, cy), clamped to the grid."""
        column = min(max(int(cx // self.cell_w), 0), self.columns - 1)
        row = min(max(int(cy // self.cell_h), 0), self.rows - 1)
        return row * self.columns + column


def section_grid(
    *, width: Decimal, height: Decimal, plots: int, plot_w: Decimal, plot_h: Decimal
) -> Grid | None:
    """The grid of sections for a field, or None when the field is small enough to show whole."""
    if plots <= WHOLE_MAP_PLOTS or plot_w <= 0 or plot_h <= 0 or width <= 0 or height <= 0:
        return None
    across, down = math.ceil(width / plot_w), math.ceil(height / plot_h)  # plots, about
    columns = math.ceil(across / SECTION_COLUMNS)
    rows = math.ceil(down / max(1, SECTION_PLOTS // SECTION_COLUMNS))
    # Sections of whole plots, as even as the field allows (no thin strip at an edge).
    cell_w = min(plot_w * math.ceil(across / columns), width)
    cell_h = min(plot_h * math.ceil(down / rows), height)
    return Grid(
        columns=math.ceil(width / cell_w),
        rows=math.ceil(height / cell_h),
        cell_w=cell_w,
        cell_h=cell_h,
        width=width,
        height=height,
    )


@dataclass(frozen=True)
class Scale:
    """How a map of w_m x h_m metres is drawn so that its smallest plot is readable and
    tappable: at least min_width_px wide on screen, with labels of font_m metres."""

    min_width_px: int
    font_m: Decimal


def readable_scale(*, w_m: Decimal, smallest_w: Decimal, smallest_h: Decimal) -> Scale:
    """Pixels per metre so that the smallest plot is TAP_PX px on its smaller side and wide
    enough for its code; the map is at least that wide (the page scrolls it sideways if the
    screen is narrower), and the labels are LABEL_PX on screen."""
    side = min(smallest_w, smallest_h)
    if side <= 0:
        return Scale(min_width_px=0, font_m=Decimal(1))
    px_per_m = max(Decimal(TAP_PX) / side, Decimal(WIDE_PX) / smallest_w)
    return Scale(
        min_width_px=math.ceil(w_m * px_per_m),
        font_m=(Decimal(LABEL_PX) / px_per_m).quantize(Decimal("0.01")),
    )
