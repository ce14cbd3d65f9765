"""QR codes as inline SVG (pages) or dark-module runs (PDFs).

Byte mode, error correction level M, one fixed mask (the standard allows any; scoring all
eight, as generic encoders do, costs eight times the work). The encoder is table-driven,
because a ship day prints a QR code on each of up to 100,000 box labels: per QR version, the
function patterns (finders, timing, alignment, format and version bits) with the mask already
applied are one integer, each codeword's bits land on the matrix through two precomputed
nibble tables, and Reed-Solomon is linear, so a block's error correction is the XOR of one
precomputed entry per data byte. A code costs a few dozen integer operations instead of a
module-by-module walk. reportlab's encoder supplies the standard's tables (block sizes,
alignment positions, format bits) and is the reference the unit tests compare with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import zip_longest

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


@cache
def _ecc_table(data_count: int, ec_count: int) -> tuple[tuple[int, ...], ...]:
    """[position][byte value] -> the error-correction bytes of that byte alone at that
    position, as one integer; a block's are the XOR over its bytes (RS codes are linear)."""
    poly = qrencoder.QRUtil.getErrorCorrectPolynomial(ec_count)
    generator = [poly.get(i) for i in range(poly.getLength())]
    table = []
    for pos in range(data_count):
        unit = [0] * data_count
        unit[pos] = 1
        base = _remainder(unit, generator)
        logs = [_LOG[b] if b else None for b in base]
        row = [0]
        for value in range(1, 256):
            lv = _LOG[value]
            scaled = bytes(0 if lb is None else _EXP[(lb + lv) % 255] for lb in logs)
            row.append(int.from_bytes(scaled, "big"))
        table.append(tuple(row))
    return tuple(table)


@dataclass(frozen=True)
class _Layout:
    version: int
    n: int  # modules a side
    data_count: int  # data codewords
    blocks: tuple[tuple[int, int], ...]  # (data, error correction) codewords per block
    base: int  # function patterns, and the mask over the data area (all data bits 0)
    high: tuple[tuple[int, ...], ...]  # [codeword][high nibble] -> its dark modules
    low: tuple[tuple[int, ...], ...]

    @property
    def width(self) -> int:  # bits a row, with a zero column so runs never join rows
        return self.n + 1


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
    length = n * (n + 1)

    def bit(row: int, col: int) -> int:
        return 1 << (length - 1 - (row * (n + 1) + col))

    positions = code.dataPosIterator()
    for col, row in positions:
        code.modules[row][col] = bool(mask(row, col))
    base = 0
    for r, cells in enumerate(code.modules):
        for c, dark in enumerate(cells):
            if dark:
                base |= bit(r, c)
    blocks = tuple(
        (b.dataCount, b.totalCount - b.dataCount)
        for b in qrencoder.QRRSBlock.getRSBlocks(version, LEVEL)
    )
    total = sum(d + e for d, e in blocks)
    high, low = [], []
    for k in range(total):
        cells = positions[8 * k : 8 * k + 8]  # most significant bit first
        masks = [bit(row, col) for col, row in cells] + [0] * (8 - len(cells))

        def nibble(value: int, bits: list[int]) -> int:
            return sum(m for i, m in enumerate(bits) if value & (8 >> i))

        high.append(tuple(nibble(v, masks[:4]) for v in range(16)))
        low.append(tuple(nibble(v, masks[4:]) for v in range(16)))
    return _Layout(version, n, sum(d for d, _e in blocks), blocks, base, tuple(high), tuple(low))


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


def _codewords(data: bytes, layout: _Layout) -> bytes:
    """Mode, count, the bytes, terminator and padding; then each block's error correction,
    interleaved as the standard lays them out."""
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
    body += (b"\xec\x11" * (pad // 2 + 1))[:pad]
    data_blocks, ec_blocks, at = [], [], 0
    for data_count, ec_count in layout.blocks:
        block = body[at : at + data_count]
        at += data_count
        table = _ecc_table(data_count, ec_count)
        ec = 0
        for pos, value in enumerate(block):
            ec ^= table[pos][value]
        data_blocks.append(block)
        ec_blocks.append(ec.to_bytes(ec_count, "big"))
    out = bytearray()
    for group in (data_blocks, ec_blocks):
        for column in zip_longest(*group):
            out.extend(b for b in column if b is not None)
    return bytes(out)


def qr_bits(text: str) -> tuple[int, str]:
    """The code's side in modules and its modules as a string of '0'/'1', row by row, each
    row followed by one '0' (so a run of dark modules never continues on the next row)."""
    data = text.encode("utf-8")
    layout = _layout(_version_for(len(data)))
    matrix = layout.base
    high, low = layout.high, layout.low
    for k, value in enumerate(_codewords(data, layout)):
        matrix ^= high[k][value >> 4] ^ low[k][value & 15]
    return layout.n, format(matrix, f"0{layout.n * layout.width}b")


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
