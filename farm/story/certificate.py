"""The plot's certificate: one A4 page, in Chinese and English, with the family's name sign
and the season's numbers. Drawn with the ship day's PDF writer (farm.shipments.pdf_writer:
STSong-Light for Chinese, Helvetica for Latin), in a worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import anyio

from farm import units
from farm.shipments.pdf_writer import GREEN, LATIN_BOLD, SOIL, NameSign, Sheet
from farm.story.summary import Summary

WIDTH, HEIGHT = 842.0, 595.0  # A4 landscape, in points
MARGIN = 60.0
CERTIFICATE = Sheet(WIDTH, HEIGHT, MARGIN)
SIGN = NameSign(
    size=40, fits=460, pad=80, board_h=80, text_rise=28, stake_w=10, stake_h=40, stake_inset=40
)


@dataclass(frozen=True)
class CertificateText:
    """What the certificate says, as plain text (the drawing reads nothing else)."""

    sign_name: str
    plot_code: str
    area_m2: str
    field_name: str
    cooperative: str
    cooperative_en: str
    season: str
    season_en: str
    starts_on: str
    last_day: str
    kg: str
    boxes: int
    photos: int
    visits: int
    issued_on: str


def text_of(summary: Summary, *, issued_on: str) -> CertificateText:
    sub = summary.subscription
    coop = sub.season.cooperative
    return CertificateText(
        sign_name=sub.sign_name or sub.plot.code,
        plot_code=sub.plot.code,
        area_m2=units.plain_number(sub.plot.area_m2),
        field_name=sub.plot.field.name,
        cooperative=coop.name,
        cooperative_en=coop.name_en or coop.name,
        season=sub.season.name,
        season_en=sub.season.name_en or sub.season.name,
        starts_on=sub.season.starts_on.isoformat(),
        last_day=(sub.season.ends_on - timedelta(days=1)).isoformat(),  # periods are half-open
        kg=units.plain_number(units.grams_to_kg(summary.received_kg_g)),
        boxes=summary.boxes,
        photos=summary.photos,
        visits=summary.visits,
        issued_on=issued_on,
    )


def draw_certificate(c: CertificateText) -> bytes:
    """The certificate as PDF bytes (CPU work: call it in a worker thread)."""
    centred = CERTIFICATE.centred
    sign = f"{c.sign_name}家的地"
    ops = [
        f"{SOIL} RG 4 w 24 24 {WIDTH - 48:.2f} {HEIGHT - 48:.2f} re S",
        f"{GREEN} RG 1 w 34 34 {WIDTH - 68:.2f} {HEIGHT - 68:.2f} re S",
        f"{GREEN} rg",
        centred("地块认养证书", y=510, size=30),
        centred("CERTIFICATE OF THE PLOT", y=482, size=15, latin=LATIN_BOLD),
        *CERTIFICATE.name_sign(sign, SIGN, y=375),
        centred(f"The {c.sign_name} family's plot", y=315, size=16),
        centred(f"兹证明 {c.sign_name} 家于 {c.season}（{c.starts_on} 至 {c.last_day}）", y=282,
                size=14),
        centred(f"认养 {c.cooperative} {c.field_name} {c.plot_code} 号地块"
                f"（{c.area_m2} 平方米）。", y=262, size=14),
        centred(f"This certifies that the {c.sign_name} family held plot {c.plot_code} "
                f"({c.area_m2} m2) of {c.field_name}, {c.cooperative_en},", y=238, size=11),
        centred(f"in the {c.season_en}, {c.starts_on} to {c.last_day}.", y=223, size=11),
        centred(f"本季收到 {c.kg} 公斤 · {c.boxes} 箱 · {c.photos} 张照片 · {c.visits} 次农家住宿",
                y=186, size=14),
        centred(f"This season: {c.kg} kg received, {c.boxes} boxes, {c.photos} photos, "
                f"{c.visits} farm stays", y=168, size=11),
        f"{GREEN} rg",
        centred(c.cooperative, y=120, size=16),
        centred(c.cooperative_en, y=101, size=11),
        "0.35 0.35 0.35 rg",
        centred(f"签发日期 Issued on {c.issued_on}", y=70, size=10),
    ]  # fmt: skip
    return CERTIFICATE.pdf(ops, title=f"{sign} · {c.plot_code}")


async def certificate_pdf(summary: Summary, *, issued_on: str) -> bytes:
    return await anyio.to_thread.run_sync(draw_certificate, text_of(summary, issued_on=issued_on))
