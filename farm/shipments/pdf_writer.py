"""A small PDF writer for the ship day's paper: pages written to a file as they are made.

reportlab's canvas keeps every page until it saves and costs milliseconds a label; the
packing list and labels are a fixed layout of text, lines and filled rectangles, so they are
written here straight as PDF operators. Each page's content stream is compressed and written
at once; only the byte offsets of the objects stay in memory, so a part of a thousand pages
costs as little memory as a part of one. Chinese is set in Adobe's STSong-Light (a CID font
PDF readers supply, with the UniGB-UCS2-H encoding: two bytes a character), Latin text in
Helvetica; widths come from reportlab's metrics, once per character."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

CJK = "STSong-Light"
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
FONT_NAMES = {CJK: "F1", LATIN: "F2", LATIN_BOLD: "F3"}

_FONTS = (
    b"<< /F1 << /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
    b" /DescendantFonts [ << /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
    b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 0 >> /DW 1000"
    b" /W [ 1 [ 207 270 342 467 462 797 710 239 374 ] 10 [ 374 423 605 238 375 238 334 462 ]"
    b" 18 26 462 27 28 238 29 31 605 32 [ 344 748 684 560 695 739 563 511 729 793 318 312"
    b" 666 526 896 758 772 544 772 628 465 607 753 711 972 647 620 607 374 333 374 606 500"
    b" 239 417 503 427 529 415 264 444 518 241 230 495 228 793 527 524 ] 81 [ 524 504 338"
    b" 336 277 517 450 652 466 452 407 370 258 370 605 ] ]"
    b" /FontDescriptor << /Type /FontDescriptor /FontName /STSongStd-Light /Flags 6"
    b" /FontBBox [ -25 -254 1000 880 ] /ItalicAngle 0 /Ascent 752 /Descent -271"
    b" /CapHeight 737 /StemV 58 /XHeight 553 /MissingWidth 500 >> >> ] >>"
    b" /F2 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    b" /F3 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold"
    b" /Encoding /WinAnsiEncoding >> >>"
)


class _Widths(dict):
    """Character -> width at size 1000 in one font, measured on first use."""

    def __init__(self, font: str):
        super().__init__()
        self.font = font

    def __missing__(self, ch: str) -> float:
        width = pdfmetrics.stringWidth(ch, self.font, 1000)
        self[ch] = width
        return width


_registered = False
_WIDTHS: dict[str, _Widths] = {}


def char_widths(font: str) -> _Widths:
    """Character -> width at size 1000 in the font."""
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        _registered = True
    found = _WIDTHS.get(font)
    if found is None:
        found = _WIDTHS[font] = _Widths(font)
    return found


@lru_cache(maxsize=8192)  # crop names, lot codes and weights come back box after box
def string_width(text: str, font: str, size: float) -> float:
    return sum(map(char_widths(font).__getitem__, text)) * size / 1000


@lru_cache(maxsize=8192)
def _cjk(text: str) -> str:
    encoded = text.encode("utf-16-be")
    if len(encoded) != 2 * len(text):
        # UCS-2: a character beyond the Basic Multilingual Plane has no code: it shows as '?'.
        encoded = "".join(ch if ord(ch) < 0x10000 else "?" for ch in text).encode("utf-16-be")
    return "<" + encoded.hex() + ">"


def _latin(text: str) -> str:
    safe = text.encode("ascii", "replace").decode("ascii")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def text_op(font: str, size: float, x: float, y: float, text: str) -> str:
    """The operators that set one line of text at (x, y)."""
    encoded = _cjk(text) if font == CJK else _latin(text)
    return f"BT /{FONT_NAMES[font]} {size:g} Tf {x:.2f} {y:.2f} Td {encoded} Tj ET"


def right_text_op(font: str, size: float, right: float, y: float, text: str) -> str:
    return text_op(font, size, right - string_width(text, font, size), y, text)


def mixed_runs(text: str, latin: str = LATIN) -> list[tuple[str, str]]:
    """(font, text) runs: Latin letters and digits in `latin`, the rest in STSong (a reader
    without the Adobe CJK pack substitutes a font that may lack STSong's Latin glyphs)."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = latin if ch.isascii() else CJK
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


def mixed_width(text: str, size: float, latin: str = LATIN) -> float:
    return sum(string_width(part, font, size) for font, part in mixed_runs(text, latin))


def centred_text_op(
    text: str, *, y: float, size: float, page_width: float, margin: float, latin: str = LATIN
) -> str:
    """One line of mixed Chinese and Latin text, centred on the page, shrunk to fit between
    the margins."""
    wide = mixed_width(text, size, latin)
    size = min(size, size * (page_width - 2 * margin) / wide) if wide else size
    x = (page_width - mixed_width(text, size, latin)) / 2
    ops = []
    for font, part in mixed_runs(text, latin):
        ops.append(text_op(font, size, x, y, part))
        x += string_width(part, font, size)
    return " ".join(ops)


class PdfWriter:
    """Objects: 1 catalog, 2 page tree, 3 resources, 4 info; then pages as they come, each
    a content stream and its page. Forms (drawn on every page, finished at the end, as the
    page count) get their numbers up front from reserve()."""

    def __init__(self, out: BinaryIO, *, title: str, page_size: tuple[float, float]):
        self.out = out
        self.pos = 0
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_number = 5
        self.forms: dict[str, int] = {}
        self.title = title
        self.media_box = f"[0 0 {page_size[0]:.4f} {page_size[1]:.4f}]"
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)

    def reserve(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def reserve_form(self, name: str) -> None:
        self.forms[name] = self.reserve()

    def write_object(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.pos
        self._write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def write_stream(self, number: int, data: bytes, extra: bytes = b"") -> None:
        packed = zlib.compress(data, 1)  # level 6 costs twice the time for a few % less
        head = b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n" % (len(packed), extra)
        self.write_object(number, head + packed + b"\nendstream")

    def page(self, ops: str) -> None:
        """One page from its operators (ASCII: text is hex or escaped)."""
        content, page = self.reserve(), self.reserve()
        self.write_stream(content, ops.encode("ascii"))
        self.write_object(
            page,
            f"<< /Type /Page /Parent 2 0 R /MediaBox {self.media_box} /Resources 3 0 R"
            f" /Contents {content} 0 R >>".encode("ascii"),
        )
        self.pages.append(page)

    def form(self, name: str, ops: str, bbox: tuple[float, float, float, float]) -> None:
        box = " ".join(f"{v:.2f}" for v in bbox)
        extra = f" /Type /XObject /Subtype /Form /BBox [{box}] /Resources 3 0 R".encode()
        self.write_stream(self.forms[name], ops.encode("ascii"), extra)

    def finish(self) -> int:
        """Write the page tree, resources, catalog, cross-reference table and trailer;
        returns the number of pages."""
        kids = " ".join(f"{p} 0 R" for p in self.pages)
        self.write_object(
            2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} >>".encode("ascii")
        )
        xobjects = " ".join(f"/{name} {number} 0 R" for name, number in self.forms.items())
        self.write_object(
            3,
            b"<< /Font "
            + _FONTS
            + (f" /XObject << {xobjects} >>".encode() if xobjects else b"")
            + b" /ProcSet [/PDF /Text] >>",
        )
        self.write_object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        title = "<feff" + _cjk(self.title)[1:]  # a text string: UTF-16 with its byte order mark
        self.write_object(4, b"<< /Title " + title.encode("ascii") + b" >>")
        start = self.pos
        count = self.next_number
        lines = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        for number in range(1, count):
            at = self.offsets.get(number)
            lines.append(b"%010d 00000 n \n" % at if at is not None else b"0000000000 65535 f \n")
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (count, start)
        )
        return len(self.pages)


