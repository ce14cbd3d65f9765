"""QR codes as inline SVG (pages) or a module matrix (PDFs), from reportlab's encoder."""

from __future__ import annotations

from markupsafe import Markup
from reportlab.graphics.barcode import qrencoder

QUIET = 4  # modules of white border, as the standard asks
FIXED_MASK = 2


def qr_matrix(text: str) -> list[list[bool]]:
    """The dark (True) and light modules of the smallest QR code holding text, level M."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    # One fixed mask (the standard allows any) instead of make(), which draws all eight to
    # score them: 8 times faster, which matters when printing thousands of box labels.
    code.version = code.calculate_version()
    code.makeImpl(False, FIXED_MASK)
    n = code.getModuleCount()
    return [[bool(code.isDark(r, c)) for c in range(n)] for r in range(n)]


def qr_svg(text: str, *, size_px: int = 200, label: str = "") -> Markup:
    """An inline SVG of the QR code: one path of unit squares, crisp at any size."""
    matrix = qr_matrix(text)
    n = len(matrix) + 2 * QUIET
    path = "".join(
        f"M{c + QUIET} {r + QUIET}h1v1h-1z"
        for r, row in enumerate(matrix)
        for c, dark in enumerate(row)
        if dark
    )
    title = Markup.escape(label or text)
    # Built only from integers and the escaped title: safe to mark as markup.
    return Markup(  # noqa: S704
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'width="{size_px}" height="{size_px}" role="img" shape-rendering="crispEdges">'
        f"<title>{title}</title>"
        f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
