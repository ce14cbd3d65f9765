"""A gift's pure rules: its claim code (made, typed back, hashed), the day it must be
claimed by, the day its giver is reminded, and where it stands."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import date, timedelta

# Crockford's base32: no I, L, O or U, so a code read off paper is typed back right.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LEN = 4, 4
CODE_LEN = GROUPS * GROUP_LEN  # 16 characters of 5 bits: 80 bits
CODE_BITS = CODE_LEN * 5
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
REMIND_AFTER = timedelta(days=3)  # give the giver time to hand the card over
REMIND_BEFORE = timedelta(days=7)  # and remind them a week before it falls back


def derive_code(*, secret: str, salt: str) -> str:
    """The gift's claim code, 'XXXX-XXXX-XXXX-XXXX': 80 bits of HMAC-SHA256 of its random
    salt under the site's secret key."""
    digest = hmac.new(secret.encode(), f"gift-code:{salt}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big") >> (256 - CODE_BITS)
    chars = []
    for _i in range(CODE_LEN):
        number, index = divmod(number, 32)
        chars.append(ALPHABET[index])
    code = "".join(chars)
    return "-".join(code[i : i + GROUP_LEN] for i in range(0, CODE_LEN, GROUP_LEN))


def normalize_code(typed: str) -> str | None:
    """The code as typed, without spaces or dashes, in capitals, O read as 0 and I, L as 1;
    None when it cannot be a code."""
    cleaned = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != CODE_LEN or not set(cleaned) <= set(ALPHABET):
        return None
    return cleaned


def code_hash(normalized: str) -> str:
    return hashlib.sha256(f"gift:{normalized}".encode()).hexdigest()


def claim_by(ship_days: Sequence[date], *, paid_on: date, season_ends_on: date) -> date:
    """The first ship day after the day the gift was paid: unclaimed by then, it falls back
    to the giver, so that its first box goes somewhere. The season's end if none is left."""
    return next((d for d in sorted(ship_days) if d > paid_on), season_ends_on)


def remind_on(*, paid_on: date, claim_by: date) -> date | None:
    """When an unclaimed gift's giver is reminded: a week before it falls back, but not in
    its first three days; None when there is no day for it in between."""
    day = max(paid_on + REMIND_AFTER, claim_by - REMIND_BEFORE)
    day = min(day, claim_by - timedelta(days=1))
    return day if day > paid_on else None


def state(*, paid: bool, claimed: bool, returned: bool) -> str:
    """'checkout' (not paid yet), 'waiting' (for its recipient), 'claimed' or 'returned'."""
    if claimed:
        return "claimed"
    if returned:
        return "returned"
    return "waiting" if paid else "checkout"