SOIL = "0.478 0.322 0.188"  # the name sign's board and stakes, the frame
GREEN = "0.184 0.420 0.184"


@dataclass(frozen=True)
class NameSign:
    """The proportions of a plot's name sign as a sheet draws it: a board on two stakes, the
    family's name on it in white, at `size` points or smaller to fit in `fits` points."""

    size: float
    fits: float
    pad: float  # the board's width beyond the name
    board_h: float
    text_rise: float  # the name's baseline above the board's foot
    stake_w: float
    stake_h: float
    stake_inset: float  # from each end of the board


@dataclass(frozen=True)
class Sheet:
    """A single page of centred lines, as the gift card and the plot's certificate are."""

    width: float
    height: float
    margin: float

    def centred(self, text: str, *, y: float, size: float, latin: str = LATIN) -> str:
        return centred_text_op(
            text, y=y, size=size, page_width=self.width, margin=self.margin, latin=latin
        )

    def name_sign(self, name: str, sign: NameSign, *, y: float) -> list[str]:
        """The sign centred on the page, its board's foot at `y` (the stakes reach 5 points
        into it); then the text's dark grey again."""
        size = min(sign.size, sign.size * sign.fits / max(mixed_width(name, sign.size), 1))
        board_w = mixed_width(name, size) + sign.pad
        x = (self.width - board_w) / 2
        stake = f"{y - sign.stake_h + 5:g} {sign.stake_w:g} {sign.stake_h:g} re f"
        right = x + board_w - (sign.stake_inset + sign.stake_w)
        return [
            f"{SOIL} rg {x + sign.stake_inset:.2f} {stake} {right:.2f} {stake}",
            f"{SOIL} rg {x:.2f} {y:g} {board_w:.2f} {sign.board_h:g} re f",
            "1 1 1 rg",
            self.centred(name, y=y + sign.text_rise, size=size),
            "0.13 0.13 0.13 rg",
        ]

    def pdf(self, ops: list[str], *, title: str) -> bytes:
        """The page from its operators, as PDF bytes."""
        out = io.BytesIO()
        writer = PdfWriter(out, title=title, page_size=(self.width, self.height))
        writer.page("\n".join(ops))
        writer.finish()
        return out.getvalue()
