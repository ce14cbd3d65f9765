"""A ship day's paper, drawn: the A4 packing list and the 100 × 70 mm box labels (with a QR
code to the box's public trace page), plus the text fitting and QR drawing they share.

Pure drawing: plain dataclasses in, PDF bytes out, straight on a reportlab canvas; no database
and no other I/O, so it is tested without one. `farm.shipments.packing` gathers the rows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from farm.fieldwork.rules import grams_to_jin, grams_to_kg
from farm.i18n import _
from farm.qr import QUIET, qr_matrix
from farm.shipments.rules import shipment_number

CJK = "STSong-Light"  # Adobe's built-in CID font: Chinese with no font file to ship
LATIN_BOLD = "Helvetica-Bold"
LABEL_SIZE = (100 * mm, 70 * mm)


# ---- what the PDFs show ----


@dataclass(frozen=True)
class Item:
    crop: str
    lot_code: str
    grams: int


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

    @property
    def number(self) -> str:
        return shipment_number(self.shipment_id)

    @property
    def grams(self) -> int:
        return sum(i.grams for i in self.items)


def weight_text(grams: int) -> str:
    return _("%(kg)s kg (%(jin)s jin)") % {"kg": grams_to_kg(grams), "jin": grams_to_jin(grams)}


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def wrap_text(text: str, *, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than width. Chinese breaks between any two characters; a run of
    Latin letters or digits ('100', 'Room') is kept whole unless it alone is too wide."""
    lines: list[str] = []
    line, used = "", 0.0
    for token in re.findall(
        r"[!-~]+|.", text.strip(), re.DOTALL
    ):  # printable ASCII runs, or a char
        wide = pdfmetrics.stringWidth(token, font, size)
        if used + wide > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0.0
            if token.isspace():
                continue
        if wide > width:  # a run too long for any line (a URL): cut it by characters
            for ch in token:
                step = pdfmetrics.stringWidth(ch, font, size)
                if used + step > width and line:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + ch, used + step
            continue
        line, used = line + token, used + wide
    if line.strip():
        lines.append(line.rstrip())
    return lines


def fit(text: str, *, font: str = CJK, size: float, width: float) -> str:
    """The text on one line of that width, cut with an ellipsis when it is too long."""
    lines = wrap_text(text, font=font, size=size, width=width)
    if len(lines) <= 1:
        return text
    return wrap_text(text, font=font, size=size, width=width - size)[0] + "…"


def _draw_qr(canvas: Canvas, text: str, *, x: float, y: float, size: float) -> None:
    """The QR code's dark modules as filled rectangles (a run of a row each), drawn in module
    units so thousands of labels stay quick to make; quiet zone included in size."""
    matrix = qr_matrix(text)
    unit = size / (len(matrix) + 2 * QUIET)
    runs = []
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            runs.append(f"{start + QUIET} {r + QUIET} {c - start} 1 re")
    canvas.saveState()
    canvas.translate(x, y + size)
    canvas.scale(unit, -unit)  # rows go down from the top left corner, as in the matrix
    canvas.setFillColorRGB(0, 0, 0)
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


