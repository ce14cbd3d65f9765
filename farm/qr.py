"""QR codes as inline SVG (pages), one-bit images (PDFs) or dark-module runs.

Byte mode, error correction level M, one fixed mask (the standard allows any; scoring all
eight, as generic encoders do, costs eight times the work). The encoder is table-driven,
because a ship day prints a QR code on each of up to 100,000 box labels. Per QR version, the
code is one integer over the image (quiet zone included, rows of whole bytes): the function
patterns (finders, timing, alignment, format and version bits) with the mask already applied
are its starting value, and since Reed-Solomon, interleaving and placement are all linear
(XOR), each nibble of each data codeword has a precomputed table of the modules it turns,
its own and its block's error correction's. A code costs two XORs a data codeword instead
of a module-by-module walk, and its image is the integer's bytes. reportlab's encoder
supplies the standard's tables (block sizes, alignment positions, format bits) and is the
reference the unit tests compare with."""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup
from reportlab.graphics.barcode import qrencoder

QUIET = 4  # modules of white border, as the standard asks
FIXED_MASK = 2
LEVEL = qrencoder.QRErrorCorrectLevel.M
_RUN = re.compile("1+")


_EXP = [qrencoder.QRMath.gexp(i) for i in range(255)]
_LOG = [0] + [qrencoder.QRMath.glog(i) for i in range(1, 256)]


def _gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 255]


def _remainder(message: list[int], generator: list[int]) -> list[int]:
    """The error-correction bytes of a message: its remainder by the generator polynomial."""
    ec = len(generator) - 1
    rem = list(message) + [0] * ec
    for i in range(len(message)):
        factor = rem[i]
        if factor:
            for j, g in enumerate(generator):
                rem[i + j] ^= _gf_mul(g, factor)
    return rem[len(message) :]


def _unit_ecc(data_count: int, ec_count: int, pos: int) -> list[int]:
    """The error-correction bytes of a block whose only nonzero byte is a 1 at pos."""
    poly = qrencoder.QRUtil.getErrorCorrectPolynomial(ec_count)
    generator = [poly.get(i) for i in range(poly.getLength())]
    unit = [0] * data_count
    unit[pos] = 1
    return _remainder(unit, generator)


@dataclass(frozen=True)
class _Layout:
    """One QR version as an image: the modules in rows of `stride` bytes, the quiet zone
    included, so a code is one integer whose bytes are the image a PDF draws."""

    version: int
    n: int  # modules a side, without the quiet zone
    stride: int  # bytes an image row: (n + 2 QUIET) bits, rounded up to whole bytes
    data_count: int  # data codewords
    base: int  # function patterns, and the mask over the data area (all data bits 0)
    # [data codeword][high / low nibble value] -> the modules it turns: its own and, through
    # its block's error correction, those of the error-correction codewords
    high: tuple[tuple[int, ...], ...]
    low: tuple[tuple[int, ...], ...]

    @property
    def side(self) -> int:
        return self.n + 2 * QUIET


