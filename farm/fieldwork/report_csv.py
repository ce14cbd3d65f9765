"""The season's reports as CSV files that Excel and WPS open with their Chinese intact: UTF-8
with a byte-order mark, CRLF line ends, a header in the reader's language, money in yuan and
weights in kg with two decimals, and no text cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from farm import units
from farm.fieldwork.reports import HouseholdReport, YieldReport, YieldRow, every_plot_yield
from farm.i18n import _, localized
from farm.units import m2_to_mu

# What makes Excel, WPS or LibreOffice read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class CsvFile:
    content: bytes
    filename: str  # in the reader's language
    fallback: str  # ASCII, for clients that ignore filename*

    @property
    def disposition(self) -> str:
        """RFC 6266: an ASCII name for old clients, the UTF-8 one for everyone else."""
        name = UNSAFE_IN_FILENAME.sub("_", self.filename)
        return f"attachment; filename=\"{self.fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def spreadsheet_row(row: Sequence[object]) -> list[object]:
    """Cells that a spreadsheet shows rather than runs: a text starting with = + - @, a tab or
    a carriage return gets a leading apostrophe; numbers are left as they are. (One list
    comprehension, no call per cell: it runs for every cell of 100,000-row files.)"""
    return ["'" + c if isinstance(c, str) and c[:1] in _FORMULA_FIRST else c for c in row]


def _lines(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the csv module ends lines with CRLF, as Excel expects
    writer.writerows(map(spreadsheet_row, rows))
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Numbers are written as they are; every text cell is made safe to open."""
    # The byte-order mark is what tells Excel and WPS that the file is UTF-8, not GBK.
    return _lines([header, *rows]).encode("utf-8-sig")


async def csv_chunks(
    header: Sequence[str], chunks: AsyncIterable[Sequence[Sequence[object]]]
) -> AsyncIterator[bytes]:
    """The same file as csv_bytes, made and sent a chunk of rows at a time: the byte-order
    mark and the header first, then each chunk as it is read from the database."""
    yield _lines([header]).encode("utf-8-sig")
    async for rows in chunks:
        if rows:
            yield _lines(rows).encode("utf-8")


@dataclass(frozen=True)
class CsvStream:
    chunks: AsyncIterator[bytes]
    filename: str
    fallback: str

    @property
    def disposition(self) -> str:
        return CsvFile(b"", self.filename, self.fallback).disposition


def _m2(area: Decimal) -> Decimal:
    return Decimal(area).quantize(CENTS)


def households_csv(report: HouseholdReport) -> CsvFile:
    header = [
        _("Household"), _("Village"), _("Registered poor"), _("Land (m²)"), _("Land (mu)"),
        _("Land rent (yuan)"), _("Hours worked"), _("Wages (yuan)"), _("Total (yuan)"),
    ]  # fmt: skip
    rows: list[list[object]] = [
        [
            r.household.name,
            r.household.village,
            _("Yes") if r.household.is_poor else _("No"),
            _m2(r.area_m2),
            m2_to_mu(r.area_m2),
            units.fen_to_yuan(r.rent_fen),
            r.hours.quantize(CENTS),
            units.fen_to_yuan(r.wages_fen),
            units.fen_to_yuan(r.total_fen),
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
            units.fen_to_yuan(report.rent_fen),
            report.hours.quantize(CENTS),
            units.fen_to_yuan(report.wages_fen),
            units.fen_to_yuan(report.total_fen),
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
    spreadsheet can filter or pivot it. The plots, as many as were harvested, are streamed."""
    header = [_("Grouping"), _("Crop"), _("Field"), _("Plot"), _("Lots"), _("Weight (kg)")]
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
            row.kg,
        ]

    async def chunks() -> AsyncIterator[list[list[object]]]:
        yield [line("crop", r) for r in report.by_crop]
        rows: list[list[object]] = []
        by_plot = names["plot"]
        async for field_name, code, lots, grams in every_plot_yield(report.season):
            rows.append([by_plot, "", field_name, code, lots, units.kg_text(grams)])
            if len(rows) >= 5000:
                yield rows
                rows = []
        yield rows
        yield [line("field", r) for r in report.by_field]
        yield [line("total", report.total)]

    return CsvStream(
        chunks=csv_chunks(header, chunks()),
        filename=_("Yields %(season)s.csv")
        % {"season": localized(report.season.name, report.season.name_en)},
        fallback=f"yields-season-{report.season.id}.csv",
    )
