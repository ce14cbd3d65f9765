"""The gift card to print: one A5 page, in Chinese and English, with the plot's name sign as
the giver chose it, their message, the claim code and a QR code of the claim page's link.
Drawn with the ship day's PDF writer (STSong-Light for Chinese, Helvetica for Latin, as the
plot's certificate is), in a worker thread."""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from farm.shipments.packing_pdf import qr_ops, wrap_text
from farm.shipments.pdf_writer import CJK, GREEN, LATIN_BOLD, SOIL, NameSign, Sheet

WIDTH, HEIGHT = 420.0, 595.0  # A5 portrait, in points
MARGIN = 36.0
CARD = Sheet(WIDTH, HEIGHT, MARGIN)
QR_SIZE = 130.0
SIGN = NameSign(
    size=28, fits=260, pad=50, board_h=44, text_rise=15, stake_w=7, stake_h=30, stake_inset=25
)


@dataclass(frozen=True)
class CardText:
    """What the card says, as plain text (the drawing reads nothing else)."""

    name: str  # the recipient's, as the sign reads
    message: str
    plot_code: str
    cooperative: str
    cooperative_en: str
    season: str
    season_en: str
    claim_by: str
    code: str
    claim_url: str


def draw_card(c: CardText) -> bytes:
    """The card as PDF bytes (CPU work: call it in a worker thread)."""
    centred = CARD.centred
    sign = f"{c.name}家的地"
    ops = [
        f"{SOIL} RG 3 w 16 16 {WIDTH - 32:.2f} {HEIGHT - 32:.2f} re S",
        f"{GREEN} rg",
        centred("礼物 · 一块属于你的地", y=535, size=20),
        centred("A GIFT: A PLOT OF FARMLAND FOR YOU", y=514, size=10, latin=LATIN_BOLD),
        *CARD.name_sign(sign, SIGN, y=455),
        centred(f"{c.cooperative} · {c.season} · {c.plot_code} 号地块", y=410, size=11),
        centred(f"Plot {c.plot_code} · {c.season_en} · {c.cooperative_en}", y=395, size=9),
    ]  # fmt: skip
    y = 370.0
    lines = [
        line
        for paragraph in c.message.splitlines()
        for line in wrap_text(paragraph, font=CJK, size=11, width=WIDTH - 2 * MARGIN)
    ]
    for line in lines[:6]:  # the form takes 300 characters: about six lines
        ops.append(centred(line, y=y, size=11))
        y -= 15
    qr_x = (WIDTH - QR_SIZE) / 2
    ops += [
        qr_ops(c.claim_url, x=qr_x, y=150, size=QR_SIZE),
        "0.13 0.13 0.13 rg",
        centred(c.code, y=125, size=18, latin=LATIN_BOLD),
        centred(f"扫码或在 {c.claim_url.split('?')[0]} 输入领取码，填写收货地址", y=100, size=9),
        centred("Scan the code, or type the claim code at the address above, and give your "
                "delivery address.", y=86, size=8),
        centred(f"请在 {c.claim_by} 前领取 · Claim it before {c.claim_by}", y=66, size=9),
    ]  # fmt: skip
    return CARD.pdf(ops, title=f"{sign} · {c.plot_code}")


async def card_pdf(text: CardText) -> bytes:
    return await anyio.to_thread.run_sync(draw_card, text)
