"""A ship day's paper, drawn: the A4 packing list and the 100 × 70 mm box labels (with a QR
code to the box's public trace page), plus the text fitting they share.

Pure drawing: plain dataclasses in, PDF written page by page to a binary stream (a file of
the documents folder, or memory in tests) through `farm.shipments.pdf_writer`; no database,
so it is tested without one. `farm.shipments.packing` gathers the rows."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import BinaryIO

from farm.i18n import _
from farm.qr import qr_image
from farm.shipments.pdf_writer import (
    CJK,
    LATIN,
    LATIN_BOLD,
    PdfWriter,
    char_widths,
    right_text_op,
    string_width,
    text_op,
)
from farm.shipments.rules import shipment_number
from farm.units import PIECES, amount_text, jin_text, kg_text

mm = 72 / 25.4
A4 = (210 * mm, 297 * mm)
LABEL_SIZE = (100 * mm, 70 * mm)
_TOKEN = re.compile(r"[!-~]+|.", re.DOTALL)


# ---- what the PDFs show ----


class CropName(str):
    """A crop's name as the documents print it, carrying the crop's unit (kg, or pieces for
    a crop counted): the name travels through every list and total, and its amounts are
    shown by units.amount_text."""

    unit: str = "kg"

    def __new__(cls, name: str, unit: str = "kg") -> CropName:
        made = super().__new__(cls, name)
        made.unit = unit
        return made

    def __reduce__(self) -> tuple[type[CropName], tuple[str, str]]:
        return (CropName, (str(self), self.unit))


def unit_of(crop: str) -> str:
    return getattr(crop, "unit", "kg")


@dataclass(frozen=True)
class Item:
    crop: str  # a CropName, or a plain name (weighed)
    lot_code: str
    grams: int  # or pieces, for a crop counted


@dataclass(frozen=True)
class Box:
    shipment_id: int
    plot_code: str
    sign_name: str
    recipient: str
    phone: str
    province: str
    city: str
    address: str
    items: tuple[Item, ...]
    credits: tuple[str, ...] = ()  # extras promised to the family (a report's resolution)

    @property
    def number(self) -> str:
        return shipment_number(self.shipment_id)

    @property
    def grams(self) -> int:
        """The weighed items' grams (pieces are counted apart: `pieces`)."""
        return sum(i.grams for i in self.items if unit_of(i.crop) != PIECES)

    @property
    def pieces(self) -> int:
        return sum(i.grams for i in self.items if unit_of(i.crop) == PIECES)

    @property
    def total_text(self) -> str:
        """The box's weight, and its pieces when it holds a crop counted: '5 kg (10 jin)',
        '5 kg (10 jin) + 12 pcs'."""
        text = weight_text(self.grams) if self.grams or not self.pieces else ""
        if self.pieces:
            text = " + ".join(t for t in (text, amount_text(self.pieces, PIECES)) if t)
        return text


def weight_text(grams: int, unit: str = "kg") -> str:
    """The documents' amount: kg and jin to two decimals, or pieces (units.amount_text)."""
    if unit == PIECES:
        return amount_text(grams, PIECES)
    return _("%(kg)s kg (%(jin)s jin)") % {"kg": kg_text(grams), "jin": jin_text(grams)}


