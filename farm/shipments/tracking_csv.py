"""Tracking numbers uploaded as CSV (`shipment,courier,tracking`), read and checked without
I/O: what the service may apply, or every bad line with its number and the problem's key.

Files come from Excel or WPS: UTF-8 with or without a BOM, or GBK from Excel on Chinese
Windows. A file that is valid UTF-8 is read as UTF-8; only one that is not is tried as GBK,
and refused when it is neither (a valid UTF-8 file is practically never valid GBK by chance
the other way round, so the choice is clean)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from farm import forms
from farm.i18n import _
from farm.shipments.rules import parse_shipment_number

MAX_BYTES = 1_000_000
MAX_ROWS = 20_000
MAX_COURIER = 40
TRACKING_RE = re.compile(r"[A-Za-z0-9-]{6,30}", re.ASCII)
# A header row names the three columns as the batch page describes them, in either language,
# or as couriers' and spreadsheets' own exports often do; it is skipped.
HEADER_NAMES = (
    {"shipment", "shipment number", "shipment no", "box", "box number", "number",
     "包裹编号", "发货单号", "箱号", "编号"},
    {"courier", "courier company", "express", "快递公司", "快递", "物流公司"},
    {"tracking", "tracking number", "tracking no", "waybill", "waybill number",
     "快递单号", "运单号", "单号", "物流单号"},
)  # fmt: skip


@dataclass(frozen=True)
class TrackingLine:
    line: int  # the line of the file, from 1, as a spreadsheet shows it
    shipment_id: int
    courier: str
    tracking_no: str
    tracking_url: str = ""  # the box's tracking page, from the courier's list (couriers.py)


@dataclass(frozen=True)
class LineProblem:
    """`problem` is a key: too_large, too_many_rows, encoding, no_lines, columns, number,
    duplicate (other_line says where it was first), and, found by the service, unknown and
    empty_box; or the code of a field reader's problem (courier_required, courier_too_long,
    courier_invalid, tracking_invalid), whose `message` it keeps."""

    line: int  # 0 for the whole file
    problem: str
    value: str = ""
    other_line: int = 0
    message: str = ""


# ---- readers of a line's fields (and of the batch page's form for one box) ----


def courier_name(value: str) -> str:
    """The courier, trimmed; raises forms.Problem."""
    text = value.strip()
    if not text:
        raise forms.Problem("courier_required", _("Enter the courier."))
    if len(text) > MAX_COURIER:
        raise forms.Problem(
            "courier_too_long", _("The courier is too long: at most 40 characters.")
        )
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise forms.Problem(
            "courier_invalid", _("The courier contains characters that are not allowed.")
        )
    return text


def tracking_number(value: str) -> str:
    """A tracking number, trimmed: 6 to 30 letters, digits or hyphens; raises forms.Problem."""
    text = value.strip()
    if not TRACKING_RE.fullmatch(text):
        raise forms.Problem(
            "tracking_invalid", _("A tracking number is 6 to 30 letters, digits or hyphens (-).")
        )
    return text


def decode(data: bytes) -> str | None:
    """The file's text: UTF-8 (a BOM dropped), else GBK; None when it is neither."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError:
        return None
    # Binary that happens to decode is not a spreadsheet: refuse control characters.
    if any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text):
        return None
    return text


def _is_header(cells: list[str]) -> bool:
    names = [" ".join(c.strip().lower().replace(".", " ").split()) for c in cells]
    return len(names) == 3 and all(n in known for n, known in zip(names, HEADER_NAMES, strict=True))


def parse(data: bytes) -> tuple[list[TrackingLine], list[LineProblem]]:
    """The lines to apply and the problems found; the file is good only when there are no
    problems. A header row (English or Chinese) and blank lines are skipped; trailing empty
    cells (Excel adds them) are ignored."""
    if len(data) > MAX_BYTES:
        return [], [LineProblem(0, "too_large")]
    text = decode(data)
    if text is None or "\x00" in text:
        return [], [LineProblem(0, "encoding")]
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[TrackingLine] = []
    problems: list[LineProblem] = []
    first_line: dict[int, int] = {}
    rows = 0
    seen_data = False
    try:
        for cells in reader:
            line = reader.line_num
            while cells and not cells[-1].strip():
                cells.pop()
            if not cells:
                continue
            if not seen_data and _is_header(cells):
                seen_data = True
                continue
            seen_data = True
            rows += 1
            if rows > MAX_ROWS:
                return [], [LineProblem(0, "too_many_rows")]
            found = _read_row(cells, line, first_line)
            if isinstance(found, LineProblem):
                problems.append(found)
            else:
                first_line[found.shipment_id] = line
                lines.append(found)
    except csv.Error:
        return [], [LineProblem(0, "encoding")]
    if not rows and not problems:
        return [], [LineProblem(0, "no_lines")]
    return lines, problems


def _read_row(
    cells: list[str], line: int, first_line: dict[int, int]
) -> TrackingLine | LineProblem:
    if len(cells) != 3:
        return LineProblem(line, "columns", ",".join(cells)[:60])
    number, courier, tracking = (c.strip() for c in cells)
    shipment_id = parse_shipment_number(number)
    if shipment_id is None:
        return LineProblem(line, "number", number[:30])
    for reader, value, shown in ((courier_name, courier, 60), (tracking_number, tracking, 40)):
        try:
            reader(value)
        except forms.Problem as problem:
            return LineProblem(line, problem.code, value[:shown], message=problem.message)
    if shipment_id in first_line:
        return LineProblem(line, "duplicate", number, other_line=first_line[shipment_id])
    return TrackingLine(line, shipment_id, courier, tracking)