class PackingList:
    """The A4 packing list, drawn top to bottom: heading, pick summary, boxes, diversions."""

    MARGIN = 15 * mm

    def __init__(self, *, cooperative: str, ship_on: date, generated: str):
        _register_fonts()
        self.out = BytesIO()
        self.canvas = Canvas(self.out, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(_("Packing list %(day)s") % {"day": ship_on.isoformat()})
        self.width, self.height = A4
        self.title = f"{cooperative}    " + _("Packing list %(day)s") % {"day": ship_on.isoformat()}
        self.page = 1
        self.y = self.height - self.MARGIN
        self.text(self.title, size=15, gap=7 * mm)
        self.text(_("Generated %(time)s") % {"time": generated}, size=9, gap=6 * mm)

    # -- drawing primitives --

    def text(self, text: str, *, size: float = 10, x: float = 0, gap: float = 0) -> None:
        self.canvas.setFont(CJK, size)
        self.canvas.drawString(self.MARGIN + x, self.y - size, text)
        if gap:
            self.y -= gap

    def need(self, height: float) -> None:
        if self.y - height < self.MARGIN + 10 * mm:
            self._end_page()
            self.canvas.showPage()
            self.page += 1
            self.y = self.height - self.MARGIN
            self.text(self.title, size=9, gap=8 * mm)

    def _end_page(self) -> None:
        # "3 / 12": the total is a form drawn once at the end, when it is known.
        c, label = self.canvas, f"{self.page} / "
        x, y = self.width - self.MARGIN - 18 * mm, self.MARGIN
        c.setFont(CJK, 9)
        c.drawString(x, y, label)
        c.saveState()
        c.translate(x + pdfmetrics.stringWidth(label, CJK, 9), y)
        c.doForm("page_count")
        c.restoreState()

    def row(self, cells: Iterable[tuple[float, str]], *, size: float = 10) -> None:
        self.need(size + 2 * mm)
        self.canvas.setFont(CJK, size)
        for x, text in cells:
            if x < 0:  # right-aligned at -x
                self.canvas.drawRightString(self.MARGIN - x, self.y - size, text)
            else:
                self.canvas.drawString(self.MARGIN + x, self.y - size, text)
        self.y -= size + 2 * mm

    def heading(self, text: str) -> None:
        self.need(30 * mm)
        self.y -= 3 * mm
        self.text(text, size=12, gap=7 * mm)
        self.canvas.line(self.MARGIN, self.y + 2 * mm, self.width - self.MARGIN, self.y + 2 * mm)

    # -- sections --

    def picks(self, totals: list[tuple[str, int]]) -> None:
        """What to bring to the packing table: grams per crop over the whole batch."""
        self.heading(_("To pick for this ship day"))
        for crop, grams in totals:
            self.row([(0, fit(crop, size=10, width=70 * mm)), (-110 * mm, weight_text(grams))])
        if not totals:
            self.row([(0, _("Nothing to ship on this day."))])

    def box(self, box: Box) -> None:
        lines = 3 + len(box.items)
        self.need(min(lines * 6 * mm, 60 * mm))
        self.y -= 3 * mm
        c = self.canvas
        c.rect(self.MARGIN, self.y - 4 * mm, 3.5 * mm, 3.5 * mm)  # ticked by hand when packed
        c.setFont(LATIN_BOLD, 12)
        c.drawString(self.MARGIN + 6 * mm, self.y - 4 * mm, box.number)
        sign = fit(f"{box.plot_code}  {box.sign_name}", size=11, width=self.width - 62 * mm)
        self.text(sign, size=11, x=32 * mm, gap=6 * mm)
        to = fit(f"{box.recipient}    {box.province} {box.city}", size=9.5, width=170 * mm)
        self.text(to, size=9.5, x=6 * mm, gap=6 * mm)
        for item in box.items:
            self.row(
                [
                    (6 * mm, fit(item.crop, size=9.5, width=52 * mm)),
                    (60 * mm, item.lot_code),
                    (-125 * mm, f"{grams_to_kg(item.grams)} kg"),
                    (-155 * mm, f"{grams_to_jin(item.grams)} " + _("jin")),
                ],
                size=9.5,
            )
        self.row([(6 * mm, _("Box total: %(weight)s") % {"weight": weight_text(box.grams)})])
        c.setDash(1, 2)
        c.line(self.MARGIN, self.y + 0.5 * mm, self.width - self.MARGIN, self.y + 0.5 * mm)
        c.setDash()

    def diverted(self, rows: list[tuple[str, str, int]]) -> None:
        """(reason, crop, grams): what this ship day decided not to send, and why."""
        self.heading(_("Not shipped on this day"))
        for reason, crop, grams in rows:
            reason, crop = fit(reason, size=10, width=58 * mm), fit(crop, size=10, width=50 * mm)
            self.row([(0, reason), (60 * mm, crop), (-155 * mm, weight_text(grams))])
        if not rows:
            self.row([(0, _("Nothing was diverted."))])

    def finish(self) -> bytes:
        self._end_page()
        self.canvas.showPage()
        self.canvas.beginForm("page_count")
        self.canvas.setFont(CJK, 9)
        self.canvas.drawString(0, 0, str(self.page))
        self.canvas.endForm()
        self.canvas.save()
        return self.out.getvalue()


class Labels:
    """Address labels, one 100 × 70 mm page per box, for a thermal label printer."""

    M = 4 * mm
    QR = 27 * mm

    def __init__(self, *, cooperative: str, ship_on: date):
        _register_fonts()
        self.out = BytesIO()
        self.canvas = Canvas(self.out, pagesize=LABEL_SIZE, pageCompression=1)
        self.canvas.setTitle(_("Labels %(day)s") % {"day": ship_on.isoformat()})
        self.cooperative = cooperative
        self.ship_on = ship_on
        self.count = 0

    def label(self, box: Box, url: str) -> None:
        c, m, w, h = self.canvas, self.M, *LABEL_SIZE
        left_w = w - 2 * m - self.QR - 3 * mm
        name_size = min(16, 16 * left_w / max(pdfmetrics.stringWidth(box.recipient, CJK, 16), 1))
        c.setFont(CJK, name_size)
        c.drawString(m, h - m - 15, box.recipient)
        c.setFont(CJK, 11)
        c.drawString(m, h - m - 30, fit(box.phone, size=11, width=left_w))
        address = f"{box.province} {box.city} {box.address}".strip()
        top, bottom = h - m - 36, 24 * mm
        for size in (10, 9, 8, 7):
            lines = wrap_text(address, font=CJK, size=size, width=left_w)
            if len(lines) * size * 1.25 <= top - bottom:
                break
        most = int((top - bottom) // (size * 1.25))
        if len(lines) > most:
            lines = lines[: most - 1] + [lines[most - 1][:-1] + "…"]
        c.setFont(CJK, size)
        for i, line in enumerate(lines):
            c.drawString(m, top - (i + 1) * size * 1.25, line)
        # The QR code at the top right, its address printed small beneath it.
        qr_x, qr_y = w - m - self.QR, h - m - self.QR
        _draw_qr(c, url, x=qr_x, y=qr_y, size=self.QR)
        c.setFont("Helvetica", 4.5)
        for i, line in enumerate(wrap_text(url, font="Helvetica", size=4.5, width=self.QR)[:4]):
            c.drawString(qr_x, qr_y - (i + 1) * 5.2, line)
        # The box: its number large, ship day, plot and sign, cooperative.
        c.setLineWidth(0.6)
        c.line(m, 21 * mm, w - m, 21 * mm)
        c.setFont(LATIN_BOLD, 16)
        c.drawString(m, 14 * mm, box.number)
        c.setFont(CJK, 10)
        c.drawRightString(w - m, 14 * mm, _("Ship day %(day)s") % {"day": self.ship_on})
        c.drawString(
            m, 8.5 * mm, fit(f"{box.plot_code}  {box.sign_name}", size=10, width=w - 2 * m)
        )
        c.setFont(CJK, 8)
        c.drawString(m, m, fit(self.cooperative, size=8, width=w - 2 * m - 32 * mm))
        c.drawRightString(w - m, m, weight_text(box.grams))
        c.showPage()
        self.count += 1

    def finish(self) -> bytes:
        if not self.count:
            _register_fonts()
            self.canvas.setFont(CJK, 10)
            self.canvas.drawString(self.M, 35 * mm, _("No box has anything in it on this day."))
            self.canvas.showPage()
        self.canvas.save()
        return self.out.getvalue()
