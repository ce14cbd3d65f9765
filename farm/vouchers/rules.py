"""Voucher codes and validity: pure functions, no I/O, no clock.

A code is 12 characters from an alphabet without the look-alikes 0/O and 1/I/L, drawn with
`secrets` (31**12, about 59 bits): a partner's gate can read it aloud or type it, and nobody
can guess one. It is shown in groups of four (ABCD-EFGH-JKMN) and read back forgivingly.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
GROUP = 4
MAX_INPUT = 40  # longer than any way of writing a code: refused before any work
_ALLOWED = frozenset(ALPHABET)
_SEPARATORS = str.maketrans("", "", " -\t")


class VoucherState(StrEnum):
    """What a voucher is on a given day, for display (the stored status plus the calendar)."""

    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    REDEEMED = "redeemed"
    VOID = "void"
    EXPIRED = "expired"


def new_code() -> str:
    """A fresh random code (uniqueness is the database's to enforce)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """ABCDEFGHJKMN -> ABCD-EFGH-JKMN, easier to read out at a gate."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(text: str | None) -> str | None:
    """The stored form of a code as someone typed it (lower case, spaces and dashes allowed),
    or None when it cannot be a code. Non-ASCII is refused before upper-casing, so that no
    Unicode case mapping (ß -> SS, ı -> I) can turn something else into a code."""
    if not text or len(text) > MAX_INPUT or not text.isascii():
        return None
    code = text.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or not set(code) <= _ALLOWED:
        return None
    return code


def validity(*, season_starts_on: date, season_ends_on: date) -> tuple[date, date]:
    """A voucher is valid for its season: [valid_from, valid_until), half-open like seasons."""
    return season_starts_on, season_ends_on


def is_valid_on(*, valid_from: date, valid_until: date, today: date) -> bool:
    return valid_from <= today < valid_until


def voucher_state(*, status: str, valid_from: date, valid_until: date, today: date) -> VoucherState:
    """Redeemed, void and expired are final; an issued voucher is valid, not yet valid, or
    already past its last day (expired, even before the expiry job has marked it)."""
    if status == "redeemed":
        return VoucherState.REDEEMED
    if status == "void":
        return VoucherState.VOID
    if status == "expired" or today >= valid_until:
        return VoucherState.EXPIRED
    if today < valid_from:
        return VoucherState.NOT_YET_VALID
    return VoucherState.VALID


def shows_qr(state: VoucherState) -> bool:
    """Only a voucher that can still be used shows its QR code."""
    return state in (VoucherState.VALID, VoucherState.NOT_YET_VALID)


def missing_vouchers(
    perks: Iterable[tuple[int, int]], existing: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The (perk_id, seq) pairs still to issue: seq 1..count for each (perk_id, count), less
    those that exist. Perks in the order given, seq ascending."""
    have = set(existing)
    return [
        (perk_id, seq)
        for perk_id, count in perks
        for seq in range(1, count + 1)
        if (perk_id, seq) not in have
    ]
