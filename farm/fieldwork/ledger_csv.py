"""The yearly ledger and a household's year as CSV files (farm.csvfiles: UTF-8 with a BOM,
CRLF, formula-safe cells): a header in the reader's language, money in yuan."""

from __future__ import annotations

from decimal import Decimal

from farm import units
from farm.csvfiles import CsvFile, csv_bytes
from farm.fieldwork.ledger import HouseholdStatement, HouseholdYear, YearFigures
from farm.i18n import _
from farm.units import m2_to_mu

CENTS = Decimal("0.01")


def _activities() -> dict[str, str]:
    return {
        "sowing": _("Sowing"), "transplanting": _("Transplanting"), "weeding": _("Weeding"),
        "watering": _("Watering"), "fertilising": _("Fertilising"),
        "pest_control": _("Pest control"), "harvesting": _("Harvesting"), "visit": _("Visit"),
    }  # fmt: skip


def ledger_csv(year: int, rows: list[HouseholdYear], figures: YearFigures) -> CsvFile:
    header = [_("Household"), _("Village"), _("Registered poor"), _("Land rent (yuan)"),
              _("Hours worked"), _("Wages (yuan)"), _("Total (yuan)")]  # fmt: skip
    lines: list[list[object]] = [
        [r.household.name, r.household.village, _("Yes") if r.household.is_poor else _("No"),
         units.fen_to_yuan(r.rent_fen), r.hours.quantize(CENTS), units.fen_to_yuan(r.wages_fen),
         units.fen_to_yuan(r.total_fen)]
        for r in rows
    ]  # fmt: skip
    hours = sum((r.hours for r in rows), Decimal(0))
    lines.append([_("Total"), "", "", units.fen_to_yuan(figures.rent_fen),
                  hours.quantize(CENTS), units.fen_to_yuan(figures.wages_fen),
                  units.fen_to_yuan(figures.total_fen)])  # fmt: skip
    return CsvFile(
        content=csv_bytes(header, lines),
        filename=_("Household ledger %(year)s.csv") % {"year": year},
        fallback=f"household-ledger-{year}.csv",
    )


def household_csv(s: HouseholdStatement) -> CsvFile:
    """One table: the transfers' rent lines (each with its own rate), then the shifts' wage
    lines by date, then the totals, told apart by the first column."""
    header = [_("Line"), _("Date"), _("Field"), _("Land (mu)"), _("Days in the year"),
              _("Rent per mu a year (yuan)"), _("Activity"), _("Hours worked"),
              _("Amount (yuan)")]  # fmt: skip
    activities = _activities()
    lines: list[list[object]] = []
    for t in s.transfers:
        until = t.ends_on.isoformat() if t.ends_on else ""
        span = f"{t.starts_on.isoformat()} – {until}" if until else t.starts_on.isoformat()
        lines.append([_("Land rent"), span, t.field_name, m2_to_mu(t.area_m2), t.days,
                      units.fen_to_yuan(t.rent_fen_per_mu_year), "", "",
                      units.fen_to_yuan(t.rent_fen)])  # fmt: skip
    for shift in s.shifts.items:
        lines.append([_("Wages"), shift.worked_on.isoformat(), shift.field_name, "", "", "",
                      activities.get(shift.activity, _("Other work")),
                      shift.hours.quantize(CENTS), units.fen_to_yuan(shift.wages_fen)])  # fmt: skip
    row = s.row
    lines.append([_("Land rent"), _("Total"), "", "", "", "", "", "",
                  units.fen_to_yuan(row.rent_fen)])  # fmt: skip
    lines.append([_("Wages"), _("Total"), "", "", "", "", "", row.hours.quantize(CENTS),
                  units.fen_to_yuan(row.wages_fen)])  # fmt: skip
    lines.append([_("Total"), "", "", "", "", "", "", "", units.fen_to_yuan(row.total_fen)])
    names = {"household": s.household.name, "year": s.year}
    return CsvFile(
        content=csv_bytes(header, lines),
        filename=_("%(household)s's year %(year)s.csv") % names,
        fallback=f"household-{s.household.id}-{s.year}.csv",
    )