def wrap_text(text: str, *, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than width. Chinese breaks between any two characters; a run of
    Latin letters or digits ('100', 'Room') is kept whole unless it alone is too wide."""
    widths = char_widths(font)
    limit = width * 1000 / size  # in the font's units, so a character's width is a lookup
    lines: list[str] = []
    line, used = "", 0.0
    for token in _TOKEN.findall(text.strip()):  # printable ASCII runs, or a char
        wide = widths[token] if len(token) == 1 else sum(map(widths.__getitem__, token))
        if used + wide > limit and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0.0
            if token.isspace():
                continue
        if wide > limit:  # a run too long for any line (a URL): cut it by characters
            steps, at = list(map(widths.__getitem__, token)), 0
            while at < len(token):
                ends = list(accumulate(steps[at:], initial=used))  # `used` after each char
                fits = bisect_right(ends, limit) - 1  # chars that fit (one on an empty line)
                fits = max(fits, 0 if line else 1)
                if fits:
                    line, used, at = line + token[at : at + fits], ends[fits], at + fits
                if at < len(token):
                    lines.append(line)
                    line, used = "", 0.0
            continue
        line, used = line + token, used + wide
    if line.strip():
        lines.append(line.rstrip())
    return lines


def fit(text: str, *, font: str = CJK, size: float, width: float) -> str:
    """The text on one line of that width, cut with an ellipsis when it is too long."""
    if string_width(text, font, size) <= width:
        return text
    lines = wrap_text(text, font=font, size=size, width=width)
    if len(lines) <= 1:
        return text
    return wrap_text(text, font=font, size=size, width=width - size)[0] + "…"


def qr_ops(text: str, *, x: float, y: float, size: float) -> str:
    """The QR code as an image mask of one bit a module, quiet zone included, scaled to
    size: its dark modules are painted, the rest left to the paper. Nearest-neighbour
    scaling (no interpolation) keeps the edges as sharp as rectangles would, and the image
    is the encoder's bytes as they come, with no operator per run of modules."""
    side, image = qr_image(text)
    return (
        f"q {size:.2f} 0 0 {size:.2f} {x:.2f} {y:.2f} cm 0 g"
        f" BI /W {side} /H {side} /IM true /BPC 1 /D [1 0] /F /AHx ID\n{image.hex()}>\nEI Q"
    )


class PackingList:
    """The A4 packing list, drawn top to bottom: heading, pick summary, boxes, diversions,
    each page numbered "3 / 12" (the total is a form written at the end, when it is known)."""

    MARGIN = 15 * mm

    def __init__(
        self, *, cooperative: str, ship_on: date, generated: str, out: BinaryIO, part: str = ""
    ):
        title = _("Packing list %(day)s") % {"day": ship_on.isoformat()}
        self.pdf = PdfWriter(out, title=f"{title} {part}".strip(), page_size=A4)
        self.pdf.reserve_form("PN")
        self.width, self.height = A4
        self.title = f"{cooperative}    {title}" + (f"    {part}" if part else "")
        self.ops: list[str] = []
        self.page = 1
        self.y = self.height - self.MARGIN
        self.text(self.title, size=15, gap=7 * mm)
        self.text(_("Generated %(time)s") % {"time": generated}, size=9, gap=6 * mm)

    # -- drawing primitives --

    def text(self, text: str, *, size: float = 10, x: float = 0, gap: float = 0) -> None:
        self.ops.append(text_op(CJK, size, self.MARGIN + x, self.y - size, text))
        if gap:
            self.y -= gap

    def line(self, y: float) -> None:
        self.ops.append(f"{self.MARGIN:.2f} {y:.2f} m {self.width - self.MARGIN:.2f} {y:.2f} l S")

    def need(self, height: float) -> None:
        if self.y - height < self.MARGIN + 10 * mm:
            self._end_page()
            self.page += 1
            self.y = self.height - self.MARGIN
            self.text(self.title, size=9, gap=8 * mm)

    def _end_page(self) -> None:
        label = f"{self.page} / "
        x, y = self.width - self.MARGIN - 18 * mm, self.MARGIN
        self.ops.append(text_op(CJK, 9, x, y, label))
        shift = x + string_width(label, CJK, 9)
        self.ops.append(f"q 1 0 0 1 {shift:.2f} {y:.2f} cm /PN Do Q")
        self.pdf.page("\n".join(self.ops))
        self.ops = []

    def row(self, cells: Iterable[tuple[float, str]], *, size: float = 10) -> None:
        self.need(size + 2 * mm)
        for x, text in cells:
            if x < 0:  # right-aligned at -x
                self.ops.append(right_text_op(CJK, size, self.MARGIN - x, self.y - size, text))
            else:
                self.ops.append(text_op(CJK, size, self.MARGIN + x, self.y - size, text))
        self.y -= size + 2 * mm

    def heading(self, text: str) -> None:
        self.need(30 * mm)
        self.y -= 3 * mm
        self.text(text, size=12, gap=7 * mm)
        self.line(self.y + 2 * mm)

    # -- sections --

    def picks(self, totals: list[tuple[str, int]], *, heading: str = "") -> None:
        """What to bring to the packing table: grams per crop over the boxes listed."""
        self.heading(heading or _("To pick for this ship day"))
        for crop, grams in totals:
            amount = weight_text(grams, unit_of(crop))
            self.row([(0, fit(crop, size=10, width=70 * mm)), (-110 * mm, amount)])
        if not totals:
            self.row([(0, _("Nothing to ship on this day."))])

    def box(self, box: Box) -> None:
        lines = 3 + len(box.items) + len(box.credits)
        self.need(min(lines * 6 * mm, 60 * mm))
        self.y -= 3 * mm
        m, y = self.MARGIN, self.y
        # A square ticked by hand when the box is packed, and the box's number.
        self.ops.append(f"{m:.2f} {y - 4 * mm:.2f} {3.5 * mm:.2f} {3.5 * mm:.2f} re S")
        self.ops.append(text_op(LATIN_BOLD, 12, m + 6 * mm, y - 4 * mm, box.number))
        sign = fit(f"{box.plot_code}  {box.sign_name}", size=11, width=self.width - 62 * mm)
        self.text(sign, size=11, x=32 * mm, gap=6 * mm)
        to = fit(f"{box.recipient}    {box.province} {box.city}", size=9.5, width=170 * mm)
        self.text(to, size=9.5, x=6 * mm, gap=6 * mm)
        jin = _("jin")
        for item in box.items:
            counted = unit_of(item.crop) == PIECES
            self.row(
                [
                    (6 * mm, fit(item.crop, size=9.5, width=52 * mm)),
                    (60 * mm, item.lot_code),
                    (
                        -125 * mm,
                        amount_text(item.grams, PIECES) if counted else f"{kg_text(item.grams)} kg",
                    ),
                    (-155 * mm, "" if counted else f"{jin_text(item.grams)} {jin}"),
                ],
                size=9.5,
            )
        self.row([(6 * mm, _("Box total: %(weight)s") % {"weight": box.total_text})])
        for credit in box.credits:  # what the cooperative promised the family: not to forget
            add = _("Add: %(credit)s") % {"credit": credit}
            self.row([(6 * mm, fit(add, size=9.5, width=self.width - 12 * mm))], size=9.5)
        self.ops.append("[1 2] 0 d")
        self.line(self.y + 0.5 * mm)
        self.ops.append("[] 0 d")

    def diverted(self, rows: list[tuple[str, str, int]]) -> None:
        """(reason, crop, grams): what this ship day decided not to send, and why."""
        self.heading(_("Not shipped on this day"))
        for reason, crop, grams in rows:
            amount = weight_text(grams, unit_of(crop))  # before fit(), which drops the unit
            reason, crop = fit(reason, size=10, width=58 * mm), fit(crop, size=10, width=50 * mm)
            self.row([(0, reason), (60 * mm, crop), (-155 * mm, amount)])
        if not rows:
            self.row([(0, _("Nothing was diverted."))])

    def finish(self) -> int:
        """The last page, and the page count every page shows; returns the pages."""
        self._end_page()
        self.pdf.form("PN", text_op(CJK, 9, 0, 0, str(self.page)), (0, -3, 40, 12))
        return self.pdf.finish()


class Labels:
    """Address labels, one 100 × 70 mm page per box, for a thermal label printer. What every
    label of the part shares (the line, the ship day, the cooperative) is made once."""

    M = 4 * mm
    QR = 27 * mm

    def __init__(self, *, cooperative: str, ship_on: date, out: BinaryIO, part: str = ""):
        title = _("Labels %(day)s") % {"day": ship_on.isoformat()}
        self.pdf = PdfWriter(out, title=f"{title} {part}".strip(), page_size=LABEL_SIZE)
        self.count = 0
        m, (w, _h) = self.M, LABEL_SIZE
        day = _("Ship day %(day)s") % {"day": ship_on}
        self.left_w = w - 2 * m - self.QR - 3 * mm
        self.shared = "\n".join(
            [
                f"0.6 w {m:.2f} {21 * mm:.2f} m {w - m:.2f} {21 * mm:.2f} l S",
                right_text_op(CJK, 10, w - m, 14 * mm, day),
                text_op(CJK, 8, m, m, fit(cooperative, size=8, width=w - 2 * m - 32 * mm)),
            ]
        )

    def label(self, box: Box, url: str) -> None:
        m, (w, h), left_w = self.M, LABEL_SIZE, self.left_w
        name_size = min(16, 16 * left_w / max(string_width(box.recipient, CJK, 16), 1))
        ops = [
            self.shared,
            text_op(CJK, name_size, m, h - m - 15, box.recipient),
            text_op(CJK, 11, m, h - m - 30, fit(box.phone, size=11, width=left_w)),
        ]
        address = f"{box.province} {box.city} {box.address}".strip()
        top, bottom = h - m - 36, 24 * mm
        for size in (10, 9, 8, 7):
            lines = wrap_text(address, font=CJK, size=size, width=left_w)
            if len(lines) * size * 1.25 <= top - bottom:
                break
        most = int((top - bottom) // (size * 1.25))
        if len(lines) > most:
            lines = lines[: most - 1] + [lines[most - 1][:-1] + "…"]
        for i, line in enumerate(lines):
            ops.append(text_op(CJK, size, m, top - (i + 1) * size * 1.25, line))
        # The QR code at the top right, its address printed small beneath it.
        qr_x, qr_y = w - m - self.QR, h - m - self.QR
        ops.append(qr_ops(url, x=qr_x, y=qr_y, size=self.QR))
        for i, line in enumerate(wrap_text(url, font=LATIN, size=4.5, width=self.QR)[:4]):
            ops.append(text_op(LATIN, 4.5, qr_x, qr_y - (i + 1) * 5.2, line))
        # The box: its number large, plot and sign, weight.
        ops.append(text_op(LATIN_BOLD, 16, m, 14 * mm, box.number))
        sign = fit(f"{box.plot_code}  {box.sign_name}", size=10, width=w - 2 * m)
        ops.append(text_op(CJK, 10, m, 8.5 * mm, sign))
        ops.append(right_text_op(CJK, 8, w - m, m, box.total_text))
        self.pdf.page("\n".join(ops))
        self.count += 1

    def finish(self) -> int:
        """Returns the pages; a part with no box says so on its one page."""
        if not self.count:
            message = _("No box has anything in it on this day.")
            self.pdf.page(text_op(CJK, 10, self.M, 35 * mm, message))
        return self.pdf.finish()
