"""The demo's field photos, drawn here with Pillow (nothing is downloaded): seedlings, a
field of greens, a harvest basket, a family's name sign, a farmer. Simple pictures, with
enough texture to read as a photo on a phone. The same seed draws the same picture."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = (960, 720)
SKY = (170, 208, 236)
SOIL = (122, 82, 48)
DARK_SOIL = (92, 60, 34)
GREEN = (76, 142, 52)
LEAF = (112, 178, 74)
# A CJK font for the sign, where the machine has one; else the sign shows the plot's code.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def _canvas(
    seed: int, horizon: int = 220
) -> tuple[Image.Image, ImageDraw.ImageDraw, random.Random]:
    rng = random.Random(seed)
    image = Image.new("RGB", SIZE, SKY)
    draw = ImageDraw.Draw(image)
    for y in range(horizon):  # a sky lighter towards the hills
        shade = int(40 * y / horizon)
        draw.line([(0, y), (SIZE[0], y)], fill=(SKY[0] + shade // 2, SKY[1] + shade // 3, SKY[2]))
    hills = [(0, horizon)] + [(x, horizon - rng.randint(20, 90)) for x in range(0, 1000, 120)]
    draw.polygon(hills + [(SIZE[0], horizon), (SIZE[0], horizon + 5), (0, horizon + 5)],
                 fill=(96, 140, 96))  # fmt: skip
    draw.rectangle([0, horizon, SIZE[0], SIZE[1]], fill=SOIL)
    for _ in range(2500):  # clods
        x, y = rng.randrange(SIZE[0]), rng.randrange(horizon, SIZE[1])
        r = rng.randint(1, 4)
        tone = rng.randint(-25, 25)
        draw.ellipse([x - r, y - r, x + r, y + r],
                     fill=(SOIL[0] + tone, SOIL[1] + tone, SOIL[2] + tone // 2))  # fmt: skip
    return image, draw, rng


def _rows(draw: ImageDraw.ImageDraw, horizon: int) -> list[tuple[int, int]]:
    """Furrows running towards the hills: (y, spacing) of each, nearer ones wider apart."""
    rows = []
    y, gap = horizon + 18, 14
    while y < SIZE[1]:
        draw.line([(0, y), (SIZE[0], y)], fill=DARK_SOIL, width=max(2, gap // 6))
        rows.append((y, gap))
        y += gap
        gap = int(gap * 1.25) + 2
    return rows


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.filter(ImageFilter.SMOOTH).save(out, "JPEG", quality=82)
    return out.getvalue()


def sprouts(seed: int = 2) -> bytes:
    image, draw, rng = _canvas(seed)
    for y, gap in _rows(draw, 220):
        for x in range(rng.randint(0, gap), SIZE[0], max(6, gap)):
            h = max(3, gap // 2)
            draw.line([(x, y - 2), (x, y - h)], fill=GREEN, width=max(1, gap // 10))
            draw.ellipse([x - h // 2, y - h - h // 3, x, y - h + h // 6], fill=LEAF)
            draw.ellipse([x, y - h - h // 3, x + h // 2, y - h + h // 6], fill=LEAF)
    return _jpeg(image)


def greens(seed: int = 3) -> bytes:
    image, draw, rng = _canvas(seed)
    for y, gap in _rows(draw, 220):
        for x in range(rng.randint(0, gap), SIZE[0], max(8, int(gap * 1.4))):
            w = int(gap * rng.uniform(0.9, 1.4))
            for k in range(5):
                dx = rng.randint(-w // 3, w // 3)
                tone = rng.randint(-20, 30)
                draw.ellipse([x + dx - w // 2, y - w - k * 2, x + dx + w // 2, y - w // 6],
                             fill=(GREEN[0] + tone, GREEN[1] + tone, GREEN[2]))  # fmt: skip
    return _jpeg(image)


def harvest(seed: int = 4) -> bytes:
    image, draw, rng = _canvas(seed, horizon=160)
    draw.ellipse([180, 330, 780, 700], fill=(150, 110, 60))  # the basket
    for i in range(16):
        x, y = rng.randint(260, 640), rng.randint(300, 430)
        if i % 2:  # radishes
            draw.ellipse([x, y, x + 90, y + 46], fill=(236, 236, 226))
            draw.polygon([(x + 10, y + 10), (x - 40, y - 30), (x - 10, y - 50)], fill=LEAF)
        else:  # bok choy
            draw.ellipse([x, y - 60, x + 70, y + 40], fill=LEAF)
            draw.ellipse([x + 15, y - 10, x + 55, y + 45], fill=(226, 240, 210))
    for y in range(360, 700, 24):  # the weave
        draw.arc([180, y - 200, 780, y + 200], 20, 160, fill=(120, 84, 40), width=4)
    return _jpeg(image)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in CJK_FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def name_sign(text: str, fallback: str, seed: int = 5) -> bytes:
    """A wooden sign on two stakes in front of the greens, the family's name on it."""
    image = Image.open(io.BytesIO(greens(seed)))
    draw = ImageDraw.Draw(image)
    draw.rectangle([330, 330, 350, 640], fill=(92, 60, 34))
    draw.rectangle([610, 330, 630, 640], fill=(92, 60, 34))
    draw.rounded_rectangle([210, 200, 750, 390], radius=14, fill=(168, 118, 70),
                           outline=(92, 60, 34), width=8)  # fmt: skip
    for y in range(215, 385, 22):  # wood grain
        draw.line([(225, y), (735, y + 6)], fill=(150, 104, 60), width=2)
    font = _font(64)
    shown = text if isinstance(font, ImageFont.FreeTypeFont) and font.getbbox(text)[2] else fallback
    box = draw.textbbox((0, 0), shown, font=font)
    x = 480 - (box[2] - box[0]) // 2
    draw.text((x, 295 - (box[3] - box[1]) // 2 - box[1]), shown, font=font, fill=(255, 248, 232))
    return _jpeg(image)


def farmer(seed: int = 6, shirt: tuple[int, int, int] = (60, 110, 160)) -> bytes:
    """A farmer in a straw hat, head and shoulders, before the field."""
    image, draw, rng = _canvas(seed, horizon=420)
    draw.ellipse([230, 520, 730, 900], fill=shirt)  # shoulders
    draw.rectangle([440, 440, 520, 560], fill=(214, 168, 128))  # neck
    draw.ellipse([360, 230, 600, 500], fill=(224, 178, 140))  # face
    draw.ellipse([420, 340, 440, 360], fill=(40, 30, 20))
    draw.ellipse([520, 340, 540, 360], fill=(40, 30, 20))
    draw.arc([430, 380, 530, 450], 20, 160, fill=(150, 70, 60), width=5)  # a smile
    draw.ellipse([200, 210, 760, 300], fill=(222, 196, 120))  # the hat's brim
    draw.ellipse([350, 130, 610, 270], fill=(232, 206, 130))  # its crown
    draw.rectangle([355, 225, 605, 245], fill=(160, 60, 50))
    return _jpeg(image)
