"""Every conversion and display of money, area and weight, once: fen and yuan; m², mu and
fen of land; grams, kg and jin, and pieces for a crop counted. Pure functions, no I/O;
templates use them as filters."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from farm.i18n import gettext, ngettext

M2_PER_MU = Decimal(2000) / Decimal(3)  # 1 mu = 666.67 m²
FEN_PER_MU = 10  # area fen: 1 fen = 0.1 mu = 66.67 m²
GRAMS_PER_KG = 1000
GRAMS_PER_JIN = 500  # 1 jin (斤) = 0.5 kg


# ---- area ----


def m2_to_mu(area_m2: Decimal) -> Decimal:
    return (Decimal(area_m2) / M2_PER_MU).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def m2_to_fen(area_m2: Decimal) -> Decimal:
    return (Decimal(area_m2) * FEN_PER_MU / M2_PER_MU).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def mu_to_m2(mu: Decimal) -> Decimal:
    return (Decimal(mu) * M2_PER_MU).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ---- money (integer fen) ----


def format_yuan(fen: int) -> str:
    """12345 -> '123.45'; whole yuan without decimals: 58000 -> '580'."""
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    grouped = f"{yuan:,}"
    return f"{sign}{grouped}" if rest == 0 else f"{sign}{grouped}.{rest:02d}"


def yuan_text(fen: int) -> str:
    """Fen as a form shows it for editing, without grouping: 58000 -> '580', 58050 -> '580.50'."""
    yuan, rest = divmod(fen, 100)
    return str(yuan) if rest == 0 else f"{yuan}.{rest:02d}"


def fen_to_yuan(fen: int) -> Decimal:
    """58050 -> Decimal('580.50'): exact, always two decimals (for exports, not for pages)."""
    return Decimal(fen).scaleb(-2)


def plain_number(value: Decimal) -> str:
    """Decimal without trailing zeros: 0.50 -> '0.5', 10.0 -> '10'."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---- weight (integer grams) ----


def grams_to_kg(grams: int) -> Decimal:
    return (Decimal(grams) / GRAMS_PER_KG).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def kg_text(grams: int) -> str:
    """grams_to_kg as text, in integer arithmetic (a CSV writes 100,000 of them): 3335 ->
    '3.34', half up, always two decimals. Grams are never negative."""
    hundredths = (grams + 5) // 10
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def grams_to_jin(grams: int) -> Decimal:
    return (Decimal(grams) / GRAMS_PER_JIN).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def jin_text(grams: int) -> str:
    """grams_to_jin as text, in integer arithmetic like kg_text (a ship day's paper writes
    hundreds of thousands): 3 -> '0.01', half up, always two decimals. Never negative."""
    hundredths = (2 * grams + 5) // 10  # grams / 5, rounded half up
    return f"{hundredths // 100}.{hundredths % 100:02d}"


# ---- a harvest's amount: grams, or pieces for a crop counted (eggs) ----

PIECES = "pieces"  # farm.fieldwork.models.CropUnit.PIECES


def amount_text(amount: int, unit: str, *, jin: bool = True) -> str:
    """A lot's or a box's amount in the reader's language, by its crop's unit. The engine
    stores both in the same integer columns (weight_g, grams): grams for a weighed crop, a
    count for a crop in pieces. 3335, 'kg' -> '3.34 kg (6.67 jin)' (or '3.34 kg' without
    jin); 12, 'pieces' -> '12 pcs'."""
    if unit == PIECES:
        return ngettext("%(num)d pc", "%(num)d pcs", amount) % {"num": amount}
    kg = plain_number(grams_to_kg(amount))
    if not jin:
        return gettext("%(kg)s kg") % {"kg": kg}
    jin = plain_number(grams_to_jin(amount))
    return gettext("%(kg)s kg (%(jin)s jin)") % {"kg": kg, "jin": jin}
