"""The season's reports as CSV files (farm.csvfiles): a header in the reader's language, money
in yuan and weights in kg with two decimals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

from farm import units
from farm.csvfiles import CsvFile, CsvStream, csv_bytes, csv_header, csv_lines
from farm.fieldwork.reports import (
    HouseholdReport,
    YieldReport,
    YieldRow,
    copy_plot_yields,
    every_plot_yield,
)
from farm.i18n import _, localized
from farm.units import m2_to_mu

CENTS = Decimal("0.01")


def _m2(area: Decimal) -> Decimal:
    return Decimal(area).quantize(CENTS)


def households_csv(report: HouseholdReport) -> CsvFile:
    header = [
        _("Household"), _("Village"), _("Registered poor"), _("Land (m²)"), _("Land (mu)"),
        _("Hours worked"), _("Wages (yuan)"),
    ]  # fmt: skip
    rows: list[list[object]] = [
        [
            r.household.name,
            r.household.village,
            _("Yes") if r.household.is_poor else _("No"),
            _m2(r.area_m2),
            m2_to_mu(r.area_m2),
            r.hours.quantize(CENTS),
            units.fen_to_yuan(r.wages_fen),
        ]  # fmt: skip
        for r in report.rows
    ]
    rows.append(
        [
            _("Total"),
            "",
            "",
            _m2(report.area_m2),
            m2_to_mu(report.area_m2),
            report.hours.quantize(CENTS),
            units.fen_to_yuan(report.wages_fen),
        ]  # fmt: skip
    )
    return CsvFile(
        content=csv_bytes(header, rows),
        filename=_("Household earnings %(season)s.csv")
        % {"season": localized(report.season.name, report.season.name_en)},
        fallback=f"household-earnings-season-{report.season.id}.csv",
    )


def yields_csv(report: YieldReport) -> CsvStream:
    """One table for the three roll-ups, told apart by the first column, so that a
    spreadsheet can filter or pivot it. The plots, as many as were harvested, are streamed
    (written by PostgreSQL itself there: 100,000 plots in about a second)."""
    header = [_("Grouping"), _("Crop"), _("Field"), _("Plot"), _("Lots"), _("Weight (kg)"),
              _("Pieces")]  # fmt: skip
    # Read now, in the reader's language: the stream runs after the request's context.
    names = {
        "crop": _("By crop"),
        "plot": _("By plot"),
        "field": _("By field"),
        "total": _("Total"),
    }
    crop_names = {
        r.crop.id: localized(r.crop.name, r.crop.name_en) for r in report.by_crop if r.crop
    }

    def line(grouping: str, row: YieldRow) -> list[object]:
        return [
            names[grouping],
            crop_names.get(row.crop.id, "") if row.crop else "",
            row.field.name if row.field else "",
            row.plot.code if row.plot else "",
            row.lots,
            "" if row.counted else row.kg,
            row.weight_g if row.counted else "",  # a crop counted: its pieces
        ]

    async def plot_rows() -> AsyncIterator[list[list[object]]]:
        rows: list[list[object]] = []
        by_plot = names["plot"]
        async for field_name, code, lots, grams in every_plot_yield(report.season):
            rows.append([by_plot, "", field_name, code, lots, units.kg_text(grams), ""])
            if len(rows) >= 5000:
                yield rows
                rows = []
        yield rows

    async def body() -> AsyncIterator[bytes]:
        yield csv_lines([line("crop", r) for r in report.by_crop])
        copied = copy_plot_yields(report.season, names["plot"])  # PostgreSQL writes them
        if copied is not None:
            async for chunk in copied:
                yield chunk
        else:
            async for rows in plot_rows():
                yield csv_lines(rows)
        yield csv_lines([line("field", r) for r in report.by_field] + [line("total", report.total)])

    return CsvStream(
        chunks=csv_header(header, body()),
        filename=_("Yields %(season)s.csv")
        % {"season": localized(report.season.name, report.season.name_en)},
        fallback=f"yields-season-{report.season.id}.csv",
    )