@cache
def _layout(version: int) -> _Layout:
    code = qrencoder.QRCode(version, LEVEL)
    n = code.moduleCount = version * 4 + 17
    code.modules = [[False] * n for _ in range(n)]
    for row, col in ((0, 0), (n - 7, 0), (0, n - 7)):
        code.setupPositionProbePattern(row, col)
    code.setupPositionAdjustPattern()
    code.setupTimingPattern()
    code.setupTypeInfo(False, FIXED_MASK)
    if version >= 7:
        code.setupTypeNumber(False)
    mask = qrencoder.QRUtil.getMask(FIXED_MASK)
    side = n + 2 * QUIET
    stride = -(-side // 8)
    length = side * stride * 8

    def bit(row: int, col: int) -> int:
        return 1 << (length - 1 - ((row + QUIET) * stride * 8 + col + QUIET))

    positions = code.dataPosIterator()
    for col, row in positions:
        code.modules[row][col] = bool(mask(row, col))
    base = 0
    for r, cells in enumerate(code.modules):
        for c, dark in enumerate(cells):
            if dark:
                base |= bit(r, c)

    def place(k: int, value: int) -> int:  # codeword k of the interleaved sequence
        cells = positions[8 * k : 8 * k + 8]  # most significant bit first
        return sum(bit(row, col) for i, (col, row) in enumerate(cells) if value & (128 >> i))

    blocks = [
        (b.dataCount, b.totalCount - b.dataCount)
        for b in qrencoder.QRRSBlock.getRSBlocks(version, LEVEL)
    ]
    # Where each block's data and error-correction codewords land once interleaved.
    data_at: list[list[int]] = [[] for _ in blocks]
    ec_at: list[list[int]] = [[] for _ in blocks]
    k = 0
    for which, size in ((data_at, 0), (ec_at, 1)):
        for i in range(max(b[size] for b in blocks)):
            for b, block in enumerate(blocks):
                if i < block[size]:
                    which[b].append(k)
                    k += 1
    high, low = [], []
    for b, (data_count, ec_count) in enumerate(blocks):
        for pos in range(data_count):
            unit = _unit_ecc(data_count, ec_count, pos)
            bits = []  # what each of the codeword's eight bits turns, most significant first
            for shift in range(7, -1, -1):
                value = 1 << shift
                turned = place(data_at[b][pos], value)
                for j, e in enumerate(unit):
                    turned ^= place(ec_at[b][j], _gf_mul(e, value))
                bits.append(turned)

            def nibble(value: int, four: list[int]) -> int:
                out = 0
                for i, turned in enumerate(four):
                    if value & (8 >> i):
                        out ^= turned
                return out

            high.append(tuple(nibble(v, bits[:4]) for v in range(16)))
            low.append(tuple(nibble(v, bits[4:]) for v in range(16)))
    data_count = sum(d for d, _e in blocks)
    return _Layout(version, n, stride, data_count, base, tuple(high), tuple(low))


def _version_for(length: int) -> int:
    for version in range(1, 41):
        count_bits = 8 if version < 10 else 16
        capacity = _capacity(version)
        if 4 + count_bits + 8 * length <= capacity * 8:
            return version
    raise ValueError("too much data for a QR code")


@cache
def _capacity(version: int) -> int:
    return sum(b.dataCount for b in qrencoder.QRRSBlock.getRSBlocks(version, LEVEL))


def _data_codewords(data: bytes, layout: _Layout) -> bytes:
    """Mode, count, the bytes, terminator and padding: the message before error correction."""
    count_bits = 8 if layout.version < 10 else 16
    bits = ((0b0100 << count_bits) | len(data)) << (8 * len(data)) | int.from_bytes(data, "big")
    size = 4 + count_bits + 8 * len(data)
    room = layout.data_count * 8
    end = min(4, room - size)
    bits, size = bits << end, size + end
    fill = -size % 8
    bits, size = bits << fill, size + fill
    body = bits.to_bytes(size // 8, "big")
    pad = layout.data_count - len(body)
    return body + (b"\xec\x11" * (pad // 2 + 1))[:pad]


def _encode(text: str) -> tuple[_Layout, int]:
    """The code as one integer over the layout's image: a few dozen XORs of precomputed
    integers, one a nibble of the message (error correction, interleaving and placement
    are all linear, so each nibble's share of them is a table entry)."""
    data = text.encode("utf-8")
    layout = _layout(_version_for(len(data)))
    matrix = layout.base
    body = _data_codewords(data, layout)  # data_count bytes, one a table
    for high, low, value in zip(layout.high, layout.low, body, strict=True):
        matrix ^= high[value >> 4] ^ low[value & 15]
    return layout, matrix


def qr_image(text: str) -> tuple[int, bytes]:
    """The code as a one-bit image, quiet zone included: its side in pixels, and its rows
    (dark = 1), each padded to whole bytes."""
    layout, matrix = _encode(text)
    return layout.side, matrix.to_bytes(layout.side * layout.stride, "big")


def qr_bits(text: str) -> tuple[int, str]:
    """The code's side in modules and its modules as a string of '0'/'1', row by row, each
    row followed by one '0' (so a run of dark modules never continues on the next row)."""
    layout, matrix = _encode(text)
    n, row = layout.n, layout.stride * 8
    image = format(matrix, f"0{layout.side * row}b")
    first = QUIET * row + QUIET
    return n, "0".join(image[first + r * row : first + r * row + n] for r in range(n)) + "0"


def qr_runs(text: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The side in modules, and the dark modules as (row, first column, length) runs."""
    n, bits = qr_bits(text)
    width = n + 1
    return n, [(*divmod(m.start(), width), m.end() - m.start()) for m in _RUN.finditer(bits)]


def qr_matrix(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the smallest QR code holding text, level M."""
    n, bits = qr_bits(text)
    width = n + 1
    return [[ch == "1" for ch in bits[r * width : r * width + n]] for r in range(n)]


def qr_svg(text: str, *, size_px: int = 200, label: str = "") -> Markup:
    """An inline SVG of the QR code: one path of unit squares, crisp at any size."""
    size, runs = qr_runs(text)
    n = size + 2 * QUIET
    path = "".join(f"M{c + QUIET} {r + QUIET}h{w}v1h-{w}z" for r, c, w in runs)
    title = Markup.escape(label or text)
    # Built only from integers and the escaped title: safe to mark as markup.
    return Markup(  # noqa: S704
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'width="{size_px}" height="{size_px}" role="img" shape-rendering="crispEdges">'
        f"<title>{title}</title>"
        f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


def qr_png(text: str, *, scale: int = 6) -> bytes:
    """The QR code as a PNG (one-bit greyscale, `scale` pixels a module, quiet zone
    included), for mail: clients show an inline image, seldom an SVG."""
    side, rows = qr_image(text)
    stride = len(rows) // side
    raw = bytearray()
    for r in range(side):
        bits = int.from_bytes(rows[r * stride : (r + 1) * stride], "big")
        width = stride * 8
        dark = [(bits >> (width - 1 - c)) & 1 for c in range(side)]
        # PNG greyscale: 1 is white; each module `scale` pixels wide and high
        line = "".join(("0" if d else "1") * scale for d in dark)
        line += "1" * (-len(line) % 8)
        packed = b"\x00" + int(line, 2).to_bytes(len(line) // 8, "big")
        raw += packed * scale
    size = side * scale

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )
