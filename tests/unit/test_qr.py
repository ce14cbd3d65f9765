"""QR codes: a real, decodable code for a URL, drawn as SVG for pages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from farm.qr import QUIET, qr_matrix, qr_svg

URL = "http://127.0.0.1:8000/trace/box/eyJhbGciOiJIUzI1NiJ9.MTIz.abcdefghijklmnop"


def test_a_qr_matrix_is_square_with_the_three_finder_patterns():
    m = qr_matrix(URL)
    n = len(m)
    assert (n - 17) % 4 == 0 and all(len(row) == n for row in m)
    finder = [[r in (0, 6) or c in (0, 6) or (2 <= r <= 4 and 2 <= c <= 4) for c in range(7)]
              for r in range(7)]  # fmt: skip
    for top, left in ((0, 0), (0, n - 7), (n - 7, 0)):
        assert [row[left : left + 7] for row in m[top : top + 7]] == finder


def test_the_svg_is_inline_markup_with_an_escaped_title():
    svg = qr_svg(URL, label='<script>"x"</script>')
    assert svg.startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) not installed")
def test_a_qr_code_decodes_back_to_its_url(tmp_path: Path):
    m = qr_matrix(URL)
    scale, n = 6, len(m) + 2 * QUIET
    img = Image.new("L", (n, n), 255)
    for r, row in enumerate(m):
        for c, dark in enumerate(row):
            if dark:
                img.putpixel((c + QUIET, r + QUIET), 0)
    path = tmp_path / "qr.png"
    img.resize((n * scale, n * scale), Image.NEAREST).save(path)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True)
    assert out.stdout.strip() == URL


def reference_matrix(text: str) -> list[list[bool]]:
    """reportlab's encoder, module by module, in byte mode with the same fixed mask."""
    from reportlab.graphics.barcode import qrencoder

    from farm.qr import FIXED_MASK

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(qrencoder.QR8bitByte(text))
    code.version = code.calculate_version()
    code.makeImpl(False, FIXED_MASK)
    n = code.getModuleCount()
    return [[bool(code.isDark(r, c)) for c in range(n)] for r in range(n)]


@pytest.mark.parametrize("length", [1, 14, 40, len(URL), 100, 200, 400])
def test_the_table_driven_encoder_makes_the_same_code_as_the_reference_encoder(length):
    text = (URL * 8)[:length]
    assert qr_matrix(text) == reference_matrix(text)


@pytest.mark.parametrize("length", [14, len(URL), 200])
def test_the_image_is_the_matrix_inside_its_quiet_zone_in_rows_of_whole_bytes(length):
    from farm.qr import qr_image

    text = (URL * 8)[:length]
    m = qr_matrix(text)
    side, image = qr_image(text)
    assert side == len(m) + 2 * QUIET
    stride = -(-side // 8)
    assert len(image) == side * stride
    pixels = [
        [bool(image[r * stride + c // 8] & (128 >> (c % 8))) for c in range(stride * 8)]
        for r in range(side)
    ]
    blank = [False] * QUIET
    expected = [[False] * side] * QUIET
    expected += [blank + row + blank for row in m] + [[False] * side] * QUIET
    assert [row[:side] for row in pixels] == expected
    assert not any(any(row[side:]) for row in pixels)  # the padding of each row stays blank
